from __future__ import annotations

import uuid
from typing import Any

from flask import url_for

from cbs_network.committees.models import PlanNeed, SafetyPlan
from cbs_network.committees.plans import service as plans
from cbs_network.committees.plans.schemas import (
    PlanNeedCreateSchema,
    PlanNeedPageSchema,
    PlanNeedQuerySchema,
    PlanNeedSchema,
    PlanNeedUpdateSchema,
    PlanTransitionCreateSchema,
    SafetyPlanCreateSchema,
    SafetyPlanPageSchema,
    SafetyPlanQuerySchema,
    SafetyPlanSchema,
    SafetyPlanUpdateSchema,
)
from cbs_network.core.db import session
from cbs_network.http.api import Blueprint, created
from cbs_network.http.pagination import paginate
from cbs_network.identity.principal import current_principal

blp = Blueprint(
    "safety_plans",
    __name__,
    url_prefix="/api/v1/safety-plans",
    description="Comprehensive school safety plans (Ed Code 32280-32289): one per school and year, due by the "
    "school's jurisdiction's deadline, moved from not_started to approved, with the needs their "
    "assessment found and the programs that meet them.",
)

IDS = {"id": "7c6b5a4f-3e2d-4c1b-8a9f-0e1d2c3b4a59", "school_id": "4d5e6f7a-8b9c-4d0e-8f1a-2b3c4d5e6f7a"}
NEED_EXAMPLE = {
    "id": "2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e",
    "plan_id": IDS["id"],
    "need_type": "safe_passage",
    "description": "Students report fights on the walk to the bus after dismissal.",
    "location_description": "Vermont Ave between 80th and 84th St; Metro stop at 81st",
    "priority": "high",
    "status": "open",
    "program_ids": ["5b7f1c2e-9a4d-4e3b-8f61-2c0d9e7a4b10"],
    "version": 1,
    "created_at": "2026-09-15T17:00:00+00:00",
    "updated_at": "2026-09-15T17:00:00+00:00",
}
SUMMARY_EXAMPLE = {
    **IDS,
    "school_year": "2026-27",
    "state": "drafting",
    "due_on": "2027-03-01",
    "due_rule": "CA (State of California): due March 1",
    "overdue": False,
    "public_meeting_on": "2027-01-20",
    "approved_at": None,
    "approved_by_user_id": None,
    "summary": "Annual update: safe passage along Vermont Ave.",
    "allowed_transitions": ["public_meeting_held"],
    "version": 2,
    "created_at": "2026-09-01T17:00:00+00:00",
    "updated_at": "2026-09-15T17:00:00+00:00",
}
EXAMPLE = {
    **SUMMARY_EXAMPLE,
    "needs": [NEED_EXAMPLE],
    "history": [
        {
            "id": "8c7b6a5f-4e3d-4c2b-9a1f-0e9d8c7b6a5f",
            "from_state": "not_started",
            "to_state": "drafting",
            "at": "2026-09-15T17:00:00+00:00",
            "actor_organization_id": "0b7c6d5e-4f3a-4b2c-9d1e-0f9a8b7c6d5e",
            "actor_user_id": "7d2e5a1c-3b4f-4e6a-8c9d-0e1f2a3b4c5d",
            "note": "Committee started the review.",
        }
    ],
}


def _detail(plan: SafetyPlan) -> Any:
    return plans.present(session(), current_principal(), plan, detail=True)


@blp.route("", methods=["GET"])
@blp.requires("committees:read")
@blp.arguments(SafetyPlanQuerySchema, location="query")
@blp.response(200, SafetyPlanPageSchema, example={"items": [SUMMARY_EXAMPLE], "next_cursor": None})
def list_plans(args):
    """Every school's safety plans

    `overdue=true` finds plans past their deadline and not approved; `region` and
    `board_district` filter by the school.
    """
    body, headers = paginate(session(), plans.list_query(**args), SafetyPlan, args)
    body["items"] = plans.present_many(session(), current_principal(), body["items"])
    return body, headers


@blp.route("", methods=["POST"])
@blp.requires("committees:write")
@blp.arguments(
    SafetyPlanCreateSchema,
    example={
        "school_id": IDS["school_id"],
        "school_year": "2026-27",
        "summary": "Annual update: safe passage along Vermont Ave.",
    },
)
@blp.response(
    201,
    SafetyPlanSchema,
    example={**EXAMPLE, "state": "not_started", "needs": [], "history": [], "allowed_transitions": ["drafting"], "version": 1},
)
def create_plan(data):
    """Open a school's safety plan for a school year (the school's side)

    The plan starts not_started, with the deadline of the school's nearest jurisdiction that sets
    one (409 when none does). One plan per school and year (409 for a second).
    """
    plan = plans.create(session=session(), principal=current_principal(), data=data)
    return _detail(plan), 201, created(url_for(".get_plan", plan_id=plan.id))


@blp.route("/<uuid:plan_id>", methods=["GET"])
@blp.requires("committees:read")
@blp.response(200, SafetyPlanSchema, example=EXAMPLE)
def get_plan(plan_id: uuid.UUID):
    """Get a safety plan, with its needs and its history"""
    return _detail(plans.get(session=session(), plan_id=plan_id))


@blp.route("/<uuid:plan_id>", methods=["PATCH"])
@blp.requires("committees:write")
@blp.arguments(SafetyPlanUpdateSchema, example={"public_meeting_on": "2027-01-20"})
@blp.if_match
@blp.response(200, SafetyPlanSchema, example=EXAMPLE)
def update_plan(data, plan_id: uuid.UUID, expected_version: int):
    """Change a plan's summary or public meeting date (the school's side)

    The state moves only through `/transitions`. An approved plan is amended first (409).
    """
    plan = plans.update(
        session=session(), principal=current_principal(), plan_id=plan_id, data=data, expected_version=expected_version
    )
    return _detail(plan)


@blp.route("/<uuid:plan_id>/transitions", methods=["POST"])
@blp.requires("committees:write")
@blp.arguments(PlanTransitionCreateSchema, example={"to": "public_meeting_held", "public_meeting_on": "2027-01-20"})
@blp.response(200, SafetyPlanSchema, example={**EXAMPLE, "state": "public_meeting_held", "allowed_transitions": ["submitted"]})
def transition_plan(data, plan_id: uuid.UUID):
    """Move a safety plan to its next state

    not_started → drafting → public_meeting_held → submitted → approved → amended → submitted.
    The school's side makes every move but approval, which belongs to the school's own
    district (the coordinators and org admins of its `district_id`) or network admins (never the
    school itself, nor another district: 403).
    public_meeting_held needs `public_meeting_on` (in the body or already on the plan), not in
    the future. Any other move is 409 naming the current state and the allowed next ones.
    """
    plan = plans.transition(session=session(), principal=current_principal(), plan_id=plan_id, data=data)
    return _detail(plan)


# --- needs -------------------------------------------------------------------------------------


@blp.route("/<uuid:plan_id>/needs", methods=["GET"])
@blp.requires("committees:read")
@blp.arguments(PlanNeedQuerySchema, location="query")
@blp.response(200, PlanNeedPageSchema, example={"items": [NEED_EXAMPLE], "next_cursor": None})
def list_needs(args, plan_id: uuid.UUID):
    """The needs a plan's assessment found, oldest first"""
    plans.get(session=session(), plan_id=plan_id)
    query = plans.needs_query(plan_id)
    filters = {PlanNeed.need_type: args["need_type"], PlanNeed.status: args["status"], PlanNeed.priority: args["priority"]}
    query = query.where(*(column == value for column, value in filters.items() if value is not None))
    body, headers = paginate(session(), query, PlanNeed, args)
    body["items"] = [plans.present_need(need) for need in body["items"]]
    return body, headers


@blp.route("/<uuid:plan_id>/needs", methods=["POST"])
@blp.requires("committees:write")
@blp.arguments(
    PlanNeedCreateSchema,
    example={
        k: NEED_EXAMPLE[k] for k in ("need_type", "description", "location_description", "priority", "status", "program_ids")
    },
)
@blp.response(201, PlanNeedSchema, example=NEED_EXAMPLE)
def create_need(data, plan_id: uuid.UUID):
    """Record a need in the plan's assessment (the school's side)

    `program_ids` link the programs that meet it; each must be a program you can see (422 names
    the index of an unknown one).
    """
    need = plans.create_need(session=session(), principal=current_principal(), plan_id=plan_id, data=data)
    return plans.present_need(need), 201, created(url_for(".get_need", plan_id=plan_id, need_id=need.id))


@blp.route("/<uuid:plan_id>/needs/<uuid:need_id>", methods=["GET"])
@blp.requires("committees:read")
@blp.response(200, PlanNeedSchema, example=NEED_EXAMPLE)
def get_need(plan_id: uuid.UUID, need_id: uuid.UUID):
    """Get one need of a plan"""
    return plans.present_need(plans.get_need(session=session(), plan_id=plan_id, need_id=need_id))


@blp.route("/<uuid:plan_id>/needs/<uuid:need_id>", methods=["PATCH"])
@blp.requires("committees:write")
@blp.arguments(PlanNeedUpdateSchema, example={"status": "in_progress", "program_ids": NEED_EXAMPLE["program_ids"]})
@blp.if_match
@blp.response(200, PlanNeedSchema, example=NEED_EXAMPLE)
def update_need(data, plan_id: uuid.UUID, need_id: uuid.UUID, expected_version: int):
    """Change a need (the school's side); `program_ids` replaces its program links"""
    need = plans.update_need(
        session=session(),
        principal=current_principal(),
        plan_id=plan_id,
        need_id=need_id,
        data=data,
        expected_version=expected_version,
    )
    return plans.present_need(need)


@blp.route("/<uuid:plan_id>/needs/<uuid:need_id>", methods=["DELETE"])
@blp.requires("committees:write")
@blp.if_match
@blp.response(204)
def delete_need(plan_id: uuid.UUID, need_id: uuid.UUID, expected_version: int):
    """Remove a need recorded by mistake (the school's side)"""
    plans.delete_need(
        session=session(), principal=current_principal(), plan_id=plan_id, need_id=need_id, expected_version=expected_version
    )
