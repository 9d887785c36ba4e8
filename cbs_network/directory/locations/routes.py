from __future__ import annotations

import uuid

from flask import url_for

from cbs_network.core.db import session
from cbs_network.directory import geo
from cbs_network.directory.geojson import MEDIA_TYPE, point_feature, serve_as_geojson
from cbs_network.directory.locations import service
from cbs_network.directory.locations.schemas import (
    LocationCreateSchema,
    LocationFeatureCollectionSchema,
    LocationFilterSchema,
    LocationQuerySchema,
    LocationSchema,
    LocationUpdateSchema,
)
from cbs_network.directory.models import Location
from cbs_network.http.api import Blueprint, created
from cbs_network.http.pagination import page_schema, paginate
from cbs_network.identity.principal import current_principal

blp = Blueprint(
    "locations",
    __name__,
    url_prefix="/api/v1",
    description="Where programs are offered: physical sites (some confidential) and virtual ones.",
)

EXAMPLE = {
    "id": "6a4c1f0e-8d2b-4e55-9a0c-3b1f2e4d5c60",
    "organization_id": "3f0f5d8e-6c1e-4c51-9d3b-0b2f7f3f8a11",
    "name": "Boyle Heights Youth Center",
    "location_type": "physical",
    "address_1": "2130 E 1st St",
    "city": "Los Angeles",
    "state": "CA",
    "postal_code": "90033",
    "latitude": 34.0447,
    "longitude": -118.2125,
    "is_confidential": False,
    "front_door_contact": None,
    "version": 1,
}
CONFIDENTIAL_EXAMPLE = {
    "id": "0b7e2a44-1c3d-4f5e-8a9b-6c7d8e9f0a1b",
    "organization_id": "3f0f5d8e-6c1e-4c51-9d3b-0b2f7f3f8a11",
    "name": "Safe house (confidential)",
    "location_type": "physical",
    "is_confidential": True,
    "front_door_contact": "Call (213) 555-0142, 24 hours",
}
GEOJSON_EXAMPLE = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "id": EXAMPLE["id"],
            "geometry": {"type": "Point", "coordinates": [-118.2125, 34.0447]},
            "properties": {
                "id": EXAMPLE["id"],
                "name": EXAMPLE["name"],
                "organization_id": EXAMPLE["organization_id"],
                "program_ids": ["9c1d2e3f-4a5b-4c6d-8e7f-0a1b2c3d4e5f"],
            },
        }
    ],
}


@blp.route("/locations", methods=["GET"])
@blp.requires("directory:read")
@blp.arguments(LocationQuerySchema, location="query")
@blp.response(200, page_schema(LocationSchema), example={"items": [EXAMPLE, CONFIDENTIAL_EXAMPLE], "next_cursor": None})
def list_locations(args):
    """List locations

    Filter by organization, type or program; `updated_since` for partners that sync. With
    `near_lat`/`near_lon` (and `radius_m`), only locations within the radius, nearest first,
    each with `distance_m`; confidential locations you may not see are left out of such searches
    entirely. Elsewhere a confidential location shows only its name and front door contact,
    unless it is your organization's (or you are a network admin).
    """
    principal = current_principal()
    query = service.list_query(principal=principal, **args)
    near = geo.near_point(
        session(),
        near_lat=args.get("near_lat"),
        near_lon=args.get("near_lon"),
        radius_m=args.get("radius_m"),
        max_radius_m=geo.MAX_RADIUS_M,
    )
    if near is None:
        body, headers = paginate(session(), query, Location, args)
        body["items"] = [service.present(principal, location) for location in body["items"]]
        return body, headers
    query, distance = service.near_query(query, principal=principal, lat=near.lat, lon=near.lon, radius_m=near.radius_m)
    body, headers = paginate(session(), query, Location, args, distance=distance)
    body["items"] = [service.present(principal, location, distance_m=meters) for location, meters in body["items"]]
    return body, headers


@blp.route("/locations.geojson", methods=["GET"])
@blp.requires("directory:read")
@blp.arguments(LocationFilterSchema, location="query")
@blp.response(200, LocationFeatureCollectionSchema, content_type=MEDIA_TYPE, example=GEOJSON_EXAMPLE)
def locations_geojson(args):
    """Locations as a GeoJSON FeatureCollection

    Points ([longitude, latitude]) that QGIS or Leaflet load as is. Confidential locations
    never appear here, not even to their own organization or network admins: maps get shared
    beyond whoever drew them. Locations without coordinates (virtual ones) are left out.
    """
    locations = list(session().scalars(service.geojson_query(principal=current_principal(), **args)))
    programs = service.program_ids_by_location(session(), [loc.id for loc in locations])

    serve_as_geojson()
    return {
        "type": "FeatureCollection",
        "features": [
            point_feature(
                loc.id,
                loc.latitude,
                loc.longitude,
                {
                    "id": loc.id,
                    "name": loc.name,
                    "organization_id": loc.organization_id,
                    "program_ids": programs[loc.id],
                },
            )
            for loc in locations
        ],
    }


@blp.route("/locations", methods=["POST"])
@blp.requires("directory:write")
@blp.arguments(
    LocationCreateSchema,
    example={
        "name": "Boyle Heights Youth Center",
        "address_1": "2130 E 1st St",
        "city": "Los Angeles",
        "state": "CA",
        "postal_code": "90033",
        "latitude": 34.0447,
        "longitude": -118.2125,
    },
)
@blp.response(201, LocationSchema, example=EXAMPLE)
def create_location(data):
    """Add a location of your organization (network admins: of any)"""
    principal = current_principal()
    location = service.create(session=session(), principal=principal, data=data)
    return service.present(principal, location), created(url_for(".get_location", location_id=location.id))


@blp.route("/locations/<uuid:location_id>", methods=["GET"])
@blp.requires("directory:read")
@blp.response(200, LocationSchema, example=EXAMPLE)
def get_location(location_id: uuid.UUID):
    """Get a location (a confidential one shows its address only to its organization and network admins)"""
    principal = current_principal()
    return service.present(principal, service.get(session=session(), principal=principal, location_id=location_id))


@blp.route("/locations/<uuid:location_id>", methods=["PATCH"])
@blp.requires("directory:write")
@blp.arguments(LocationUpdateSchema, example={"front_door_contact": "Call (213) 555-0142, 24 hours", "is_confidential": True})
@blp.if_match
@blp.response(200, LocationSchema, example=EXAMPLE)
def update_location(data, location_id: uuid.UUID, expected_version: int):
    """Update a location of your organization"""
    principal = current_principal()
    return service.present(
        principal,
        service.update(
            session=session(),
            principal=principal,
            location_id=location_id,
            data=data,
            expected_version=expected_version,
        ),
    )


@blp.route("/locations/<uuid:location_id>", methods=["DELETE"])
@blp.requires("directory:write")
@blp.if_match
@blp.response(204)
def delete_location(location_id: uuid.UUID, expected_version: int):
    """Remove a location no program is offered at"""
    service.delete(session=session(), principal=current_principal(), location_id=location_id, expected_version=expected_version)
