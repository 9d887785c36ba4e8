"""Distances on both databases: a great-circle distance written in SQL (haversine), so that
`near` filters and sorts in the query. PostgreSQL has the trigonometric functions; SQLite gets
them from its math extension or, where that is not compiled in, from Python (db.py)."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass

import marshmallow as ma
from marshmallow import validate
from sqlalchemy import ColumnElement, and_, case, func, literal, or_
from sqlalchemy.orm import Session

from cbs_network.core.errors import field_error

EARTH_RADIUS_M = 6_371_008.8
# The largest radius of a proximity search (and its default): a fixed part of the contract, so
# the spec can state it.
MAX_RADIUS_M = 50_000


def radius_field(description: str) -> ma.fields.Float:
    return ma.fields.Float(
        allow_nan=False,
        validate=validate.Range(min=0, min_inclusive=False, max=MAX_RADIUS_M),
        metadata={"description": f"{description} (meters; default and maximum {MAX_RADIUS_M})"},
    )


def distance_m(lat_column, lon_column, lat: float, lon: float) -> ColumnElement[float]:
    """Meters from (lat, lon) to the row's coordinates."""
    phi1, phi2 = func.radians(literal(lat)), func.radians(lat_column)
    dphi = func.radians(lat_column - literal(lat))
    dlambda = func.radians(lon_column - literal(lon))
    a = func.power(func.sin(dphi / 2), 2) + func.cos(phi1) * func.cos(phi2) * func.power(func.sin(dlambda / 2), 2)
    # capped at 1: rounding can push `a` just above it for antipodal points, outside asin's domain
    return 2 * EARTH_RADIUS_M * func.asin(func.sqrt(case((a > 1.0, 1.0), else_=a)))


def bounding_box(lat_column, lon_column, lat: float, lon: float, radius_m: float) -> ColumnElement[bool]:
    """A cheap prefilter that contains every point within radius_m: a latitude range (which a
    (latitude, longitude) index reads) and a longitude range checked in the index.

    The circle is widest in longitude north (south) of its centre, by asin(sin(d) / cos(lat)),
    more than d / cos(lat); past a pole every longitude is in; across the antimeridian the
    longitude range is two ranges (J. P. Matuschek, "Finding Points Within a Distance of a
    Latitude/Longitude Using Bounding Coordinates")."""
    angle = radius_m / EARTH_RADIUS_M
    south, north = lat - math.degrees(angle), lat + math.degrees(angle)
    latitude = lat_column.between(max(south, -90.0), min(north, 90.0))
    if south <= -90.0 or north >= 90.0:
        return latitude
    dlon = math.degrees(math.asin(math.sin(angle) / math.cos(math.radians(lat))))
    west, east = lon - dlon, lon + dlon
    if west < -180.0:
        return and_(latitude, or_(lon_column >= west + 360.0, lon_column <= east))
    if east > 180.0:
        return and_(latitude, or_(lon_column >= west, lon_column <= east - 360.0))
    return and_(latitude, lon_column.between(west, east))


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """The same distance in Python, for tests and for checking the SQL."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin(math.radians(lat2 - lat1) / 2) ** 2
        + math.cos(phi1) * math.cos(phi2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, a)))


@dataclass(frozen=True)
class NearPoint:
    lat: float
    lon: float
    radius_m: float
    school_id: uuid.UUID | None  # when searching around a school


def near_point(
    session: Session,
    *,
    near_lat: float | None = None,
    near_lon: float | None = None,
    near_school: uuid.UUID | None = None,
    radius_m: float | None = None,
    max_radius_m: float,
) -> NearPoint | None:
    """The centre and radius of a proximity search (None when the query asks for none): a point,
    or a school's coordinates; the radius defaults to, and may not exceed, the hub's maximum.
    Every inconsistency is a 422 naming the query argument."""
    from cbs_network.directory.models import School

    if near_school is not None and (near_lat is not None or near_lon is not None):
        raise field_error("near_school", "Give near_school or near_lat and near_lon, not both.", location="query")
    if (near_lat is None) != (near_lon is None):
        raise field_error(
            "near_lon" if near_lon is None else "near_lat", "Give near_lat and near_lon together.", location="query"
        )
    if near_school is None and near_lat is None:
        if radius_m is not None:
            raise field_error("radius_m", "radius_m needs near_lat and near_lon, or near_school.", location="query")
        return None
    if radius_m is not None and radius_m > max_radius_m:
        raise field_error("radius_m", f"The radius may be at most {max_radius_m:g} meters.", location="query")
    radius = radius_m if radius_m is not None else max_radius_m
    if near_school is None:
        return NearPoint(near_lat, near_lon, radius, None)  # type: ignore[arg-type]
    origin = session.get(School, near_school)
    if origin is None:
        raise field_error("near_school", "No school with this id.", location="query")
    if origin.latitude is None or origin.longitude is None:
        raise field_error("near_school", "This school has no coordinates.", location="query")
    return NearPoint(origin.latitude, origin.longitude, radius, origin.id)
