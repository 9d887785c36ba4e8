from __future__ import annotations

import marshmallow as ma
from marshmallow import ValidationError, post_dump, validate, validates_schema

from cbs_network.directory.geo import radius_field
from cbs_network.directory.geojson import PointSchema
from cbs_network.directory.locations import policy
from cbs_network.directory.models import LocationType
from cbs_network.http.api import versioned
from cbs_network.http.pagination import SyncPageArgsSchema
from cbs_network.http.schemas import ChangeSchema, FullMatch, Schema, VersionedRecordSchema, web_url

POSTAL_CODE = FullMatch(r"^[0-9]{5}(-[0-9]{4})?$", error="Use a 5-digit ZIP code, optionally ZIP+4.")
STATE = FullMatch(r"^[A-Z]{2}$", error="Use the two-letter state code, e.g. CA.")
LATITUDE = validate.Range(min=-90, max=90, error="Latitude must be between -90 and 90.")
LONGITUDE = validate.Range(min=-180, max=180, error="Longitude must be between -180 and 180.")


class _LocationFields(Schema):
    name = ma.fields.String(validate=validate.Length(min=1, max=200), metadata={"example": "Boyle Heights Youth Center"})
    description = ma.fields.String(allow_none=True, validate=validate.Length(max=5000))
    location_type = ma.fields.Enum(
        LocationType,
        by_value=True,
        metadata={"description": "physical (needs an address or coordinates) or virtual (needs a url)"},
    )
    url = web_url(allow_none=True)
    address_1 = ma.fields.String(allow_none=True, validate=validate.Length(min=1, max=200), metadata={"example": "2130 E 1st St"})
    city = ma.fields.String(allow_none=True, validate=validate.Length(min=1, max=100), metadata={"example": "Los Angeles"})
    state = ma.fields.String(allow_none=True, validate=STATE, metadata={"example": "CA"})
    postal_code = ma.fields.String(allow_none=True, validate=POSTAL_CODE, metadata={"example": "90033"})
    latitude = ma.fields.Float(allow_none=True, allow_nan=False, validate=LATITUDE, metadata={"example": 34.0447})
    longitude = ma.fields.Float(allow_none=True, allow_nan=False, validate=LONGITUDE, metadata={"example": -118.2125})
    is_confidential = ma.fields.Boolean(
        metadata={
            "description": "A shelter or safe house: only the owning organization and network admins see its "
            "address and coordinates; others see the front door contact"
        },
    )
    front_door_contact = ma.fields.String(
        allow_none=True,
        validate=validate.Length(min=1, max=300),
        metadata={
            "description": "How to reach a confidential site without its address (required when confidential)",
            "example": "Call (213) 555-0142, 24 hours",
        },
    )


@versioned
class LocationSchema(VersionedRecordSchema, _LocationFields):
    """A location as the caller may see it: for a confidential location the caller is not
    granted, only id, name, organization_id, location_type, is_confidential and
    front_door_contact."""

    sometimes_absent: tuple[str, ...]  # set below the class, from its fields

    organization_id = ma.fields.UUID()
    distance_m = ma.fields.Float(
        dump_only=True,
        metadata={"description": "Meters from the search point (proximity searches only)"},
    )

    @post_dump(pass_original=True)
    def _disclose(self, data: dict, original: object, **_kwargs: object) -> dict:
        # service.present marks what the caller may see; the schema never asks who is calling.
        return policy.disclosed(data, original, getattr(original, "address_shown", None))


# A confidential location shows outsiders only its front door (and distance_m only in searches).
LocationSchema.sometimes_absent = tuple(name for name in LocationSchema._declared_fields if name not in policy.FRONT_DOOR_FIELDS)


class LocationCreateSchema(_LocationFields):
    organization_id = ma.fields.UUID(metadata={"description": "The owning organization (default: yours; others: network admins)"})
    name = ma.fields.String(
        required=True, validate=validate.Length(min=1, max=200), metadata={"example": "Boyle Heights Youth Center"}
    )
    location_type = ma.fields.Enum(LocationType, by_value=True, load_default=LocationType.physical)
    is_confidential = ma.fields.Boolean(load_default=False)


class LocationUpdateSchema(ChangeSchema, _LocationFields):
    pass


class LocationFilterSchema(Schema):
    organization_id = ma.fields.UUID()
    location_type = ma.fields.Enum(LocationType, by_value=True)
    program_id = ma.fields.UUID(metadata={"description": "Locations where this program is offered"})


class LocationQuerySchema(SyncPageArgsSchema, LocationFilterSchema):
    near_lat = ma.fields.Float(
        allow_nan=False, validate=LATITUDE, metadata={"description": "Search near this point (with near_lon); sorted by distance"}
    )
    near_lon = ma.fields.Float(allow_nan=False, validate=LONGITUDE)
    radius_m = radius_field("Search radius")

    @validates_schema
    def _near_together(self, data: dict, **_kwargs: object) -> None:
        if ("near_lat" in data) != ("near_lon" in data):
            missing = "near_lon" if "near_lat" in data else "near_lat"
            raise ValidationError("near_lat and near_lon go together.", missing)
        if "radius_m" in data and "near_lat" not in data:
            raise ValidationError("A radius needs near_lat and near_lon.", "radius_m")


class LocationFeaturePropertiesSchema(Schema):
    id = ma.fields.UUID(required=True)
    name = ma.fields.String(required=True)
    organization_id = ma.fields.UUID(required=True)
    program_ids = ma.fields.List(ma.fields.UUID(), required=True, metadata={"description": "Programs offered here"})


class LocationFeatureSchema(Schema):
    type = ma.fields.String(required=True, validate=validate.OneOf(["Feature"]))
    id = ma.fields.String(required=True)
    geometry = ma.fields.Nested(PointSchema, required=True)
    properties = ma.fields.Nested(LocationFeaturePropertiesSchema, required=True)


class LocationFeatureCollectionSchema(Schema):
    """RFC 7946 FeatureCollection of Points; never a confidential location."""

    type = ma.fields.String(required=True, validate=validate.OneOf(["FeatureCollection"]))
    features = ma.fields.List(ma.fields.Nested(LocationFeatureSchema), required=True)
