"""Jurisdictions and their rules: which roles a school's committee needs, and when its plan is due.

A school answers to its jurisdiction and every ancestor of it (a school with none, to the
roots). A role's required minimum is the largest any of them asks; the plan deadline is the
nearest one that sets a deadline (a district's date overrides the state's).
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cbs_network.audit import service as audit
from cbs_network.committees import policy
from cbs_network.committees.models import Jurisdiction
from cbs_network.core.errors import Conflict, NotFound, ValidationFailed
from cbs_network.core.jsonable import jsonable
from cbs_network.directory.models import School
from cbs_network.events.service import record_event
from cbs_network.http.etag import check_version
from cbs_network.identity.principal import Principal

FIELDS = ("code", "name", "parent_id", "plan_due_month", "plan_due_day", "composition_rules", "description")


def chain(session: Session, jurisdiction_id: uuid.UUID | None) -> list[Jurisdiction]:
    """The jurisdiction and its ancestors, nearest first; with none, the root jurisdictions."""
    if jurisdiction_id is None:
        return list(session.scalars(select(Jurisdiction).where(Jurisdiction.parent_id.is_(None)).order_by(Jurisdiction.code)))
    found, seen = [], set()
    current = session.get(Jurisdiction, jurisdiction_id)
    while current is not None and current.id not in seen:
        found.append(current)
        seen.add(current.id)
        current = session.get(Jurisdiction, current.parent_id) if current.parent_id else None
    return found


def required_roles(session: Session, school: School) -> dict[str, dict[str, Any]]:
    """{role: {"minimum": n, "sources": [...]}} the school's committee must fill."""
    return roles_required(chain(session, school.jurisdiction_id), school.grade_high)


def roles_required(jurisdictions: list[Jurisdiction], grade_high: int | None) -> dict[str, dict[str, Any]]:
    """What a chain of jurisdictions asks of a school teaching up to `grade_high`."""
    required: dict[str, dict[str, Any]] = {}
    for jurisdiction in jurisdictions:
        for rule in jurisdiction.composition_rules:
            if rule.get("min_grade") is not None and (grade_high is None or grade_high < rule["min_grade"]):
                continue
            entry = required.setdefault(rule["role"], {"minimum": 0, "sources": []})
            entry["minimum"] = max(entry["minimum"], rule["minimum"])
            entry["sources"].append(f"{jurisdiction.code}: {rule.get('source') or 'composition rule'}")
    return required


def school_year_bounds(school_year: str) -> tuple[date, date]:
    """ "2026-27" -> (2026-07-01, 2027-06-30), the California school year."""
    start = int(school_year[:4])
    return date(start, 7, 1), date(start + 1, 6, 30)


def plan_deadline(session: Session, school: School, school_year: str) -> tuple[date, str]:
    """The plan's due date within the school year, and which jurisdiction set it."""
    start, end = school_year_bounds(school_year)
    for jurisdiction in chain(session, school.jurisdiction_id):
        if jurisdiction.plan_due_month is not None:
            assert jurisdiction.plan_due_day is not None  # set together (_check)
            year = start.year if jurisdiction.plan_due_month >= start.month else end.year
            due = date(year, jurisdiction.plan_due_month, jurisdiction.plan_due_day)
            return due, f"{jurisdiction.code} ({jurisdiction.name}): due {due:%B} {due.day}"
    raise Conflict("None of the school's jurisdictions sets a safety-plan deadline; a network admin must add one.")


# --- the API's reads and writes (network admins keep the rules) -----------------------------------


def get(*, session: Session, jurisdiction_id: uuid.UUID) -> Jurisdiction:
    jurisdiction = session.get(Jurisdiction, jurisdiction_id)
    if jurisdiction is None:
        raise NotFound("No jurisdiction with this id.")
    return jurisdiction


def _check(session: Session, jurisdiction: Jurisdiction, data: dict[str, Any]) -> None:
    errors: dict[str, list[str]] = {}
    parent_id = data.get("parent_id", jurisdiction.parent_id)
    if parent_id is not None:
        ancestors = chain(session, parent_id)
        if not ancestors:
            errors["parent_id"] = ["Unknown jurisdiction."]
        elif any(a.id == jurisdiction.id for a in ancestors):
            errors["parent_id"] = ["A jurisdiction cannot be its own ancestor."]
    month = data.get("plan_due_month", jurisdiction.plan_due_month)
    day = data.get("plan_due_day", jurisdiction.plan_due_day)
    if (month is None) != (day is None):
        errors["plan_due_day"] = ["Give plan_due_month and plan_due_day together."]
    elif month is not None and day is not None:  # both or neither, the line above made sure
        try:
            date(2001, month, day)  # a year without February 29: the date must exist every year
        except ValueError:
            errors["plan_due_day"] = ["Not a date that exists every year."]
    code = data.get("code")
    if code and code != jurisdiction.code and session.scalar(select(Jurisdiction.id).where(Jurisdiction.code == code)):
        raise Conflict(f"Another jurisdiction has the code {code}.")
    if errors:
        raise ValidationFailed("The jurisdiction failed validation; see errors.", errors={"json": errors})


def _record(session: Session, principal: Principal, jurisdiction: Jurisdiction, action: str, changes: dict) -> None:
    audit.record(
        session,
        principal=principal,
        action=f"jurisdiction.{action}",
        object_type="jurisdiction",
        object_id=jurisdiction.id,
        changes=changes,
    )
    record_event(
        session,
        type=f"jurisdiction.{action}",
        object_type="jurisdiction",
        object_id=jurisdiction.id,
        principal=principal,
        payload={"jurisdiction_id": jurisdiction.id, "code": jurisdiction.code, "changed": sorted(changes)},
    )


def create(*, session: Session, principal: Principal, data: dict[str, Any]) -> Jurisdiction:
    policy.require_keep_jurisdictions(principal)
    jurisdiction = Jurisdiction(id=uuid.uuid4())
    _check(session, jurisdiction, data)
    for name in FIELDS:
        setattr(jurisdiction, name, jsonable(data[name]) if name == "composition_rules" else data.get(name))
    session.add(jurisdiction)
    session.flush()
    _record(session, principal, jurisdiction, "created", audit.diff({}, audit.snapshot(jurisdiction, FIELDS)))
    return jurisdiction


def update(
    *, session: Session, principal: Principal, jurisdiction_id: uuid.UUID, data: dict[str, Any], expected_version: int
) -> Jurisdiction:
    policy.require_keep_jurisdictions(principal)
    jurisdiction = get(session=session, jurisdiction_id=jurisdiction_id)
    check_version(jurisdiction, expected_version)
    _check(session, jurisdiction, data)
    before = audit.snapshot(jurisdiction, FIELDS)
    for name, value in data.items():
        setattr(jurisdiction, name, jsonable(value) if name == "composition_rules" else value)
    session.flush()
    _record(session, principal, jurisdiction, "updated", audit.diff(before, audit.snapshot(jurisdiction, FIELDS)))
    return jurisdiction
