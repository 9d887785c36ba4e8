"""Safety plans: opening one per school and year with its jurisdiction's deadline, moving it
through the plan state machine, the overdue flag, and the needs its assessment found.

Every network member reads plans; the school side writes them and the school's own district
approves them (policy.py, transitions.py).

Overdue: a plan is overdue when today is after its due date and it is not approved. An amended
plan counts as not approved until it is approved again, so amending after the deadline makes
the plan overdue until the district approves the amendment.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any, Iterable

from sqlalchemy import Select, and_, select
from sqlalchemy.orm import Session

from cbs_network.audit import service as audit
from cbs_network.committees import policy
from cbs_network.committees.jurisdictions import service as jurisdictions
from cbs_network.committees.models import PlanNeed, PlanNeedProgram, PlanState, PlanTransition, SafetyPlan
from cbs_network.committees.plans.transitions import MEETING_HELD, TRANSITIONS
from cbs_network.core import clock
from cbs_network.core.db import utcnow
from cbs_network.core.errors import Conflict, NotFound, ValidationFailed, field_error
from cbs_network.core.workflow import allowed_for, invalid_transition
from cbs_network.directory.models import Program, School
from cbs_network.directory.programs import policy as programs_policy
from cbs_network.events.service import record_event
from cbs_network.http.etag import check_version
from cbs_network.http.schemas import WithFields
from cbs_network.identity.principal import Principal

S = PlanState
PLAN_FIELDS = (
    "school_id",
    "school_year",
    "state",
    "due_on",
    "due_rule",
    "public_meeting_on",
    "approved_at",
    "approved_by_user_id",
    "summary",
)
NEED_FIELDS = ("need_type", "description", "location_description", "priority", "status")
today = clock.today  # the date deadlines and meeting dates are judged by (tests fix it)


# --- showing a plan ----------------------------------------------------------------------------


def overdue_clause(on: date | None = None):
    return and_(SafetyPlan.state != S.approved, SafetyPlan.due_on < (on or today()))


def is_overdue(plan: SafetyPlan, on: date | None = None) -> bool:
    return plan.state is not S.approved and (on or today()) > plan.due_on


def present_need(need: PlanNeed) -> WithFields:
    return WithFields(need, program_ids=sorted((link.program_id for link in need.programs), key=str))


def needs_query(plan_id: uuid.UUID) -> Select:
    return select(PlanNeed).where(PlanNeed.plan_id == plan_id)


def present(session: Session, principal: Principal, plan: SafetyPlan, *, detail: bool = False) -> WithFields:
    school = session.get_one(School, plan.school_id)
    fields: dict[str, Any] = {
        "overdue": is_overdue(plan),
        "allowed_transitions": allowed_for(TRANSITIONS, plan.state, policy.plan_parties(principal, school))
        if principal.has_scope("committees:write")
        else [],
    }
    if detail:
        needs = session.scalars(needs_query(plan.id).order_by(PlanNeed.created_at, PlanNeed.id))
        fields["needs"] = [present_need(need) for need in needs]
        fields["history"] = list(
            session.scalars(
                select(PlanTransition).where(PlanTransition.plan_id == plan.id).order_by(PlanTransition.at, PlanTransition.id)
            )
        )
    return WithFields(plan, **fields)


def present_many(session: Session, principal: Principal, plans: list[SafetyPlan]) -> list[WithFields]:
    # One query for the page's schools; present() then finds them in the session.
    list(session.scalars(select(School).where(School.id.in_({plan.school_id for plan in plans}))))
    return [present(session, principal, plan) for plan in plans]


def get(*, session: Session, plan_id: uuid.UUID, lock: bool = False) -> SafetyPlan:
    query = select(SafetyPlan).where(SafetyPlan.id == plan_id)
    plan = session.scalar(query.with_for_update() if lock else query)
    if plan is None:
        raise NotFound("No safety plan with this id.")
    return plan


def list_query(
    *,
    school_id: uuid.UUID | None = None,
    school_year: str | None = None,
    state: list[S] | None = None,
    overdue: bool | None = None,
    region: str | None = None,
    board_district: int | None = None,
    **_page: Any,
) -> Select:
    query = select(SafetyPlan)
    if school_id is not None:
        query = query.where(SafetyPlan.school_id == school_id)
    if school_year is not None:
        query = query.where(SafetyPlan.school_year == school_year)
    if state:
        query = query.where(SafetyPlan.state.in_(state))
    if overdue is not None:
        clause = overdue_clause()
        query = query.where(clause if overdue else ~clause)
    if region is not None or board_district is not None:
        query = query.join(School, School.id == SafetyPlan.school_id)
        if region is not None:
            query = query.where(School.region == region)
        if board_district is not None:
            query = query.where(School.board_district == board_district)
    return query


# --- writing a plan ----------------------------------------------------------------------------


def _school(session: Session, plan: SafetyPlan) -> School:
    return session.get_one(School, plan.school_id)


def _event(session: Session, principal: Principal, plan: SafetyPlan, type: str, **payload: Any) -> None:
    """Events carry ids and states only, never the plan's text."""
    school = _school(session, plan)
    record_event(
        session,
        type=type,
        object_type="safety_plan",
        object_id=plan.id,
        principal=principal,
        payload={
            "plan_id": plan.id,
            "school_id": plan.school_id,
            "school_year": plan.school_year,
            "state": plan.state,
            "due_on": plan.due_on,
            **payload,
        },
        audience=[o for o in (school.organization_id, school.district_id) if o is not None],
    )


def _check_meeting_kept(plan: SafetyPlan, meeting_on: date | None) -> None:
    """Once the public meeting is recorded, its date stays a real, past one."""
    if plan.state in MEETING_HELD and meeting_on is None:
        raise field_error("public_meeting_on", f"The plan is {plan.state.value}: its public meeting date cannot be removed.")
    if plan.state in MEETING_HELD and meeting_on is not None and meeting_on > today():
        raise field_error("public_meeting_on", f"The plan is {plan.state.value}: its public meeting cannot be in the future.")


def create(*, session: Session, principal: Principal, data: dict[str, Any]) -> SafetyPlan:
    school = session.get(School, data["school_id"])
    if school is None:
        raise field_error("school_id", "No school with this id.")
    policy.require_school_side(principal, school, "opens its safety plan")
    existing = session.scalar(
        select(SafetyPlan.id).where(SafetyPlan.school_id == school.id, SafetyPlan.school_year == data["school_year"])
    )
    if existing is not None:
        raise Conflict(
            f"{school.name} already has a safety plan for {data['school_year']}: change that one.", plan_id=str(existing)
        )
    due_on, due_rule = jurisdictions.plan_deadline(session, school, data["school_year"])
    plan = SafetyPlan(
        id=uuid.uuid4(),
        school_id=school.id,
        school_year=data["school_year"],
        state=S.not_started,
        due_on=due_on,
        due_rule=due_rule,
        summary=data.get("summary"),
        public_meeting_on=data.get("public_meeting_on"),
    )
    session.add(plan)
    session.flush()
    audit.record(
        session,
        principal=principal,
        action="safety_plan.created",
        object_type="safety_plan",
        object_id=plan.id,
        changes=audit.diff({}, audit.snapshot(plan, PLAN_FIELDS)),
    )
    _event(session, principal, plan, "safety_plan.created")
    return plan


def update(
    *, session: Session, principal: Principal, plan_id: uuid.UUID, data: dict[str, Any], expected_version: int
) -> SafetyPlan:
    """The summary and the public meeting date; the state moves only by transitions."""
    plan = get(session=session, plan_id=plan_id, lock=True)
    policy.require_school_side(principal, _school(session, plan), "changes its safety plan")
    check_version(plan, expected_version)
    if plan.state is S.approved:
        raise Conflict("An approved plan is changed by amending it: move it to amended first.", current_state=plan.state.value)
    if "public_meeting_on" in data:
        _check_meeting_kept(plan, data["public_meeting_on"])
    before = audit.snapshot(plan, PLAN_FIELDS)
    for name, value in data.items():
        setattr(plan, name, value)
    changes = audit.diff(before, audit.snapshot(plan, PLAN_FIELDS))
    if changes:
        session.flush()
        audit.record(
            session,
            principal=principal,
            action="safety_plan.updated",
            object_type="safety_plan",
            object_id=plan.id,
            changes=changes,
        )
        _event(session, principal, plan, "safety_plan.updated", changed=sorted(changes))
    return plan


def transition(*, session: Session, principal: Principal, plan_id: uuid.UUID, data: dict[str, Any]) -> SafetyPlan:
    plan = get(session=session, plan_id=plan_id, lock=True)
    school = _school(session, plan)
    policy.require_plan_mover(principal, school)
    start, to = plan.state, data["to"]
    if (start, to) not in TRANSITIONS:
        raise invalid_transition("A safety plan", TRANSITIONS, start, to)
    policy.require_plan_party(principal, school, plan, to)
    meeting_on = data.get("public_meeting_on")
    if meeting_on is not None and to is not S.public_meeting_held:
        raise field_error(
            "public_meeting_on",
            "The public meeting date is given when moving to public_meeting_held (or set beforehand with PATCH).",
        )
    before = audit.snapshot(plan, PLAN_FIELDS)
    if to is S.public_meeting_held:
        meeting_on = meeting_on or plan.public_meeting_on
        if meeting_on is None:
            raise field_error(
                "public_meeting_on", "The date of the public meeting (Ed Code 32288) is required to record that it was held."
            )
        if meeting_on > today():
            raise field_error("public_meeting_on", f"The public meeting on {meeting_on} is in the future: record it once held.")
        plan.public_meeting_on = meeting_on
    if to is S.approved:
        plan.approved_at = utcnow()
        plan.approved_by_user_id = principal.user_id
    plan.state = to
    session.add(
        PlanTransition(
            id=uuid.uuid4(),
            plan_id=plan.id,
            from_state=start,
            to_state=to,
            at=utcnow(),
            actor_organization_id=principal.organization_id,
            actor_user_id=principal.user_id,
            note=data.get("note"),
        )
    )
    session.flush()
    audit.record(
        session,
        principal=principal,
        action="safety_plan.transitioned",
        object_type="safety_plan",
        object_id=plan.id,
        changes={
            **audit.diff(before, audit.snapshot(plan, PLAN_FIELDS)),
            **({"note": {"before": None, "after": data["note"]}} if data.get("note") else {}),
        },
    )
    _event(session, principal, plan, "safety_plan.transitioned", from_state=start, to=to)
    return plan


# --- needs -------------------------------------------------------------------------------------


def _unique(values: Iterable[uuid.UUID]) -> list[uuid.UUID]:
    return list(dict.fromkeys(values))


def _check_programs(session: Session, principal: Principal, program_ids: list[uuid.UUID]) -> None:
    found = set(session.scalars(select(Program.id).where(Program.id.in_(program_ids), programs_policy.visible(principal))))
    unknown = {n: ["No program with this id."] for n, program_id in enumerate(program_ids) if program_id not in found}
    if unknown:
        raise ValidationFailed("Some program_ids name no program; see errors.", errors={"json": {"program_ids": unknown}})


def _need_view(need: PlanNeed) -> dict[str, Any]:
    return {**audit.snapshot(need, NEED_FIELDS), "program_ids": sorted(str(link.program_id) for link in need.programs)}


def _apply_need(need: PlanNeed, data: dict[str, Any]) -> None:
    data = dict(data)
    if "program_ids" in data:
        # Keep the links that stay, so a primary key is never deleted and inserted in one flush.
        kept = {link.program_id: link for link in need.programs}
        need.programs = [kept.get(i) or PlanNeedProgram(program_id=i) for i in _unique(data.pop("program_ids"))]
    for name, value in data.items():
        setattr(need, name, value)


def _need_event(
    session: Session,
    principal: Principal,
    plan: SafetyPlan,
    need_id: uuid.UUID,
    type: str,
    need: PlanNeed | None = None,
    **payload: Any,
) -> None:
    if need is not None:
        payload.update(
            need_type=need.need_type,
            priority=need.priority,
            status=need.status,
            program_ids=sorted(str(link.program_id) for link in need.programs),
        )
    _event(session, principal, plan, type, need_id=need_id, **payload)


def _writable_plan(session: Session, principal: Principal, plan_id: uuid.UUID) -> SafetyPlan:
    plan = get(session=session, plan_id=plan_id)
    policy.require_school_side(principal, _school(session, plan), "records its safety plan's needs")
    return plan


def get_need(*, session: Session, plan_id: uuid.UUID, need_id: uuid.UUID) -> PlanNeed:
    get(session=session, plan_id=plan_id)
    need = session.get(PlanNeed, need_id)
    if need is None or need.plan_id != plan_id:
        raise NotFound("No need with this id in this safety plan.")
    return need


def create_need(*, session: Session, principal: Principal, plan_id: uuid.UUID, data: dict[str, Any]) -> PlanNeed:
    plan = _writable_plan(session, principal, plan_id)
    _check_programs(session, principal, data["program_ids"])
    need = PlanNeed(id=uuid.uuid4(), plan_id=plan.id)
    _apply_need(need, data)
    session.add(need)
    session.flush()
    audit.record(
        session,
        principal=principal,
        action="safety_plan.need_created",
        object_type="safety_plan_need",
        object_id=need.id,
        changes=audit.diff({}, _need_view(need)),
    )
    _need_event(session, principal, plan, need.id, "safety_plan.need_created", need)
    return need


def update_need(
    *,
    session: Session,
    principal: Principal,
    plan_id: uuid.UUID,
    need_id: uuid.UUID,
    data: dict[str, Any],
    expected_version: int,
) -> PlanNeed:
    plan = _writable_plan(session, principal, plan_id)
    need = get_need(session=session, plan_id=plan_id, need_id=need_id)
    check_version(need, expected_version)
    if "program_ids" in data:
        _check_programs(session, principal, data["program_ids"])
    before = _need_view(need)
    _apply_need(need, data)
    changes = audit.diff(before, _need_view(need))
    if changes:
        need.updated_at = utcnow()  # bumps the version even when only the program links changed
        session.flush()
        audit.record(
            session,
            principal=principal,
            action="safety_plan.need_updated",
            object_type="safety_plan_need",
            object_id=need.id,
            changes=changes,
        )
        _need_event(session, principal, plan, need.id, "safety_plan.need_updated", need, changed=sorted(changes))
    return need


def delete_need(*, session: Session, principal: Principal, plan_id: uuid.UUID, need_id: uuid.UUID, expected_version: int) -> None:
    plan = _writable_plan(session, principal, plan_id)
    need = get_need(session=session, plan_id=plan_id, need_id=need_id)
    check_version(need, expected_version)
    before = _need_view(need)
    session.delete(need)
    session.flush()
    audit.record(
        session,
        principal=principal,
        action="safety_plan.need_deleted",
        object_type="safety_plan_need",
        object_id=need_id,
        changes=audit.diff(before, {}),
    )
    _need_event(session, principal, plan, need_id, "safety_plan.need_deleted")
