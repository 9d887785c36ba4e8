"""School safety committees: one per school and year, their members, whether they fill the roles
their school's jurisdictions require, and the CBO nomination workflow.

Member status moves only through MEMBER_TRANSITIONS: a CBO's nomination waits in `nominated`
until the school side approves (active) or declines it; an active member's seat is ended.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, func, not_, or_, select, true
from sqlalchemy.orm import Session

from cbs_network.audit import service as audit
from cbs_network.committees import policy
from cbs_network.committees.committees.transitions import MEMBER_TRANSITIONS, REASON_REQUIRED
from cbs_network.committees.jurisdictions import service as jurisdictions
from cbs_network.committees.models import Committee, CommitteeMember, Jurisdiction, MemberRole, MemberStatus
from cbs_network.core import clock
from cbs_network.core.db import utcnow
from cbs_network.core.errors import Conflict, NotFound, field_error
from cbs_network.core.workflow import allowed_for, invalid_transition
from cbs_network.directory.models import School
from cbs_network.events.service import record_event
from cbs_network.http.etag import check_version
from cbs_network.http.schemas import WithFields
from cbs_network.identity.models import Membership, User
from cbs_network.identity.principal import Principal
from cbs_network.organizations.models import Organization

M = MemberStatus
COMMITTEE_FIELDS = ("school_id", "school_year", "meeting_schedule", "notes")
MEMBER_FIELDS = (
    "role",
    "name",
    "email",
    "user_id",
    "organization_id",
    "term_start",
    "term_end",
    "status",
    "nominated_by_organization_id",
    "decision_reason",
)
EVENT_NAMES = {M.active: "approved", M.declined: "declined", M.ended: "ended"}


today = clock.today  # the day terms are judged by (tests fix it)


# --- reading -----------------------------------------------------------------------------------


def get(*, session: Session, committee_id: uuid.UUID) -> Committee:
    """Committees are public to the network: anyone with committees:read reads any of them."""
    committee = session.get(Committee, committee_id)
    if committee is None:
        raise NotFound("No committee with this id.")
    return committee


def get_member(*, session: Session, committee_id: uuid.UUID, member_id: uuid.UUID, lock: bool = False) -> CommitteeMember:
    member = session.get(CommitteeMember, member_id, with_for_update=lock)
    if member is None or member.committee_id != committee_id:
        raise NotFound("This committee has no member with this id.")
    return member


def _school(session: Session, committee: Committee) -> School:
    return session.get_one(School, committee.school_id)


def present_member(
    session: Session, principal: Principal, member: CommitteeMember, *, school: School | None = None
) -> WithFields:
    """Names are public to the network; email and the decision's reason only to the school side
    and the organization the member represents."""
    school = school or session.get_one(School, session.get_one(Committee, member.committee_id).school_id)
    parties = policy.member_parties(principal, school, member.organization_id)
    contact = policy.can_see_member_contact(principal, school, member.organization_id)
    return WithFields(
        member,
        email=member.email if contact else None,
        decision_reason=member.decision_reason if contact else None,
        allowed_transitions=allowed_for(MEMBER_TRANSITIONS, member.status, parties),
    )


def present(session: Session, principal: Principal, committee: Committee) -> WithFields:
    school = _school(session, committee)
    return WithFields(committee, members=[present_member(session, principal, m, school=school) for m in committee.members])


def seated(as_of: date) -> ColumnElement[bool]:
    """Members who count on `as_of`: active, and their term covers the day."""
    return and_(
        CommitteeMember.status == M.active,
        or_(CommitteeMember.term_start.is_(None), CommitteeMember.term_start <= as_of),
        or_(CommitteeMember.term_end.is_(None), CommitteeMember.term_end >= as_of),
    )


def is_seated(member: CommitteeMember, as_of: date) -> bool:
    """The same rule as `seated`, for members already loaded."""
    return (
        member.status is M.active
        and (member.term_start is None or member.term_start <= as_of)
        and (member.term_end is None or member.term_end >= as_of)
    )


def missing_roles(required: dict[str, dict[str, Any]], seated_roles: list[str]) -> list[str]:
    """The required roles that `seated_roles` (one entry per seated member) leave unfilled, in the roles' order."""
    return [
        role.value
        for role in MemberRole
        if role.value in required and seated_roles.count(role.value) < required[role.value]["minimum"]
    ]


def compliant_clause(session: Session, as_of: date) -> ColumnElement[bool]:
    """True for committees that fill every role their school's jurisdictions require on `as_of`.

    For a query that joins School to Committee. The rules are data, so the clause is built from
    every jurisdiction's chain (a handful of rows, read once) and runs as one query, with a
    correlated count per role instead of a query per committee.
    """
    everyone = session.scalars(select(Jurisdiction)).all()  # chain() then reads them from the identity map
    counts: dict[str, Any] = {}
    violations = []
    for jurisdiction_id in [None, *(j.id for j in everyone)]:
        applies = (
            School.jurisdiction_id.is_(None)
            if jurisdiction_id is None
            else and_(School.jurisdiction_id.is_not(None), School.jurisdiction_id == jurisdiction_id)
        )
        for jurisdiction in jurisdictions.chain(session, jurisdiction_id):
            for rule in jurisdiction.composition_rules:
                role = rule["role"]
                if role not in counts:
                    counts[role] = (
                        select(func.count(CommitteeMember.id))
                        .where(
                            CommitteeMember.committee_id == Committee.id, CommitteeMember.role == MemberRole(role), seated(as_of)
                        )
                        .correlate(Committee)
                        .scalar_subquery()
                    )
                grade = (
                    true()
                    if rule.get("min_grade") is None
                    else and_(School.grade_high.is_not(None), School.grade_high >= rule["min_grade"])
                )
                violations.append(and_(applies, grade, counts[role] < rule["minimum"]))
    return not_(or_(false(), *violations))


def list_query(
    *,
    session: Session,
    principal: Principal,
    school_id: uuid.UUID | None = None,
    school_year: str | None = None,
    region: str | None = None,
    board_district: int | None = None,
    compliant: bool | None = None,
    as_of: date | None = None,
    **_page: Any,
) -> Select:
    query = select(Committee).join(School, School.id == Committee.school_id)
    if school_id is not None:
        query = query.where(Committee.school_id == school_id)
    if school_year is not None:
        query = query.where(Committee.school_year == school_year)
    if region is not None:
        query = query.where(School.region == region)
    if board_district is not None:
        query = query.where(School.board_district == board_district)
    if compliant is not None:
        clause = compliant_clause(session, as_of or today())
        query = query.where(clause if compliant else not_(clause))
    return query


def compliance(*, session: Session, committee_id: uuid.UUID, within_days: int = 60, as_of: date | None = None) -> dict[str, Any]:
    """Which required roles the committee fills on `as_of`, and whose terms end soon."""
    committee = get(session=session, committee_id=committee_id)
    school = _school(session, committee)
    as_of = as_of or today()
    members = session.scalars(
        select(CommitteeMember).where(CommitteeMember.committee_id == committee.id, CommitteeMember.status == M.active)
    ).all()
    seated_roles = [m.role.value for m in members if is_seated(m, as_of)]
    required_by_role = jurisdictions.required_roles(session, school)
    required = []
    for role in MemberRole:  # the enum's order, so answers compare
        if role.value not in required_by_role:
            continue
        rule = required_by_role[role.value]
        filled = seated_roles.count(role.value)
        required.append(
            {
                "role": role,
                "minimum": rule["minimum"],
                "filled": filled,
                "missing": max(rule["minimum"] - filled, 0),
                "sources": rule["sources"],
            }
        )
    horizon = as_of + timedelta(days=within_days)
    ending = sorted((m for m in members if m.term_end is not None and m.term_end <= horizon), key=lambda m: (m.term_end, m.name))
    missing = missing_roles(required_by_role, seated_roles)
    return {
        "committee_id": committee.id,
        "school_id": committee.school_id,
        "school_year": committee.school_year,
        "compliant": not missing,
        "required": required,
        "missing_roles": missing,
        "terms_ending": [{"member_id": m.id, "role": m.role, "name": m.name, "term_end": m.term_end} for m in ending],
        "as_of": as_of,
        "within_days": within_days,
    }


# --- committees --------------------------------------------------------------------------------


def _committee_recorded(session: Session, principal: Principal, committee: Committee, action: str, changes: dict) -> None:
    audit.record(
        session,
        principal=principal,
        action=f"committee.{action}",
        object_type="committee",
        object_id=committee.id,
        changes=changes,
    )
    school = _school(session, committee)
    record_event(
        session,
        type=f"committee.{action}",
        object_type="committee",
        object_id=committee.id,
        principal=principal,
        payload={
            "committee_id": committee.id,
            "school_id": committee.school_id,
            "school_year": committee.school_year,
            "changed": sorted(changes),
        },
        audience=[o for o in (school.organization_id, school.district_id) if o is not None],
    )


def create(*, session: Session, principal: Principal, data: dict[str, Any]) -> Committee:
    school = session.get(School, data["school_id"])
    if school is None:
        raise field_error("school_id", "No school with this id.")
    policy.require_school_side(principal, school, "creates its committee")
    existing = session.scalar(
        select(Committee.id).where(Committee.school_id == school.id, Committee.school_year == data["school_year"])
    )
    if existing is not None:
        raise Conflict(
            f"The school already has a committee for {data['school_year']} ({existing}); change that one.",
            committee_id=str(existing),
        )
    committee = Committee(id=uuid.uuid4(), **{name: data.get(name) for name in COMMITTEE_FIELDS})
    session.add(committee)
    session.flush()
    _committee_recorded(session, principal, committee, "created", audit.diff({}, audit.snapshot(committee, COMMITTEE_FIELDS)))
    return committee


def update(
    *, session: Session, principal: Principal, committee_id: uuid.UUID, data: dict[str, Any], expected_version: int
) -> Committee:
    committee = get(session=session, committee_id=committee_id)
    policy.require_school_side(principal, _school(session, committee), "changes its committee")
    check_version(committee, expected_version)
    before = audit.snapshot(committee, COMMITTEE_FIELDS)
    for name, value in data.items():
        setattr(committee, name, value)
    session.flush()
    _committee_recorded(session, principal, committee, "updated", audit.diff(before, audit.snapshot(committee, COMMITTEE_FIELDS)))
    return committee


# --- members -----------------------------------------------------------------------------------


def _check_terms(term_start: date | None, term_end: date | None) -> None:
    if term_start is not None and term_end is not None and term_end < term_start:
        raise field_error("term_end", f"The term ends ({term_end}) before it starts ({term_start}).")


def _check_not_seated(session: Session, committee: Committee, user_id: uuid.UUID | None) -> None:
    """One seat per person: a user already nominated or active on the committee is a conflict."""
    if user_id is None:
        return
    current = session.scalar(
        select(CommitteeMember).where(
            CommitteeMember.committee_id == committee.id,
            CommitteeMember.user_id == user_id,
            CommitteeMember.status.in_([M.nominated, M.active]),
        )
    )
    if current is not None:
        raise Conflict(
            f"This person already has a seat on the committee ({current.status.value}, member {current.id}).",
            member_id=str(current.id),
            current_status=current.status.value,
        )


def _member_recorded(
    session: Session,
    principal: Principal,
    committee: Committee,
    member: CommitteeMember,
    action: str,
    before: dict[str, Any],
    *,
    from_status: MemberStatus | None = None,
    reason: str | None = None,
) -> None:
    """Audit the change (email masked) and raise an event of ids, roles and statuses only."""
    changes = audit.diff(before, audit.snapshot(member, MEMBER_FIELDS), masked=["email"])
    if reason:
        changes["reason"] = {"before": None, "after": reason}
    audit.record(
        session,
        principal=principal,
        action=f"committee_member.{action}",
        object_type="committee_member",
        object_id=member.id,
        changes=changes,
    )
    school = _school(session, committee)
    audience = {
        o
        for o in (school.organization_id, school.district_id, member.nominated_by_organization_id, member.organization_id)
        if o is not None
    }
    record_event(
        session,
        type=f"committee_member.{action}",
        object_type="committee_member",
        object_id=member.id,
        principal=principal,
        audience=sorted(audience, key=str),
        payload={
            "committee_id": committee.id,
            "school_id": committee.school_id,
            "member_id": member.id,
            "role": member.role,
            "status": member.status,
            "from_status": from_status,
            "organization_id": member.organization_id,
            "nominated_by_organization_id": member.nominated_by_organization_id,
            "changed": sorted(changes),
        },
    )


def _check_references(session: Session, data: dict[str, Any]) -> None:
    if data.get("organization_id") is not None and session.get(Organization, data["organization_id"]) is None:
        raise field_error("organization_id", "No organization with this id.")
    if data.get("user_id") is not None and session.get(User, data["user_id"]) is None:
        raise field_error("user_id", "No user with this id.")


def add_member(*, session: Session, principal: Principal, committee_id: uuid.UUID, data: dict[str, Any]) -> CommitteeMember:
    """The school side seats a member directly (active)."""
    committee = get(session=session, committee_id=committee_id)
    policy.require_school_side(principal, _school(session, committee), "seats members on its committee")
    _check_terms(data.get("term_start"), data.get("term_end"))
    _check_references(session, data)
    _check_not_seated(session, committee, data.get("user_id"))
    member = CommitteeMember(
        id=uuid.uuid4(),
        committee_id=committee.id,
        status=M.active,
        **{name: data.get(name) for name in ("role", "name", "email", "organization_id", "user_id", "term_start", "term_end")},
    )
    session.add(member)
    session.flush()
    _member_recorded(session, principal, committee, member, "added", {})
    return member


def update_member(
    *,
    session: Session,
    principal: Principal,
    committee_id: uuid.UUID,
    member_id: uuid.UUID,
    data: dict[str, Any],
    expected_version: int,
) -> CommitteeMember:
    committee = get(session=session, committee_id=committee_id)
    member = get_member(session=session, committee_id=committee.id, member_id=member_id)
    policy.require_school_side(principal, _school(session, committee), "changes its committee's members")
    check_version(member, expected_version)
    if member.status in (M.declined, M.ended):
        raise Conflict(
            f"The member is {member.status.value}: a closed seat is kept as it was.", current_status=member.status.value
        )
    _check_terms(data.get("term_start", member.term_start), data.get("term_end", member.term_end))
    _check_references(session, data)
    before = audit.snapshot(member, MEMBER_FIELDS)
    for name, value in data.items():
        setattr(member, name, value)
    session.flush()
    _member_recorded(session, principal, committee, member, "updated", before)
    return member


# --- nominations and the member state machine --------------------------------------------------


def nominate(*, session: Session, principal: Principal, committee_id: uuid.UUID, data: dict[str, Any]) -> CommitteeMember:
    """A CBO puts one of its own staff forward; the member waits in `nominated`."""
    committee = get(session=session, committee_id=committee_id)
    organization = policy.require_nominator(session, principal)
    _check_terms(data.get("term_start"), data.get("term_end"))
    user = session.scalar(
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(User.id == data["user_id"], Membership.organization_id == organization.id)
    )
    if user is None:
        raise field_error("user_id", "A CBO may nominate only its own staff: this user is not a member of your organization.")
    _check_not_seated(session, committee, user.id)
    member = CommitteeMember(
        id=uuid.uuid4(),
        committee_id=committee.id,
        role=data["role"],
        name=user.name,
        email=user.email,
        user_id=user.id,
        organization_id=organization.id,
        term_start=data.get("term_start"),
        term_end=data.get("term_end"),
        status=M.nominated,
        nominated_by_organization_id=organization.id,
        nominated_by_user_id=principal.user_id,
    )
    session.add(member)
    session.flush()
    _member_recorded(session, principal, committee, member, "nominated", {})
    return member


def _move(
    session: Session,
    principal: Principal,
    committee_id: uuid.UUID,
    member_id: uuid.UUID,
    to: MemberStatus,
    reason: str | None,
    term_end: date | None = None,
) -> CommitteeMember:
    committee = get(session=session, committee_id=committee_id)
    member = get_member(session=session, committee_id=committee.id, member_id=member_id, lock=True)
    start = member.status
    if (start, to) not in MEMBER_TRANSITIONS:
        raise invalid_transition("A committee member", MEMBER_TRANSITIONS, start, to)
    policy.require_member_party(principal, _school(session, committee), member, to)
    if to in REASON_REQUIRED and not reason:
        raise field_error("reason", f"A reason is required for {to.value}.")
    before = audit.snapshot(member, MEMBER_FIELDS)
    if to is M.ended:
        end = term_end or today()
        _check_terms(member.term_start, end)
        member.term_end = end
    else:
        member.decided_by_user_id = principal.user_id
        member.decided_at = utcnow()
        member.decision_reason = reason
    member.status = to
    session.flush()
    # A decision's reason is a member field; an ending's is kept in the audit record only.
    _member_recorded(
        session,
        principal,
        committee,
        member,
        EVENT_NAMES[to],
        before,
        from_status=start,
        reason=reason if to is M.ended else None,
    )
    return member


def decide(
    *,
    session: Session,
    principal: Principal,
    committee_id: uuid.UUID,
    member_id: uuid.UUID,
    decision: str,
    reason: str | None = None,
) -> CommitteeMember:
    """The school side approves a nomination (active) or declines it with a reason."""
    to = M.active if decision == "approve" else M.declined
    return _move(session, principal, committee_id, member_id, to, reason)


def end_member(
    *,
    session: Session,
    principal: Principal,
    committee_id: uuid.UUID,
    member_id: uuid.UUID,
    reason: str,
    term_end: date | None = None,
) -> CommitteeMember:
    return _move(session, principal, committee_id, member_id, M.ended, reason, term_end)
