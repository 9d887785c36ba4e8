"""Bulk load of schools from CSV: upsert by CDS code, every row validated by the API's own
schema, all or nothing. A new CDS code whose school has the name (normalized) and address of a
school already listed, or of an earlier row, is a probable duplicate: reported, not created, as
the organization and program imports do.

Cells are trimmed; an empty cell is null, except is_bsap, status and district_id, where it keeps
the school's current value (false, active and no district for a new school). The district_id
column is optional.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TextIO

import click
import marshmallow as ma
from flask.cli import with_appcontext
from sqlalchemy import select
from sqlalchemy.orm import Session

from cbs_network.core.errors import ValidationFailed
from cbs_network.directory import csv_rows
from cbs_network.directory.csv_rows import RowError, flatten_messages
from cbs_network.directory.importer import normalized_address, normalized_name, probable_twins
from cbs_network.directory.models import School
from cbs_network.directory.schools import service
from cbs_network.directory.schools.schemas import SchoolCreateSchema
from cbs_network.identity.principal import Principal

COLUMNS = (
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
    "district_id",
)
OPTIONAL_COLUMNS = ("district_id",)  # files written before schools had a district still load
KEEP_WHEN_EMPTY = ("is_bsap", "status", "district_id")


@dataclass
class Plan:
    """What a load would do: rows to create, rows to update (with the school), and errors."""

    creates: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    updates: list[tuple[int, School, dict[str, Any]]] = field(default_factory=list)
    duplicates: list[tuple[int, dict[str, Any], str]] = field(default_factory=list)  # (line, row, its twin)
    errors: list[RowError] = field(default_factory=list)


def _identity(data: dict[str, Any] | School) -> tuple[str, set[str]]:
    """A school's normalized name and addresses, as the other imports compare them."""
    get = data.get if isinstance(data, dict) else lambda name: getattr(data, name)
    address = normalized_address(get("address_1"), get("postal_code"))
    return normalized_name(get("name")), {address} if address else set()


def read_rows(stream: TextIO) -> tuple[list[tuple[int, dict[str, str]]], list[RowError]]:
    return csv_rows.read_rows(stream, columns=COLUMNS, required=[c for c in COLUMNS if c not in OPTIONAL_COLUMNS])


def plan(session: Session, rows: Iterable[tuple[int, dict[str, str]]], *, progress: Callable[[], None] = lambda: None) -> Plan:
    """Validate every row and decide create or update, writing nothing."""
    result = Plan()
    schema = SchoolCreateSchema()
    existing = {s.cds_code: s for s in session.scalars(select(School))}
    listed = [(*_identity(school), f"{school.cds_code} {school.name}") for school in existing.values()]
    seen: dict[str, int] = {}
    for line, raw in rows:
        progress()
        cells = {k: (v or "").strip() for k, v in raw.items()}
        given = {k: (v if v != "" else None) for k, v in cells.items() if not (v == "" and k in KEEP_WHEN_EMPTY)}
        try:
            data = schema.load(given)
        except ma.ValidationError as error:
            result.errors += [RowError(line, f, m) for f, m in flatten_messages(error.messages)]
            continue
        code = data["cds_code"]
        if code in seen:
            result.errors.append(RowError(line, "cds_code", f"Duplicate of line {seen[code]}."))
            continue
        seen[code] = line
        school = existing.get(code)
        if data.get("district_id") is not None:
            try:
                service.check_district(
                    session, data["district_id"], school.organization_id if school else None, field="district_id"
                )
            except ValidationFailed as error:
                assert error.errors is not None  # check_district names the field
                result.errors += [RowError(line, f, m) for f, m in flatten_messages(error.errors["json"])]
                continue
        if school is None:
            name, addresses = _identity(data)
            twin = next((label for other, where, label in listed if probable_twins(name, addresses, other, where)), None)
            if twin is not None:
                result.duplicates.append((line, data, twin))
                continue
            listed.append((name, addresses, f"line {line}"))
            result.creates.append((line, data))
        else:
            changes = {k: v for k, v in data.items() if (k in given or k not in KEEP_WHEN_EMPTY) and getattr(school, k) != v}
            if changes:
                result.updates.append((line, school, changes))
    return result


def apply(session: Session, principal: Principal, load: Plan, *, progress: Callable[[], None] = lambda: None) -> None:
    """Write a plan without errors through the API's services (policy, audit, events)."""
    if load.errors:
        raise ValueError("A plan with errors is never written.")
    for _line, data in load.creates:
        service.create(session=session, principal=principal, data=data)
        progress()
    for _line, school, changes in load.updates:
        service.update(session=session, principal=principal, school_id=school.id, data=changes, expected_version=school.version)
        progress()


@click.command(
    "schools",
    epilog=csv_rows.columns_help(
        COLUMNS,
        required=[name for name, field in SchoolCreateSchema().fields.items() if field.required],
        fields=SchoolCreateSchema().fields,
        notes={
            "district_id": "the id of the school_district organization the school belongs to; an empty cell: a new "
            "school gets none, an existing one keeps its district",
            "is_bsap": "an empty cell keeps the current value (false for a new school)",
            "status": "an empty cell keeps the current value (active for a new school)",
        },
    ),
)
@with_appcontext
@click.argument("file", type=click.File("r", encoding="utf-8-sig"))
@click.option("--dry-run", is_flag=True, help="Validate and report what would change; write nothing.")
def import_schools_command(file: TextIO, dry_run: bool) -> None:
    """Create or update schools from a CSV file (upsert by cds_code), all or nothing.

    Every column but district_id must be in the header; is_bsap is true for a school the Black
    Student Achievement Plan serves.
    """
    from cbs_network.core.db import session as current_session
    from cbs_network.identity.principal import system_principal
    from cbs_network.organizations.models import Organization, OrganizationKind

    session = current_session()
    rows, errors = read_rows(file)
    with click.progressbar(length=len(rows), label="checking", file=sys.stderr) as bar:
        load = plan(session, rows, progress=lambda: bar.update(1))
    load.errors = errors + load.errors
    csv_rows.stop_if_any(load.errors)
    unchanged = len(rows) - len(load.creates) - len(load.updates) - len(load.duplicates)
    for line, data, twin in load.duplicates:
        click.echo(
            f"line {line}: probable duplicate {data['cds_code']} {data['name']} (same name and address as {twin}); not created"
        )
    if dry_run:
        for line, data in load.creates:
            click.echo(f"line {line}: create {data['cds_code']} {data['name']}")
        for line, school, changes in load.updates:
            click.echo(f"line {line}: update {school.cds_code} ({', '.join(sorted(changes))})")
        click.echo(
            f"dry run: {len(load.creates)} to create, {len(load.updates)} to update, {unchanged} unchanged, "
            f"{len(load.duplicates)} probable duplicates; nothing was written."
        )
        session.rollback()
        return
    hub = session.scalar(select(Organization.id).where(Organization.kind == OrganizationKind.network_hub).limit(1))
    if hub is None:
        raise click.ClickException("No network hub organization to act as; load the network first.")
    total = len(load.creates) + len(load.updates)
    try:
        with click.progressbar(length=total, label="writing", file=sys.stderr) as bar:
            apply(session, system_principal(hub), load, progress=lambda: bar.update(1))
        session.commit()
    except BaseException:
        session.rollback()
        raise
    click.echo(
        f"imported: {len(load.creates)} created, {len(load.updates)} updated, {unchanged} unchanged, "
        f"{len(load.duplicates)} probable duplicates not created."
    )
