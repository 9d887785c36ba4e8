from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from cbs_network.directory.models import ProgramType
from cbs_network.directory.programs.schemas import AGE, Grade, LanguageCode
from cbs_network.http.schemas import Schema
from cbs_network.referrals.models import Urgency

CAPACITY_STATUSES = ["has_capacity", "no_capacity", "waitlist", "assessment_required", "unknown"]


class ReferralMatchQuerySchema(Schema):
    program_type = ma.fields.Enum(
        ProgramType, by_value=True, required=True, metadata={"description": "The type of program needed"}
    )
    school_id = ma.fields.UUID(metadata={"description": "The student's school (or give latitude and longitude)"})
    latitude = ma.fields.Float(
        validate=validate.Range(min=-90, max=90), metadata={"description": "With longitude: a point instead of a school"}
    )
    longitude = ma.fields.Float(validate=validate.Range(min=-180, max=180))
    age = ma.fields.Integer(
        validate=AGE, metadata={"description": "The person's age: programs whose age bounds exclude it are left out"}
    )
    grade = Grade(metadata={"description": "The student's grade: programs whose grade bounds exclude it are left out"})
    language = LanguageCode(metadata={"description": "ISO 639-1 or 639-3 code of the language the family needs"})
    urgency = ma.fields.Enum(
        Urgency,
        by_value=True,
        load_default=Urgency.routine,
        metadata={"description": "urgent and emergency weigh a free slot now more heavily"},
    )
    limit = ma.fields.Integer(
        load_default=10,
        validate=validate.Range(min=1, max=50),
        metadata={"description": "How many programs (default 10, max 50)"},
    )

    @ma.validates_schema
    def _one_location(self, data, **_kwargs):
        has_point = "latitude" in data or "longitude" in data
        if has_point and not ("latitude" in data and "longitude" in data):
            raise ma.ValidationError("Give latitude and longitude together.", "longitude" if "latitude" in data else "latitude")
        if has_point and "school_id" in data:
            raise ma.ValidationError("Give school_id or latitude and longitude, not both.", "school_id")
        if not has_point and "school_id" not in data:
            raise ma.ValidationError("Give school_id, or latitude and longitude.", "school_id")


class ReferralMatchSchema(Schema):
    program_id = ma.fields.UUID()
    program_name = ma.fields.String()
    organization_id = ma.fields.UUID()
    organization_name = ma.fields.String()
    rank = ma.fields.Integer(metadata={"description": "1 is the best match"})
    score = ma.fields.Float(metadata={"description": "The sum of the points in `reasons`"})
    distance_m = ma.fields.Float(
        allow_none=True,
        metadata={"description": "Meters to the program's nearest site whose address you may see; null when unknown"},
    )
    capacity_status = ma.fields.String(
        validate=validate.OneOf(CAPACITY_STATUSES), metadata={"description": "As in the pre-referral capacity check"}
    )
    stale = ma.fields.Boolean(metadata={"description": "The capacity data is stale or missing"})
    reasons = ma.fields.List(ma.fields.String(), metadata={"description": "One per scoring component, with its points"})


class ReferralMatchListSchema(Schema):
    items = ma.fields.List(ma.fields.Nested(ReferralMatchSchema))
