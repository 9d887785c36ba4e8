"""A school answers to its own district: another school district reads its committee and plan
like every member, but cannot change them, decide its nominations, approve its plan or see its
members' emails. The school's own district, the school's own organization and network admins
keep the rights they had."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import func, select

from cbs_network.audit.models import AuditRecord
from cbs_network.committees.models import Committee, CommitteeMember, PlanNeed, PlanState, PlanTransition, SafetyPlan
from cbs_network.committees.plans import service as plans
from cbs_network.directory.models import School
from cbs_network.events.models import Event
from cbs_network.identity.roles import Role

from . import factories
from .helpers import assert_problem, if_match

YEAR = "2026-27"
OTHER_DISTRICT = ["district2_admin", "district2_coordinator"]


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):
    monkeypatch.setattr(plans, "today", lambda: date(2026, 9, 1))


@pytest.fixture
def districts(db_session):
    return factories.Network.build(second_tenants=True)


@pytest.fixture
def school(db_session, districts):
    """A school of the first district, with its own organization under the district, on California's rules."""
    from cbs_network.committees.models import Jurisdiction

    california = db_session.scalar(select(Jurisdiction.id).where(Jurisdiction.code == "CA"))
    return districts.school(name="Garfield Test High", grade_low=9, grade_high=12, jurisdiction_id=california)


@pytest.fixture
def principal(db_session, districts, school):
    """The school's own coordinator."""
    from cbs_network.organizations.models import Organization

    return factories.Network.actor(db_session, db_session.get(Organization, school.organization_id), Role.coordinator)


def everything(db_session) -> tuple:
    """What a refused request could have changed."""
    db_session.expire_all()
    rows = tuple(
        db_session.scalar(select(func.count()).select_from(model))
        for model in (Committee, CommitteeMember, SafetyPlan, PlanNeed, PlanTransition, AuditRecord, Event)
    )
    versions = tuple(
        sorted(
            (str(i), v)
            for model in (School, Committee, CommitteeMember, SafetyPlan, PlanNeed)
            for i, v in db_session.execute(select(model.id, model.version))
        )
    )
    return rows + versions


def committee_of(client, districts, school) -> dict:
    response = client.post(
        "/api/v1/committees",
        json={"school_id": str(school.id), "school_year": YEAR},
        headers=districts["district_coordinator"].headers,
    )
    assert response.status_code == 201, response.json
    return response.json


def seat(client, actor, committee_id, **body):
    return client.post(
        f"/api/v1/committees/{committee_id}/members",
        headers=actor.headers,
        json={"role": "parent", "name": "Rosa Example", "email": "rosa@example.org", **body},
    )


def nominate(client, districts, committee_id):
    nominee = factories.MembershipFactory(organization=districts.cbo2, role=Role.caseworker).user
    response = client.post(
        f"/api/v1/committees/{committee_id}/nominations",
        json={"user_id": str(nominee.id)},
        headers=districts["cbo2_admin"].headers,
    )
    assert response.status_code == 201, response.json  # any CBO puts its staff forward; the school side decides
    return response.json


def open_plan(client, actor, school) -> dict:
    response = client.post("/api/v1/safety-plans", json={"school_id": str(school.id), "school_year": YEAR}, headers=actor.headers)
    assert response.status_code == 201, response.json
    return response.json


def submit(db_session, plan_id) -> None:
    plan = db_session.get(SafetyPlan, uuid.UUID(plan_id))
    plan.state, plan.public_meeting_on = PlanState.submitted, date(2026, 8, 20)
    db_session.commit()


# --- committees --------------------------------------------------------------------------------


@pytest.mark.parametrize("attacker", OTHER_DISTRICT)
def test_another_district_cannot_keep_a_schools_committee(client, districts, db_session, school, attacker):
    other = districts[attacker]
    before = everything(db_session)
    create = client.post("/api/v1/committees", json={"school_id": str(school.id), "school_year": YEAR}, headers=other.headers)
    assert "own district" in assert_problem(create, 403)["detail"]
    assert everything(db_session) == before

    committee = committee_of(client, districts, school)
    member = seat(client, districts["district_coordinator"], committee["id"]).json
    nomination = nominate(client, districts, committee["id"])
    url = f"/api/v1/committees/{committee['id']}"
    before = everything(db_session)
    assert_problem(client.patch(url, json={"notes": "ours now"}, headers=if_match(other.headers, 1)), 403)
    assert_problem(seat(client, other, committee["id"]), 403)
    assert_problem(client.patch(f"{url}/members/{member['id']}", json={"name": "X"}, headers=if_match(other.headers, 1)), 403)
    assert_problem(client.post(f"{url}/members/{member['id']}/end", json={"reason": "x"}, headers=other.headers), 403)
    for decision in ({"decision": "approve"}, {"decision": "decline", "reason": "Not ours to take."}):
        assert_problem(client.post(f"{url}/members/{nomination['id']}/decision", json=decision, headers=other.headers), 403)
    assert everything(db_session) == before

    # It reads the committee like every member, without the members' emails or transitions.
    shown = client.get(url, headers=other.headers)
    assert shown.status_code == 200
    assert {m["email"] for m in shown.json["members"]} == {None}
    assert all(m["allowed_transitions"] == [] for m in shown.json["members"])
    assert client.get(f"{url}/members/{member['id']}", headers=other.headers).json["email"] is None


def test_the_schools_own_district_its_organization_and_network_admins_keep_the_committee(
    client, districts, db_session, school, principal
):
    committee = committee_of(client, districts, school)
    url = f"/api/v1/committees/{committee['id']}"
    for version, actor in enumerate((districts["district_admin"], principal, districts["network_admin"]), start=1):
        changed = client.patch(url, json={"notes": f"note {version}"}, headers=if_match(actor.headers, version))
        assert changed.status_code == 200, changed.json
        assert seat(client, actor, committee["id"], email=f"p{version}@example.org").status_code == 201
        nomination = nominate(client, districts, committee["id"])
        assert (
            client.post(f"{url}/members/{nomination['id']}/decision", json={"decision": "approve"}, headers=actor.headers).json[
                "status"
            ]
            == "active"
        )
    for actor in ("district_coordinator", "network_admin"):
        emails = {m["email"] for m in client.get(url, headers=districts[actor].headers).json["members"]}
        assert {"p1@example.org", "p2@example.org", "p3@example.org"} <= emails
    assert {m["email"] for m in client.get(url, headers=principal.headers).json["members"]} >= {"p1@example.org"}
    # The district hears of its schools' committees.
    events = db_session.scalars(select(Event).where(Event.object_id == committee["id"])).all()
    assert events and all(str(districts.district.id) in e.audience_organization_ids for e in events)
    assert all(str(districts.district2.id) not in e.audience_organization_ids for e in events)


def test_a_school_without_a_district_is_kept_by_its_own_organization_and_network_admins(client, districts, db_session):
    from cbs_network.organizations.models import OrganizationKind

    organization = factories.OrganizationFactory(kind=OrganizationKind.school, name="Independent school")
    school = factories.SchoolFactory(organization_id=organization.id)
    own = factories.Network.actor(db_session, organization, Role.coordinator)
    for attacker in ("district_admin", "district2_coordinator"):
        response = client.post(
            "/api/v1/committees", json={"school_id": str(school.id), "school_year": YEAR}, headers=districts[attacker].headers
        )
        assert_problem(response, 403)
    assert (
        client.post(
            "/api/v1/committees", json={"school_id": str(school.id), "school_year": YEAR}, headers=own.headers
        ).status_code
        == 201
    )
    assert (
        client.post(
            "/api/v1/committees",
            json={"school_id": str(school.id), "school_year": "2027-28"},
            headers=districts["network_admin"].headers,
        ).status_code
        == 201
    )


# --- plans -------------------------------------------------------------------------------------


@pytest.mark.parametrize("attacker", OTHER_DISTRICT)
def test_another_district_cannot_open_change_approve_or_record_needs_of_a_schools_plan(
    client, districts, db_session, school, principal, attacker
):
    other = districts[attacker]
    before = everything(db_session)
    opened = client.post("/api/v1/safety-plans", json={"school_id": str(school.id), "school_year": YEAR}, headers=other.headers)
    assert_problem(opened, 403)
    assert everything(db_session) == before

    plan = open_plan(client, principal, school)
    url = f"/api/v1/safety-plans/{plan['id']}"
    need = client.post(
        f"{url}/needs", json={"need_type": "safe_passage", "description": "Walk to the bus"}, headers=principal.headers
    ).json
    submit(db_session, plan["id"])
    before = everything(db_session)
    current = client.get(url, headers=other.headers)
    assert current.status_code == 200 and current.json["allowed_transitions"] == []
    etag = current.json["version"]
    approve = client.post(f"{url}/transitions", json={"to": "approved"}, headers=other.headers)
    assert "own district" in assert_problem(approve, 403)["detail"]
    assert_problem(client.patch(url, json={"summary": "ours"}, headers=if_match(other.headers, etag)), 403)
    assert_problem(
        client.post(f"{url}/needs", json={"need_type": "mental_health", "description": "x"}, headers=other.headers), 403
    )
    need_url = f"{url}/needs/{need['id']}"
    assert_problem(client.patch(need_url, json={"status": "met"}, headers=if_match(other.headers, 1)), 403)
    assert_problem(client.delete(need_url, headers=if_match(other.headers, 1)), 403)
    assert everything(db_session) == before
    # Its own district approves it.
    district = districts["district_coordinator"]
    assert client.get(url, headers=district.headers).json["allowed_transitions"] == ["approved"]
    assert client.post(f"{url}/transitions", json={"to": "approved"}, headers=district.headers).json["state"] == "approved"


def test_the_schools_own_district_its_organization_and_network_admins_keep_the_plan(
    client, districts, db_session, school, principal
):
    district, admin = districts["district_admin"], districts["network_admin"]
    plan = open_plan(client, district, school)
    url = f"/api/v1/safety-plans/{plan['id']}"
    for n, actor in enumerate((district, principal, admin)):
        need = client.post(f"{url}/needs", json={"need_type": "mental_health", "description": f"need {n}"}, headers=actor.headers)
        assert need.status_code == 201, need.json
        assert (
            client.patch(f"{url}/needs/{need.json['id']}", json={"status": "met"}, headers=if_match(actor.headers, 1)).status_code
            == 200
        )
    steps = [
        (principal, "drafting", {}),
        (district, "public_meeting_held", {"public_meeting_on": "2026-08-20"}),
        (principal, "submitted", {}),
        (district, "approved", {}),
        (principal, "amended", {}),
        (admin, "submitted", {}),
        (admin, "approved", {}),
    ]
    for actor, to, body in steps:
        moved = client.post(f"{url}/transitions", json={"to": to, **body}, headers=actor.headers)
        assert moved.status_code == 200 and moved.json["state"] == to, (to, moved.json)
    assert client.patch(url, json={"summary": "x"}, headers=if_match(principal.headers, 8)).status_code == 409  # approved
    events = db_session.scalars(select(Event).where(Event.object_id == plan["id"])).all()
    assert all(str(districts.district.id) in e.audience_organization_ids for e in events)


def test_the_school_still_cannot_approve_its_own_plan(client, districts, db_session, school, principal):
    plan = open_plan(client, principal, school)
    submit(db_session, plan["id"])
    refused = client.post(f"/api/v1/safety-plans/{plan['id']}/transitions", json={"to": "approved"}, headers=principal.headers)
    assert "not by the school itself" in assert_problem(refused, 403)["detail"]
