"""School safety: each district's rules (jurisdictions), committees with complete and missing
seats and pending CBO nominations, and safety plans in every state with their needs."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from cbs_network.committees.jurisdictions import service as jurisdictions
from cbs_network.committees.models import (
    Committee,
    CommitteeMember,
    Jurisdiction,
    MemberStatus,
    PlanNeed,
    PlanNeedProgram,
    PlanTransition,
    SafetyPlan,
)
from cbs_network.core import clock
from cbs_network.demo.common import LONG_AGO, demo_id, ensure
from cbs_network.demo.identity import PEOPLE, STAFF, email_of
from cbs_network.demo.organizations import HARBOR_KEY
from cbs_network.directory.models import Program, School
from cbs_network.identity.models import User
from cbs_network.organizations.models import Organization

# LAUSD's own rules within the state's: its ISSP is due October 1, and (in this fictional network)
# its high schools seat a student on the committee.
LAUSD_RULES = [{"role": "pupil", "minimum": 1, "min_grade": 9, "source": "District policy: a student voice at high schools"}]
STATE_SEATS = ("principal_or_designee", "teacher_rep", "parent", "classified_rep")
# school -> (seats filled, CBO that sits on it or None, a pending CBO nomination (org key) or None)
COMMITTEES: dict[str, tuple[tuple[str, ...], str | None, str | None]] = {
    "Roosevelt High School": ((*STATE_SEATS, "pupil", "law_enforcement"), "cbo:0", None),
    "Hollenbeck Middle School": (STATE_SEATS, "cbo:8", None),
    "Garfield High School": ((*STATE_SEATS, "pupil"), None, None),
    "Jefferson High School": (("principal_or_designee", "teacher_rep", "classified_rep", "pupil"), "cbo:1", None),
    "Fremont High School": (STATE_SEATS, "cbo:1", None),
    "Jordan High School": ((*STATE_SEATS, "pupil", "fire"), None, "cbo:6"),
    "Locke High School": ((*STATE_SEATS, "pupil"), "cbo:6", None),
    "Crenshaw High School": ((*STATE_SEATS, "pupil"), None, "cbo:3"),
}
# A member whose term ends soon, so compliance shows it coming.
ENDING_SOON = ("Locke High School", "parent")
# school -> (plan state, needs: (type, status, where, program key or None))
PLANS: dict[str, tuple[str, list[tuple[str, str, str, str | None]]]] = {
    "Roosevelt High School": (
        "approved",
        [
            (
                "safe_passage",
                "in_progress",
                "Mathews St and 4th St; the Metro bus stop at Cesar Chavez Ave",
                "eastside-safe-passage",
            )
        ],
    ),
    "Hollenbeck Middle School": ("approved", [("mental_health", "met", "On campus", "wellness-counseling")]),
    "Garfield High School": ("submitted", [("safe_passage", "met", "6th St between Atlantic Blvd and Woods Ave", None)]),
    "Jefferson High School": ("public_meeting_held", [("safe_passage", "open", "41st St and Central Ave", "south-safe-passage")]),
    "Fremont High School": (
        "drafting",
        [("restorative_justice", "open", "Conflicts after dismissal at the San Pedro St gate", None)],
    ),
    "Jordan High School": (
        "drafting",
        [("safe_passage", "open", "103rd St between Grape St and Wilmington Ave; the Metro A Line stop", None)],
    ),
    "Locke High School": (
        "drafting",
        [
            ("safe_passage", "open", "111th St and San Pedro St; the bus stops on Avalon Blvd", None),
            ("mental_health", "open", "On campus", None),
        ],
    ),
    "Crenshaw High School": (
        "amended",
        [("safe_passage", "open", "Crenshaw Blvd between 48th St and Slauson Ave", "westside-safe-passage")],
    ),
    "Van Nuys High School": ("not_started", []),
}
# Schools with an open safe-passage need that no active safe-passage program serves (Crenshaw's
# program is temporarily closed): what the coverage-gap view must find.
SAFE_PASSAGE_GAPS = {"Jordan High School", "Locke High School", "Crenshaw High School"}
PLAN_ORDER = ("not_started", "drafting", "public_meeting_held", "submitted", "approved", "amended")
INVENTED_PEOPLE = [
    "Dolores Quintanar",
    "Marcus Whitfield",
    "Yesenia Arbelaez",
    "Gideon Park",
    "Ruth Okafor",
    "Tomas Villaseñor",
    "Alma Benavides",
    "Desmond Achterberg",
    "Paloma Irigoyen",
    "Ivan Sokolowski",
]
# The second district's rules: its committees seat a neighborhood resident.
HARBOR_RULES = [
    {"role": "community_member", "minimum": 1, "source": "District policy: a neighborhood resident on every committee"}
]
# Like COMMITTEES and PLANS: one complete committee, one missing seats, one school with neither.
HARBOR_COMMITTEES: dict[str, tuple[tuple[str, ...], str | None, str | None]] = {
    "Tidewater High School": ((*STATE_SEATS, "community_member"), "cbo:4", None),
    "Figueroa Crossing Middle School": (STATE_SEATS, None, None),
}
HARBOR_PLANS: dict[str, tuple[str, list[tuple[str, str, str, str | None]]]] = {
    "Tidewater High School": (
        "submitted",
        [("mental_health", "open", "On campus; counseling after a fight near the bus stop", None)],
    ),
    "Figueroa Crossing Middle School": ("drafting", [("restorative_justice", "open", "Conflicts at lunch in the quad", None)]),
}


def current_school_year(today: date) -> str:
    start = today.year if today.month >= 7 else today.year - 1
    return f"{start}-{(start + 1) % 100:02d}"


def lausd_jurisdiction(session: Session) -> Jurisdiction:
    state = session.scalars(select(Jurisdiction).where(Jurisdiction.code == "CA")).one()
    return ensure(
        session,
        Jurisdiction,
        demo_id("jurisdiction", "lausd"),
        code="LAUSD",
        name="Los Angeles Unified School District",
        parent_id=state.id,
        plan_due_month=10,
        plan_due_day=1,
        composition_rules=LAUSD_RULES,
        description="The Integrated School Safety Plan (ISSP) is due October 1.",
    )


def harbor_jurisdiction(session: Session) -> Jurisdiction:
    state = session.scalars(select(Jurisdiction).where(Jurisdiction.code == "CA")).one()
    return ensure(
        session,
        Jurisdiction,
        demo_id("jurisdiction", HARBOR_KEY),
        code="HGUSD",
        name="Harbor Gateway Unified School District (fictional)",
        parent_id=state.id,
        plan_due_month=11,
        plan_due_day=15,
        composition_rules=HARBOR_RULES,
        description="A fictional district's rules: plans due November 15.",
    )


def seed_committees(
    session: Session,
    members: dict[str, Organization],
    schools: dict[str, School],
    committee_specs: dict[str, tuple] = COMMITTEES,
    plan_specs: dict[str, tuple] = PLANS,
) -> None:
    """Committees with complete and missing seats and pending CBO nominations, and safety plans in
    every state with their needs; written directly with demo ids, like the directory. Only for a
    school without its committee (or plan) of this school year: an existing one, the demo's or one
    its users made, is left as it is with its members (or steps and needs)."""
    today = clock.today()
    year = current_school_year(today)
    term_start, term_end = jurisdictions.school_year_bounds(year)
    staff = {org_key: person for org_key, (person, _role) in STAFF.items()}
    for school_name, (seats, cbo, nominating) in committee_specs.items():
        school_id = schools[school_name].id
        if session.scalar(select(Committee.id).where(Committee.school_id == school_id, Committee.school_year == year)):
            continue
        committee = Committee(
            id=demo_id("committee", f"{school_name}:{year}"),
            school_id=school_id,
            school_year=year,
            meeting_schedule="Second Tuesday of each month, 3:30 pm, library",
        )
        session.add(committee)
        session.flush()
        for n, role in enumerate(seats):
            ends = today + timedelta(days=20) if (school_name, role) == ENDING_SOON else term_end
            person = INVENTED_PEOPLE[(n + len(school_name)) % len(INVENTED_PEOPLE)]
            session.add(
                CommitteeMember(
                    id=demo_id("member", f"{committee.id}:{role}"),
                    committee_id=committee.id,
                    role=role,
                    name=person,
                    email=email_of(person),
                    status=MemberStatus.active,
                    term_start=term_start,
                    term_end=ends,
                    organization_id=members["school:" + school_name].id if role != "law_enforcement" else members["lapd-csp"].id,
                )
            )
        for org_key, status in ((cbo, MemberStatus.active), (nominating, MemberStatus.nominated)):
            if org_key is None:
                continue
            person = staff.get(org_key) or PEOPLE["cbo_admin"][0]
            user = session.scalar(select(User).where(User.email == email_of(person)))
            session.add(
                CommitteeMember(
                    id=demo_id("member", f"{committee.id}:cbo:{org_key}"),
                    committee_id=committee.id,
                    role="cbo_representative",
                    name=person,
                    email=email_of(person),
                    user_id=user.id if user else None,
                    organization_id=members[org_key].id,
                    status=status,
                    term_start=term_start,
                    term_end=term_end,
                    nominated_by_organization_id=members[org_key].id,
                    nominated_by_user_id=user.id if user else None,
                )
            )
    for school_name, (state, needs) in plan_specs.items():
        school = schools[school_name]
        if session.scalar(select(SafetyPlan.id).where(SafetyPlan.school_id == school.id, SafetyPlan.school_year == year)):
            continue
        due_on, due_rule = jurisdictions.plan_deadline(session, school, year)
        plan_id = demo_id("plan", f"{school_name}:{year}")
        reached = PLAN_ORDER.index(state)
        session.add(
            SafetyPlan(
                id=plan_id,
                school_id=school.id,
                school_year=year,
                state=state,
                due_on=due_on,
                due_rule=due_rule,
                public_meeting_on=due_on - timedelta(days=30) if reached >= 2 else None,
                approved_at=LONG_AGO.replace(year=term_start.year, month=9, day=20) if reached >= 4 else None,
                summary=f"{school_name}'s {year} comprehensive school safety plan.",
            )
        )
        session.flush()
        for step in range(1, reached + 1):
            session.add(
                PlanTransition(
                    id=demo_id("plan-transition", f"{plan_id}:{step}"),
                    plan_id=plan_id,
                    from_state=PLAN_ORDER[step - 1],
                    to_state=PLAN_ORDER[step],
                    at=LONG_AGO.replace(year=term_start.year, month=8, day=step * 5),
                )
            )
        for n, (need_type, status, where, program) in enumerate(needs):
            need_id = demo_id("plan-need", f"{plan_id}:{n}")
            session.add(
                PlanNeed(
                    id=need_id,
                    plan_id=plan_id,
                    need_type=need_type,
                    status=status,
                    priority="high",
                    description=f"{need_type.replace('_', ' ').capitalize()} need found by the safety assessment.",
                    location_description=where,
                )
            )
            session.flush()
            if program and session.get(Program, demo_id("program", program)) is not None:
                session.add(PlanNeedProgram(need_id=need_id, program_id=demo_id("program", program)))
    session.flush()
