"""RFC 7946 GeoJSON shared by the directory's map endpoints."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import after_this_request
from marshmallow import validate

from cbs_network.http.schemas import Schema

MEDIA_TYPE = "application/geo+json"


class PointSchema(Schema):
    type = ma.fields.String(required=True, validate=validate.OneOf(["Point"]))
    coordinates = ma.fields.List(
        ma.fields.Float(), required=True, validate=validate.Length(equal=2), metadata={"description": "[longitude, latitude]"}
    )


def point_feature(ident: Any, latitude: float, longitude: float, properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": str(ident),
        "geometry": {"type": "Point", "coordinates": [longitude, latitude]},  # GeoJSON order
        "properties": properties,
    }


def serve_as_geojson() -> None:
    """Serve this request's JSON response as application/geo+json, the type map tools expect."""

    @after_this_request
    def media_type(response):
        response.mimetype = MEDIA_TYPE
        return response
