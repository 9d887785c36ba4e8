from __future__ import annotations

from datetime import date

import marshmallow as ma
from marshmallow import validate

from cbs_network.committees.models import MemberRole
from cbs_network.http.api import versioned
from cbs_network.http.schemas import ChangeSchema, FullMatch, Schema, VersionedRecordSchema

# "2026-27": the second year is the first plus one. One regular expression says both, so the
# spec states exactly what the validator takes (a generated client can check it before sending).
SCHOOL_YEAR_PATTERN = "^[0-9]{2}(" + "|".join(f"{n:02d}-{(n + 1) % 100:02d}" for n in range(100)) + ")$"
check_school_year = FullMatch(SCHOOL_YEAR_PATTERN, error='A school year like "2026-27" (the second year follows the first).')


def school_year_on(day: date) -> str:
    """The school year a day falls in: LAUSD's runs July 1 to June 30, so 2026-12-01 is in "2026-27"."""
    start = day.year if day.month >= 7 else day.year - 1
    return f"{start:04d}-{(start + 1) % 100:02d}"


class CompositionRuleSchema(Schema):
    role = ma.fields.String(required=True, validate=validate.OneOf([r.value for r in MemberRole]))  # stored as text
    minimum = ma.fields.Integer(load_default=1, strict=True, validate=validate.Range(min=1, max=20))
    min_grade = ma.fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        validate=validate.Range(min=-1, max=12),
        metadata={"description": "Applies only to schools teaching this grade or above (K=0, TK=-1)"},
    )
    source = ma.fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=200), metadata={"example": "Ed Code 32281(b)(2)"}
    )


CODE = FullMatch(r"^[A-Za-z0-9-]{2,40}$", error="2-40 letters, digits or -.")
NAME = validate.Length(min=1, max=200)


class _JurisdictionFields(Schema):
    code = ma.fields.String(validate=CODE, metadata={"example": "LAUSD"})
    name = ma.fields.String(validate=NAME)
    parent_id = ma.fields.UUID(allow_none=True, metadata={"description": "The enclosing jurisdiction, whose rules also apply"})
    plan_due_month = ma.fields.Integer(allow_none=True, strict=True, validate=validate.Range(min=1, max=12))
    plan_due_day = ma.fields.Integer(allow_none=True, strict=True, validate=validate.Range(min=1, max=31))
    composition_rules = ma.fields.List(ma.fields.Nested(CompositionRuleSchema), validate=validate.Length(max=30))
    description = ma.fields.String(allow_none=True, validate=validate.Length(max=2000))

    @ma.validates_schema
    def _one_rule_per_role(self, data, **_kwargs):
        roles = [rule["role"] for rule in data.get("composition_rules") or []]
        if len(roles) != len(set(roles)):
            raise ma.ValidationError("One rule per role.", "composition_rules")


class JurisdictionCreateSchema(_JurisdictionFields):
    code = ma.fields.String(required=True, validate=CODE, metadata={"example": "LAUSD"})
    name = ma.fields.String(required=True, validate=NAME)
    parent_id = ma.fields.UUID(load_default=None, allow_none=True)
    plan_due_month = ma.fields.Integer(load_default=None, allow_none=True, strict=True, validate=validate.Range(min=1, max=12))
    plan_due_day = ma.fields.Integer(load_default=None, allow_none=True, strict=True, validate=validate.Range(min=1, max=31))
    composition_rules = ma.fields.List(
        ma.fields.Nested(CompositionRuleSchema), load_default=list, validate=validate.Length(max=30)
    )
    description = ma.fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))


class JurisdictionUpdateSchema(_JurisdictionFields, ChangeSchema):
    pass


@versioned
class JurisdictionSchema(VersionedRecordSchema, _JurisdictionFields):
    pass
