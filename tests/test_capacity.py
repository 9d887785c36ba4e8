from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from cbs_network.audit.models import AuditRecord
from cbs_network.capacity.models import CapacityHistory, CapacityProfile
from cbs_network.core.db import utcnow
from cbs_network.events.models import Event
from cbs_network.identity.roles import Role

from .factories import ProgramFactory
from .helpers import assert_problem, counted_get, if_match

BODY = {
    "total_slots": 20,
    "available_slots": 5,
    "slot_unit": "youth",
    "waitlist_length": 0,
    "waitlist_open": True,
    "staff_count": 6,
    "certified_interventionists": 2,
    "languages_staffed": ["eng", "es"],
    "hours": "Mon-Fri 15:00-19:00",
    "notes": "Intake on Tuesdays",
}


def url(program, suffix=""):
    return f"/api/v1/programs/{program.id}/capacity{suffix}"


def put(client, program, actor, body=BODY, version=None):
    headers = if_match(actor.headers, version) if version is not None else actor.headers
    return client.put(url(program), json=body, headers=headers)


def count(db_session, model) -> int:
    db_session.expire_all()
    return db_session.scalar(select(func.count()).select_from(model))


def test_first_update_creates_then_if_match_updates_with_history_audit_and_event(client, network, db_session):
    program = ProgramFactory(organization=network.cbo, accepts_referrals=True)
    caseworker = network["cbo_caseworker"]
    assert_problem(client.get(url(program), headers=caseworker.headers), 404)

    created = put(client, program, caseworker)
    assert created.status_code == 201, created.json
    assert created.headers["Location"].endswith(url(program))
    assert created.headers["ETag"] == '"1"'
    assert created.json["languages_staffed"] == ["en", "es"]  # canonical ISO 639-1
    assert created.json["stale"] is False and created.json["updated_by_user_id"] == str(caseworker.user.id)
    assert created.json["assessment_required"] is False and created.json["program_id"] == str(program.id)

    changed = put(client, program, caseworker, {**BODY, "available_slots": 0, "waitlist_length": 3}, version=1)
    assert changed.status_code == 200, changed.json
    assert changed.headers["ETag"] == '"2"' and changed.json["available_slots"] == 0
    read = client.get(url(program), headers=network["district_viewer"].headers)
    assert read.status_code == 200 and read.json["waitlist_length"] == 3 and read.headers["ETag"] == '"2"'

    history = db_session.scalars(select(CapacityHistory).order_by(CapacityHistory.version)).all()
    assert [(h.version, h.snapshot["available_slots"], h.changed_by_user_id) for h in history] == [
        (1, 5, caseworker.user.id),
        (2, 0, caseworker.user.id),
    ]
    audits = db_session.scalars(
        select(AuditRecord).where(AuditRecord.action == "capacity.updated").order_by(AuditRecord.created_at, AuditRecord.id)
    ).all()
    assert len(audits) == 2
    assert audits[1].changes == {"available_slots": {"before": 5, "after": 0}, "waitlist_length": {"before": 0, "after": 3}}
    events = db_session.scalars(select(Event).where(Event.type == "capacity.updated")).all()
    assert len(events) == 2
    payload = events[-1].payload
    assert payload["program_id"] == str(program.id) and payload["available_slots"] == 0 and payload["version"] == 2
    assert "notes" not in payload and "hours" not in payload and "languages_staffed" not in payload


def test_if_match_required_and_checked_on_an_existing_profile(client, network, db_session):
    program = ProgramFactory(organization=network.cbo, accepts_referrals=True)
    actor = network["cbo_admin"]
    assert_problem(put(client, program, actor, version=1), 412)  # no profile yet: nothing to match
    # An empty If-Match is a malformed one, not a missing one: it never creates the profile.
    assert (
        "If-Match"
        in assert_problem(client.put(url(program), json=BODY, headers={**actor.headers, "If-Match": ""}), 400)["detail"]
    )
    assert count(db_session, CapacityProfile) == 0
    assert put(client, program, actor).status_code == 201
    assert_problem(put(client, program, actor, {**BODY, "total_slots": 99}), 428)
    assert_problem(put(client, program, actor, {**BODY, "total_slots": 99}, version=7), 412)
    db_session.expire_all()
    assert db_session.scalar(select(CapacityProfile.total_slots)) == 20
    assert count(db_session, CapacityHistory) == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"available_slots": 21}, "available_slots"),
        ({"waitlist_length": -1}, "waitlist_length"),
        ({"languages_staffed": ["en", "xx"]}, "languages_staffed"),
        ({"slot_unit": "beds"}, "slot_unit"),
        ({"total_slots": -5, "available_slots": 0}, "total_slots"),
        ({"certified_interventionists": 7}, "certified_interventionists"),
    ],
)
def test_invalid_body_is_422_naming_the_field_and_writes_nothing(client, network, db_session, change, field):
    program = ProgramFactory(organization=network.cbo, accepts_referrals=True)
    body = assert_problem(put(client, program, network["cbo_caseworker"], {**BODY, **change}), 422)
    assert field in body["errors"]["json"], body
    assert count(db_session, CapacityProfile) == 0 and count(db_session, CapacityHistory) == 0


def test_missing_required_field_is_422(client, network, db_session):
    program = ProgramFactory(organization=network.cbo, accepts_referrals=True)
    body = {k: v for k, v in BODY.items() if k != "slot_unit"}
    assert "slot_unit" in assert_problem(put(client, program, network["cbo_caseworker"], body), 422)["errors"]["json"]


def test_another_organization_reads_but_cannot_update(client, network, db_session):
    program = ProgramFactory(organization=network.cbo, accepts_referrals=True)
    assert put(client, program, network["cbo_caseworker"]).status_code == 201
    outsider = network["district_coordinator"]
    assert client.get(url(program), headers=outsider.headers).status_code == 200
    assert client.get(url(program, "/check"), headers=outsider.headers).status_code == 200
    assert client.get(url(program, "/history"), headers=outsider.headers).status_code == 200
    other_program = ProgramFactory(organization=network.city, accepts_referrals=True)
    assert_problem(put(client, other_program, network["cbo_caseworker"]), 403)  # a caseworker of another organization
    assert_problem(put(client, program, outsider, {**BODY, "total_slots": 99}, version=1), 403)
    own_viewer = network.actor(db_session, network.cbo, Role.viewer)  # lacks capacity:write
    assert_problem(put(client, program, own_viewer, {**BODY, "total_slots": 99}, version=1), 403)
    assert put(client, program, network["network_admin"], {**BODY, "total_slots": 30}, version=1).status_code == 200
    assert count(db_session, CapacityProfile) == 1


def test_a_draft_programs_capacity_follows_the_programs_visibility(client, network, db_session):
    program = ProgramFactory(organization=network.cbo, accepts_referrals=True, status="draft")
    assert put(client, program, network["cbo_caseworker"]).status_code == 201
    outsider = network["city_admin"]
    for suffix in ("", "/check", "/history"):
        assert_problem(client.get(url(program, suffix), headers=outsider.headers), 404)
    assert_problem(put(client, program, outsider, version=1), 404)
    assert client.get(url(program), headers=network["network_admin"].headers).status_code == 200


def test_history_is_filtered_by_period_and_paged(client, network, db_session):
    program = ProgramFactory(organization=network.cbo, accepts_referrals=True)
    actor = network["cbo_caseworker"]
    for version in range(4):
        response = put(client, program, actor, {**BODY, "available_slots": version}, version=version or None)
        assert response.status_code in (200, 201), response.json
    now = utcnow()
    rows = db_session.scalars(select(CapacityHistory).order_by(CapacityHistory.version)).all()
    for n, row in enumerate(rows):  # spread the changes over four weeks
        row.changed_at = now - timedelta(days=7 * (4 - n))
    db_session.commit()

    def period(query):
        response = client.get(url(program, f"/history?{query}"), headers=network["district_viewer"].headers)
        assert response.status_code == 200, response.json
        return [item["profile"]["available_slots"] for item in response.json["items"]]

    assert period("") == [0, 1, 2, 3]
    since, until = (now - timedelta(days=22)).isoformat(), (now - timedelta(days=7)).isoformat()
    assert period(f"since={since.replace('+00:00', 'Z')}&until={until.replace('+00:00', 'Z')}") == [1, 2]
    first = client.get(url(program, "/history?limit=3"), headers=actor.headers).json
    second = client.get(url(program, f"/history?limit=3&cursor={first['next_cursor']}"), headers=actor.headers).json
    assert [i["version"] for i in first["items"] + second["items"]] == [1, 2, 3, 4] and second["next_cursor"] is None
    assert first["items"][0]["changed_by_user_id"] == str(actor.user.id)


def test_history_list_issues_a_constant_number_of_queries(app, client, network, db_session):
    program = ProgramFactory(organization=network.cbo, accepts_referrals=True)
    for n in range(12):
        db_session.add(
            CapacityHistory(
                id=uuid.uuid4(),
                program_id=program.id,
                version=n + 1,
                changed_at=utcnow(),
                changed_by_user_id=network["cbo_caseworker"].user.id,
                snapshot={**BODY, "languages_staffed": ["en"]},
            )
        )
    db_session.commit()
    counts = []
    for limit in (2, 50):
        count, response = counted_get(app, client, url(program, f"/history?limit={limit}"), network["district_viewer"].headers)
        assert response.status_code == 200
        counts.append(count)
    assert counts[0] == counts[1] <= 3, counts  # token, program visibility, page


def test_stale_follows_the_network_setting(client, network, db_session):
    program = ProgramFactory(organization=network.cbo, accepts_referrals=True)
    assert put(client, program, network["cbo_caseworker"]).status_code == 201
    profile = db_session.scalar(select(CapacityProfile))
    profile.updated_at = utcnow() - timedelta(days=10)
    db_session.commit()
    reader = network["district_viewer"]
    assert client.get(url(program), headers=reader.headers).json["stale"] is False
    assert client.get(url(program, "/check"), headers=reader.headers).json["stale"] is False

    admin = network["network_admin"]
    settings = client.get("/api/v1/directory/settings", headers=admin.headers)
    assert settings.json["capacity_stale_after_days"] == 30
    assert_problem(
        client.patch(
            "/api/v1/directory/settings",
            json={"capacity_stale_after_days": 0},
            headers={**admin.headers, "If-Match": settings.headers["ETag"]},
        ),
        422,
    )
    assert_problem(
        client.patch("/api/v1/directory/settings", json={}, headers={**admin.headers, "If-Match": settings.headers["ETag"]}), 422
    )
    changed = client.patch(
        "/api/v1/directory/settings",
        json={"capacity_stale_after_days": 7},
        headers={**admin.headers, "If-Match": settings.headers["ETag"]},
    )
    assert changed.status_code == 200, changed.json
    assert changed.json["capacity_stale_after_days"] == 7 and changed.json["verification_interval_days"] == 180

    read = client.get(url(program), headers=reader.headers).json
    assert read["stale"] is True
    check = client.get(url(program, "/check"), headers=reader.headers).json
    assert check["stale"] is True and check["status"] == "has_capacity" and len(check["reasons"]) == 2
    # An update, even with the same values, confirms the numbers: fresh again.
    assert put(client, program, network["cbo_caseworker"], version=profile.version).json["stale"] is False


@pytest.mark.parametrize(
    ("values", "accepts", "status"),
    [
        (None, True, "unknown"),
        ({"available_slots": 3}, True, "has_capacity"),
        ({"available_slots": 0, "waitlist_open": True, "waitlist_length": 4}, True, "waitlist"),
        ({"available_slots": 0, "waitlist_open": False}, True, "no_capacity"),
        ({"assessment_required": True, "available_slots": 0}, True, "assessment_required"),
        # A program that takes no referrals is refused when sent one: the check says so first.
        (None, False, "no_capacity"),
        ({"available_slots": 3}, False, "no_capacity"),
        ({"assessment_required": True, "available_slots": 0}, False, "no_capacity"),
    ],
)
def test_check_answers(client, network, db_session, values, accepts, status):
    program = ProgramFactory(organization=network.cbo, accepts_referrals=accepts)
    if values is not None:
        assert put(client, program, network["cbo_caseworker"], {**BODY, **values}).status_code == 201
    answer = client.get(url(program, "/check"), headers=network["city_admin"].headers)
    assert answer.status_code == 200
    assert answer.json["status"] == status and answer.json["reasons"]
    assert answer.json["stale"] is (values is None)


def test_accepting_referrals_is_the_programs_value_shown_read_only(client, network, db_session):
    program = ProgramFactory(organization=network.cbo, accepts_referrals=True)
    caseworker, admin = network["cbo_caseworker"], network["cbo_admin"]

    refused = put(client, program, caseworker, {**BODY, "accepting_referrals": False})
    assert_problem(refused, 422)
    assert "PATCH /api/v1/programs/" in refused.json["errors"]["json"]["accepting_referrals"][0]
    assert count(db_session, CapacityProfile) == 0

    created = put(client, program, caseworker)
    assert created.status_code == 201 and created.json["accepting_referrals"] is True
    version = client.get(f"/api/v1/programs/{program.id}", headers=admin.headers).json["version"]
    closed = client.patch(
        f"/api/v1/programs/{program.id}", json={"accepts_referrals": False}, headers=if_match(admin.headers, version)
    )
    assert closed.status_code == 200, closed.json
    assert client.get(url(program), headers=caseworker.headers).json["accepting_referrals"] is False
    # A capacity update neither reopens the program nor keeps a value of its own.
    again = put(client, program, caseworker, version=1)
    assert again.status_code == 200 and again.json["accepting_referrals"] is False
    assert client.get(f"/api/v1/programs/{program.id}", headers=admin.headers).json["accepts_referrals"] is False
    assert "accepting_referrals" not in db_session.scalars(select(CapacityHistory)).first().snapshot


def test_the_spec_marks_accepting_referrals_read_only_on_the_profile(client):
    schemas = client.get("/api/openapi.json").json["components"]["schemas"]
    assert schemas["Capacity"]["properties"]["accepting_referrals"]["readOnly"] is True
    assert "accepting_referrals" not in schemas["CapacityUpdate"]["properties"]
    assert "accepting_referrals" not in schemas["CapacityUpdate"].get("required", [])


def test_check_for_an_unknown_program_is_404(client, network):
    assert_problem(client.get(f"/api/v1/programs/{uuid.uuid4()}/capacity/check", headers=network["city_admin"].headers), 404)


def test_program_search_filters_on_stale_or_missing_capacity(client, network, db_session):
    fresh, old, missing = (ProgramFactory(organization=network.cbo, accepts_referrals=True) for _ in range(3))
    for program in (fresh, old):
        assert put(client, program, network["cbo_caseworker"]).status_code == 201
    profile = db_session.scalar(select(CapacityProfile).where(CapacityProfile.program_id == old.id))
    profile.updated_at = utcnow() - timedelta(days=31)
    db_session.commit()

    def ids(value):
        response = client.get(
            f"/api/v1/programs?limit=200&organization_id={network.cbo.id}&capacity_stale={value}",
            headers=network["district_viewer"].headers,
        )
        assert response.status_code == 200, response.json
        return {item["id"] for item in response.json["items"]}

    assert ids("true") == {str(old.id), str(missing.id)}
    assert ids("false") == {str(fresh.id)}


def test_demo_network_has_fresh_stale_and_full_capacity_profiles(app, client, network, db_session):
    from cbs_network.demo import demo_id, seed_demo
    from cbs_network.demo.capacity import CAPACITY

    with app.app_context():  # the demo's referrals encrypt their subjects
        seed_demo(session=db_session, public_url="http://hub.test")
    db_session.commit()
    profiles = db_session.scalars(select(CapacityProfile)).all()
    # Two reports each, then one version per slot or waitlist place the demo's referrals took or gave back.
    assert len(profiles) == len(CAPACITY) and all(p.version >= 2 for p in profiles)
    assert count(db_session, CapacityHistory) == sum(p.version for p in profiles)
    reader = network["district_viewer"]
    answers = {
        key: client.get(f"/api/v1/programs/{demo_id('program', key)}/capacity/check", headers=reader.headers).json
        for key in CAPACITY
    }
    assert {a["stale"] for a in answers.values()} == {True, False}
    assert answers["south-bridge-mentors"]["status"] == "waitlist"
    assert {"has_capacity", "no_capacity", "assessment_required", "waitlist"} <= {a["status"] for a in answers.values()}
    history = client.get(
        f"/api/v1/programs/{demo_id('program', 'south-bridge-mentors')}/capacity/history", headers=reader.headers
    ).json["items"]
    assert [h["version"] for h in history][:2] == [1, 2] and history[-1]["profile"]["available_slots"] == 0
