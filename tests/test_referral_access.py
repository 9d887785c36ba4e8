"""The referral access matrix: every referral and subject endpoint called by an unrelated
organization, by the hub (sees referrals, without need to know), and by the two parties.

An unrelated organization gets 404 for everything, indistinguishable from an id that does not
exist; a refused call changes nothing and discloses nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Callable

import pytest
from sqlalchemy import func, select

from cbs_network.audit.models import AuditRecord
from cbs_network.identity.roles import Role
from cbs_network.organizations.models import OrganizationKind
from cbs_network.referrals.models import Consent, Disclosure, Referral, ReferralNote, Subject

from . import factories
from .helpers import PROBLEM
from .referral_setup import OUTCOME, consent_body, new_case

CALLERS = ("unrelated_cbo", "unrelated_city", "hub", "source", "target", "target_admin")


@dataclass
class Endpoint:
    name: str
    method: str
    path: str  # with {referral}, {subject}, {consent}
    expected: dict[str, int]  # caller -> status
    body: Callable[[Any], dict] | None = None
    if_match: bool = False


ENDPOINTS = [
    Endpoint(
        "get referral",
        "GET",
        "/api/v1/referrals/{referral}",
        {"unrelated_cbo": 404, "unrelated_city": 404, "hub": 200, "source": 200, "target": 200, "target_admin": 200},
    ),
    Endpoint(
        "move referral",
        "POST",
        "/api/v1/referrals/{referral}/transitions",
        {"unrelated_cbo": 404, "unrelated_city": 404, "hub": 403, "source": 403, "target": 200, "target_admin": 200},
        body=lambda case: {"to": "accepted"},
    ),
    Endpoint(
        "review emergency",
        "POST",
        "/api/v1/referrals/{referral}/emergency-review",
        {"unrelated_cbo": 404, "unrelated_city": 404, "hub": 403, "source": 403, "target": 403, "target_admin": 403},
        body=lambda case: {"decision": "upheld", "note": "ok"},
    ),
    Endpoint(
        "list notes",
        "GET",
        "/api/v1/referrals/{referral}/notes",
        {"unrelated_cbo": 404, "unrelated_city": 404, "hub": 403, "source": 200, "target": 200, "target_admin": 200},
    ),
    Endpoint(
        "add note",
        "POST",
        "/api/v1/referrals/{referral}/notes",
        {"unrelated_cbo": 404, "unrelated_city": 404, "hub": 403, "source": 201, "target": 201, "target_admin": 201},
        body=lambda case: {"body": "A note"},
    ),
    Endpoint(
        "referral disclosures",
        "GET",
        "/api/v1/referrals/{referral}/disclosures",
        {"unrelated_cbo": 404, "unrelated_city": 404, "hub": 403, "source": 403, "target": 403, "target_admin": 403},
    ),
    Endpoint(
        "get subject",
        "GET",
        "/api/v1/subjects/{subject}",
        {"unrelated_cbo": 404, "unrelated_city": 404, "hub": 404, "source": 200, "target": 404, "target_admin": 404},
    ),
    Endpoint(
        "update subject",
        "PATCH",
        "/api/v1/subjects/{subject}",
        {"unrelated_cbo": 404, "unrelated_city": 404, "hub": 404, "source": 200, "target": 404, "target_admin": 404},
        body=lambda case: {"given_name": "Changed"},
        if_match=True,
    ),
    Endpoint(
        "list consents",
        "GET",
        "/api/v1/subjects/{subject}/consents",
        {"unrelated_cbo": 404, "unrelated_city": 404, "hub": 404, "source": 200, "target": 404, "target_admin": 404},
    ),
    Endpoint(
        "record consent",
        "POST",
        "/api/v1/subjects/{subject}/consents",
        {"unrelated_cbo": 404, "unrelated_city": 404, "hub": 404, "source": 201, "target": 404, "target_admin": 404},
        body=lambda case: consent_body(),
    ),
    Endpoint(
        "get consent",
        "GET",
        "/api/v1/subjects/{subject}/consents/{consent}",
        {"unrelated_cbo": 404, "unrelated_city": 404, "hub": 404, "source": 200, "target": 404, "target_admin": 404},
    ),
    Endpoint(
        "revoke consent",
        "POST",
        "/api/v1/subjects/{subject}/consents/{consent}/revocation",
        {"unrelated_cbo": 404, "unrelated_city": 404, "hub": 404, "source": 200, "target": 404, "target_admin": 404},
        body=lambda case: {"reason": "Withdrawn"},
    ),
    Endpoint(
        "subject disclosures",
        "GET",
        "/api/v1/subjects/{subject}/disclosures",
        {"unrelated_cbo": 404, "unrelated_city": 404, "hub": 404, "source": 403, "target": 403, "target_admin": 404},
    ),  # a caseworker lacks disclosures:read
]


def _callers(db_session, network) -> dict[str, factories.Actor]:
    other_cbo = factories.OrganizationFactory(kind=OrganizationKind.cbo, name="Unrelated CBO")
    db_session.commit()
    return {
        "unrelated_cbo": network.actor(db_session, other_cbo, Role.org_admin),
        "unrelated_city": network["city_admin"],
        "hub": network["network_admin"],
        "source": network["district_coordinator"],
        "target": network["cbo_caseworker"],
        "target_admin": network["cbo_admin"],
    }


def _state(db_session) -> dict[str, Any]:
    db_session.expire_all()
    counts = {
        model.__name__: db_session.scalar(select(func.count()).select_from(model))
        for model in (Referral, ReferralNote, Consent, Disclosure, AuditRecord)
    }
    versions = sorted((str(r.id), r.version, r.state.value) for r in db_session.scalars(select(Referral)))
    subjects = sorted((str(s.id), s.version) for s in db_session.scalars(select(Subject)))
    revoked = sorted(str(c.id) for c in db_session.scalars(select(Consent).where(Consent.revoked_at.is_not(None))))
    return {"counts": counts, "referrals": versions, "subjects": subjects, "revoked": revoked}


def _path(endpoint: Endpoint, referral: dict, case) -> str:
    return endpoint.path.format(referral=referral["id"], subject=case.subject["id"], consent=case.consent["id"])


def _call(client, endpoint: Endpoint, actor, path: str, case):
    headers = dict(actor.headers)
    if endpoint.if_match:
        headers["If-Match"] = '"1"'
    return client.open(path, method=endpoint.method, headers=headers, json=endpoint.body(case) if endpoint.body else None)


CASES = [pytest.param(e, c, id=f"{e.name}-{c}") for e in ENDPOINTS for c in CALLERS]


@pytest.mark.parametrize(("endpoint", "caller"), CASES)
def test_referral_endpoints_by_every_kind_of_caller(client, db_session, network, endpoint, caller):
    actors = _callers(db_session, network)
    case = new_case(client, db_session, network)
    referral = case.send(client, actors["source"], consent_id=None, emergency_reason="Threat reported today").json
    actor, path, expected = actors[caller], _path(endpoint, referral, case), endpoint.expected[caller]
    before = _state(db_session)

    response = _call(client, endpoint, actor, path, case)

    assert response.status_code == expected, (endpoint.name, caller, response.get_json())
    if expected >= 400:
        assert response.mimetype == PROBLEM and response.get_json()["detail"]
        assert _state(db_session) == before  # nothing changed, nothing disclosed
    if expected == 404:
        missing = _call(
            client,
            endpoint,
            actor,
            path.replace(referral["id"], str(uuid.uuid4())).replace(case.subject["id"], str(uuid.uuid4())),
            case,
        )
        strip = ("instance", "request_id")
        assert missing.status_code == 404
        assert {k: v for k, v in missing.get_json().items() if k not in strip} == {
            k: v for k, v in response.get_json().items() if k not in strip
        }
    if endpoint.name == "get referral" and expected == 200:
        body = response.get_json()
        shown = caller in ("source", "target", "target_admin")
        assert body["personal_data"] == ("included" if shown else "not_shared")
        assert (body["subject"] is not None) == shown and (body["need_description"] is not None) == shown


def test_the_matrix_covers_every_referral_and_subject_endpoint(app):
    covered = {
        (
            e.method,
            e.path.replace("{referral}", "<uuid:referral_id>")
            .replace("{subject}", "<uuid:subject_id>")
            .replace("{consent}", "<uuid:consent_id>"),
        )
        for e in ENDPOINTS
    }
    missing = [
        f"{method} {rule.rule}"
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(("/api/v1/referrals/", "/api/v1/subjects/")) and rule.arguments
        for method in rule.methods - {"HEAD", "OPTIONS"}
        if (method, rule.rule) not in covered
    ]
    assert not missing, missing


@pytest.mark.parametrize("caller", ["unrelated_cbo", "unrelated_city"])
def test_lists_and_lookup_never_carry_another_organizations_referrals(client, db_session, network, caller):
    actors = _callers(db_session, network)
    case = new_case(client, db_session, network)
    referral = case.send(client, actors["source"]).json
    actor = actors[caller]
    for box in ("", "/sent", "/received"):
        items = client.get(f"/api/v1/referrals{box}?limit=200", headers=actor.headers).get_json()["items"]
        assert referral["id"] not in {i["id"] for i in items}
    for query in (f"?subject_id={case.subject['id']}", f"?program_id={case.program.id}"):
        assert client.get(f"/api/v1/referrals{query}", headers=actor.headers).get_json()["items"] == []
    student_id = client.get(f"/api/v1/subjects/{case.subject['id']}", headers=actors["source"].headers).get_json()[
        "district_student_id"
    ]
    assert (
        client.post("/api/v1/subjects/lookup", json={"district_student_id": student_id}, headers=actor.headers).status_code == 404
    )


def test_the_parties_reach_the_end_of_the_loop(client, db_session, network):
    """The closed loop as the two parties see it: sent, accepted, started, completed."""
    actors = _callers(db_session, network)
    source, target = actors["source"], actors["target"]
    case = new_case(client, db_session, network)
    referral = case.send(client, source).json
    for to, body in (("accepted", {}), ("in-progress", {}), ("completed", OUTCOME)):
        response = client.post(f"/api/v1/referrals/{referral['id']}/transitions", json={"to": to, **body}, headers=target.headers)
        assert response.status_code == 200, response.get_json()
    seen = client.get(f"/api/v1/referrals/{referral['id']}", headers=source.headers).get_json()
    assert seen["state"] == "completed" and seen["outcome"]["enrollment_status"] == "enrolled"
    assert [h["to_state"] for h in seen["history"]] == ["requested", "accepted", "in-progress", "completed"]
