from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from cbs_network.capacity.models import SlotUnit
from cbs_network.directory.programs.schemas import LanguageCode
from cbs_network.http.api import versioned
from cbs_network.http.pagination import PageArgsSchema
from cbs_network.http.schemas import Schema, VersionedRecordSchema

COUNT = validate.Range(min=0, max=1_000_000)  # bounded: an INTEGER column on PostgreSQL


class CapacityValuesSchema(Schema):
    """The values of a profile, as a client sends them and as history keeps them."""

    total_slots = ma.fields.Integer(required=True, strict=True, validate=COUNT)
    available_slots = ma.fields.Integer(
        required=True, strict=True, validate=COUNT, metadata={"description": "0 ≤ available_slots ≤ total_slots"}
    )
    slot_unit = ma.fields.Enum(SlotUnit, required=True, metadata={"description": "What a slot is"})
    waitlist_length = ma.fields.Integer(load_default=0, strict=True, validate=COUNT)
    waitlist_open = ma.fields.Boolean(
        load_default=False, metadata={"description": "Referrals may join the waitlist when no slot is free"}
    )
    assessment_required = ma.fields.Boolean(
        load_default=False, metadata={"description": "An intake assessment comes before any slot or waitlist place"}
    )
    staff_count = ma.fields.Integer(load_default=None, allow_none=True, strict=True, validate=COUNT)
    certified_interventionists = ma.fields.Integer(load_default=None, allow_none=True, strict=True, validate=COUNT)
    languages_staffed = ma.fields.List(
        LanguageCode(),
        load_default=list,
        validate=validate.Length(max=50),
        metadata={"description": "ISO 639-1 or 639-3 codes of the languages the staff speak"},
    )
    hours = ma.fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))
    notes = ma.fields.String(load_default=None, allow_none=True, validate=validate.Length(max=4000))

    @ma.validates_schema
    def _within_total(self, data, **_kwargs):
        errors = {}
        if data.get("available_slots", 0) > data.get("total_slots", 0) and "total_slots" in data:
            errors["available_slots"] = ["Must not exceed total_slots."]
        staff, certified = data.get("staff_count"), data.get("certified_interventionists")
        if staff is not None and certified is not None and certified > staff:
            errors["certified_interventionists"] = ["Must not exceed staff_count."]
        if errors:
            raise ma.ValidationError(errors)


ACCEPTING_IS_THE_PROGRAMS = (
    "Read-only here: whether the program takes referrals is the program's accepts_referrals; "
    "change it with PATCH /api/v1/programs/{program_id}."
)


class CapacityUpdateSchema(CapacityValuesSchema):
    """The whole profile, replaced in one call (omitted optional fields take their defaults)."""

    @ma.pre_load
    def _accepting_is_the_programs(self, data, **_kwargs):
        # Named in the 422 (not a bare "Unknown field"): clients written when the profile kept
        # its own copy learn where the one value now lives.
        if isinstance(data, dict) and "accepting_referrals" in data:
            raise ma.ValidationError([ACCEPTING_IS_THE_PROGRAMS], "accepting_referrals")
        return data


@versioned
class CapacitySchema(CapacityValuesSchema, VersionedRecordSchema):
    program_id = ma.fields.UUID(dump_only=True)
    accepting_referrals = ma.fields.Boolean(
        dump_only=True,
        metadata={"description": "The program's accepts_referrals, shown here read-only; change it on the program"},
    )
    updated_by_user_id = ma.fields.UUID(dump_only=True, allow_none=True)
    stale = ma.fields.Boolean(
        dump_only=True, metadata={"description": "Not updated within the network's capacity_stale_after_days"}
    )
    fresh_until = ma.fields.AwareDateTime(dump_only=True, metadata={"description": "When the profile turns stale"})


class CapacityCheckSchema(Schema):
    program_id = ma.fields.UUID()
    status = ma.fields.String(
        validate=validate.OneOf(["has_capacity", "no_capacity", "waitlist", "assessment_required", "unknown"])
    )
    stale = ma.fields.Boolean(metadata={"description": "The answer rests on a stale (or missing) profile"})
    reasons = ma.fields.List(ma.fields.String())


class CapacitySnapshotSchema(CapacityValuesSchema):
    slot_unit = ma.fields.String(validate=validate.OneOf([u.value for u in SlotUnit]))  # type: ignore[assignment]  # stored as text


class CapacityHistorySchema(Schema):
    id = ma.fields.UUID()
    program_id = ma.fields.UUID()
    version = ma.fields.Integer(metadata={"description": "The profile's version after this change"})
    changed_at = ma.fields.AwareDateTime()
    changed_by_user_id = ma.fields.UUID(allow_none=True)
    profile = ma.fields.Nested(CapacitySnapshotSchema, attribute="snapshot")


class CapacityHistoryArgsSchema(PageArgsSchema):
    since = ma.fields.AwareDateTime(load_default=None, format="iso", metadata={"description": "Changes at or after this instant"})
    until = ma.fields.AwareDateTime(load_default=None, format="iso", metadata={"description": "Changes before this instant"})
