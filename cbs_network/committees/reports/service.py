"""The network's views across schools: committees missing a required role (or a CBO
representative), plans past their deadline, and schools that need safe passage but have no
program providing it. Each is a list of schools, filterable by region and board district."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cbs_network.committees.committees import service as committees
from cbs_network.committees.jurisdictions import service as jurisdictions
from cbs_network.committees.models import Committee, NeedStatus, PlanNeed, PlanState, SafetyPlan
from cbs_network.core.errors import Conflict
from cbs_network.directory.models import ProgramType, School, SchoolStatus
from cbs_network.directory.service_areas import school_ids_served

SCHOOL_COLUMNS = ("school_id", "cds_code", "school_name", "region", "board_district")


def _schools(session: Session, region: str | None, board_district: int | None) -> list[School]:
    query = select(School).where(School.status == SchoolStatus.active)
    if region is not None:
        query = query.where(School.region == region)
    if board_district is not None:
        query = query.where(School.board_district == board_district)
    return list(session.scalars(query.order_by(School.name, School.id)))


def _row(school: School, **details: Any) -> dict[str, Any]:
    return {
        "school_id": school.id,
        "cds_code": school.cds_code,
        "school_name": school.name,
        "region": school.region,
        "board_district": school.board_district,
        **details,
    }


def committee_gaps(
    session: Session, *, school_year: str, as_of: date, region: str | None = None, board_district: int | None = None
) -> list[dict[str, Any]]:
    """Schools without a committee for the year, or whose committee lacks a required role."""
    schools = _schools(session, region, board_district)
    by_school = {
        c.school_id: c
        for c in session.scalars(
            select(Committee).where(Committee.school_year == school_year, Committee.school_id.in_([s.id for s in schools]))
        )
    }
    chains: dict[uuid.UUID | None, list] = {}
    rows = []
    for school in schools:
        committee = by_school.get(school.id)
        if school.jurisdiction_id not in chains:
            chains[school.jurisdiction_id] = jurisdictions.chain(session, school.jurisdiction_id)
        required = jurisdictions.roles_required(chains[school.jurisdiction_id], school.grade_high)
        seated = [m.role.value for m in committee.members if committees.is_seated(m, as_of)] if committee else []
        missing = committees.missing_roles(required, seated)
        if committee is None or missing:
            rows.append(
                _row(
                    school,
                    committee_id=committee.id if committee else None,
                    missing_roles=missing,
                    lacks_cbo_representative="cbo_representative" not in seated,
                )
            )
    return rows


def overdue_plans(
    session: Session, *, school_year: str, as_of: date, region: str | None = None, board_district: int | None = None
) -> list[dict[str, Any]]:
    """Schools past the year's plan deadline without an approved plan (or without any plan)."""
    schools = _schools(session, region, board_district)
    plans = {
        p.school_id: p
        for p in session.scalars(
            select(SafetyPlan).where(SafetyPlan.school_year == school_year, SafetyPlan.school_id.in_([s.id for s in schools]))
        )
    }
    deadlines: dict[uuid.UUID | None, date | None] = {}
    rows = []
    due: date | None
    for school in schools:
        plan = plans.get(school.id)
        if plan is not None:
            due, state = plan.due_on, plan.state.value
        else:
            if school.jurisdiction_id not in deadlines:
                try:
                    deadlines[school.jurisdiction_id] = jurisdictions.plan_deadline(session, school, school_year)[0]
                except Conflict:
                    deadlines[school.jurisdiction_id] = None  # no rule sets a deadline: never overdue
            due, state = deadlines[school.jurisdiction_id], None
        if due is not None and as_of > due and state != PlanState.approved.value:
            rows.append(
                _row(school, plan_id=plan.id if plan else None, plan_state=state, due_on=due, days_overdue=(as_of - due).days)
            )
    return rows


def safe_passage_gaps(
    session: Session, *, school_year: str | None = None, region: str | None = None, board_district: int | None = None
) -> list[dict[str, Any]]:
    """Schools with an open safe-passage need in their plan and no active safe-passage program serving them."""
    needs = (
        select(PlanNeed, SafetyPlan.school_id)
        .join(SafetyPlan, SafetyPlan.id == PlanNeed.plan_id)
        .where(PlanNeed.need_type == ProgramType.safe_passage, PlanNeed.status != NeedStatus.met)
    )
    if school_year is not None:
        needs = needs.where(SafetyPlan.school_year == school_year)
    open_needs: dict[uuid.UUID, list[PlanNeed]] = {}
    for need, school_id in session.execute(needs):
        open_needs.setdefault(school_id, []).append(need)
    served = school_ids_served(session, program_types=[ProgramType.safe_passage])
    return [
        _row(
            school,
            need_ids=[n.id for n in open_needs[school.id]],
            locations=[n.location_description for n in open_needs[school.id] if n.location_description],
        )
        for school in _schools(session, region, board_district)
        if school.id in open_needs and school.id not in served
    ]
