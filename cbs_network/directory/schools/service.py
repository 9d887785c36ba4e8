from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import Session

from cbs_network.audit import service as audit
from cbs_network.committees.models import Jurisdiction
from cbs_network.core.db import utcnow
from cbs_network.core.errors import Conflict, NotFound, ValidationFailed, field_error
from cbs_network.directory import geo, service_areas
from cbs_network.directory.geojson import point_feature
from cbs_network.directory.models import ProgramType, School, SchoolStatus
from cbs_network.directory.schools import policy
from cbs_network.directory.schools.schemas import cross_field_errors
from cbs_network.events.service import record_event
from cbs_network.http.etag import check_version
from cbs_network.identity.principal import Principal
from cbs_network.organizations.models import Organization, OrganizationKind

AUDITED_FIELDS = (
    "cds_code",
    "name",
    "grade_low",
    "grade_high",
    "region",
    "board_district",
    "address_1",
    "city",
    "state",
    "postal_code",
    "latitude",
    "longitude",
    "is_bsap",
    "status",
    "organization_id",
    "district_id",
    "jurisdiction_id",
)
GEOJSON_CAP = 10_000  # features in one collection; documented on the operation
# How far up the organization tree a school's organization is followed to find its district;
# a longer chain (or a loop) is refused rather than walked.
TREE_DEPTH = 12


def get(*, session: Session, principal: Principal | None, school_id: uuid.UUID) -> School:
    school = session.get(School, school_id)
    if school is None:
        raise NotFound("No school with this id.")
    return school


# --- search -------------------------------------------------------------------------------------


def search(
    *,
    session: Session,
    principal: Principal | None,
    max_radius_m: float,
    region: str | None = None,
    board_district: int | None = None,
    district_id: uuid.UUID | None = None,
    is_bsap: bool | None = None,
    status: SchoolStatus | None = None,
    q: str | None = None,
    lacks_program_type: ProgramType | None = None,
    updated_since: datetime | None = None,
    near_lat: float | None = None,
    near_lon: float | None = None,
    near_school: uuid.UUID | None = None,
    radius_m: float | None = None,
    **_page: Any,
) -> tuple[Select, ColumnElement[float] | None]:
    """The schools matching every filter, and the distance expression when searching near a
    point (None otherwise). Schools are readable by every caller, so no row policy applies;
    `principal` may be None (the public HSDS API)."""
    query = select(School)
    for column, value in (
        (School.region, region),
        (School.board_district, board_district),
        (School.district_id, district_id),
        (School.is_bsap, is_bsap),
        (School.status, status),
    ):
        if value is not None:
            query = query.where(column == value)
    if q:
        query = query.where(
            or_(func.lower(School.name).contains(q.lower(), autoescape=True), School.cds_code.startswith(q, autoescape=True))
        )
    if updated_since is not None:
        query = query.where(School.updated_at >= updated_since)
    if lacks_program_type is not None:
        served = service_areas.school_ids_served(session, program_types=[lacks_program_type])
        query = query.where(School.id.not_in(served))
    near = geo.near_point(
        session,
        near_lat=near_lat,
        near_lon=near_lon,
        near_school=near_school,
        radius_m=radius_m,
        max_radius_m=max_radius_m,
    )
    if near is None:
        return query, None
    lat, lon, radius, leave_out = near.lat, near.lon, near.radius_m, near.school_id
    distance = geo.distance_m(School.latitude, School.longitude, lat, lon)
    query = query.where(
        School.latitude.is_not(None),
        School.longitude.is_not(None),
        geo.bounding_box(School.latitude, School.longitude, lat, lon, radius),
        distance <= radius,
    )
    if leave_out is not None:
        query = query.where(School.id != leave_out)
    return query, distance


def feature_collection(session: Session, query: Select, distance: ColumnElement[float] | None) -> dict[str, Any]:
    """An RFC 7946 FeatureCollection of the located schools, nearest (or by name) first."""
    query = query.where(School.latitude.is_not(None), School.longitude.is_not(None))
    rows: Sequence[Any]  # (school, meters or None)
    if distance is None:
        rows = [(s, None) for s in session.scalars(query.order_by(School.name, School.id).limit(GEOJSON_CAP + 1))]
    else:
        labelled = distance.label("distance_m")
        rows = session.execute(query.add_columns(labelled).order_by(labelled, School.id).limit(GEOJSON_CAP + 1)).all()
    features = []
    for school, meters in rows[:GEOJSON_CAP]:
        properties: dict[str, Any] = {
            "id": school.id,
            "cds_code": school.cds_code,
            "name": school.name,
            "region": school.region,
            "board_district": school.board_district,
            "is_bsap": school.is_bsap,
            "status": school.status,
            "grade_low": school.grade_low,
            "grade_high": school.grade_high,
        }
        if meters is not None:
            properties["distance_m"] = float(meters)
        features.append(point_feature(school.id, school.latitude, school.longitude, properties))
    return {"type": "FeatureCollection", "features": features, "truncated": len(rows) > GEOJSON_CAP}


# --- writes -------------------------------------------------------------------------------------


def _check_references(session: Session, school: School | None, data: dict[str, Any]) -> None:
    if "cds_code" in data and (school is None or data["cds_code"] != school.cds_code):
        if session.scalar(select(School.id).where(School.cds_code == data["cds_code"])) is not None:
            raise Conflict(f"Another school already has the CDS code {data['cds_code']}.")
    if data.get("organization_id") is not None and session.get(Organization, data["organization_id"]) is None:
        raise ValidationFailed(
            "The school's organization does not exist.", errors={"json": {"organization_id": ["Unknown organization."]}}
        )
    if data.get("jurisdiction_id") is not None and session.get(Jurisdiction, data["jurisdiction_id"]) is None:
        raise ValidationFailed(
            "The school's jurisdiction does not exist.", errors={"json": {"jurisdiction_id": ["Unknown jurisdiction."]}}
        )
    if "district_id" in data or "organization_id" in data:
        current = {name: getattr(school, name) if school else None for name in ("district_id", "organization_id")}
        after = {**current, **{k: v for k, v in data.items() if k in current}}
        check_district(
            session,
            after["district_id"],
            after["organization_id"],
            field="district_id" if "district_id" in data else "organization_id",
        )


def _ancestors(session: Session, organization_id: uuid.UUID) -> list[uuid.UUID]:
    """The organization's parents, nearest first, stopping at a loop or after TREE_DEPTH steps."""
    found: list[uuid.UUID] = []
    organization = session.get(Organization, organization_id)
    while (
        organization is not None
        and organization.parent_id is not None
        and organization.parent_id not in found
        and len(found) < TREE_DEPTH
    ):
        found.append(organization.parent_id)
        organization = session.get(Organization, organization.parent_id)
    return found


def check_district(session: Session, district_id: uuid.UUID | None, organization_id: uuid.UUID | None, *, field: str) -> None:
    """The district is a school_district organization, and the school's own organization (when it
    has one) sits under it in the organization tree."""
    if district_id is None:
        return
    district = session.get(Organization, district_id)
    if district is None or district.kind is not OrganizationKind.school_district:
        raise field_error(
            "district_id", "district_id names the school_district organization the school belongs to; this id is not one."
        )
    if organization_id is not None and district_id not in _ancestors(session, organization_id):
        raise field_error(
            field,
            f"The school's organization does not sit under its district ({district.name}) in the "
            f"organization tree: set the organization's parent_id chain to lead to the district first.",
        )


def _record(session: Session, principal: Principal, action: str, school: School, changes: dict) -> None:
    audit.record(
        session, principal=principal, action=f"school.{action}", object_type="school", object_id=school.id, changes=changes
    )
    record_event(
        session,
        type=f"school.{action}",
        object_type="school",
        object_id=school.id,
        principal=principal,
        payload={"school_id": school.id, "cds_code": school.cds_code, "status": school.status, "changed": sorted(changes)},
        audience=[o for o in (school.district_id, school.organization_id) if o is not None],
    )


def create(*, session: Session, principal: Principal, data: dict[str, Any]) -> School:
    """A district's admin or coordinator adds the school to their own district (the default);
    network admins name the district, or none."""
    if data.get("district_id") is None and not principal.is_network_admin:
        data = {**data, "district_id": principal.organization_id}
    policy.require_create(session, principal, data.get("district_id"))
    _check_references(session, None, data)
    school = School(id=uuid.uuid4(), **data)
    session.add(school)
    session.flush()
    _record(session, principal, "created", school, audit.diff({}, audit.snapshot(school, AUDITED_FIELDS)))
    return school


def update(
    *, session: Session, principal: Principal, school_id: uuid.UUID, data: dict[str, Any], expected_version: int
) -> School:
    school = get(session=session, principal=principal, school_id=school_id)
    policy.require_edit(principal, school)
    if "district_id" in data and data["district_id"] != school.district_id:
        policy.require_change_district(principal)
    check_version(school, expected_version)
    return _update(session, principal, school, data)


def _update(session: Session, principal: Principal, school: School, data: dict[str, Any]) -> School:
    before = audit.snapshot(school, AUDITED_FIELDS)
    errors = cross_field_errors({name: data.get(name, getattr(school, name)) for name in AUDITED_FIELDS})
    if errors:
        raise ValidationFailed("The school would be inconsistent; see errors.", errors={"json": errors})
    _check_references(session, school, data)
    for name, value in data.items():
        setattr(school, name, value)
    changes = audit.diff(before, audit.snapshot(school, AUDITED_FIELDS))
    if changes:
        school.updated_at = utcnow()
        session.flush()
        _record(session, principal, "updated", school, changes)
    return school
