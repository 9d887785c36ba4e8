"""Program search: every filter as SQL on one Select, policy applied once, for the API and for
a later public (tokenless) HSDS API (principal=None).

A near search joins each program to the distance of its nearest physical location the caller may
see, within the radius; it is paged by (distance, id) instead of by time.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from typing import Any
from urllib.parse import urlencode

from flask import current_app, request
from sqlalchemy import Select, exists, func, literal, or_, select, tuple_
from sqlalchemy.orm import Session
from sqlalchemy.types import Float, Uuid

from ...db import utcnow
from ...errors import ValidationFailed
from ...http.pagination import BadCursor, paginate
from ...identity.principal import Principal
from .. import geo
from ..models import GRADES, Location, LocationType, Program, ProgramLanguage, ProgramLocation, ProgramRegion, School
from ..service_areas import program_ids_serving
from . import policy
from .service import present, verification_interval


def max_radius_m() -> float:
    return float(current_app.config["CBS_SETTINGS"].directory_max_radius_m)


def _query_error(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, errors={"query": {field: [message]}})


def _school(session: Session, school_id: uuid.UUID, field: str) -> School:
    school = session.get(School, school_id)
    if school is None:
        raise _query_error(field, "Unknown school.")
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
        cutoff = utcnow() - verification_interval()
        overdue = or_(Program.assured_at.is_(None), Program.assured_at <= cutoff)
        query = query.where(overdue if verification_overdue else ~overdue)
    if q:
        text = q.lower()
        query = query.where(or_(
            func.lower(Program.name).contains(text, autoescape=True),
            func.lower(Program.description).contains(text, autoescape=True),
        ))
    if school_id is not None:
        # Polygons are tested in Python (service_areas), so this filter is a list of ids.
        school = _school(session, school_id, "school_id")
        query = query.where(Program.id.in_(program_ids_serving(session, school, query)))
    if radius_m is not None:
        if radius_m > max_radius_m():
            raise _query_error("radius_m", f"At most {max_radius_m():g} meters.")
        if near_school is not None:
            school = _school(session, near_school, "near_school")
            if school.latitude is None or school.longitude is None:
                raise _query_error("near_school", "The school has no coordinates.")
            near_lat, near_lon = school.latitude, school.longitude
        if near_lat is None or near_lon is None:
            raise _query_error("radius_m", "A near search needs near_lat and near_lon, or near_school.")
        query = _near(query, principal, near_lat, near_lon, radius_m)
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
            policy.sees_confidential(principal),
            geo.bounding_box(Location.latitude, Location.longitude, lat, lon, radius_m),
            distance <= radius_m,
        )
        .group_by(ProgramLocation.program_id)
        .subquery("nearest")
    )
    return query.add_columns(nearest.c.distance_m).join(nearest, nearest.c.program_id == Program.id)


def page(session: Session, query: Select, args: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """One page of `list_query`'s programs, each presented for ProgramSchema."""
    now = utcnow()
    if "distance_m" not in query.selected_columns:
        body, headers = paginate(session, query, Program, args)
        body["items"] = [present(p, now=now) for p in body["items"]]
        return body, headers
    distance = query.selected_columns.distance_m
    if args.get("updated_since") is not None:
        query = query.where(Program.updated_at >= args["updated_since"])
    if args.get("cursor"):
        after_distance, after_id = _decode(args["cursor"])
        query = query.where(
            tuple_(distance, Program.id) > tuple_(literal(after_distance, Float()), literal(after_id, Uuid()))
        )
    limit = args["limit"]
    rows = session.execute(query.order_by(distance, Program.id).limit(limit + 1)).all()
    items, more = rows[:limit], len(rows) > limit
    next_cursor = _encode(items[-1][1], items[-1][0].id) if more else None
    headers = {}
    if next_cursor:
        params = {**request.args.to_dict(flat=False), "cursor": [next_cursor]}  # keeps repeated filters
        headers["Link"] = f'<{request.base_url}?{urlencode(params, doseq=True)}>; rel="next"'
    return {"items": [present(p, now=now, distance_m=round(d, 1)) for p, d in items], "next_cursor": next_cursor}, headers


def _encode(distance: float, ident: uuid.UUID) -> str:
    raw = json.dumps(["distance", distance, str(ident)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str) -> tuple[float, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key, distance, ident = json.loads(raw)
        if key != "distance" or not isinstance(distance, (int, float)):
            raise ValueError("cursor from another ordering")
        return float(distance), uuid.UUID(ident)
    except (ValueError, TypeError, binascii.Error, json.JSONDecodeError) as error:
        raise BadCursor(
            "The cursor is not one this list issued; start again without it.",
            errors={"query": {"cursor": ["Invalid cursor."]}},
        ) from error
