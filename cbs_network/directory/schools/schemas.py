from __future__ import annotations

from typing import Any, cast

import marshmallow as ma
from marshmallow import validate

from cbs_network.directory.geo import radius_field
from cbs_network.directory.geojson import PointSchema
from cbs_network.directory.models import GRADE_NAMES, GRADES, ProgramType, SchoolStatus
from cbs_network.http.api import versioned
from cbs_network.http.pagination import SyncPageArgsSchema
from cbs_network.http.schemas import ChangeSchema, FullMatch, Schema, VersionedRecordSchema

CDS_CODE = FullMatch(r"^[0-9]{14}$", error="A CDS code is 14 digits.")
STATE = FullMatch(r"^[A-Z]{2}$", error="A two-letter state code, e.g. CA.")
GRADE_ENUM = [*GRADES, None]  # documented choices of a nullable grade
BSAP_DESCRIPTION = (
    "Served by the Black Student Achievement Plan (BSAP), LAUSD's program that funds the bench of community partners"
)
POSTAL_CODE = FullMatch(r"^[0-9]{5}(-[0-9]{4})?$", error="A ZIP code: 12345 or 12345-6789.")
DISTRICT_DESCRIPTION = (
    "The school_district organization the school belongs to: its admins and coordinators keep the school's entry, "
    "committee and safety plan, and approve the plan. A district's staff adding a school may leave it out (their own "
    "district); only network admins move a school to another district. None: only network admins (and the school's "
    "own organization, for its committee and plan) keep it"
)


class Grade(ma.fields.String):
    """A grade as people write it ("TK", "K", "1".."12"), stored as its ordinal so spans compare."""

    default_error_messages = {"invalid_grade": "One of " + ", ".join(GRADES) + "."}

    def _serialize(self, value: Any, attr: Any, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else GRADE_NAMES[value]

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> int:  # type: ignore[override]  # a string on the wire, an ordinal loaded
        text = super()._deserialize(value, attr, data, **kwargs)
        if text not in GRADES:
            raise self.make_error("invalid_grade")
        return GRADES[text]


def _grade(description: str) -> Grade:
    return Grade(allow_none=True, metadata={"enum": GRADE_ENUM, "description": description, "example": "K"})


def cross_field_errors(values: dict[str, Any]) -> dict[str, list[str]]:
    """Rules over several fields, checked on a create body and on a record after a PATCH."""
    errors: dict[str, list[str]] = {}
    low, high = values.get("grade_low"), values.get("grade_high")
    if low is not None and high is not None and low > high:
        errors["grade_low"] = [f"The lowest grade ({GRADE_NAMES[low]}) is above the highest ({GRADE_NAMES[high]})."]
    if (values.get("latitude") is None) != (values.get("longitude") is None):
        missing = "longitude" if values.get("longitude") is None else "latitude"
        errors[missing] = ["Give latitude and longitude together."]
    return errors


class _SchoolFields(Schema):
    cds_code = ma.fields.String(
        validate=CDS_CODE,
        metadata={"description": "California County-District-School code (unique)", "example": "19647331930247"},
    )
    name = ma.fields.String(validate=validate.Length(min=1, max=200), metadata={"example": "Garfield Senior High"})
    grade_low = _grade("Lowest grade served: TK, K, 1..12")
    grade_high = _grade("Highest grade served: TK, K, 1..12")
    region = ma.fields.String(
        allow_none=True,
        validate=validate.Length(min=1, max=60),
        metadata={"description": "Region / local district", "example": "East"},
    )
    board_district = ma.fields.Integer(allow_none=True, validate=validate.Range(min=1, max=7), metadata={"example": 2})
    address_1 = ma.fields.String(allow_none=True, validate=validate.Length(max=200), metadata={"example": "5101 E 6th St"})
    city = ma.fields.String(allow_none=True, validate=validate.Length(max=100), metadata={"example": "Los Angeles"})
    state = ma.fields.String(allow_none=True, validate=STATE, metadata={"example": "CA"})
    postal_code = ma.fields.String(allow_none=True, validate=POSTAL_CODE, metadata={"example": "90022"})
    latitude = ma.fields.Float(
        allow_none=True, allow_nan=False, validate=validate.Range(min=-90, max=90), metadata={"example": 34.0268}
    )
    longitude = ma.fields.Float(
        allow_none=True, allow_nan=False, validate=validate.Range(min=-180, max=180), metadata={"example": -118.1608}
    )
    is_bsap = ma.fields.Boolean(metadata={"description": BSAP_DESCRIPTION})
    status = ma.fields.Enum(
        SchoolStatus, by_value=True, metadata={"description": "Schools are never deleted: a closed school has status closed"}
    )
    organization_id = ma.fields.UUID(
        allow_none=True,
        metadata={
            "description": "The school's own organization record, when it is a network member; it must sit under the school's "
            "district in the organization tree (parent_id)"
        },
    )
    district_id = ma.fields.UUID(allow_none=True, metadata={"description": DISTRICT_DESCRIPTION})
    jurisdiction_id = ma.fields.UUID(
        allow_none=True,
        metadata={
            "description": "The jurisdiction whose committee and safety-plan rules apply (with its ancestors); none: the root rules"
        },
    )


@versioned
class SchoolSchema(VersionedRecordSchema, _SchoolFields):
    sometimes_absent = ("distance_m",)
    distance_m = ma.fields.Float(
        dump_only=True, metadata={"description": "Meters from the `near` point; only in proximity searches"}
    )


class SchoolCreateSchema(_SchoolFields):
    cds_code = ma.fields.String(
        required=True,
        validate=CDS_CODE,
        metadata={"description": "California County-District-School code (unique)", "example": "19647331930247"},
    )
    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=200), metadata={"example": "Garfield Senior High"})
    is_bsap = ma.fields.Boolean(load_default=False, metadata={"description": BSAP_DESCRIPTION})
    status = ma.fields.Enum(SchoolStatus, by_value=True, load_default=SchoolStatus.active)

    # Run despite field errors, so one CSV line reports all its problems at once; a field that
    # failed is missing from `data` and is not judged again here.
    @ma.validates_schema(skip_on_field_errors=False, pass_original=True)
    def _cross_fields(self, data: dict[str, Any], original: Any, **_kwargs: Any) -> None:
        if not isinstance(original, dict):
            return  # not an object at all: marshmallow's own error says so
        failed = {k for k in original if k not in data}
        errors = {k: v for k, v in cross_field_errors(data).items() if k not in failed}
        if errors:
            raise ma.ValidationError(errors)


class SchoolUpdateSchema(ChangeSchema, _SchoolFields):
    pass


class SchoolFilterSchema(Schema):
    region = ma.fields.String(validate=validate.Length(min=1, max=60))
    board_district = ma.fields.Integer(validate=validate.Range(min=1, max=7))
    district_id = ma.fields.UUID(metadata={"description": "Only the schools of this school district organization"})
    is_bsap = ma.fields.Boolean(metadata={"description": BSAP_DESCRIPTION})
    status = ma.fields.Enum(SchoolStatus, by_value=True)
    q = ma.fields.String(
        validate=validate.Length(min=1, max=100),
        metadata={"description": "Case-insensitive match on the name, or the start of the CDS code"},
    )
    lacks_program_type = ma.fields.Enum(
        ProgramType,
        by_value=True,
        metadata={"description": "Coverage gap: only schools that no active program of this type serves"},
    )
    near_lat = ma.fields.Float(
        allow_nan=False,
        validate=validate.Range(min=-90, max=90),
        metadata={"description": "Proximity search around this latitude (with near_lon)"},
    )
    near_lon = ma.fields.Float(
        allow_nan=False,
        validate=validate.Range(min=-180, max=180),
        metadata={"description": "Proximity search around this longitude (with near_lat)"},
    )
    near_school = ma.fields.UUID(metadata={"description": "Proximity search around this school (which is itself left out)"})
    radius_m = radius_field("Search radius; results are sorted by distance and carry distance_m")
    updated_since = cast(ma.fields.AwareDateTime, SyncPageArgsSchema._declared_fields["updated_since"])


class SchoolQuerySchema(SyncPageArgsSchema, SchoolFilterSchema):
    pass


class SchoolGeoJSONQuerySchema(SchoolFilterSchema):
    pass


# GeoJSON (RFC 7946): schools as Point features.


class SchoolFeaturePropertiesSchema(Schema):
    sometimes_absent = ("distance_m",)
    id = ma.fields.UUID(required=True)
    cds_code = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    region = ma.fields.String(allow_none=True, required=True)
    board_district = ma.fields.Integer(allow_none=True, required=True)
    is_bsap = ma.fields.Boolean(required=True, metadata={"description": BSAP_DESCRIPTION})
    status = ma.fields.Enum(SchoolStatus, by_value=True, required=True)
    grade_low = Grade(allow_none=True, required=True, metadata={"enum": GRADE_ENUM})
    grade_high = Grade(allow_none=True, required=True, metadata={"enum": GRADE_ENUM})
    distance_m = ma.fields.Float(metadata={"description": "Only in proximity searches"})


class SchoolFeatureSchema(Schema):
    type = ma.fields.String(required=True, validate=validate.OneOf(["Feature"]))
    id = ma.fields.String(required=True)
    geometry = ma.fields.Nested(PointSchema, required=True)
    properties = ma.fields.Nested(SchoolFeaturePropertiesSchema, required=True)


class SchoolFeatureCollectionSchema(Schema):
    type = ma.fields.String(required=True, validate=validate.OneOf(["FeatureCollection"]))
    features = ma.fields.List(ma.fields.Nested(SchoolFeatureSchema), required=True)
    truncated = ma.fields.Boolean(
        required=True,
        metadata={"description": "True when more schools matched than one collection holds (the cap); narrow the filters"},
    )
