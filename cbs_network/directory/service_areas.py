"""Which programs serve which schools: a program serves a school it lists, every school of a
region it lists, and every school inside its GeoJSON polygon.

Lists and regions are answered in SQL; polygons (few, and not portable SQL) in Python with
shapely, over the schools' coordinates.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from shapely.geometry import Point, shape
from shapely.validation import explain_validity
from sqlalchemy import ColumnElement, Select, exists, or_, select
from sqlalchemy.orm import Session

from cbs_network.directory.models import Program, ProgramRegion, ProgramSchool, ProgramStatus, ProgramType, School

POLYGON_TYPES = ("Polygon", "MultiPolygon")


def polygon_problem(geojson: dict) -> str | None:
    """Why a GeoJSON geometry is not an acceptable service-area polygon, or None."""
    if not isinstance(geojson, dict) or geojson.get("type") not in POLYGON_TYPES:
        return "Must be a GeoJSON Polygon or MultiPolygon geometry."
    if set(geojson) - {"type", "coordinates", "bbox"}:
        return "A geometry has only type, coordinates and bbox."
    try:
        geometry = shape(geojson)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as error:
        return f"Not valid GeoJSON: {error}."
    if geometry.is_empty or not geometry.is_valid:
        return f"Not a valid polygon: {explain_validity(geometry)}."
    min_lon, min_lat, max_lon, max_lat = geometry.bounds
    if not (-180 <= min_lon <= max_lon <= 180 and -90 <= min_lat <= max_lat <= 90):
        return "Coordinates must be [longitude, latitude] within range."
    return None


def listed_for_school(school: School) -> ColumnElement[bool]:
    """SQL: the program lists this school or its region."""
    clauses = [exists().where(ProgramSchool.program_id == Program.id, ProgramSchool.school_id == school.id)]
    if school.region:
        clauses.append(exists().where(ProgramRegion.program_id == Program.id, ProgramRegion.region == school.region))
    return or_(*clauses)


def _polygon_contains(program: Program, school: School) -> bool:
    if not program.service_area_geojson or school.latitude is None or school.longitude is None:
        return False
    return shape(program.service_area_geojson).covers(Point(school.longitude, school.latitude))


def program_ids_serving(session: Session, school: School, base: Select | None = None) -> set[uuid.UUID]:
    """Ids of the programs (within `base`, a select of Program) that serve `school`."""
    base = base if base is not None else select(Program)
    ids = set(session.scalars(base.with_only_columns(Program.id).where(listed_for_school(school))))
    with_polygons = session.scalars(base.where(Program.service_area_geojson.is_not(None)))
    ids |= {p.id for p in with_polygons if _polygon_contains(p, school)}
    return ids


def school_ids_served(
    session: Session, *, program_types: Iterable[ProgramType], statuses: Iterable[ProgramStatus] = (ProgramStatus.active,)
) -> set[uuid.UUID]:
    """Ids of the schools served by at least one program of these types and statuses."""
    programs = (
        select(Program.id).where(Program.program_type.in_(list(program_types)), Program.status.in_(list(statuses))).subquery()
    )
    listed = select(ProgramSchool.school_id).where(ProgramSchool.program_id.in_(select(programs.c.id)))
    by_region = select(School.id).where(
        School.region.in_(select(ProgramRegion.region).where(ProgramRegion.program_id.in_(select(programs.c.id))))
    )
    served = set(session.scalars(listed)) | set(session.scalars(by_region))
    polygons = [
        shape(geojson)
        for geojson in session.scalars(
            select(Program.service_area_geojson).where(
                Program.id.in_(select(programs.c.id)), Program.service_area_geojson.is_not(None)
            )
        )
    ]
    if polygons:
        located = session.execute(
            select(School.id, School.latitude, School.longitude).where(School.latitude.is_not(None), School.id.not_in(served))
        )
        served |= {sid for sid, lat, lon in located if any(p.covers(Point(lon, lat)) for p in polygons)}
    return served
