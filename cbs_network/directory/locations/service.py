"""Locations: where programs are offered. Keyword-only functions taking the acting principal;
the list functions return a Select so the HSDS API (principal None: the public) reuses them."""

from __future__ import annotations

import uuid
from collections.abc import Set as AbstractSet
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, func, select
from sqlalchemy.orm import Session

from cbs_network.audit import service as audit
from cbs_network.core.db import utcnow
from cbs_network.core.errors import Conflict, NotFound, ValidationFailed
from cbs_network.directory import geo
from cbs_network.directory.locations import policy
from cbs_network.directory.models import Location, LocationType, ProgramLocation
from cbs_network.events.service import record_event
from cbs_network.http.etag import check_version
from cbs_network.http.schemas import WithFields
from cbs_network.identity.principal import Principal
from cbs_network.organizations.models import Organization

AUDITED_FIELDS = (
    "organization_id",
    "name",
    "description",
    "location_type",
    "url",
    "address_1",
    "city",
    "state",
    "postal_code",
    "latitude",
    "longitude",
    "is_confidential",
    "front_door_contact",
)


def present(principal: Principal | None, location: Location, **extra: Any) -> WithFields:
    """The location marked with whether `principal` sees its address (LocationSchema shows only
    the front door of a confidential one otherwise)."""
    return WithFields(location, address_shown=policy.sees_address(principal, location), **extra)


def get(*, session: Session, principal: Principal | None, location_id: uuid.UUID) -> Location:
    """Any location (confidential ones too: what the caller sees of it is `present`'s business)."""
    location = session.get(Location, location_id)
    if location is None:
        raise NotFound("No location with this id.")
    return location


def list_query(
    *,
    principal: Principal | None,
    organization_id: uuid.UUID | None = None,
    location_type: LocationType | None = None,
    program_id: uuid.UUID | None = None,
    **_page: Any,
) -> Select:
    query = select(Location)
    if organization_id is not None:
        query = query.where(Location.organization_id == organization_id)
    if location_type is not None:
        query = query.where(Location.location_type == location_type)
    if program_id is not None:
        query = query.where(exists().where(ProgramLocation.location_id == Location.id, ProgramLocation.program_id == program_id))
    return query


def near_query(
    query: Select, *, principal: Principal | None, lat: float, lon: float, radius_m: float
) -> tuple[Select, ColumnElement[float]]:
    """`query` narrowed to the locations within radius_m of (lat, lon) whose address the caller
    may see, with their distance as a second column; the caller orders by it."""
    distance = geo.distance_m(Location.latitude, Location.longitude, lat, lon)
    query = (
        query.add_columns(distance.label("distance_m"))
        .where(Location.latitude.is_not(None), Location.longitude.is_not(None))
        .where(geo.bounding_box(Location.latitude, Location.longitude, lat, lon, radius_m))
        .where(distance <= radius_m)
        .where(policy.address_visible(principal))
    )
    return query, distance


def geojson_query(*, principal: Principal | None, **filters: Any) -> Select:
    """Mapped locations for GeoJSON: never a confidential one, whoever asks (maps get shared)."""
    return (
        list_query(principal=principal, **filters)
        .where(Location.is_confidential.is_(False), Location.latitude.is_not(None), Location.longitude.is_not(None))
        .order_by(Location.name, Location.id)
    )


def program_ids_by_location(session: Session, location_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[uuid.UUID]]:
    found: dict[uuid.UUID, list[uuid.UUID]] = {i: [] for i in location_ids}
    if location_ids:
        rows = session.execute(
            select(ProgramLocation.location_id, ProgramLocation.program_id)
            .where(ProgramLocation.location_id.in_(location_ids))
            .order_by(ProgramLocation.program_id)
        )
        for location_id, program_id in rows:
            found[location_id].append(program_id)
    return found


def field_problems(location: Location, fields: AbstractSet[str] = frozenset()) -> dict[str, str]:
    """Rules across fields, checked on the location as it would be saved ({field: message}, at
    most one); the field named is one the caller sent where there is a choice."""
    if (location.latitude is None) != (location.longitude is None):
        return {"longitude" if location.longitude is None else "latitude": "Give latitude and longitude together."}
    if location.location_type == LocationType.virtual and not location.url:
        return {"url": "A virtual location needs a url."}
    if location.location_type == LocationType.physical and not location.address_1 and location.latitude is None:
        given = [f for f in ("address_1", "latitude", "longitude") if f in fields]
        return {given[0] if given else "address_1": "A physical location needs an address or coordinates."}
    if location.is_confidential and not location.front_door_contact:
        return {"front_door_contact": "A confidential location needs a front door contact for those who may not see its address."}
    return {}


def _check(session: Session, location: Location, fields: set[str]) -> None:
    problems = field_problems(location, fields)
    if "organization_id" in fields and session.get(Organization, location.organization_id) is None:
        problems["organization_id"] = "Unknown organization."
    if problems:
        raise ValidationFailed(
            "The location failed validation; see errors.",
            errors={"json": {field: [message] for field, message in problems.items()}},
        )


def _event(session: Session, principal: Principal, action: str, location: Location, **payload: Any) -> None:
    record_event(
        session,
        type=f"location.{action}",
        object_type="location",
        object_id=location.id,
        principal=principal,
        payload={"location_id": location.id, "organization_id": location.organization_id, **payload},
        audience=[location.organization_id],
    )


def create(*, session: Session, principal: Principal, data: dict[str, Any]) -> Location:
    data = dict(data)
    data.setdefault("organization_id", principal.organization_id)
    policy.require_edit(principal, data["organization_id"])
    location = Location(id=uuid.uuid4(), **data)
    _check(session, location, set(data))
    session.add(location)
    session.flush()
    audit.record(
        session,
        principal=principal,
        action="location.created",
        object_type="location",
        object_id=location.id,
        changes=audit.diff({}, audit.snapshot(location, AUDITED_FIELDS)),
    )
    _event(session, principal, "created", location)
    return location


def update(
    *, session: Session, principal: Principal, location_id: uuid.UUID, data: dict[str, Any], expected_version: int
) -> Location:
    location = get(session=session, principal=principal, location_id=location_id)
    policy.require_edit(principal, location.organization_id)
    check_version(location, expected_version)
    before = audit.snapshot(location, AUDITED_FIELDS)
    for name, value in data.items():
        setattr(location, name, value)
    _check(session, location, set(data))
    changes = audit.diff(before, audit.snapshot(location, AUDITED_FIELDS))
    if changes:
        location.updated_at = utcnow()
        session.flush()
        audit.record(
            session,
            principal=principal,
            action="location.updated",
            object_type="location",
            object_id=location.id,
            changes=changes,
        )
        _event(session, principal, "updated", location, changed=sorted(changes))
    return location


def delete(*, session: Session, principal: Principal, location_id: uuid.UUID, expected_version: int) -> None:
    location = get(session=session, principal=principal, location_id=location_id)
    policy.require_edit(principal, location.organization_id)
    check_version(location, expected_version)
    if session.scalar(select(func.count()).select_from(ProgramLocation).where(ProgramLocation.location_id == location.id)):
        raise Conflict("A program is still offered at this location; remove it from the program first.")
    before = audit.snapshot(location, AUDITED_FIELDS)
    _event(session, principal, "deleted", location)
    session.delete(location)
    session.flush()
    audit.record(
        session,
        principal=principal,
        action="location.deleted",
        object_type="location",
        object_id=location_id,
        changes=audit.diff(before, {}),
    )
