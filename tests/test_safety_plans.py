"""Safety plans: opening one per school and year with its jurisdiction's deadline, the plan state
machine and who may make each move, the overdue flag on either side of a deadline (fixed clock),
and the needs assessment with its program links. A refused request changes nothing."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from cbs_network.audit.models import AuditRecord
from cbs_network.committees.models import Jurisdiction, PlanNeed, PlanState, PlanTransition, SafetyPlan
from cbs_network.committees.plans import service as plans
from cbs_network.committees.plans.transitions import TRANSITIONS
from cbs_network.directory.models import Program, School
from cbs_network.events.models import Event
from cbs_network.identity.roles import Role
from cbs_network.organizations.models import OrganizationKind

from . import factories
from .helpers import assert_problem, if_match

URL = "/api/v1/safety-plans"
YEAR = "2026-27"
# A school-year date before either deadline of 2026-27 (October 1, 2026 and March 1, 2027).
SEPTEMBER = date(2026, 9, 1)


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):
    """Every test runs on a known day unless it moves the clock itself."""
    clock = {"today": SEPTEMBER}
    monkeypatch.setattr(plans, "today", lambda: clock["today"])
    return clock


def jurisdiction_id(db_session, code: str) -> uuid.UUID:
    return db_session.scalar(select(Jurisdiction.id).where(Jurisdiction.code == code))


def make_school(db_session, *, jurisdiction: str | None = "CA", organization=None, district=None, **fields) -> School:
    school = School(
        id=uuid.uuid4(),
        cds_code=f"{uuid.uuid4().int % 10**14:014d}",
        name=fields.pop("name", "Test Elementary"),
        organization_id=organization.id if organization else None,
        district_id=district.id if district else None,
        jurisdiction_id=jurisdiction_id(db_session, jurisdiction) if jurisdiction else None,
        **fields,
    )
    db_session.add(school)
    db_session.commit()
    return school


@pytest.fixture
def school_org(db_session, network):
    return factories.OrganizationFactory(
        kind=OrganizationKind.school, name="Test Elementary School", parent_id=network.district.id
    )


@pytest.fixture
def principal(db_session, school_org):
    """The school's own coordinator (its principal's office)."""
    return factories.Network.actor(db_session, school_org, Role.coordinator)


@pytest.fixture
def school(db_session, school_org, network):
    """A school of the network's district, with its own organization under the district."""
    return make_school(db_session, organization=school_org, district=network.district, region="South", board_district=7)


def make_program(db_session, organization, **fields) -> Program:
    fields.setdefault("status", "active")
    program = Program(
        id=uuid.uuid4(),
        organization_id=organization.id,
        name=fields.pop("name", "Safe Passage"),
        program_type=fields.pop("program_type", "safe_passage"),
        **fields,
    )
    db_session.add(program)
    db_session.commit()
    return program


def open_plan(client, actor, school, year=YEAR, **body):
    response = client.post(URL, json={"school_id": str(school.id), "school_year": year, **body}, headers=actor.headers)
    assert response.status_code == 201, response.json
    return response.json


def move(client, actor, plan_id, to, **body):
    return client.post(f"{URL}/{plan_id}/transitions", json={"to": to, **body}, headers=actor.headers)


def count(db_session, model, *where) -> int:
    db_session.expire_all()
    return db_session.scalar(select(func.count()).select_from(model).where(*where))


def state_of(db_session, plan_id) -> dict:
    """Everything a refused request could have changed about a plan."""
    db_session.expire_all()
    plan = db_session.get(SafetyPlan, uuid.UUID(str(plan_id)))
    needs = db_session.scalars(select(PlanNeed).where(PlanNeed.plan_id == plan.id).order_by(PlanNeed.id)).all()
    return {
        "plan": (plan.version, plan.state, plan.public_meeting_on, plan.summary, plan.approved_at),
        "needs": [(n.id, n.version, n.status, sorted(p.program_id for p in n.programs)) for n in needs],
        "plans": count(db_session, SafetyPlan),
        "transitions": count(db_session, PlanTransition),
        "audit": count(db_session, AuditRecord),
        "events": count(db_session, Event),
    }


def put_in_state(db_session, plan_id, state: PlanState, **fields) -> None:
    plan = db_session.get(SafetyPlan, uuid.UUID(str(plan_id)))
    plan.state = state
    for name, value in fields.items():
        setattr(plan, name, value)
    db_session.commit()


# --- opening a plan ----------------------------------------------------------------------------


def test_school_opens_plan_with_the_state_deadline_audit_and_event(client, network, db_session, principal, school):
    response = client.post(
        URL, json={"school_id": str(school.id), "school_year": YEAR, "summary": "Annual update."}, headers=principal.headers
    )
    assert response.status_code == 201, response.json
    plan = response.json
    assert response.headers["Location"].endswith(f"{URL}/{plan['id']}")
    assert response.headers["ETag"] == '"1"'
    assert plan["state"] == "not_started" and plan["summary"] == "Annual update."
    assert plan["due_on"] == "2027-03-01" and plan["due_rule"].startswith("CA ")
    assert plan["overdue"] is False
    assert plan["allowed_transitions"] == ["drafting"]
    assert plan["needs"] == [] and plan["history"] == []

    audit = db_session.scalars(select(AuditRecord).where(AuditRecord.object_id == plan["id"])).one()
    assert audit.action == "safety_plan.created" and audit.changes["state"]["after"] == "not_started"
    event = db_session.scalars(select(Event).where(Event.object_id == plan["id"])).one()
    assert event.type == "safety_plan.created"
    assert event.payload["state"] == "not_started" and "summary" not in event.payload
    assert str(school.organization_id) in event.audience_organization_ids


def test_district_deadline_overrides_the_state(client, network, db_session, principal, school_org):
    created = client.post(
        "/api/v1/jurisdictions",
        headers=network["network_admin"].headers,
        json={
            "code": "TUSD",
            "name": "Test Unified",
            "parent_id": str(jurisdiction_id(db_session, "CA")),
            "plan_due_month": 10,
            "plan_due_day": 1,
        },
    )
    assert created.status_code == 201, created.json
    school = make_school(db_session, jurisdiction="TUSD", organization=school_org)
    plan = open_plan(client, principal, school)
    assert plan["due_on"] == "2026-10-01" and plan["due_rule"].startswith("TUSD ")


def test_second_plan_for_the_same_school_and_year_is_409(client, network, db_session, principal, school):
    first = open_plan(client, principal, school)
    before = state_of(db_session, first["id"])
    body = assert_problem(
        client.post(
            URL, json={"school_id": str(school.id), "school_year": YEAR}, headers=network["district_coordinator"].headers
        ),
        409,
    )
    assert "already has a safety plan for 2026-27" in body["detail"] and body["plan_id"] == first["id"]
    assert state_of(db_session, first["id"]) == before
    open_plan(client, principal, school, year="2027-28")  # another year is another plan


def test_bad_creations_are_refused_and_change_nothing(client, network, db_session, principal, school):
    plans_before, audit_before = count(db_session, SafetyPlan), count(db_session, AuditRecord)
    no_deadline = make_school(db_session, jurisdiction=None, organization=principal.organization)
    body = assert_problem(
        client.post(URL, json={"school_id": str(no_deadline.id), "school_year": YEAR}, headers=principal.headers), 409
    )
    assert "deadline" in body["detail"]
    body = assert_problem(
        client.post(URL, json={"school_id": str(uuid.uuid4()), "school_year": YEAR}, headers=principal.headers), 422
    )
    assert "school_id" in body["errors"]["json"]
    body = assert_problem(
        client.post(URL, json={"school_id": str(school.id), "school_year": "2026-28"}, headers=principal.headers), 422
    )
    assert "school_year" in body["errors"]["json"]
    for outsider in ("cbo_admin", "city_admin", "cbo_caseworker", "district_viewer"):
        assert_problem(
            client.post(URL, json={"school_id": str(school.id), "school_year": YEAR}, headers=network[outsider].headers), 403
        )
    assert count(db_session, SafetyPlan) == plans_before and count(db_session, AuditRecord) == audit_before


# --- the state machine -------------------------------------------------------------------------


def test_every_move_by_its_party_with_history_audit_and_events(client, network, db_session, principal, school):
    plan = open_plan(client, principal, school)
    district, admin = network["district_coordinator"], network["network_admin"]
    steps = [
        (principal, "drafting", {"note": "Committee began the annual review."}),
        (principal, "public_meeting_held", {"public_meeting_on": "2026-08-20"}),
        (district, "submitted", {}),  # the district is on the school's side too
        (district, "approved", {"note": "Meets Ed Code 32282."}),
        (principal, "amended", {}),
        (principal, "submitted", {}),
        (admin, "approved", {}),
    ]
    for actor, to, body in steps:
        response = move(client, actor, plan["id"], to, **body)
        assert response.status_code == 200, (to, response.json)
        assert response.json["state"] == to
        if to == "approved":
            assert response.json["approved_by_user_id"] == str(actor.user.id) and response.json["approved_at"]
    final = client.get(f"{URL}/{plan['id']}", headers=principal.headers).json
    assert final["public_meeting_on"] == "2026-08-20"
    assert [(h["from_state"], h["to_state"]) for h in final["history"]] == [
        ("not_started", "drafting"),
        ("drafting", "public_meeting_held"),
        ("public_meeting_held", "submitted"),
        ("submitted", "approved"),
        ("approved", "amended"),
        ("amended", "submitted"),
        ("submitted", "approved"),
    ]
    assert [h["actor_user_id"] for h in final["history"]] == [str(actor.user.id) for actor, _to, _body in steps]
    assert [h["actor_organization_id"] for h in final["history"]] == [str(a.organization.id) for a, _t, _b in steps]
    assert final["history"][0]["note"] == "Committee began the annual review."
    assert count(
        db_session, AuditRecord, AuditRecord.object_id == plan["id"], AuditRecord.action == "safety_plan.transitioned"
    ) == len(steps)
    events = db_session.scalars(
        select(Event).where(Event.object_id == plan["id"], Event.type == "safety_plan.transitioned").order_by(Event.created_at)
    ).all()
    assert [e.payload["to"] for e in events] == [to for _a, to, _b in steps]
    assert all("note" not in e.payload for e in events)


def test_the_school_cannot_approve_its_own_plan(client, network, db_session, principal, school):
    plan = open_plan(client, principal, school)
    put_in_state(db_session, plan["id"], PlanState.submitted, public_meeting_on=date(2026, 8, 20))
    assert client.get(f"{URL}/{plan['id']}", headers=principal.headers).json["allowed_transitions"] == []
    before = state_of(db_session, plan["id"])
    body = assert_problem(move(client, principal, plan["id"], "approved"), 403)
    assert "not by the school itself" in body["detail"]
    assert state_of(db_session, plan["id"]) == before
    district = network["district_admin"]
    assert client.get(f"{URL}/{plan['id']}", headers=district.headers).json["allowed_transitions"] == ["approved"]
    assert move(client, district, plan["id"], "approved").json["state"] == "approved"


@pytest.mark.parametrize("start", list(PlanState))
def test_backwards_or_skipping_moves_are_409_naming_the_allowed_ones(client, network, db_session, principal, school, start):
    plan = open_plan(client, principal, school)
    put_in_state(db_session, plan["id"], start, public_meeting_on=date(2026, 8, 20))
    legal = {to.value for (frm, to) in TRANSITIONS if frm is start}
    before = state_of(db_session, plan["id"])
    for to in PlanState:
        if to.value in legal:
            continue
        body = assert_problem(move(client, network["network_admin"], plan["id"], to.value), 409)
        assert body["type"].endswith("invalid-transition")
        assert body["current_state"] == start.value
        assert {t["to"] for t in body["allowed_transitions"]} == legal
        assert all(t["to"] in body["detail"] for t in body["allowed_transitions"])
    assert state_of(db_session, plan["id"]) == before


def test_public_meeting_needs_a_past_date(client, network, db_session, fixed_clock, principal, school):
    plan = open_plan(client, principal, school)
    before = state_of(db_session, plan["id"])
    body = assert_problem(move(client, principal, plan["id"], "drafting", public_meeting_on="2026-08-20"), 422)
    assert "public_meeting_on" in body["errors"]["json"]
    assert state_of(db_session, plan["id"]) == before
    assert move(client, principal, plan["id"], "drafting").status_code == 200
    before = state_of(db_session, plan["id"])
    body = assert_problem(move(client, principal, plan["id"], "public_meeting_held"), 422)
    assert "public_meeting_on" in body["errors"]["json"]
    body = assert_problem(move(client, principal, plan["id"], "public_meeting_held", public_meeting_on="2026-09-02"), 422)
    assert "future" in body["detail"]
    assert state_of(db_session, plan["id"]) == before

    # A date planned ahead with PATCH counts once the day has come.
    patched = client.patch(
        f"{URL}/{plan['id']}", json={"public_meeting_on": "2026-09-15"}, headers=if_match(principal.headers, before["plan"][0])
    )
    assert patched.status_code == 200, patched.json
    assert_problem(move(client, principal, plan["id"], "public_meeting_held"), 422)
    fixed_clock["today"] = date(2026, 9, 15)
    held = move(client, principal, plan["id"], "public_meeting_held")
    assert held.status_code == 200 and held.json["public_meeting_on"] == "2026-09-15"
    # Once held, the date stays set and in the past.
    body = assert_problem(
        client.patch(
            f"{URL}/{plan['id']}", json={"public_meeting_on": None}, headers=if_match(principal.headers, held.json["version"])
        ),
        422,
    )
    assert "public_meeting_on" in body["errors"]["json"]


# --- overdue -----------------------------------------------------------------------------------


def _listed(client, actor, school, **query) -> list[str]:
    response = client.get(URL, query_string={"school_id": str(school.id), **query}, headers=actor.headers)
    assert response.status_code == 200, response.json
    return [item["id"] for item in response.json["items"]]


@pytest.mark.parametrize("rule, due", [("CA", date(2027, 3, 1)), ("district", date(2026, 10, 1))])
def test_overdue_on_either_side_of_the_deadline(client, network, db_session, fixed_clock, principal, school_org, rule, due):
    if rule == "district":
        db_session.add(
            Jurisdiction(
                id=uuid.uuid4(),
                code="TUSD",
                name="Test Unified",
                plan_due_month=10,
                plan_due_day=1,
                parent_id=jurisdiction_id(db_session, "CA"),
                composition_rules=[],
            )
        )
        db_session.commit()
    school = make_school(db_session, jurisdiction="TUSD" if rule == "district" else "CA", organization=school_org)
    plan = open_plan(client, principal, school)
    assert plan["due_on"] == due.isoformat()
    viewer = network["city_admin"]
    for day, overdue in ((due - timedelta(days=1), False), (due, False), (due + timedelta(days=1), True)):
        fixed_clock["today"] = day
        assert client.get(f"{URL}/{plan['id']}", headers=viewer.headers).json["overdue"] is overdue, day
        assert _listed(client, viewer, school, overdue="true") == ([plan["id"]] if overdue else [])
        assert _listed(client, viewer, school, overdue="false") == ([] if overdue else [plan["id"]])

    # Approved: never overdue; amended again: overdue until approved again.
    put_in_state(db_session, plan["id"], PlanState.approved, public_meeting_on=date(2026, 8, 20))
    assert client.get(f"{URL}/{plan['id']}", headers=viewer.headers).json["overdue"] is False
    assert _listed(client, viewer, school, overdue="true") == []
    put_in_state(db_session, plan["id"], PlanState.amended)
    assert client.get(f"{URL}/{plan['id']}", headers=viewer.headers).json["overdue"] is True
    assert _listed(client, viewer, school, overdue="true") == [plan["id"]]


def test_list_filters_and_pagination(client, network, db_session, principal, school, school_org):
    other = make_school(db_session, organization=school_org, name="Other Middle", region="East", board_district=2)
    a = open_plan(client, principal, school)
    b = open_plan(client, principal, school, year="2027-28")
    c = open_plan(client, principal, other)
    put_in_state(db_session, b["id"], PlanState.drafting)
    put_in_state(db_session, c["id"], PlanState.submitted, public_meeting_on=date(2026, 8, 20))
    mine = {a["id"], b["id"], c["id"]}
    viewer = network["cbo_caseworker"]

    def ids(**query):
        response = client.get(URL, query_string=query, headers=viewer.headers)
        assert response.status_code == 200, response.json
        return {item["id"] for item in response.json["items"]} & mine

    assert ids() == mine
    assert ids(school_id=str(school.id)) == {a["id"], b["id"]}
    assert ids(school_year=YEAR) == {a["id"], c["id"]}
    assert ids(state=["drafting", "submitted"]) == {b["id"], c["id"]}
    assert ids(region="East") == {c["id"]}
    assert ids(board_district=7) == {a["id"], b["id"]}
    assert ids(region="South", state="not_started") == {a["id"]}
    assert_problem(client.get(URL, query_string={"state": "done"}, headers=viewer.headers), 422)

    first = client.get(URL, query_string={"limit": 2, "school_id": str(school.id)}, headers=viewer.headers)
    assert len(first.json["items"]) == 2 and first.json["next_cursor"] is None
    page = client.get(URL, query_string={"limit": 1, "school_id": str(school.id)}, headers=viewer.headers)
    assert page.json["next_cursor"] and 'rel="next"' in page.headers["Link"]
    rest = client.get(
        URL, query_string={"limit": 1, "school_id": str(school.id), "cursor": page.json["next_cursor"]}, headers=viewer.headers
    )
    assert {page.json["items"][0]["id"], rest.json["items"][0]["id"]} == {a["id"], b["id"]}


# --- editing -----------------------------------------------------------------------------------


def test_patch_summary_with_if_match_and_never_the_state(client, network, db_session, principal, school):
    plan = open_plan(client, principal, school)
    url = f"{URL}/{plan['id']}"
    assert_problem(client.patch(url, json={"summary": "x"}, headers=principal.headers), 428)
    before = state_of(db_session, plan["id"])
    assert_problem(client.patch(url, json={"state": "approved"}, headers=if_match(principal.headers, 1)), 422)
    assert_problem(client.patch(url, json={}, headers=if_match(principal.headers, 1)), 422)
    assert_problem(client.patch(url, json={"summary": "x"}, headers=if_match(principal.headers, 7)), 412)
    assert state_of(db_session, plan["id"]) == before

    changed = client.patch(url, json={"summary": "Vermont Ave crossings."}, headers=if_match(principal.headers, 1))
    assert changed.status_code == 200 and changed.json["summary"] == "Vermont Ave crossings."
    assert changed.headers["ETag"] == '"2"'
    audit = db_session.scalars(select(AuditRecord).where(AuditRecord.action == "safety_plan.updated")).one()
    assert audit.changes["summary"]["after"] == "Vermont Ave crossings."

    put_in_state(db_session, plan["id"], PlanState.approved, public_meeting_on=date(2026, 8, 20))
    version = state_of(db_session, plan["id"])["plan"][0]
    body = assert_problem(client.patch(url, json={"summary": "y"}, headers=if_match(principal.headers, version)), 409)
    assert "amended" in body["detail"]


def test_unrelated_organizations_read_but_cannot_change_a_plan(client, network, db_session, principal, school):
    plan = open_plan(client, principal, school)
    program = make_program(db_session, network.cbo)
    need = client.post(
        f"{URL}/{plan['id']}/needs",
        headers=principal.headers,
        json={"need_type": "safe_passage", "description": "Walk to the bus", "priority": "high"},
    ).json
    before = state_of(db_session, plan["id"])
    for name in ("cbo_admin", "city_admin"):
        outsider = network[name]
        read = client.get(f"{URL}/{plan['id']}", headers=outsider.headers)
        assert read.status_code == 200 and read.json["allowed_transitions"] == [] and len(read.json["needs"]) == 1
        assert plan["id"] in {item["id"] for item in client.get(URL, headers=outsider.headers).json["items"]}
        assert client.get(f"{URL}/{plan['id']}/needs", headers=outsider.headers).json["items"][0]["id"] == need["id"]
        assert_problem(client.patch(f"{URL}/{plan['id']}", json={"summary": "x"}, headers=if_match(outsider.headers, 1)), 403)
        assert_problem(move(client, outsider, plan["id"], "drafting"), 403)
        assert_problem(
            client.post(
                f"{URL}/{plan['id']}/needs",
                headers=outsider.headers,
                json={"need_type": "mental_health", "description": "Counselling", "program_ids": [str(program.id)]},
            ),
            403,
        )
        need_url = f"{URL}/{plan['id']}/needs/{need['id']}"
        assert_problem(client.patch(need_url, json={"status": "met"}, headers=if_match(outsider.headers, 1)), 403)
        assert_problem(client.delete(need_url, headers=if_match(outsider.headers, 1)), 403)
    assert_problem(move(client, network["cbo_caseworker"], plan["id"], "drafting"), 403)  # no committees:write
    assert state_of(db_session, plan["id"]) == before
    assert_problem(client.get(f"{URL}/{uuid.uuid4()}", headers=principal.headers), 404)


# --- needs -------------------------------------------------------------------------------------


def test_needs_with_and_without_programs(client, network, db_session, principal, school):
    plan = open_plan(client, principal, school)
    needs_url = f"{URL}/{plan['id']}/needs"
    passage = make_program(db_session, network.cbo)
    mediation = make_program(db_session, network.city, name="Conflict mediation", program_type="restorative_justice")

    bare = client.post(
        needs_url,
        headers=principal.headers,
        json={"need_type": "mental_health", "description": "Counselling after a shooting near campus"},
    )
    assert bare.status_code == 201, bare.json
    assert bare.json["program_ids"] == [] and bare.json["priority"] == "medium" and bare.json["status"] == "open"
    assert bare.headers["Location"].endswith(f"{needs_url}/{bare.json['id']}")

    linked = client.post(
        needs_url,
        headers=principal.headers,
        json={
            "need_type": "safe_passage",
            "description": "Safe walk to the bus after dismissal",
            "priority": "high",
            "location_description": "Vermont Ave between 80th and 84th St; Metro stop at 81st",
            "program_ids": [str(passage.id), str(mediation.id), str(passage.id)],
        },
    )
    assert linked.status_code == 201, linked.json
    assert linked.json["program_ids"] == sorted([str(passage.id), str(mediation.id)])
    assert linked.json["location_description"].startswith("Vermont Ave")

    shown = client.get(f"{URL}/{plan['id']}", headers=network["city_admin"].headers).json["needs"]
    assert [n["id"] for n in shown] == [bare.json["id"], linked.json["id"]]
    listed = client.get(needs_url, query_string={"need_type": "safe_passage"}, headers=principal.headers).json["items"]
    assert [n["id"] for n in listed] == [linked.json["id"]]
    [event] = [
        e
        for e in db_session.scalars(select(Event).where(Event.type == "safety_plan.need_created"))
        if e.payload["need_id"] == linked.json["id"]
    ]
    assert event.payload["program_ids"] == linked.json["program_ids"] and "description" not in event.payload

    # PATCH replaces the links, bumping the version even when only links change.
    need_url = f"{needs_url}/{linked.json['id']}"
    changed = client.patch(need_url, json={"program_ids": [str(mediation.id)]}, headers=if_match(principal.headers, 1))
    assert changed.status_code == 200, changed.json
    assert changed.json["program_ids"] == [str(mediation.id)] and changed.headers["ETag"] == '"2"'
    assert_problem(client.patch(need_url, json={"status": "met"}, headers=if_match(principal.headers, 1)), 412)
    met = client.patch(need_url, json={"status": "met", "program_ids": []}, headers=if_match(principal.headers, 2))
    assert met.json["status"] == "met" and met.json["program_ids"] == []

    assert_problem(client.delete(need_url, headers=if_match(principal.headers, 1)), 412)
    assert client.delete(need_url, headers=if_match(principal.headers, 3)).status_code == 204
    assert_problem(client.get(need_url, headers=principal.headers), 404)
    assert count(db_session, PlanNeed, PlanNeed.plan_id == uuid.UUID(plan["id"])) == 1
    assert count(db_session, AuditRecord, AuditRecord.action == "safety_plan.need_deleted") == 1


def test_unknown_or_invisible_programs_are_422_by_index(client, network, db_session, principal, school):
    plan = open_plan(client, principal, school)
    needs_url = f"{URL}/{plan['id']}/needs"
    passage = make_program(db_session, network.cbo)
    draft = make_program(db_session, network.city, status="draft")  # the city's work in progress
    need = client.post(
        needs_url,
        headers=principal.headers,
        json={"need_type": "safe_passage", "description": "Walk to the bus", "program_ids": [str(passage.id)]},
    ).json
    before = state_of(db_session, plan["id"])

    body = assert_problem(
        client.post(
            needs_url,
            headers=principal.headers,
            json={
                "need_type": "safe_passage",
                "description": "Walk home",
                "program_ids": [str(passage.id), str(uuid.uuid4()), str(draft.id)],
            },
        ),
        422,
    )
    assert set(body["errors"]["json"]["program_ids"]) == {"1", "2"}
    body = assert_problem(
        client.patch(
            f"{needs_url}/{need['id']}", headers=if_match(principal.headers, 1), json={"program_ids": [str(uuid.uuid4())]}
        ),
        422,
    )
    assert set(body["errors"]["json"]["program_ids"]) == {"0"}
    assert_problem(
        client.post(needs_url, headers=principal.headers, json={"need_type": "conflict_mediation", "description": "x"}), 422
    )
    assert_problem(
        client.post(
            needs_url, headers=principal.headers, json={"need_type": "safe_passage", "description": "x", "priority": "urgent"}
        ),
        422,
    )
    assert_problem(client.get(f"{URL}/{uuid.uuid4()}/needs/{need['id']}", headers=principal.headers), 404)
    assert state_of(db_session, plan["id"]) == before

    # Network admins see drafts, so they may link one.
    linked = client.post(
        needs_url,
        headers=network["network_admin"].headers,
        json={"need_type": "safe_passage", "description": "Walk home", "program_ids": [str(draft.id)]},
    )
    assert linked.status_code == 201, linked.json
