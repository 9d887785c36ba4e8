"""Building blocks of the referral tests: a program with capacity, a subject with a consent, a
referral driven to any state through the API."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from cbs_network.directory.models import Program

from .factories import CapacityProfileFactory, ProgramFactory

PERSON = {
    "given_name": "Ana",
    "family_name": "Testcase",
    "date_of_birth": "2011-04-02",
    "district_student_id": "S1234567",
    "contact": {"phone": "+1 213 555 0199", "email": "ana@example.org"},
    "guardian": {"name": "Rosa Testcase", "relationship": "mother", "phone": "+1 213 555 0100"},
    "grade": "9",
    "preferred_language": "es",
}
# The values that must never appear in clear in a row, log, event or audit record.
SECRETS = ("Testcase", "S1234567", "2011-04-02", "555 0199", "ana@example.org", "Rosa")


def make_program(db_session, organization, *, slots: int | None = 5, waitlist_open: bool = False, **fields) -> Program:
    """A program taking referrals, with `slots` free (no capacity profile when None); made in the
    session the factories are bound to, which every caller passes as `db_session`."""
    program = ProgramFactory(organization=organization, **{"name": "Mentoring", "accepts_referrals": True, **fields})
    if slots is not None:
        CapacityProfileFactory(program=program, total_slots=slots, waitlist_open=waitlist_open)
    return program


def referral_answers(client, actor, program_id) -> dict[str, bool | None]:
    """How each place answers "does this program take referrals?": the program, its capacity
    profile (None without one), the capacity check and matching. There is one truth, so the
    answers are all the same."""
    program = client.get(f"/api/v1/programs/{program_id}", headers=actor.headers).json
    capacity = client.get(f"/api/v1/programs/{program_id}/capacity", headers=actor.headers)
    check = client.get(f"/api/v1/programs/{program_id}/capacity/check", headers=actor.headers).json
    matches = client.get(
        f"/api/v1/referrals/matches?program_type={program['program_type']}&latitude=34.05&longitude=-118.24&limit=50",
        headers=actor.headers,
    ).json["items"]
    return {
        "program": program["accepts_referrals"],
        "capacity": capacity.json["accepting_referrals"] if capacity.status_code == 200 else None,
        "check": not any("not accepting referrals" in reason for reason in check["reasons"]),
        "matching": any(item["program_id"] == str(program_id) for item in matches),
    }


def make_subject(client, actor, **changes) -> dict:
    body = {**PERSON, "district_student_id": f"S{uuid.uuid4().int % 10**9:09d}", **changes}
    response = client.post("/api/v1/subjects", json=body, headers=actor.headers)
    assert response.status_code == 201, response.json
    return response.json


def consent_body(**changes) -> dict:
    return {
        "given_by": "guardian",
        "method": "written",
        "given_on": (date.today() - timedelta(days=1)).isoformat(),
        "expires_on": (date.today() + timedelta(days=180)).isoformat(),
        "covers_organization_kinds": ["cbo"],
        "purposes": ["mentoring"],
        **changes,
    }


def make_consent(client, actor, subject_id, **changes) -> dict:
    response = client.post(f"/api/v1/subjects/{subject_id}/consents", json=consent_body(**changes), headers=actor.headers)
    assert response.status_code == 201, response.json
    return response.json


@dataclass
class Case:
    subject: dict
    consent: dict
    program: Program

    def send(self, client, actor, **changes):
        body = {
            "subject_id": self.subject["id"],
            "target_program_id": str(self.program.id),
            "consent_id": self.consent["id"],
            "urgency": "urgent",
            "need_description": "Needs a mentor after a fight near school",
            **changes,
        }
        return client.post("/api/v1/referrals", json=body, headers=actor.headers)


def new_case(client, db_session, network, *, sender="district_coordinator", **program_fields) -> Case:
    program = make_program(db_session, network.cbo, **program_fields)
    subject = make_subject(client, network[sender])
    consent = make_consent(client, network[sender], subject["id"])
    return Case(subject, consent, program)


def move(client, actor, referral_id, to, **body):
    return client.post(f"/api/v1/referrals/{referral_id}/transitions", json={"to": to, **body}, headers=actor.headers)


REASON = {"reason": "Test reason"}
OUTCOME = {"outcome": {"enrollment_status": "enrolled", "services": [{"kind": "mentoring session", "count": 4}]}}
# How to reach each state from requested: (state, actor key, extra body)
PATHS = {
    "requested": [],
    "accepted": [("accepted", "target", {})],
    "rejected": [("rejected", "target", REASON)],
    "in-progress": [("accepted", "target", {}), ("in-progress", "target", {})],
    "on-hold": [("accepted", "target", {}), ("on-hold", "target", REASON)],
    "completed": [("accepted", "target", {}), ("completed", "target", OUTCOME)],
    "failed": [("accepted", "target", {}), ("failed", "target", {**REASON, **OUTCOME})],
    "cancelled": [("cancelled", "source", REASON)],
    "entered-in-error": [("entered-in-error", "source", {})],
}
BODIES = {"rejected": REASON, "cancelled": REASON, "on-hold": REASON, "failed": {**REASON, **OUTCOME}, "completed": OUTCOME}


def referral_in_state(client, case: Case, source, target, state: str) -> dict:
    """A referral sent by `source` to `case.program`, moved to `state` through the API."""
    response = case.send(
        client, source, state="draft" if state == "draft" else "requested", **({"consent_id": None} if state == "draft" else {})
    )
    assert response.status_code == 201, response.json
    referral = response.json
    for to, who, body in PATHS.get(state, []):
        moved = move(client, source if who == "source" else target, referral["id"], to, **body)
        assert moved.status_code == 200, moved.json
        referral = moved.json
    return referral
