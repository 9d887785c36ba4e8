from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from cbs_network.committees.models import NeedPriority, NeedStatus, PlanState
from cbs_network.committees.schemas import check_school_year
from cbs_network.directory.models import ProgramType
from cbs_network.http.api import versioned
from cbs_network.http.pagination import PageArgsSchema, SyncPageArgsSchema, page_schema
from cbs_network.http.schemas import ChangeSchema, Schema, VersionedRecordSchema

SUMMARY = validate.Length(max=10_000)
NOTE = validate.Length(min=1, max=2000)
MEETING_DESCRIPTION = "The public meeting on the plan at the school (Ed Code 32288); may be set ahead as the planned date"


# --- plans -------------------------------------------------------------------------------------


class SafetyPlanCreateSchema(Schema):
    school_id = ma.fields.UUID(required=True)
    school_year = ma.fields.String(required=True, validate=check_school_year, metadata={"example": "2026-27"})
    summary = ma.fields.String(load_default=None, allow_none=True, validate=SUMMARY)
    public_meeting_on = ma.fields.Date(load_default=None, allow_none=True, metadata={"description": MEETING_DESCRIPTION})


class SafetyPlanUpdateSchema(ChangeSchema):
    summary = ma.fields.String(allow_none=True, validate=SUMMARY)
    public_meeting_on = ma.fields.Date(allow_none=True, metadata={"description": MEETING_DESCRIPTION})


class PlanTransitionCreateSchema(Schema):
    to = ma.fields.Enum(PlanState, by_value=True, required=True)
    note = ma.fields.String(load_default=None, allow_none=True, validate=NOTE)
    public_meeting_on = ma.fields.Date(
        load_default=None,
        allow_none=True,
        metadata={
            "description": "public_meeting_held: the date of the meeting, unless already set on the plan; not in the future"
        },
    )


class PlanTransitionSchema(Schema):
    id = ma.fields.UUID()
    from_state = ma.fields.Enum(PlanState, by_value=True)
    to_state = ma.fields.Enum(PlanState, by_value=True)
    at = ma.fields.AwareDateTime()
    actor_organization_id = ma.fields.UUID(allow_none=True)
    actor_user_id = ma.fields.UUID(allow_none=True)
    note = ma.fields.String(allow_none=True)


# --- needs -------------------------------------------------------------------------------------


class _NeedFields(Schema):
    need_type = ma.fields.Enum(
        ProgramType,
        by_value=True,
        metadata={
            "description": "The kind of program that meets it, e.g. safe_passage, mental_health, restorative_justice "
            "(conflict mediation)"
        },
    )
    description = ma.fields.String(validate=validate.Length(min=1, max=4000))
    location_description = ma.fields.String(
        allow_none=True,
        validate=validate.Length(max=1000),
        metadata={"description": "Named streets or stops", "example": "Vermont Ave between 80th and 84th St; Metro stop at 81st"},
    )
    priority = ma.fields.Enum(NeedPriority, by_value=True)
    status = ma.fields.Enum(NeedStatus, by_value=True)
    program_ids = ma.fields.List(
        ma.fields.UUID(),
        validate=validate.Length(max=50),
        metadata={"description": "The programs that meet (or will meet) the need; a PATCH replaces the links"},
    )


class PlanNeedCreateSchema(_NeedFields):
    need_type = ma.fields.Enum(ProgramType, by_value=True, required=True)
    description = ma.fields.String(required=True, validate=validate.Length(min=1, max=4000))
    location_description = ma.fields.String(load_default=None, allow_none=True, validate=validate.Length(max=1000))
    priority = ma.fields.Enum(NeedPriority, by_value=True, load_default=NeedPriority.medium)
    status = ma.fields.Enum(NeedStatus, by_value=True, load_default=NeedStatus.open)
    program_ids = ma.fields.List(ma.fields.UUID(), load_default=list, validate=validate.Length(max=50))


class PlanNeedUpdateSchema(_NeedFields, ChangeSchema):
    pass


@versioned
class PlanNeedSchema(VersionedRecordSchema, _NeedFields):
    plan_id = ma.fields.UUID(dump_only=True)


class PlanNeedQuerySchema(PageArgsSchema):
    need_type = ma.fields.Enum(ProgramType, by_value=True, load_default=None)
    status = ma.fields.Enum(NeedStatus, by_value=True, load_default=None)
    priority = ma.fields.Enum(NeedPriority, by_value=True, load_default=None)


# --- plans as shown ----------------------------------------------------------------------------


@versioned
class SafetyPlanSummarySchema(VersionedRecordSchema):
    """A plan without its needs and history, as lists show it."""

    school_id = ma.fields.UUID()
    school_year = ma.fields.String()
    state = ma.fields.Enum(PlanState, by_value=True)
    due_on = ma.fields.Date(metadata={"description": "Fixed when the plan was opened, from the school's jurisdictions"})
    due_rule = ma.fields.String(metadata={"description": "Which jurisdiction set the deadline"})
    overdue = ma.fields.Boolean(
        metadata={
            "description": "Today (Los Angeles time) is after due_on and the plan is not approved (an amended plan is "
            "not approved until approved again)"
        }
    )
    public_meeting_on = ma.fields.Date(allow_none=True)
    approved_at = ma.fields.AwareDateTime(allow_none=True, metadata={"description": "The latest approval"})
    approved_by_user_id = ma.fields.UUID(allow_none=True)
    summary = ma.fields.String(allow_none=True)
    allowed_transitions = ma.fields.List(
        ma.fields.String(validate=validate.OneOf([s.value for s in PlanState])),
        metadata={"description": "The states you may move the plan to now"},
    )


@versioned
class SafetyPlanSchema(SafetyPlanSummarySchema):
    needs = ma.fields.List(ma.fields.Nested(PlanNeedSchema))
    history = ma.fields.List(ma.fields.Nested(PlanTransitionSchema))


SafetyPlanPageSchema = page_schema(SafetyPlanSummarySchema)
PlanNeedPageSchema = page_schema(PlanNeedSchema)


class SafetyPlanQuerySchema(SyncPageArgsSchema):
    school_id = ma.fields.UUID(load_default=None)
    school_year = ma.fields.String(
        load_default=None,
        validate=check_school_year,
        metadata={
            "example": "2026-27",
            "description": "Only this school year's (default: every year's, so a sync misses nothing)",
        },
    )
    state = ma.fields.List(
        ma.fields.Enum(PlanState, by_value=True),
        load_default=None,
        metadata={"description": "Any of these states (repeat the parameter)"},
    )
    overdue = ma.fields.Boolean(load_default=None, metadata={"description": "Past its deadline and not approved"})
    region = ma.fields.String(
        load_default=None, validate=validate.Length(min=1, max=60), metadata={"description": "The school's region"}
    )
    board_district = ma.fields.Integer(
        load_default=None, validate=validate.Range(min=1, max=7), metadata={"description": "The school's board district"}
    )
