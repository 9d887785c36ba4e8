"""Programs (HSDS "service"): create, change, verify and remove them. Searching is in search.py."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, lazyload

from cbs_network.audit import service as audit
from cbs_network.core.db import utcnow
from cbs_network.core.errors import Conflict, NotFound, ValidationFailed
from cbs_network.directory.models import (
    Location,
    Program,
    ProgramExternalCode,
    ProgramLanguage,
    ProgramLocation,
    ProgramRegion,
    ProgramSchedule,
    ProgramSchool,
    ProgramStatus,
    School,
)
from cbs_network.directory.programs import policy
from cbs_network.events.service import record_event
from cbs_network.http.etag import check_version
from cbs_network.http.schemas import WithFields
from cbs_network.identity.principal import Principal
from cbs_network.organizations.models import Organization
from cbs_network.settings import service as settings_service

SCALAR_FIELDS = (
    "organization_id",
    "name",
    "alternate_name",
    "description",
    "program_type",
    "status",
    "minimum_age",
    "maximum_age",
    "minimum_grade",
    "maximum_grade",
    "population_description",
    "eligibility_description",
    "fees_description",
    "is_free",
    "application_process",
    "evidence_basis",
    "evidence_description",
    "funding_sources",
    "contacts",
    "url",
    "email",
    "phone",
    "accepts_referrals",
    "service_area_geojson",
    "service_area_description",
    "assured_at",
    "assured_by_user_id",
)
LIST_FIELDS = ("languages", "external_codes", "schedules", "served_school_ids", "served_regions", "location_ids")


def verification_interval(session: Session) -> timedelta:
    return settings_service.verification_interval(session)


def _child_lists(program: Program) -> dict[str, list[Any]]:
    return {
        "languages": [row.code for row in program.languages],
        "served_school_ids": sorted((row.school_id for row in program.served_schools), key=str),
        "served_regions": [row.region for row in program.served_regions],
        "location_ids": sorted((row.location_id for row in program.program_locations), key=str),
    }


def present(session: Session, program: Program, *, now: datetime | None = None, **extra: Any) -> WithFields:
    """The program as ProgramSchema shows it: child rows as plain lists, verification computed."""
    now = now or utcnow()
    due = program.assured_at + verification_interval(session) if program.assured_at else None
    return WithFields(
        program,
        **_child_lists(program),
        verification_due_at=due,
        stale=due is None or due <= now,
        **extra,
    )


def _audit_view(program: Program) -> dict[str, Any]:
    view = audit.snapshot(program, SCALAR_FIELDS)
    view.update({name: [str(v) for v in values] for name, values in _child_lists(program).items()})
    view["external_codes"] = [f"{c.scheme}:{c.code}" for c in program.external_codes]
    view["schedules"] = len(program.schedules)
    return view


def get(*, session: Session, principal: Principal | None, program_id: uuid.UUID, lists: bool = True) -> Program:
    """The program, if `principal` may see it; without `lists`, its child lists are left unloaded
    (six statements a caller that only needs its columns does not pay)."""
    query = select(Program).where(Program.id == program_id, policy.visible(principal))
    program = session.scalar(query if lists else query.options(lazyload("*")))
    if program is None:
        raise NotFound("No program with this id.")
    return program


def _unknown(session: Session, model: Any, ids: list[uuid.UUID], allowed: Any = None) -> dict[int, list[str]]:
    """{position: [message]} for the ids in `ids` that are not rows of `model` (matching `allowed`)."""
    if not ids:
        return {}
    query = select(model.id).where(model.id.in_(ids))
    if allowed is not None:
        query = query.where(allowed)
    found = set(session.scalars(query))
    return {n: [f"Unknown {model.__tablename__[:-1]}."] for n, ident in enumerate(ids) if ident not in found}


def _check(session: Session, program: Program, data: dict[str, Any]) -> None:
    """Every rule a body must meet beyond its schema, all reported at once; nothing is written."""
    errors: dict[str, Any] = {}
    for low, high, what in (("minimum_age", "maximum_age", "age"), ("minimum_grade", "maximum_grade", "grade")):
        lowest = data.get(low, getattr(program, low))
        highest = data.get(high, getattr(program, high))
        if lowest is not None and highest is not None and lowest > highest:
            errors[low] = [f"The minimum {what} is above the maximum {what}."]
    if unknown := _unknown(session, School, data.get("served_school_ids", [])):
        errors["served_school_ids"] = unknown
    owner = data.get("organization_id", program.organization_id)
    if unknown := _unknown(session, Location, data.get("location_ids", []), Location.organization_id == owner):
        errors["location_ids"] = {n: ["Unknown location, or not one of the program's organization."] for n in unknown}
    if errors:
        raise ValidationFailed("The program failed validation; see errors.", errors={"json": errors})


def _unique(values: list) -> list:
    return list(dict.fromkeys(values))


def _apply(program: Program, data: dict[str, Any]) -> None:
    data = dict(data)
    # Keep the child rows that stay, so a primary key is never deleted and inserted in one flush.
    if "languages" in data:
        kept_languages = {row.code: row for row in program.languages}
        program.languages = [kept_languages.get(c) or ProgramLanguage(code=c) for c in _unique(data.pop("languages"))]
    if "served_school_ids" in data:
        kept_schools = {row.school_id: row for row in program.served_schools}
        program.served_schools = [
            kept_schools.get(i) or ProgramSchool(school_id=i) for i in _unique(data.pop("served_school_ids"))
        ]
    if "served_regions" in data:
        kept_regions = {row.region: row for row in program.served_regions}
        program.served_regions = [kept_regions.get(r) or ProgramRegion(region=r) for r in _unique(data.pop("served_regions"))]
    if "location_ids" in data:
        kept_locations = {row.location_id: row for row in program.program_locations}
        program.program_locations = [
            kept_locations.get(i) or ProgramLocation(location_id=i) for i in _unique(data.pop("location_ids"))
        ]
    if "external_codes" in data:
        kept_codes = {(row.scheme, row.code): row for row in program.external_codes}
        pairs = _unique([(c["scheme"], c["code"]) for c in data.pop("external_codes")])
        program.external_codes = [kept_codes.get(p) or ProgramExternalCode(scheme=p[0], code=p[1]) for p in pairs]
    if "schedules" in data:
        program.schedules = [ProgramSchedule(position=n, **s) for n, s in enumerate(data.pop("schedules"))]
    for name, value in data.items():
        setattr(program, name, value)


def _event(session: Session, principal: Principal, program: Program, type: str, **payload: Any) -> None:
    record_event(
        session,
        type=type,
        object_type="program",
        object_id=program.id,
        principal=principal,
        payload={"program_id": program.id, "organization_id": program.organization_id, "status": program.status, **payload},
        audience=[program.organization_id],
    )


def create(*, session: Session, principal: Principal, data: dict[str, Any]) -> Program:
    data = dict(data)
    owner = data.setdefault("organization_id", principal.organization_id)
    policy.require_edit(principal, owner)
    if session.get(Organization, owner) is None:
        raise ValidationFailed(
            "The organization does not exist.", errors={"json": {"organization_id": ["Unknown organization."]}}
        )
    program = Program(id=uuid.uuid4(), organization_id=owner)
    _check(session, program, data)
    _apply(program, data)
    session.add(program)
    session.flush()
    audit.record(
        session,
        principal=principal,
        action="program.created",
        object_type="program",
        object_id=program.id,
        changes=audit.diff({}, _audit_view(program)),
    )
    _event(session, principal, program, "program.created", program_type=program.program_type)
    return program


def update(
    *, session: Session, principal: Principal, program_id: uuid.UUID, data: dict[str, Any], expected_version: int
) -> Program:
    program = get(session=session, principal=principal, program_id=program_id)
    policy.require_edit(principal, program.organization_id)
    check_version(program, expected_version)
    _check(session, program, data)
    before = _audit_view(program)
    _apply(program, data)
    changes = audit.diff(before, _audit_view(program))
    if changes:
        program.updated_at = utcnow()  # bumps the version even when only child rows changed
        session.flush()
        audit.record(
            session,
            principal=principal,
            action="program.updated",
            object_type="program",
            object_id=program.id,
            changes=changes,
        )
        _event(session, principal, program, "program.updated", changed=sorted(changes))
    return program


def verify(*, session: Session, principal: Principal, program_id: uuid.UUID) -> Program:
    """Record that the listing was checked and is current (HSDS assured_date)."""
    program = get(session=session, principal=principal, program_id=program_id)
    policy.require_edit(principal, program.organization_id)
    before = _audit_view(program)
    program.assured_at = utcnow()
    program.assured_by_user_id = principal.user_id
    session.flush()
    audit.record(
        session,
        principal=principal,
        action="program.verified",
        object_type="program",
        object_id=program.id,
        changes=audit.diff(before, _audit_view(program)),
    )
    _event(session, principal, program, "program.verified")
    return program


def delete(*, session: Session, principal: Principal, program_id: uuid.UUID, expected_version: int) -> None:
    program = get(session=session, principal=principal, program_id=program_id)
    policy.require_edit(principal, program.organization_id)
    check_version(program, expected_version)
    if program.status != ProgramStatus.draft:
        # Others may have referred to a published program: it stays, marked defunct.
        raise Conflict("Only draft programs are deleted; set the status to defunct instead.")
    before = _audit_view(program)
    organization_id = program.organization_id
    session.delete(program)
    session.flush()
    audit.record(
        session,
        principal=principal,
        action="program.deleted",
        object_type="program",
        object_id=program_id,
        changes=audit.diff(before, {}),
    )
    record_event(
        session,
        type="program.deleted",
        object_type="program",
        object_id=program_id,
        principal=principal,
        payload={"program_id": program_id, "organization_id": organization_id},
        audience=[organization_id],
    )
