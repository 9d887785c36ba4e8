"""Program search: every filter as SQL on one Select, policy applied once, for the API and for
a later public (tokenless) HSDS API (principal=None).

A near search joins each program to the distance of its nearest physical location the caller may
see, within the radius; it is paged by (distance, id) instead of by time.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.orm import Session

from cbs_network.capacity.models import CapacityProfile
from cbs_network.core.db import utcnow
from cbs_network.core.errors import field_error
from cbs_network.directory import geo
from cbs_network.directory.locations.policy import address_visible
from cbs_network.directory.models import (
    GRADES,
    Location,
    LocationType,
    Program,
    ProgramExternalCode,
    ProgramLanguage,
    ProgramLocation,
    ProgramRegion,
    ProgramSchedule,
    ProgramSchool,
    School,
)
from cbs_network.directory.programs import policy
from cbs_network.directory.programs.service import verification_interval
from cbs_network.directory.service_areas import program_ids_serving
from cbs_network.http.pagination import paginate
from cbs_network.identity.principal import Principal
from cbs_network.settings import service as settings_service


def max_radius_m() -> float:
    return geo.MAX_RADIUS_M


def _school(session: Session, school_id: uuid.UUID, field: str) -> School:
    school = session.get(School, school_id)
    if school is None:
        raise field_error(field, "Unknown school.", location="query")
    return school


def list_query(
    *,
    session: Session,
    principal: Principal | None,
    program_type: list | None = None,
    status: list | None = None,
    organization_id: uuid.UUID | None = None,
    school_id: uuid.UUID | None = None,
    region: str | None = None,
    language: str | None = None,
    age: int | None = None,
    grade: int | str | None = None,
    accepts_referrals: bool | None = None,
    verification_overdue: bool | None = None,
    capacity_stale: bool | None = None,
    q: str | None = None,
    near_lat: float | None = None,
    near_lon: float | None = None,
    near_school: uuid.UUID | None = None,
    radius_m: float | None = None,
    **_page: Any,
) -> Select:
    """The programs `principal` may see that match every filter given (select(Program), plus a
    `distance_m` column for a near search)."""
    query = select(Program).where(policy.visible(principal))
    if program_type:
        query = query.where(Program.program_type.in_(program_type))
    if status:
        query = query.where(Program.status.in_(status))
    if organization_id is not None:
        query = query.where(Program.organization_id == organization_id)
    if region is not None:
        query = query.where(exists().where(ProgramRegion.program_id == Program.id, ProgramRegion.region == region))
    if language is not None:
        query = query.where(exists().where(ProgramLanguage.program_id == Program.id, ProgramLanguage.code == language))
    if age is not None:
        query = query.where(
            or_(Program.minimum_age.is_(None), Program.minimum_age <= age),
            or_(Program.maximum_age.is_(None), Program.maximum_age >= age),
        )
    if grade is not None:
        ordinal = GRADES[grade] if isinstance(grade, str) else grade
        query = query.where(
            or_(Program.minimum_grade.is_(None), Program.minimum_grade <= ordinal),
            or_(Program.maximum_grade.is_(None), Program.maximum_grade >= ordinal),
        )
    if accepts_referrals is not None:
        query = query.where(Program.accepts_referrals.is_(accepts_referrals))
    if verification_overdue is not None:
        cutoff = utcnow() - verification_interval(session)
        overdue = or_(Program.assured_at.is_(None), Program.assured_at <= cutoff)
        query = query.where(overdue if verification_overdue else ~overdue)
    if capacity_stale is not None:
        cutoff = utcnow() - timedelta(days=settings_service.get(session).capacity_stale_after_days)
        fresh = exists().where(CapacityProfile.program_id == Program.id, CapacityProfile.updated_at > cutoff)
        query = query.where(~fresh if capacity_stale else fresh)
    if q:
        text = q.lower()
        query = query.where(
            or_(
                func.lower(Program.name).contains(text, autoescape=True),
                func.lower(Program.description).contains(text, autoescape=True),
            )
        )
    if school_id is not None:
        # Polygons are tested in Python (service_areas), so this filter is a list of ids.
        school = _school(session, school_id, "school_id")
        query = query.where(Program.id.in_(program_ids_serving(session, school, query)))
    near = geo.near_point(
        session, near_lat=near_lat, near_lon=near_lon, near_school=near_school, radius_m=radius_m, max_radius_m=max_radius_m()
    )
    if near is not None:
        query = _near(query, principal, near.lat, near.lon, near.radius_m)
    return query


def _near(query: Select, principal: Principal | None, lat: float, lon: float, radius_m: float) -> Select:
    distance = geo.distance_m(Location.latitude, Location.longitude, lat, lon)
    nearest = (
        select(ProgramLocation.program_id.label("program_id"), func.min(distance).label("distance_m"))
        .join(Location, Location.id == ProgramLocation.location_id)
        .where(
            Location.location_type == LocationType.physical,
            Location.latitude.is_not(None),
            Location.longitude.is_not(None),
            # A location the caller may not see (confidential, another organization's) never
            # makes a program match nor sets its distance: the distance would reveal it.
            address_visible(principal),
            geo.bounding_box(Location.latitude, Location.longitude, lat, lon, radius_m),
            distance <= radius_m,
        )
        .group_by(ProgramLocation.program_id)
        .subquery("nearest")
    )
    return query.add_columns(nearest.c.distance_m).join(nearest, nearest.c.program_id == Program.id)


# A page's child collections, each in one statement, in the order the single read lists them
# (ids sorted as text, below).
CHILDREN = {
    "languages": select(ProgramLanguage.program_id, ProgramLanguage.code).order_by(ProgramLanguage.code),
    "served_school_ids": select(ProgramSchool.program_id, ProgramSchool.school_id),
    "served_regions": select(ProgramRegion.program_id, ProgramRegion.region).order_by(ProgramRegion.region),
    "location_ids": select(ProgramLocation.program_id, ProgramLocation.location_id),
    "external_codes": select(ProgramExternalCode.program_id, ProgramExternalCode.scheme, ProgramExternalCode.code).order_by(
        ProgramExternalCode.scheme
    ),
    "schedules": select(
        ProgramSchedule.program_id, *(c for c in ProgramSchedule.__table__.columns if c.key != "program_id")
    ).order_by(ProgramSchedule.position),
}


def page(session: Session, query: Select, args: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """One page of `list_query`'s programs as ProgramSchema shows them: rows and their child
    lists in a fixed number of statements, as `service.present` shows one program."""
    near = query.selected_columns.distance_m if "distance_m" in query.selected_columns else None
    body, headers = paginate(session, query, Program, args, distance=near, rows=True, children=CHILDREN)
    interval, now = verification_interval(session), utcnow()
    for program in body["items"]:
        program["served_school_ids"].sort(key=str)
        program["location_ids"].sort(key=str)
        due = program["assured_at"] + interval if program["assured_at"] else None
        program["verification_due_at"], program["stale"] = due, due is None or due <= now
    return body, headers
