"""Shapes of committees, their members, nominations and the compliance answer."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from cbs_network.committees.models import MemberRole, MemberStatus
from cbs_network.committees.schemas import check_school_year
from cbs_network.http.api import versioned
from cbs_network.http.pagination import SyncPageArgsSchema, page_schema
from cbs_network.http.schemas import ChangeSchema, Schema, VersionedRecordSchema

TEXT = validate.Length(max=4000)
NAME = validate.Length(min=1, max=200)
REASON = validate.Length(min=1, max=2000)
# A CBO puts its staff forward to represent the organization or the community, not to fill the
# seats the law reserves for school staff, parents and pupils.
NOMINABLE_ROLES = (MemberRole.cbo_representative, MemberRole.community_member, MemberRole.other)


# --- committees --------------------------------------------------------------------------------


class CommitteeCreateSchema(Schema):
    school_id = ma.fields.UUID(required=True)
    school_year = ma.fields.String(required=True, validate=check_school_year, metadata={"example": "2026-27"})
    meeting_schedule = ma.fields.String(
        load_default=None, allow_none=True, validate=TEXT, metadata={"example": "Second Tuesday of each month, 3:30pm, library"}
    )
    notes = ma.fields.String(load_default=None, allow_none=True, validate=TEXT)


class CommitteeUpdateSchema(ChangeSchema):
    meeting_schedule = ma.fields.String(allow_none=True, validate=TEXT)
    notes = ma.fields.String(allow_none=True, validate=TEXT)


@versioned
class MemberSchema(VersionedRecordSchema):
    committee_id = ma.fields.UUID()
    role = ma.fields.Enum(MemberRole, by_value=True)
    name = ma.fields.String(metadata={"description": "Public to the network"})
    email = ma.fields.String(
        allow_none=True,
        metadata={"description": "Shown only to the school side and to the organization the member represents; null for others"},
    )
    user_id = ma.fields.UUID(allow_none=True)
    organization_id = ma.fields.UUID(allow_none=True, metadata={"description": "The organization the member represents"})
    term_start = ma.fields.Date(allow_none=True)
    term_end = ma.fields.Date(allow_none=True)
    status = ma.fields.Enum(MemberStatus, by_value=True)
    nominated_by_organization_id = ma.fields.UUID(allow_none=True)
    nominated_by_user_id = ma.fields.UUID(allow_none=True)
    decided_by_user_id = ma.fields.UUID(allow_none=True)
    decided_at = ma.fields.AwareDateTime(allow_none=True)
    decision_reason = ma.fields.String(allow_none=True, metadata={"description": "Shown to the same parties as email"})
    allowed_transitions = ma.fields.List(
        ma.fields.String(),
        metadata={"description": "The statuses the member may move to next, e.g. active and declined for a nomination"},
    )


@versioned
class CommitteeSchema(VersionedRecordSchema):
    school_id = ma.fields.UUID()
    school_year = ma.fields.String()
    meeting_schedule = ma.fields.String(allow_none=True)
    notes = ma.fields.String(allow_none=True)


@versioned
class CommitteeDetailSchema(CommitteeSchema):
    members = ma.fields.List(ma.fields.Nested(MemberSchema), metadata={"description": "Every seat, nominations included"})


CommitteePageSchema = page_schema(CommitteeSchema)


class CommitteeQuerySchema(SyncPageArgsSchema):
    school_id = ma.fields.UUID(load_default=None)
    school_year = ma.fields.String(
        load_default=None,
        validate=check_school_year,
        metadata={
            "example": "2026-27",
            "description": "Only this school year's (default: every year's, so a sync misses nothing)",
        },
    )
    region = ma.fields.String(
        load_default=None, validate=validate.Length(max=60), metadata={"description": "The school's region"}
    )
    board_district = ma.fields.Integer(
        load_default=None,
        strict=False,
        validate=validate.Range(min=0, max=99),
        metadata={"description": "The school's board district"},
    )
    compliant = ma.fields.Boolean(
        load_default=None,
        metadata={
            "description": "true: committees that fill every role their school's jurisdictions require; false: those that do not"
        },
    )
    as_of = ma.fields.Date(load_default=None, metadata={"description": "The day `compliant` is judged on (default: today, UTC)"})


# --- members -----------------------------------------------------------------------------------


class MemberCreateSchema(Schema):
    role = ma.fields.Enum(MemberRole, by_value=True, required=True)
    name = ma.fields.String(required=True, validate=NAME)
    email = ma.fields.Email(load_default=None, allow_none=True, validate=validate.Length(max=320))
    organization_id = ma.fields.UUID(
        load_default=None, allow_none=True, metadata={"description": "The organization the member represents, if any"}
    )
    user_id = ma.fields.UUID(load_default=None, allow_none=True, metadata={"description": "When the member is a hub user"})
    term_start = ma.fields.Date(load_default=None, allow_none=True)
    term_end = ma.fields.Date(load_default=None, allow_none=True)


class MemberUpdateSchema(ChangeSchema):
    name = ma.fields.String(validate=NAME)
    email = ma.fields.Email(allow_none=True, validate=validate.Length(max=320))
    organization_id = ma.fields.UUID(allow_none=True)
    term_start = ma.fields.Date(allow_none=True)
    term_end = ma.fields.Date(allow_none=True)


class NominationCreateSchema(Schema):
    user_id = ma.fields.UUID(
        required=True, metadata={"description": "A user of your organization (a CBO nominates its own staff)"}
    )
    role = ma.fields.Enum(
        MemberRole, by_value=True, load_default=MemberRole.cbo_representative, validate=validate.OneOf(NOMINABLE_ROLES)
    )
    term_start = ma.fields.Date(load_default=None, allow_none=True)
    term_end = ma.fields.Date(load_default=None, allow_none=True)


class DecisionSchema(Schema):
    decision = ma.fields.String(required=True, validate=validate.OneOf(["approve", "decline"]))
    reason = ma.fields.String(
        load_default=None, allow_none=True, validate=REASON, metadata={"description": "Required to decline"}
    )


class MemberEndSchema(Schema):
    reason = ma.fields.String(required=True, validate=REASON)
    term_end = ma.fields.Date(load_default=None, allow_none=True, metadata={"description": "Default: today (UTC)"})


# --- compliance --------------------------------------------------------------------------------


class ComplianceQuerySchema(Schema):
    within_days = ma.fields.Integer(
        load_default=60,
        validate=validate.Range(min=0, max=730),
        metadata={"description": "List active members whose term ends within this many days"},
    )
    as_of = ma.fields.Date(load_default=None, metadata={"description": "The day to judge (default: today, UTC)"})


class RequiredRoleSchema(Schema):
    role = ma.fields.Enum(MemberRole, by_value=True)
    minimum = ma.fields.Integer()
    filled = ma.fields.Integer(metadata={"description": "Active members in this role whose term covers as_of"})
    missing = ma.fields.Integer()
    sources = ma.fields.List(ma.fields.String(), metadata={"description": "Which jurisdictions' rules ask for it"})


class TermEndingSchema(Schema):
    member_id = ma.fields.UUID()
    role = ma.fields.Enum(MemberRole, by_value=True)
    name = ma.fields.String()
    term_end = ma.fields.Date()


class ComplianceSchema(Schema):
    committee_id = ma.fields.UUID()
    school_id = ma.fields.UUID()
    school_year = ma.fields.String()
    compliant = ma.fields.Boolean()
    required = ma.fields.List(ma.fields.Nested(RequiredRoleSchema))
    missing_roles = ma.fields.List(ma.fields.String(validate=validate.OneOf([r.value for r in MemberRole])))
    terms_ending = ma.fields.List(
        ma.fields.Nested(TermEndingSchema),
        metadata={"description": "Active members whose term ends within within_days of as_of, or has already ended"},
    )
    as_of = ma.fields.Date()
    within_days = ma.fields.Integer()
