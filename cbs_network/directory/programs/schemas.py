from __future__ import annotations

import marshmallow as ma
import pycountry
from marshmallow import validate

from cbs_network.directory.geo import radius_field
from cbs_network.directory.models import GRADE_NAMES, GRADES, EvidenceBasis, ProgramStatus, ProgramType
from cbs_network.directory.service_areas import polygon_problem
from cbs_network.http.api import versioned
from cbs_network.http.pagination import SyncPageArgsSchema
from cbs_network.http.schemas import ChangeSchema, FullMatch, Schema, VersionedRecordSchema, web_url
from cbs_network.organizations.schemas import PHONE, SCHEME_PATTERN

DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
HHMM = FullMatch(r"^([01][0-9]|2[0-3]):[0-5][0-9]$", error="Use 24-hour HH:MM.")
AGE = validate.Range(min=0, max=120)


# Every ISO 639-1 and 639-3 code, exactly as the standard spells them (lower case): the spec lists
# them as the LanguageCode enum, so a client can check a code before sending it.
LANGUAGE_CODES = sorted({language.alpha_2 for language in pycountry.languages if hasattr(language, "alpha_2")}) + sorted(
    {language.alpha_3 for language in pycountry.languages}
)
_LANGUAGE_CODE_SET = frozenset(LANGUAGE_CODES)


def language_code(value: str) -> str | None:
    """The canonical code of an ISO 639-1 or 639-3 code (the 639-1 one where it has one), so that
    "en" and "eng" are one language; None when it is not one of LANGUAGE_CODES."""
    if value not in _LANGUAGE_CODE_SET:
        return None
    language = pycountry.languages.get(**{"alpha_2" if len(value) == 2 else "alpha_3": value})
    assert language is not None  # LANGUAGE_CODES are pycountry's
    return getattr(language, "alpha_2", None) or language.alpha_3


class LanguageCode(ma.fields.String):
    """An ISO 639-1 or 639-3 code, loaded as its canonical code."""

    def __init__(self, **kwargs):
        kwargs["metadata"] = {"enum": LANGUAGE_CODES, **kwargs.get("metadata", {})}
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        code = language_code(super()._deserialize(value, attr, data, **kwargs))
        if code is None:
            raise ma.ValidationError("Not an ISO 639-1 or 639-3 language code (lower case, as the standard writes it).")
        return code


class Grade(ma.fields.String):
    """A grade as its name ("TK", "K", "1".."12"), stored as an ordinal so ranges compare."""

    def __init__(self, **kwargs):
        kwargs["metadata"] = {"enum": list(GRADES), **kwargs.get("metadata", {})}
        super().__init__(**kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else GRADE_NAMES[value]

    def _deserialize(self, value, attr, data, **kwargs):
        name = super()._deserialize(value, attr, data, **kwargs)
        if name not in GRADES:
            raise ma.ValidationError(f"Must be one of: {', '.join(GRADES)}.")
        return GRADES[name]


def _polygon(value: dict) -> None:
    problem = polygon_problem(value)
    if problem:
        raise ma.ValidationError(problem)


# What the spec says a service area is (RFC 7946 section 3.1): the shape a client can check before
# sending; polygon_problem checks what no schema can (closed, simple rings).
_POSITION = {
    "type": "array",
    "minItems": 2,
    "maxItems": 3,
    "prefixItems": [
        {"type": "number", "minimum": -180, "maximum": 180},
        {"type": "number", "minimum": -90, "maximum": 90},
        {"type": "number"},
    ],
}
_RINGS = {"type": "array", "minItems": 1, "items": {"type": "array", "minItems": 4, "items": _POSITION}}
POLYGON_SCHEMA = {
    "oneOf": [
        *(
            {
                "type": "object",
                "required": ["type", "coordinates"],
                "additionalProperties": False,
                "properties": {
                    "type": {"enum": [kind]},
                    "coordinates": coordinates,
                    "bbox": {"type": "array", "items": {"type": "number"}},
                },
            }
            for kind, coordinates in (("Polygon", _RINGS), ("MultiPolygon", {"type": "array", "minItems": 1, "items": _RINGS}))
        ),
        {"type": "null"},
    ]
}


class ExternalCodeSchema(Schema):
    scheme = ma.fields.String(required=True, validate=SCHEME_PATTERN, metadata={"example": "airs"})
    code = ma.fields.String(
        required=True,
        validate=validate.Length(min=1, max=60),
        metadata={"description": "The code only; licensed term labels are never stored", "example": "FN-1500.1900"},
    )


class ScheduleSchema(Schema):
    byday = ma.fields.List(
        ma.fields.String(validate=validate.OneOf(DAYS)),
        validate=validate.Length(max=7),
        metadata={"description": "RFC 5545 weekday codes", "example": ["MO", "TU", "WE", "TH", "FR"]},
    )
    opens_at = ma.fields.String(allow_none=True, validate=HHMM, metadata={"example": "14:30"})
    closes_at = ma.fields.String(allow_none=True, validate=HHMM, metadata={"example": "18:00"})
    minutes_before_arrival = ma.fields.Integer(
        allow_none=True,
        validate=validate.Range(min=0, max=600),
        metadata={"description": "Safe passage: on post this many minutes before the first bell"},
    )
    minutes_after_dismissal = ma.fields.Integer(
        allow_none=True,
        validate=validate.Range(min=0, max=600),
        metadata={"description": "Safe passage: on post this many minutes after dismissal"},
    )
    description = ma.fields.String(allow_none=True, validate=validate.Length(max=1000))


class ProgramContactSchema(Schema):
    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=200))
    title = ma.fields.String(allow_none=True, validate=validate.Length(max=200))
    email = ma.fields.Email(allow_none=True, validate=validate.Length(max=320))
    phone = ma.fields.String(allow_none=True, validate=PHONE)


def _text(max_length: int, **metadata) -> ma.fields.String:
    return ma.fields.String(allow_none=True, validate=validate.Length(max=max_length), metadata=metadata)


class _ProgramFields(Schema):
    name = ma.fields.String(validate=validate.Length(min=1, max=200), metadata={"example": "Safe Passages: Watts"})
    alternate_name = _text(200)
    description = _text(5000)
    program_type = ma.fields.Enum(ProgramType, by_value=True)
    status = ma.fields.Enum(ProgramStatus, by_value=True)
    minimum_age = ma.fields.Integer(allow_none=True, validate=AGE, metadata={"example": 10})
    maximum_age = ma.fields.Integer(allow_none=True, validate=AGE, metadata={"example": 18})
    minimum_grade = Grade(allow_none=True, metadata={"example": "6"})
    maximum_grade = Grade(allow_none=True, metadata={"example": "12"})
    population_description = _text(2000)
    eligibility_description = _text(2000)
    languages = ma.fields.List(
        LanguageCode(),
        validate=validate.Length(max=50),
        metadata={"description": "ISO 639-1 or 639-3 codes (stored as the 639-1 code where one exists)", "example": ["en", "es"]},
    )
    external_codes = ma.fields.List(ma.fields.Nested(ExternalCodeSchema), validate=validate.Length(max=50))
    schedules = ma.fields.List(ma.fields.Nested(ScheduleSchema), validate=validate.Length(max=50))
    fees_description = _text(2000)
    is_free = ma.fields.Boolean()
    application_process = _text(5000, description="How to apply or refer someone")
    evidence_basis = ma.fields.Enum(EvidenceBasis, by_value=True, allow_none=True)
    evidence_description = _text(5000)
    funding_sources = ma.fields.List(ma.fields.String(validate=validate.Length(min=1, max=200)), validate=validate.Length(max=50))
    contacts = ma.fields.List(ma.fields.Nested(ProgramContactSchema), validate=validate.Length(max=20))
    url = web_url(allow_none=True)
    email = ma.fields.Email(allow_none=True, validate=validate.Length(max=320))
    phone = ma.fields.String(allow_none=True, validate=PHONE)
    accepts_referrals = ma.fields.Boolean(
        metadata={
            "description": (
                "Whether the program takes referrals through the hub now (false when created without it), kept only "
                "here: sending a referral to a program that does not is refused, matching leaves it out, and its "
                "capacity profile shows this value (read-only) as accepting_referrals"
            )
        }
    )
    served_school_ids = ma.fields.List(ma.fields.UUID(), validate=validate.Length(max=2000))
    served_regions = ma.fields.List(
        ma.fields.String(validate=validate.Length(min=1, max=60)),
        validate=validate.Length(max=100),
        metadata={"example": ["South"]},
    )
    service_area_geojson = ma.fields.Dict(
        allow_none=True,
        validate=_polygon,
        metadata={
            "description": "A GeoJSON Polygon or MultiPolygon geometry ([longitude, latitude]); its rings must "
            "close and not cross themselves (a 422 says where)",
            **POLYGON_SCHEMA,
        },
    )
    service_area_description = _text(2000)
    location_ids = ma.fields.List(
        ma.fields.UUID(),
        validate=validate.Length(max=200),
        metadata={"description": "Locations of the owning organization where the program is offered"},
    )


@versioned
class ProgramSchema(VersionedRecordSchema, _ProgramFields):
    sometimes_absent = ("distance_m",)
    organization_id = ma.fields.UUID()
    assured_at = ma.fields.AwareDateTime(allow_none=True, metadata={"description": "When the listing was last verified"})
    assured_by_user_id = ma.fields.UUID(allow_none=True)
    verification_due_at = ma.fields.AwareDateTime(
        allow_none=True, metadata={"description": "When the next verification is due (null: never verified)"}
    )
    stale = ma.fields.Boolean(metadata={"description": "Never verified, or its verification is overdue"})
    distance_m = ma.fields.Float(
        metadata={"description": "Near searches only: meters to the program's nearest location the caller may see"}
    )


class ProgramCreateSchema(_ProgramFields):
    organization_id = ma.fields.UUID(
        metadata={"description": "Defaults to the acting organization; only network admins name another"}
    )
    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=200), metadata={"example": "Safe Passages: Watts"})
    program_type = ma.fields.Enum(ProgramType, by_value=True, required=True)
    status = ma.fields.Enum(ProgramStatus, by_value=True, load_default=ProgramStatus.draft)


class ProgramUpdateSchema(ChangeSchema, _ProgramFields):
    pass


class ProgramQuerySchema(SyncPageArgsSchema):
    program_type = ma.fields.List(
        ma.fields.Enum(ProgramType, by_value=True), metadata={"description": "Any of these types (repeat the argument)"}
    )
    status = ma.fields.List(
        ma.fields.Enum(ProgramStatus, by_value=True), metadata={"description": "Any of these statuses (repeat the argument)"}
    )
    organization_id = ma.fields.UUID()
    school_id = ma.fields.UUID(
        metadata={"description": "Programs serving this school: listed, by its region, or inside their polygon"}
    )
    region = ma.fields.String(validate=validate.Length(min=1, max=60), metadata={"description": "Programs listing this region"})
    language = LanguageCode(metadata={"description": "ISO 639-1 or 639-3 code"})
    age = ma.fields.Integer(validate=AGE, metadata={"description": "Eligible at this age (an open bound is no limit)"})
    grade = Grade(metadata={"description": "Eligible in this grade (an open bound is no limit)"})
    accepts_referrals = ma.fields.Boolean(metadata={"description": "Programs that take referrals (true) or do not (false)"})
    verification_overdue = ma.fields.Boolean(
        metadata={"description": "true: never verified or past due; false: verified and current"}
    )
    capacity_stale = ma.fields.Boolean(
        metadata={
            "description": "true: no capacity profile, or one older than the network's capacity_stale_after_days; false: a fresh one"
        }
    )
    q = ma.fields.String(
        validate=validate.Length(min=1, max=100), metadata={"description": "Case-insensitive text in the name or description"}
    )
    near_lat = ma.fields.Float(validate=validate.Range(min=-90, max=90))
    near_lon = ma.fields.Float(validate=validate.Range(min=-180, max=180))
    near_school = ma.fields.UUID(metadata={"description": "Near this school's coordinates (instead of near_lat/near_lon)"})
    radius_m = radius_field("With near_*: programs with a location within this distance, nearest first")

    @ma.validates_schema
    def _near(self, data, **_kwargs):
        has_point = "near_lat" in data or "near_lon" in data
        if has_point and not ("near_lat" in data and "near_lon" in data):
            raise ma.ValidationError("Give both near_lat and near_lon.", "near_lon" if "near_lat" in data else "near_lat")
        if has_point and "near_school" in data:
            raise ma.ValidationError("Give near_lat/near_lon or near_school, not both.", "near_school")
        if (has_point or "near_school" in data) != ("radius_m" in data):
            raise ma.ValidationError(
                "A near search needs radius_m, and radius_m needs near_lat/near_lon or near_school.", "radius_m"
            )
