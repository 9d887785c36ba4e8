"""The demo's students, consents, referrals and notes, made once by the demo users through the
referral services (see seed_referrals): their ids are the services' own, and a later run leaves
them alone. Their dates are relative to the first seed (ages, consent periods, the overdue referral)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cbs_network.core.crypto import keyring
from cbs_network.core.db import utcnow
from cbs_network.demo.common import demo_id
from cbs_network.demo.directory import PROGRAMS
from cbs_network.demo.identity import PEOPLE, STAFF, email_of
from cbs_network.directory.models import School
from cbs_network.identity.models import Membership, User
from cbs_network.identity.principal import Principal
from cbs_network.identity.roles import SCOPES
from cbs_network.organizations.models import Organization
from cbs_network.referrals.models import ReferralState, ReferralTransition, Subject
from cbs_network.referrals.referrals import service as referrals
from cbs_network.referrals.referrals.schemas import (
    ConsentCreateSchema,
    ReferralCreateSchema,
    SubjectCreateSchema,
    TransitionCreateSchema,
)
from cbs_network.referrals.referrals.transitions import TRANSITIONS, Party
from cbs_network.referrals.subjects import service as subjects

# Invented students with names no one has, one per demo referral, and the referral's story: who
# sends it ("lausd": the district's coordinator; a school or CBO: its STAFF member), to which
# program, and the steps after sending. A step is a state to move to (made by whichever party the
# transition table names) with its body, ("note", "source" | "target", text) or ("revoke", reason)
# for the guardian withdrawing the consent. Ages are in days so minors stay minors as the demo ages;
# "consents" lists when each consent was signed (days ago, each valid a year), the last one is used.
CASES: list[dict[str, Any]] = [
    {
        "student": ("Avery", "Sampleton", 5700, "10", "en", "DEMO-0001"),
        "from": "school:Roosevelt High School",
        "program": "wellness-counseling",
        "school": "Roosevelt High School",
        "urgency": "routine",
        "draft": True,
        "need": "Withdrawn in class since October; the counselor suggests weekly sessions.",
        "steps": [],
    },
    {
        "student": ("Luz", "Ejemplo", 5950, "11", "es", "DEMO-0002"),
        "from": "lausd",
        "program": "crenshaw-restorative-circles",
        "school": "Dorsey High School",
        "urgency": "routine",
        "due_in": 14,
        "need": "Returning from a five-day suspension; a restorative re-entry circle is requested.",
        "steps": [],
    },
    {
        "student": ("Jaylen", "Testwood", 5400, "9", "en", "DEMO-0003"),
        "from": "school:Roosevelt High School",
        "program": "wellness-counseling",
        "school": "Roosevelt High School",
        "urgency": "urgent",
        "due_in": 7,
        "need": "Witnessed a shooting near campus last week; trouble sleeping and concentrating.",
        "steps": [
            ("accepted", {}),
            ("note", "target", "Intake booked for Tuesday 3:30 pm at the clinic."),
            ("note", "source", "Thank you; the student's advisor will walk them over."),
        ],
    },
    # Bridge Mentors is full: acceptance puts the referral on its waitlist.
    {
        "student": ("Marisa", "Imaginario", 4580, "7", "es", "DEMO-0004"),
        "from": "school:Markham Middle School",
        "program": "south-bridge-mentors",
        "school": "Markham Middle School",
        "urgency": "routine",
        "need": "Asked for a mentor after a family member's arrest; attendance is dropping.",
        "steps": [
            ("accepted", {"waitlist_if_full": True}),
            ("note", "target", "Full until the spring cohort; the family is on our waitlist and will be called first."),
        ],
    },
    {
        "student": ("Dev", "Demoski", 4700, "7", "en", "DEMO-0005"),
        "from": "lausd",
        "program": "watts-credible-messengers",
        "school": "Gompers Middle School",
        "urgency": "routine",
        "need": "Peer conflict turning into threats online.",
        "purposes": ["gang_intervention", "mentoring"],
        "steps": [
            ("rejected", {"reason": "The program serves high-school students 14 and older; Bridge Mentors fits grade 7 better."})
        ],
    },
    {
        "student": ("Keanu", "Placeholder", 4800, "8", "en", "DEMO-0006"),
        "from": "school:Markham Middle School",
        "program": "harbor-family-navigation",
        "school": "Markham Middle School",
        "urgency": "routine",
        "need": "Family facing eviction; the student misses school to care for younger siblings.",
        "steps": [
            ("accepted", {}),
            ("in-progress", {}),
            ("note", "target", "First home visit done; the housing application is filed with the family."),
        ],
    },
    {
        "student": ("Tobias", "Mockwell", 4350, "6", "es", "DEMO-0007"),
        "from": "lausd",
        "program": "wellness-counseling",
        "school": "Hollenbeck Middle School",
        "urgency": "routine",
        "need": "Anxiety after a lockdown; the family asks for a Spanish-speaking counselor.",
        "steps": [
            ("accepted", {}),
            ("in-progress", {}),
            ("on-hold", {"reason": "The family is away until mid-January; sessions resume after winter break."}),
        ],
    },
    # An older consent expired; the guardian signed a new one for this referral.
    {
        "student": ("Samira", "Notreal", 6150, "11", "en", "DEMO-0008"),
        "from": "lausd",
        "program": "crenshaw-restorative-circles",
        "school": "Crenshaw High School",
        "urgency": "urgent",
        "consents": [430, 21],
        "need": "Fight in the cafeteria; both students agreed to a harm circle.",
        "steps": [
            ("accepted", {}),
            ("in-progress", {}),
            (
                "completed",
                {
                    "outcome": {
                        "enrollment_status": "enrolled",
                        "services": [{"kind": "restorative circle", "count": 4}, {"kind": "family conference", "count": 1}],
                    }
                },
            ),
        ],
    },
    # 18: the student consents for themselves (FERPA eligible student).
    {
        "student": ("Eli", "Fictitious", 6780, "12", "en", "DEMO-0009"),
        "from": "lausd",
        "eligible": True,
        "program": "watts-credible-messengers",
        "school": "Jordan High School",
        "urgency": "urgent",
        "covers": "target",
        "need": "Named in a neighborhood dispute; the dean fears retaliation.",
        "steps": [
            ("accepted", {}),
            ("in-progress", {}),
            (
                "failed",
                {
                    "reason": "No response after five contact attempts over three weeks.",
                    "outcome": {"enrollment_status": "not-enrolled", "services": [{"kind": "outreach attempt", "count": 5}]},
                },
            ),
        ],
    },
    # The guardian withdrew consent after acceptance: the receiver keeps the history, not the personal fields.
    {
        "student": ("Nova", "Madeup", 5250, "9", "es", "DEMO-0010"),
        "from": "lausd",
        "program": "harbor-family-navigation",
        "school": "Jordan High School",
        "urgency": "routine",
        "need": "The family needs food assistance and a benefits screening.",
        "steps": [
            ("accepted", {}),
            ("revoke", "The guardian withdrew consent by phone; the family found help elsewhere."),
            ("cancelled", {"reason": "The guardian revoked consent."}),
        ],
    },
    {
        "student": ("Quinn", "Exampleton", 5500, "10", "en", "DEMO-0011"),
        "from": "school:Roosevelt High School",
        "program": "wellness-counseling",
        "school": "Roosevelt High School",
        "urgency": "routine",
        "need": "Referred for counseling after repeated tardies.",
        "steps": [("entered-in-error", {"reason": "Sent for the wrong student."})],
    },
    # Sent without consent under the health-or-safety emergency exception; the district reviews it.
    {
        "student": ("Rory", "Pretendo", 5600, "10", "en", "DEMO-0012"),
        "from": "lausd",
        "consents": [],
        "program": "harbor-youth-shelter",
        "school": "Locke High School",
        "urgency": "emergency",
        "emergency": "Student disclosed they cannot safely go home tonight; the guardian cannot be reached.",
        "need": "Needs a safe place to stay tonight.",
        "steps": [],
    },
    # Requested long ago and never answered: overdue.
    {
        "student": ("Finley", "Fakerson", 4450, "7", "en", "DEMO-0013"),
        "from": "school:Markham Middle School",
        "program": "south-bridge-mentors",
        "school": "Markham Middle School",
        "urgency": "routine",
        "requested_days_ago": 9,
        "need": "Looking for an after-school mentor; the student asked for one.",
        "steps": [],
    },
]


_PROGRAM_TYPES = {spec["key"]: spec["type"].value for spec in PROGRAMS}
_PROGRAM_OWNERS = {spec["key"]: spec["owner"] for spec in PROGRAMS}


def _acting(session: Session, person: str, organization: Organization) -> Principal:
    """The principal a demo user's token for `organization` would carry: every scope, capped by the role."""
    user = session.execute(select(User).where(User.email == email_of(person))).scalar_one()
    membership = session.execute(
        select(Membership).where(Membership.user_id == user.id, Membership.organization_id == organization.id)
    ).scalar_one()
    return Principal(
        organization_id=organization.id, role=membership.role, token_scopes=frozenset(SCOPES), client_id="cli", user_id=user.id
    )


def _subject_body(student: tuple, today: date) -> dict[str, Any]:
    given, family, age_days, grade, language, student_id = student
    n = student_id[-2:]
    return {
        "given_name": given,
        "family_name": family,
        "date_of_birth": (today - timedelta(days=age_days)).isoformat(),
        "district_student_id": student_id,
        "grade": grade,
        "preferred_language": language,
        "contact": {"phone": f"(323) 555-02{n}", "email": f"{given.lower()}.{family.lower()}@students.example.org"},
        "guardian": {"name": f"Pat {family}", "relationship": "guardian", "phone": f"(323) 555-03{n}"},
    }


def _consent_body(case: dict[str, Any], target: Organization, today: date, *, given_days_ago: int) -> dict[str, Any]:
    covers = (
        {"covers_organization_ids": [str(target.id)]}
        if case.get("covers") == "target"
        else {"covers_organization_kinds": ["cbo"]}
    )
    return {
        "given_by": "eligible_student" if case.get("eligible") else "guardian",
        "method": "written",
        "given_on": (today - timedelta(days=given_days_ago)).isoformat(),
        "expires_on": (today - timedelta(days=given_days_ago) + timedelta(days=365)).isoformat(),
        "purposes": case.get("purposes", [_PROGRAM_TYPES[case["program"]]]),
        **covers,
    }


def seed_referrals(session: Session, members: dict[str, Organization], schools: dict[str, School]) -> None:
    """Subjects, consents, referrals and notes, made by the demo users through the same services
    the API calls, so consent, slots and transitions are checked and audited as in real use.

    The services choose their own (random) ids, so these rows cannot be matched on a second run
    like the rest of the demo: the whole part runs once, and is skipped when any demo student is
    already recorded (found by the keyed hash of its district student id)."""
    hashes = [keyring().student_id_hash(case["student"][-1]) for case in CASES]
    if session.scalar(select(Subject.id).where(Subject.student_id_hash.in_(hashes)).limit(1)) is not None:
        return
    actors = {org_key: person for org_key, (person, _role) in STAFF.items()} | {"lausd": PEOPLE["coordinator"][0]}
    today = subjects.today()
    for case in CASES:
        source = _acting(session, actors[case["from"]], members[case["from"]])
        target_key = _PROGRAM_OWNERS[case["program"]]
        target = _acting(session, actors[target_key], members[target_key])
        subject = subjects.create(
            session=session, principal=source, data=SubjectCreateSchema().load(_subject_body(case["student"], today))
        )
        consent = None
        for given_days_ago in case.get("consents", [21]):
            body = _consent_body(case, members[target_key], today, given_days_ago=given_days_ago)
            consent = subjects.create_consent(
                session=session, principal=source, subject_id=subject.id, data=ConsentCreateSchema().load(body)
            )
        sending = not case.get("draft")
        referral = referrals.create(
            session=session,
            principal=source,
            data=ReferralCreateSchema().load(
                {
                    "subject_id": str(subject.id),
                    "target_program_id": str(demo_id("program", case["program"])),
                    "school_id": str(schools[case["school"]].id),
                    "urgency": case["urgency"],
                    "need_description": case["need"],
                    "service_due_on": (today + timedelta(days=case["due_in"])).isoformat() if "due_in" in case else None,
                    "state": "requested" if sending else "draft",
                    "consent_id": str(consent.id) if sending and consent else None,
                    "emergency_reason": case.get("emergency"),
                }
            ),
        )
        if "requested_days_ago" in case:
            # Sent long ago: the referral, its first transition and its deadline all date from then.
            sent = utcnow() - timedelta(days=case["requested_days_ago"])
            first = session.scalar(select(ReferralTransition).where(ReferralTransition.referral_id == referral.id))
            assert first is not None  # sending recorded it
            referral.requested_at = referral.created_at = first.at = sent
            session.flush()
        for step in case["steps"]:
            if step[0] == "note":
                referrals.add_note(
                    session=session, principal=source if step[1] == "source" else target, referral_id=referral.id, body=step[2]
                )
            elif step[0] == "revoke":
                assert consent is not None  # only cases with a consent revoke it
                subjects.revoke_consent(
                    session=session, principal=source, subject_id=subject.id, consent_id=consent.id, reason=step[1]
                )
            else:
                to, body = step
                party = TRANSITIONS[(referral.state, ReferralState(to))]
                referral = referrals.transition(
                    session=session,
                    principal=source if party is Party.requester else target,
                    referral_id=referral.id,
                    data=TransitionCreateSchema().load({"to": to, **body}),
                )
