"""Referrals: sending with consent, the Gravity state machine (every move allowed and refused,
per party), reasons and outcomes, slots and the waitlist, lists, notes and emergency review."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from cbs_network.audit.models import AuditRecord
from cbs_network.capacity.models import CapacityProfile
from cbs_network.directory.models import Program
from cbs_network.events.models import Event
from cbs_network.http.idempotency import IdempotencyKey
from cbs_network.organizations.models import OrganizationIdentifier
from cbs_network.referrals.models import Referral, ReferralState
from cbs_network.referrals.referrals.transitions import OUTCOME_REQUIRED, REASON_REQUIRED, TRANSITIONS, Party

from .helpers import assert_problem, if_match
from .referral_setup import (
    BODIES,
    OUTCOME,
    PERSON,
    REASON,
    Case,
    consent_body,
    make_consent,
    make_program,
    make_subject,
    move,
    new_case,
    referral_answers,
    referral_in_state,
)

SOURCE, TARGET = "district_coordinator", "cbo_caseworker"
STATES = [s.value for s in ReferralState]


def count(db_session, model=Referral, *where) -> int:
    db_session.expire_all()
    return db_session.scalar(select(func.count()).select_from(model).where(*where))


def stored(db_session, referral_id) -> Referral:
    db_session.expire_all()
    return db_session.get(Referral, uuid.UUID(referral_id))


def slots_left(db_session, program) -> tuple[int, int]:
    db_session.expire_all()
    profile = db_session.scalar(select(CapacityProfile).where(CapacityProfile.program_id == program.id))
    return profile.available_slots, profile.waitlist_length


@pytest.fixture
def parties(network):
    return network[SOURCE], network[TARGET]


def body_for(case, start: str, to: str) -> dict:
    body = dict(BODIES.get(to, {}))
    if (start, to) == ("draft", "requested"):
        body["consent_id"] = case.consent["id"]
    return body


# --- sending -----------------------------------------------------------------------------------


def test_sending_records_the_first_transition_audit_and_an_event_without_personal_data(client, db_session, network, parties):
    source, _target = parties
    case = new_case(client, db_session, network)
    response = case.send(client, source)
    assert response.status_code == 201, response.json
    body = response.json
    assert response.headers["Location"].endswith(f"/api/v1/referrals/{body['id']}")
    assert body["state"] == "requested" and body["target_organization_id"] == str(network.cbo.id)
    assert body["need_type"] == "mentoring" and body["requested_at"] and body["overdue"] is False
    assert body["history"][0]["to_state"] == "requested" and body["history"][0]["actor_user_id"] == str(source.user.id)
    assert body["allowed_transitions"] == ["cancelled", "entered-in-error"]
    event = db_session.scalars(select(Event).where(Event.object_id == body["id"])).one()
    assert event.type == "referral.created" and str(network.cbo.id) in event.audience_organization_ids
    assert "need_description" not in event.payload and "subject" not in event.payload
    audit = db_session.scalars(select(AuditRecord).where(AuditRecord.object_id == body["id"])).one()
    assert audit.changes["need_description"]["after"] == "***"


def test_a_draft_is_sent_later_with_itsconsent_body(client, db_session, network, parties):
    source, target = parties
    case = new_case(client, db_session, network)
    draft = case.send(client, source, state="draft", consent_id=None).json
    assert draft["state"] == "draft" and draft["requested_at"] is None
    assert_problem(client.get(f"/api/v1/referrals/{draft['id']}", headers=target.headers), 404)  # not sent yet
    refused = move(client, source, draft["id"], "requested")
    assert_problem(refused, 422)
    assert "consent_id" in refused.json["errors"]["json"]
    sent = move(client, source, draft["id"], "requested", consent_id=case.consent["id"])
    assert sent.status_code == 200 and sent.json["state"] == "requested" and sent.json["consent_id"] == case.consent["id"]
    assert client.get(f"/api/v1/referrals/{draft['id']}", headers=target.headers).status_code == 200


def test_a_draft_carries_no_consent_yet(client, db_session, network, parties):
    case = new_case(client, db_session, network)
    assert_problem(case.send(client, parties[0], state="draft"), 422)
    assert count(db_session) == 0


def test_emergency_exception_sends_without_consent_and_waits_for_review(client, db_session, network, parties):
    source, target = parties
    case = new_case(client, db_session, network)
    response = case.send(client, source, consent_id=None, emergency_reason="Credible threat against the student today")
    assert response.status_code == 201, response.json
    emergency = response.json["emergency"]
    assert emergency["review"] == "pending" and emergency["declared_by_user_id"] == str(source.user.id)
    pending = client.get("/api/v1/referrals/sent?emergency_review=pending", headers=source.headers).json["items"]
    assert [r["id"] for r in pending] == [response.json["id"]]
    assert client.get(f"/api/v1/referrals/{response.json['id']}", headers=target.headers).json["personal_data"] == "included"

    url = f"/api/v1/referrals/{response.json['id']}/emergency-review"
    review = {"decision": "upheld", "note": "Confirmed with the principal"}
    assert_problem(client.post(url, json=review, headers=source.headers), 403)  # a coordinator, not an admin
    assert_problem(client.post(url, json=review, headers=network["network_admin"].headers), 403)  # not the record keeper
    reviewed = client.post(url, json=review, headers=network["district_admin"].headers)
    assert reviewed.status_code == 200 and reviewed.json["emergency"]["review"] == "upheld"
    assert reviewed.json["emergency"]["reviewed_by_user_id"] == str(network["district_admin"].user.id)
    assert_problem(client.post(url, json=review, headers=network["district_admin"].headers), 409)


@pytest.mark.parametrize(
    ("case_name", "changes", "status", "field"),
    [
        ("expired consent", {"given_on": "2025-01-10", "expires_on": "2025-06-30"}, 422, "consent_id"),
        (
            "consent for another organization",
            {"covers_organization_kinds": [], "covers_organization_ids": ["CITY"]},
            422,
            "consent_id",
        ),
        ("consent for another kind of organization", {"covers_organization_kinds": ["city_agency"]}, 422, "consent_id"),
        ("consent for another purpose", {"purposes": ["mental_health"]}, 422, "consent_id"),
    ],
)
def test_a_consent_that_does_not_cover_the_referral_is_refused(
    client, db_session, network, parties, case_name, changes, status, field
):
    source, _ = parties
    case = new_case(client, db_session, network)
    changes = {k: [str(network.city.id)] if v == ["CITY"] else v for k, v in changes.items()}
    consent = make_consent(client, source, case.subject["id"], **changes)
    response = case.send(client, source, consent_id=consent["id"])
    assert_problem(response, status)
    assert field in response.json["errors"]["json"], response.json
    assert count(db_session) == 0


def test_a_consent_naming_the_receiving_organization_covers_it(client, db_session, network, parties):
    source, _ = parties
    case = new_case(client, db_session, network)
    consent = make_consent(
        client, source, case.subject["id"], covers_organization_kinds=[], covers_organization_ids=[str(network.cbo.id)]
    )
    assert case.send(client, source, consent_id=consent["id"]).status_code == 201


def test_a_revoked_consent_cannot_send(client, db_session, network, parties):
    source, _ = parties
    case = new_case(client, db_session, network)
    url = f"/api/v1/subjects/{case.subject['id']}/consents/{case.consent['id']}/revocation"
    revoked = client.post(url, json={"reason": "Guardian withdrew it"}, headers=source.headers)
    assert revoked.status_code == 200 and revoked.json["status"] == "revoked"
    assert_problem(client.post(url, json={"reason": "again"}, headers=source.headers), 409)
    response = case.send(client, source)
    assert_problem(response, 422)
    assert "revoked" in response.json["errors"]["json"]["consent_id"][0]
    assert count(db_session) == 0


def test_another_subjects_consent_and_another_organizations_subject_are_refused(client, db_session, network, parties):
    source, _ = parties
    case = new_case(client, db_session, network)
    other = make_subject(client, source)
    other_consent = make_consent(client, source, other["id"])
    assert_problem(case.send(client, source, consent_id=other_consent["id"]), 422)
    city_subject = make_subject(client, network["city_admin"])
    response = case.send(client, source, subject_id=city_subject["id"])
    assert_problem(response, 422)
    assert "subject_id" in response.json["errors"]["json"]
    assert count(db_session) == 0


def test_consent_and_emergency_together_or_neither_are_refused(client, db_session, network, parties):
    source, _ = parties
    case = new_case(client, db_session, network)
    assert_problem(case.send(client, source, emergency_reason="Threat"), 422)
    assert_problem(case.send(client, source, consent_id=None), 422)
    assert count(db_session) == 0


@pytest.mark.parametrize(
    ("program_fields", "detail"),
    [
        ({"status": "inactive"}, "inactive"),
        ({"accepts_referrals": False}, "not accepting"),
    ],
)
def test_a_program_that_takes_no_referrals_is_refused(client, db_session, network, parties, program_fields, detail):
    case = new_case(client, db_session, network, **program_fields)
    response = case.send(client, parties[0])
    assert_problem(response, 409)
    assert detail in response.json["detail"]
    assert count(db_session) == 0


def test_every_write_path_leaves_one_answer_that_sending_follows(app, client, db_session, network, parties, tmp_path):
    """Program create and update, capacity PUT and CSV import: afterwards the program, its
    capacity profile, the capacity check, matching and the send all give the same answer."""
    source, caseworker = parties
    admin = network["cbo_admin"]
    subject = make_subject(client, source)
    consent = make_consent(client, source, subject["id"])

    def one_answer(program_id) -> bool:
        answers = referral_answers(client, source, program_id)
        assert len({value for value in answers.values() if value is not None}) == 1, answers
        db_session.expire_all()
        sent = Case(subject, consent, db_session.get(Program, uuid.UUID(str(program_id)))).send(client, source)
        assert sent.status_code == (201 if answers["program"] else 409), sent.json
        return answers["program"]

    def patch_program(program_id, accepts: bool) -> None:
        version = client.get(f"/api/v1/programs/{program_id}", headers=admin.headers).json["version"]
        changed = client.patch(
            f"/api/v1/programs/{program_id}", json={"accepts_referrals": accepts}, headers=if_match(admin.headers, version)
        )
        assert changed.status_code == 200, changed.json

    def put_capacity(program_id, body, version=None):
        headers = if_match(caseworker.headers, version) if version else caseworker.headers
        return client.put(f"/api/v1/programs/{program_id}/capacity", json=body, headers=headers)

    created = client.post(
        "/api/v1/programs",
        json={"name": "Open Door Mentors", "program_type": "mentoring", "status": "active", "accepts_referrals": False},
        headers=admin.headers,
    )
    assert created.status_code == 201, created.json
    program_id = created.json["id"]
    assert one_answer(program_id) is False

    capacity = {"total_slots": 10, "available_slots": 4, "slot_unit": "youth"}
    assert_problem(put_capacity(program_id, {**capacity, "accepting_referrals": True}), 422)
    assert put_capacity(program_id, capacity).status_code == 201
    assert one_answer(program_id) is False  # free slots do not open a program that takes no referrals

    patch_program(program_id, True)
    assert one_answer(program_id) is True
    assert put_capacity(program_id, capacity, version=1).status_code == 200
    assert one_answer(program_id) is True
    patch_program(program_id, False)
    assert one_answer(program_id) is False

    db_session.add(OrganizationIdentifier(id=uuid.uuid4(), organization_id=network.cbo.id, scheme="ein", value="95-7770007"))
    db_session.commit()
    csv = tmp_path / "programs.csv"
    csv.write_text(
        "organization_identifier,name,program_type,status,accepts_referrals\n"
        "ein:95-7770007,Imported Yes,mentoring,active,yes\nein:95-7770007,Imported No,mentoring,active,no\n"
    )
    result = app.test_cli_runner().invoke(args=["cbs", "import", "programs", str(csv)])
    assert result.exit_code == 0, result.output
    db_session.expire_all()
    for name, accepts in (("Imported Yes", True), ("Imported No", False)):
        assert one_answer(db_session.scalar(select(Program.id).where(Program.name == name))) is accepts


def test_unknown_program_or_school_is_a_field_error(client, db_session, network, parties):
    case = new_case(client, db_session, network)
    for changes, field in (
        ({"target_program_id": str(uuid.uuid4())}, "target_program_id"),
        ({"school_id": str(uuid.uuid4())}, "school_id"),
    ):
        response = case.send(client, parties[0], **changes)
        assert_problem(response, 422)
        assert field in response.json["errors"]["json"]
    assert count(db_session) == 0


def test_an_idempotency_key_reused_with_another_body_changes_nothing(client, db_session, network, parties):
    source, _ = parties
    case = new_case(client, db_session, network)
    headers = {**source.headers, "Idempotency-Key": "referral-1"}
    body = {"subject_id": case.subject["id"], "target_program_id": str(case.program.id), "consent_id": case.consent["id"]}
    first = client.post("/api/v1/referrals", json=body, headers=headers)
    assert first.status_code == 201
    assert_problem(client.post("/api/v1/referrals", json={**body, "urgency": "emergency"}, headers=headers), 422)
    again = client.post("/api/v1/referrals", json=body, headers=headers)
    assert_problem(again, 409)  # succeeded before; a response with personal fields is not replayed
    assert again.json["location"] == first.headers["Location"]
    assert count(db_session) == 1


def test_a_stored_response_without_personal_fields_is_replayed_and_kept_encrypted(client, db_session, network, parties):
    source, _ = parties
    subject = make_subject(client, source)
    headers = {**source.headers, "Idempotency-Key": "consent-1"}
    url = f"/api/v1/subjects/{subject['id']}/consents"
    first = client.post(url, json=consent_body(), headers=headers)
    again = client.post(url, json=consent_body(), headers=headers)
    assert first.status_code == again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json == first.json
    stored_body = db_session.scalars(select(IdempotencyKey.response_body)).one()
    assert first.json["id"].encode() not in stored_body and stored_body.startswith(b"test1:")


# --- subjects and consents -----------------------------------------------------------------------


def test_subject_input_is_validated(client, network, db_session, parties):
    source, _ = parties
    future = (date.today() + timedelta(days=2)).isoformat()
    for changes, field in (
        ({"date_of_birth": future}, "date_of_birth"),
        ({"given_name": ""}, "given_name"),
        ({"grade": "13"}, "grade"),
        ({"preferred_language": "xx"}, "preferred_language"),
        ({"district_student_id": "S 1;DROP"}, "district_student_id"),
        ({"guardian": {"phone": "123"}}, "guardian"),
    ):
        response = client.post("/api/v1/subjects", json={**dict(PERSON), **changes}, headers=source.headers)
        assert_problem(response, 422)
        assert field in response.json["errors"]["json"], (field, response.json)


def test_a_subject_is_corrected_with_if_match(client, network, parties):
    source, _ = parties
    subject = make_subject(client, source)
    url = f"/api/v1/subjects/{subject['id']}"
    assert_problem(client.patch(url, json={"given_name": "Anna"}, headers=source.headers), 428)
    changed = client.patch(url, json={"given_name": "Anna"}, headers={**source.headers, "If-Match": '"1"'})
    assert changed.status_code == 200 and changed.json["given_name"] == "Anna" and changed.json["family_name"] == "Testcase"
    assert changed.json["version"] == 2
    assert_problem(client.patch(url, json={"given_name": "Ann"}, headers={**source.headers, "If-Match": '"1"'}), 412)


def test_a_guardian_sent_in_a_correction_still_needs_its_name(client, network, parties):
    """The update is partial at the top only: the spec says a guardian has a name, and so does the
    server (a bad body is 422 before a stale If-Match would be 412)."""
    source, _ = parties
    subject = make_subject(client, source)
    url = f"/api/v1/subjects/{subject['id']}"
    for stale_or_current in ('"7"', '"1"'):
        refused = client.patch(
            url, json={"guardian": {"phone": "+1 213 555 0100"}}, headers={**source.headers, "If-Match": stale_or_current}
        )
        assert "name" in assert_problem(refused, 422)["errors"]["json"]["guardian"]
    assert_problem(client.patch(url, json={}, headers={**source.headers, "If-Match": '"1"'}), 422)
    assert client.get(url, headers=source.headers).json["version"] == 1


@pytest.mark.parametrize(
    ("date_of_birth", "given_by", "ok"),
    [
        ("2011-04-02", "guardian", True),
        ("2011-04-02", "eligible_student", False),
        ("2000-04-02", "eligible_student", True),
        ("2000-04-02", "guardian", False),
    ],
)
def test_consent_is_given_by_the_guardian_of_a_minor_or_the_eligible_student(
    client, network, parties, date_of_birth, given_by, ok
):
    source, _ = parties
    subject = make_subject(client, source, date_of_birth=date_of_birth)
    response = client.post(
        f"/api/v1/subjects/{subject['id']}/consents", json=consent_body(given_by=given_by), headers=source.headers
    )
    if ok:
        assert response.status_code == 201 and response.json["status"] == "active"
    else:
        assert_problem(response, 422)
        assert "given_by" in response.json["errors"]["json"]


def test_consent_input_is_validated(client, network, parties):
    source, _ = parties
    subject = make_subject(client, source)
    url = f"/api/v1/subjects/{subject['id']}/consents"
    future = (date.today() + timedelta(days=3)).isoformat()
    for changes, field in (
        ({"given_on": future}, "given_on"),
        ({"expires_on": "2020-01-01"}, "expires_on"),
        ({"covers_organization_kinds": []}, "covers_organization_ids"),
        ({"purposes": []}, "purposes"),
        ({"covers_organization_ids": [str(uuid.uuid4())]}, "covers_organization_ids"),
        ({"method": "verbal"}, "method"),
    ):
        response = client.post(url, json=consent_body(**changes), headers=source.headers)
        assert_problem(response, 422)
        assert field in response.json["errors"]["json"], (field, response.json)
    assert client.get(url, headers=source.headers).json["items"] == []


def test_consents_are_listed_with_their_status(client, network, parties):
    source, _ = parties
    subject = make_subject(client, source)
    expired = make_consent(client, source, subject["id"], given_on="2025-01-01", expires_on="2025-06-30")
    active = make_consent(client, source, subject["id"])
    listed = client.get(f"/api/v1/subjects/{subject['id']}/consents", headers=source.headers).json["items"]
    assert {c["id"]: c["status"] for c in listed} == {expired["id"]: "expired", active["id"]: "active"}
    one = client.get(f"/api/v1/subjects/{subject['id']}/consents/{expired['id']}", headers=source.headers)
    assert one.status_code == 200 and one.json["status"] == "expired"


# --- the state machine ---------------------------------------------------------------------------

ALLOWED = [
    pytest.param(start.value, to.value, party, id=f"{start.value}->{to.value}") for (start, to), party in TRANSITIONS.items()
]


@pytest.mark.parametrize(("start", "to", "party"), ALLOWED)
def test_every_allowed_transition_by_its_party_and_refused_to_the_other(client, db_session, network, parties, start, to, party):
    source, target = parties
    case = new_case(client, db_session, network)
    referral = referral_in_state(client, case, source, target, start)
    actor, other = (source, target) if party is Party.requester else (target, source)
    if not (start == "draft" and other is target):  # the target cannot see a draft at all
        refused = move(client, other, referral["id"], to, **body_for(case, start, to))
        assert_problem(refused, 403)
        assert refused.json["allowed_transitions"]
    hub = move(client, network["network_admin"], referral["id"], to, **body_for(case, start, to))
    assert_problem(hub, 403)  # sees every referral, moves none
    assert stored(db_session, referral["id"]).state.value == start

    events_before = count(db_session, Event, Event.object_id == referral["id"])
    moved = move(client, actor, referral["id"], to, **body_for(case, start, to))
    assert moved.status_code == 200, moved.json
    assert moved.json["state"] == to
    last = moved.json["history"][-1]
    assert (last["from_state"], last["to_state"], last["actor_user_id"]) == (start, to, str(actor.user.id))
    assert last["reason"] == BODIES.get(to, {}).get("reason")
    assert count(db_session, Event, Event.object_id == referral["id"]) == events_before + 1
    if to in {s.value for s in OUTCOME_REQUIRED}:
        assert moved.json["outcome"]["enrollment_status"] == "enrolled"
        assert moved.json["outcome"]["services"] == [{"kind": "mentoring session", "count": 4}]


@pytest.mark.parametrize("start", [s for s in STATES])
def test_every_illegal_transition_is_a_409_naming_the_allowed_ones(client, db_session, network, parties, start):
    source, target = parties
    case = new_case(client, db_session, network)
    referral = referral_in_state(client, case, source, target, start)
    legal = {to.value for (s, to) in TRANSITIONS if s.value == start}
    for to in STATES:
        if to in legal:
            continue
        for actor in (source, target) if start != "draft" else (source,):
            response = move(client, actor, referral["id"], to, **BODIES.get(to, {}))
            assert_problem(response, 409)
            assert response.json["current_state"] == start
            assert {t["to"] for t in response.json["allowed_transitions"]} == legal
            assert all(t["to"] in response.json["detail"] for t in response.json["allowed_transitions"])
    assert stored(db_session, referral["id"]).state.value == start


@pytest.mark.parametrize("to", sorted(s.value for s in REASON_REQUIRED))
def test_a_reason_is_required(client, db_session, network, parties, to):
    source, target = parties
    case = new_case(client, db_session, network)
    start = "accepted" if to in ("on-hold", "failed") else "requested"
    referral = referral_in_state(client, case, source, target, start)
    actor = source if to == "cancelled" else target
    body = {k: v for k, v in BODIES[to].items() if k != "reason"}
    response = move(client, actor, referral["id"], to, **body)
    assert_problem(response, 422)
    assert "reason" in response.json["errors"]["json"]
    assert stored(db_session, referral["id"]).state.value == start


def test_an_outcome_is_required_to_close_and_refused_otherwise(client, db_session, network, parties):
    source, target = parties
    case = new_case(client, db_session, network)
    referral = referral_in_state(client, case, source, target, "in-progress")
    assert "outcome" in move(client, target, referral["id"], "completed").json["errors"]["json"]
    assert "outcome" in move(client, target, referral["id"], "on-hold", **REASON, **OUTCOME).json["errors"]["json"]
    bad = {"outcome": {"enrollment_status": "graduated"}}
    assert_problem(move(client, target, referral["id"], "completed", **bad), 422)
    assert stored(db_session, referral["id"]).state.value == "in-progress"
    waitlisted = move(client, target, referral["id"], "completed", outcome={"enrollment_status": "not-enrolled-on-waitlist"})
    assert waitlisted.json["outcome"]["services"] == []


def test_options_of_other_moves_are_refused(client, db_session, network, parties):
    source, target = parties
    case = new_case(client, db_session, network)
    referral = referral_in_state(client, case, source, target, "requested")
    assert (
        "waitlist_if_full"
        in move(client, target, referral["id"], "rejected", waitlist_if_full=True, **REASON).json["errors"]["json"]
    )
    assert (
        "consent_id"
        in move(client, source, referral["id"], "cancelled", consent_id=case.consent["id"], **REASON).json["errors"]["json"]
    )
    assert stored(db_session, referral["id"]).state.value == "requested"


# --- slots and the waitlist ----------------------------------------------------------------------


def test_accepting_takes_a_slot_and_closing_gives_it_back(client, db_session, network, parties):
    source, target = parties
    case = new_case(client, db_session, network, slots=2)
    first = referral_in_state(client, case, source, target, "accepted")
    assert first["capacity_place"] == "slot" and slots_left(db_session, case.program) == (1, 0)
    second = referral_in_state(client, case, source, target, "in-progress")
    assert slots_left(db_session, case.program) == (0, 0)
    move(client, target, second["id"], "completed", **OUTCOME)
    assert slots_left(db_session, case.program) == (1, 0)
    cancelled = move(client, source, first["id"], "cancelled", **REASON)
    assert cancelled.json["capacity_place"] is None and slots_left(db_session, case.program) == (2, 0)
    rejected = referral_in_state(client, case, source, target, "rejected")
    assert rejected["capacity_place"] is None and slots_left(db_session, case.program) == (2, 0)


def test_a_full_program_refuses_unless_the_referral_goes_on_its_waitlist(client, db_session, network, parties):
    source, target = parties
    case = new_case(client, db_session, network, slots=1, waitlist_open=True)
    holder = referral_in_state(client, case, source, target, "accepted")
    waiting = case.send(client, source).json
    full = move(client, target, waiting["id"], "accepted")
    assert_problem(full, 409)
    assert full.json["waitlist_open"] is True and "waitlist_if_full" in full.json["detail"]
    listed = move(client, target, waiting["id"], "accepted", waitlist_if_full=True)
    assert listed.status_code == 200 and listed.json["capacity_place"] == "waitlist"
    assert slots_left(db_session, case.program) == (0, 1)
    assert_problem(move(client, target, waiting["id"], "in-progress"), 409)  # still no slot
    move(client, target, holder["id"], "completed", **OUTCOME)
    started = move(client, target, waiting["id"], "in-progress")
    assert started.status_code == 200 and started.json["capacity_place"] == "slot"
    assert slots_left(db_session, case.program) == (0, 0)


def test_a_full_program_with_a_closed_waitlist_refuses(client, db_session, network, parties):
    source, target = parties
    case = new_case(client, db_session, network, slots=0)
    referral = case.send(client, source).json
    response = move(client, target, referral["id"], "accepted", waitlist_if_full=True)
    assert_problem(response, 409)
    assert "waitlist is closed" in response.json["detail"]
    assert stored(db_session, referral["id"]).state.value == "requested"


def test_leaving_from_the_waitlist_gives_back_the_place(client, db_session, network, parties):
    source, target = parties
    case = new_case(client, db_session, network, slots=0, waitlist_open=True)
    referral = case.send(client, source).json
    move(client, target, referral["id"], "accepted", waitlist_if_full=True)
    assert slots_left(db_session, case.program) == (0, 1)
    move(client, source, referral["id"], "cancelled", **REASON)
    assert slots_left(db_session, case.program) == (0, 0)


def test_a_program_without_a_capacity_profile_accepts_without_counting(client, db_session, network, parties):
    source, target = parties
    case = new_case(client, db_session, network, slots=None)
    accepted = referral_in_state(client, case, source, target, "accepted")
    assert accepted["state"] == "accepted" and accepted["capacity_place"] is None


def test_slot_changes_are_in_the_capacity_history_and_keep_freshness(client, db_session, network, parties):
    source, target = parties
    case = new_case(client, db_session, network, slots=3)
    before = client.get(f"/api/v1/programs/{case.program.id}/capacity", headers=target.headers).json
    referral_in_state(client, case, source, target, "accepted")
    after = client.get(f"/api/v1/programs/{case.program.id}/capacity", headers=target.headers).json
    assert after["available_slots"] == 2 and after["version"] == before["version"] + 1
    assert after["updated_at"] == before["updated_at"]  # bookkeeping, not a confirmation by the program
    history = client.get(f"/api/v1/programs/{case.program.id}/capacity/history", headers=target.headers).json["items"]
    assert history[-1]["profile"]["available_slots"] == 2 and history[-1]["changed_by_user_id"] == str(target.user.id)


# --- lists, notes ------------------------------------------------------------------------------


def test_sent_received_and_filters(client, db_session, network, parties):
    source, target = parties
    case = new_case(client, db_session, network)
    draft = case.send(client, source, state="draft", consent_id=None).json
    urgent = case.send(client, source).json
    routine = referral_in_state(client, case, source, target, "accepted")
    other_program = make_program(db_session, network.cbo)

    def ids(actor, query):
        response = client.get(f"/api/v1/referrals{query}", headers=actor.headers)
        assert response.status_code == 200, response.json
        return {item["id"] for item in response.json["items"]}

    assert ids(source, "/sent") == {draft["id"], urgent["id"], routine["id"]}
    assert ids(target, "/received") == {urgent["id"], routine["id"]}
    assert ids(target, "/sent") == set() and ids(source, "/received") == set()
    assert ids(target, "") == {urgent["id"], routine["id"]}
    assert ids(network["network_admin"], "") >= {draft["id"], urgent["id"], routine["id"]}
    assert ids(source, "/sent?state=draft&state=accepted") == {draft["id"], routine["id"]}
    assert ids(target, f"/received?program_id={case.program.id}&state=requested") == {urgent["id"]}
    assert ids(target, f"/received?program_id={other_program.id}") == set()
    assert ids(source, f"/sent?subject_id={case.subject['id']}&urgency=urgent") == {draft["id"], urgent["id"], routine["id"]}
    assert ids(source, "/sent?urgency=emergency") == set()
    assert ids(target, "/received?overdue=false") == {urgent["id"], routine["id"]}
    assert ids(target, "/received?overdue=true") == set()
    items = client.get("/api/v1/referrals/received", headers=target.headers).json["items"]
    assert all("subject" not in item and "need_description" not in item for item in items)
    assert_problem(client.get("/api/v1/referrals/sent?state=bogus", headers=source.headers), 422)


def test_the_list_pages_and_syncs_by_change(client, db_session, network, parties):
    source, target = parties
    case = new_case(client, db_session, network)
    sent = [case.send(client, source).json["id"] for _ in range(3)]
    first = client.get("/api/v1/referrals/sent?limit=2", headers=source.headers)
    assert len(first.json["items"]) == 2 and 'rel="next"' in first.headers["Link"]
    rest = client.get(f"/api/v1/referrals/sent?limit=2&cursor={first.json['next_cursor']}", headers=source.headers)
    assert [i["id"] for i in first.json["items"] + rest.json["items"]] == sent
    since = client.get(f"/api/v1/referrals/{sent[0]}", headers=source.headers).json["updated_at"]
    move(client, target, sent[0], "accepted")
    changed = client.get("/api/v1/referrals/received", query_string={"updated_since": since}, headers=target.headers)
    assert sent[0] in [i["id"] for i in changed.json["items"]]


def test_notes_thread_between_the_two_parties(client, db_session, network, parties):
    source, target = parties
    case = new_case(client, db_session, network)
    referral = case.send(client, source).json
    url = f"/api/v1/referrals/{referral['id']}/notes"
    first = client.post(url, json={"body": "Guardian prefers calls after 5pm"}, headers=source.headers)
    assert first.status_code == 201 and first.json["organization_id"] == str(network.district.id)
    client.post(url, json={"body": "Intake booked Tuesday"}, headers=target.headers)
    for actor in (source, target):
        bodies = [n["body"] for n in client.get(url, headers=actor.headers).json["items"]]
        assert bodies == ["Guardian prefers calls after 5pm", "Intake booked Tuesday"]
    assert_problem(client.get(url, headers=network["network_admin"].headers), 403)
    assert_problem(client.get(url, headers=network["district_viewer"].headers), 403)  # no subjects:read
    assert_problem(client.get(url, headers=network["city_admin"].headers), 404)
    assert_problem(client.post(url, json={"body": ""}, headers=source.headers), 422)
