"""Distances on both databases: a great-circle distance written in SQL (haversine), so that
`near` filters and sorts in the query. PostgreSQL has the trigonometric functions; SQLite gets
them from its math extension or, where that is not compiled in, from Python (db.py)."""

from __future__ import annotations

import math

from sqlalchemy import ColumnElement, and_, case, func, literal

EARTH_RADIUS_M = 6_371_008.8


def distance_m(lat_column, lon_column, lat: float, lon: float) -> ColumnElement[float]:  # type: ignore[no-untyped-def]
    """Meters from (lat, lon) to the row's coordinates."""
    phi1, phi2 = func.radians(literal(lat)), func.radians(lat_column)
    dphi = func.radians(lat_column - literal(lat))
    dlambda = func.radians(lon_column - literal(lon))
    a = func.power(func.sin(dphi / 2), 2) + func.cos(phi1) * func.cos(phi2) * func.power(func.sin(dlambda / 2), 2)
    # capped at 1: rounding can push `a` just above it for antipodal points, outside asin's domain
    return 2 * EARTH_RADIUS_M * func.asin(func.sqrt(case((a > 1.0, 1.0), else_=a)))


def bounding_box(lat_column, lon_column, lat: float, lon: float, radius_m: float) -> ColumnElement[bool]:  # type: ignore[no-untyped-def]
    """A cheap, index-friendly prefilter that contains every point within radius_m."""
    dlat = math.degrees(radius_m / EARTH_RADIUS_M)
    cos_lat = max(math.cos(math.radians(lat)), 1e-6)
    dlon = min(180.0, math.degrees(radius_m / (EARTH_RADIUS_M * cos_lat)))
    return and_(
        lat_column.between(lat - dlat, lat + dlat),
        lon_column.between(lon - dlon, lon + dlon),
    )


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """The same distance in Python, for tests and for checking the SQL."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    a = math.sin(math.radians(lat2 - lat1) / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, a)))
