from __future__ import annotations

import uuid

from flask import url_for

from cbs_network.core.db import session
from cbs_network.directory.geo import MAX_RADIUS_M
from cbs_network.directory.geojson import MEDIA_TYPE, serve_as_geojson
from cbs_network.directory.models import School
from cbs_network.directory.schools import service
from cbs_network.directory.schools.schemas import (
    SchoolCreateSchema,
    SchoolFeatureCollectionSchema,
    SchoolGeoJSONQuerySchema,
    SchoolQuerySchema,
    SchoolSchema,
    SchoolUpdateSchema,
)
from cbs_network.http.api import Blueprint, created
from cbs_network.http.pagination import page_schema, paginate
from cbs_network.http.schemas import WithFields
from cbs_network.identity.principal import current_principal

blp = Blueprint(
    "schools",
    __name__,
    url_prefix="/api/v1",
    description="The district's schools: CDS codes, grade spans, regions, board districts, coordinates and coverage gaps.",
)

EXAMPLE = {
    "id": "6b1d3c52-7f0e-4a8e-9b61-2f3c4d5e6f70",
    "cds_code": "19647331930247",
    "name": "Garfield Senior High",
    "grade_low": "9",
    "grade_high": "12",
    "region": "East",
    "board_district": 2,
    "address_1": "5101 E 6th St",
    "city": "Los Angeles",
    "state": "CA",
    "postal_code": "90022",
    "latitude": 34.0268,
    "longitude": -118.1608,
    "is_bsap": True,
    "status": "active",
    "organization_id": None,
    "district_id": "0b7f3a2c-5d1e-4c6a-9f8b-1e2d3c4b5a69",
    "jurisdiction_id": "5f0c6b2e-7a41-4c1d-9e3b-2a8f6d4c1b02",
    "version": 1,
    "created_at": "2026-08-01T16:00:00+00:00",
    "updated_at": "2026-08-01T16:00:00+00:00",
}
FEATURE_EXAMPLE = {
    "type": "FeatureCollection",
    "truncated": False,
    "features": [
        {
            "type": "Feature",
            "id": EXAMPLE["id"],
            "geometry": {"type": "Point", "coordinates": [-118.1608, 34.0268]},
            "properties": {
                k: EXAMPLE[k]
                for k in ("id", "cds_code", "name", "region", "board_district", "is_bsap", "status", "grade_low", "grade_high")
            },
        }
    ],
}


def _search(args: dict):
    return service.search(
        session=session(),
        principal=current_principal(),
        max_radius_m=MAX_RADIUS_M,
        **args,
    )


@blp.route("/schools", methods=["GET"])
@blp.requires("directory:read")
@blp.arguments(SchoolQuerySchema, location="query")
@blp.response(200, page_schema(SchoolSchema), example={"items": [EXAMPLE], "next_cursor": None})
def list_schools(args):
    """List schools

    Filters combine with AND. `lacks_program_type` finds coverage gaps (no active program of
    that type serves the school). With `near_lat` + `near_lon` or `near_school` (and `radius_m`),
    only located schools within the radius are listed, nearest first, each with `distance_m`;
    `updated_since` then filters without changing that order.
    """
    query, distance = _search(args)
    if distance is None:
        return paginate(session(), query, School, args)
    body, headers = paginate(session(), query, School, args, distance=distance)
    body["items"] = [WithFields(school, distance_m=meters) for school, meters in body["items"]]
    return body, headers


@blp.route("/schools.geojson", methods=["GET"])
@blp.requires("directory:read")
@blp.arguments(SchoolGeoJSONQuerySchema, location="query")
@blp.response(200, SchoolFeatureCollectionSchema, content_type=MEDIA_TYPE, example=FEATURE_EXAMPLE)
def schools_geojson(args):
    """Schools as GeoJSON

    An RFC 7946 FeatureCollection (`application/geo+json`) that QGIS or Leaflet load as is: one
    Point feature per school with coordinates, `[longitude, latitude]`. Same filters as the list,
    no pagination: at most 10,000 features (by name, or nearest first), with `truncated` true
    when more matched.
    """
    query, distance = _search(args)
    serve_as_geojson()
    return service.feature_collection(session(), query, distance)


@blp.route("/schools", methods=["POST"])
@blp.requires("directory:write")
@blp.arguments(
    SchoolCreateSchema,
    example={
        k: v
        for k, v in EXAMPLE.items()
        if k not in ("id", "version", "created_at", "updated_at", "organization_id", "district_id")
    },
)
@blp.response(201, SchoolSchema, example=EXAMPLE)
def create_school(data):
    """Add a school (a school district's admins and coordinators, network admins)

    A district's admins and coordinators add schools to their own district: `district_id`
    defaults to their organization and may not name another (403). Network admins give the
    district, or none (a school without a district is kept by network admins alone). The
    school's `organization_id`, when given, must sit under the district in the organization
    tree (422).
    """
    school = service.create(session=session(), principal=current_principal(), data=data)
    return school, created(url_for(".get_school", school_id=school.id))


@blp.route("/schools/<uuid:school_id>", methods=["GET"])
@blp.requires("directory:read")
@blp.response(200, SchoolSchema, example=EXAMPLE)
def get_school(school_id: uuid.UUID):
    """Get a school"""
    return service.get(session=session(), principal=current_principal(), school_id=school_id)


@blp.route("/schools/<uuid:school_id>", methods=["PATCH"])
@blp.requires("directory:write")
@blp.arguments(SchoolUpdateSchema, example={"is_bsap": True, "board_district": 2})
@blp.if_match
@blp.response(200, SchoolSchema, example=EXAMPLE)
def update_school(data, school_id: uuid.UUID, expected_version: int):
    """Update a school (its own district's admins and coordinators, network admins)

    Another district's staff get 403. Only network admins change `district_id`. Schools are
    never deleted: a school that closes gets `status` closed.
    """
    return service.update(
        session=session(),
        principal=current_principal(),
        school_id=school_id,
        data=data,
        expected_version=expected_version,
    )
