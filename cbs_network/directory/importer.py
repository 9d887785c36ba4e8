"""CSV import of organizations and programs (`flask cbs import organizations|programs FILE`).

Every row is validated with the API's own schemas and rules first; any error (each listed with
its line and column) means nothing is written. A row is then one of:
- create: a new record, written through the same services as the API (policy, audit, events);
- update / unchanged: an organization whose identifier (scheme + value) is already in the hub;
- probable duplicate: the same name once normalized (case, punctuation, "the", "inc") as an
  existing record (or an earlier row) at the same address (or where either has no address to
  tell them apart): reported, never created as a twin. Programs have no identifier, so for
  them a duplicate is the same organization + name + address.
`--dry-run` plans and reports and writes nothing. Cells are trimmed; an empty cell is null.
"""

from __future__ import annotations

import re
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO

import click
import marshmallow as ma
from flask.cli import with_appcontext
from sqlalchemy import select
from sqlalchemy.orm import Session

from cbs_network.core.errors import DomainError
from cbs_network.directory import csv_rows
from cbs_network.directory.csv_rows import RowError, flatten_messages
from cbs_network.directory.locations import service as locations
from cbs_network.directory.locations.schemas import LocationCreateSchema
from cbs_network.directory.models import Location, Program
from cbs_network.directory.programs.schemas import ProgramCreateSchema
from cbs_network.identity.principal import Principal
from cbs_network.organizations import service as organizations
from cbs_network.organizations.models import Organization, OrganizationIdentifier
from cbs_network.organizations.schemas import OrganizationCreateSchema

LOCATION_COLUMNS = ("address_1", "city", "state", "postal_code", "latitude", "longitude")
ORGANIZATION_COLUMNS = (
    "kind",
    "name",
    "alternate_name",
    "description",
    "jurisdiction",
    "website",
    "email",
    "phone",
    "status",
    "parent_identifier",
    "identifier_scheme",
    "identifier_value",
    *LOCATION_COLUMNS,
)
PROGRAM_COLUMNS = (
    "organization_identifier",
    "name",
    "alternate_name",
    "program_type",
    "status",
    "description",
    "minimum_age",
    "maximum_age",
    "minimum_grade",
    "maximum_grade",
    "languages",
    "accepts_referrals",
    "population_description",
    "application_process",
    "url",
    "email",
    "phone",
    "location_name",
    *LOCATION_COLUMNS,
    "is_confidential",
    "front_door_contact",
)
REQUIRED = {"organizations": ("kind", "name"), "programs": ("organization_identifier", "name", "program_type")}
# Organization schema fields that come from differently named columns.
ORGANIZATION_FIELD_COLUMNS = {
    "identifiers.0.scheme": "identifier_scheme",
    "identifiers.0.value": "identifier_value",
    "identifiers": "identifier_value",
    "parent_id": "parent_identifier",
}
NOISE_WORDS = {"the", "inc", "incorporated", "llc"}
STREET_WORDS = {
    "street": "st",
    "avenue": "ave",
    "boulevard": "blvd",
    "road": "rd",
    "drive": "dr",
    "place": "pl",
    "north": "n",
    "south": "s",
    "east": "e",
    "west": "w",
    "suite": "ste",
}


@dataclass
class Step:
    """What the import does with one row."""

    line: int
    action: str  # create | update | unchanged | duplicate
    label: str
    data: dict[str, Any] = field(default_factory=dict)  # what the service gets (create/update)
    location: dict[str, Any] | None = None  # the row's location, if it has one
    target: Any = None  # the existing record (update, unchanged, duplicate)
    note: str = ""
    key: tuple[str, str] | None = None  # an organization's identifier, for parents later in the file

    def describe(self, *, dry_run: bool) -> str:
        verb = "probable duplicate" if self.action == "duplicate" else self.action
        if dry_run and self.action in ("create", "update"):
            verb = f"would {verb}"
        return f"line {self.line}: {verb} {self.label}" + (f" ({self.note})" if self.note else "")


@dataclass
class Plan:
    steps: list[Step] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    def count(self, action: str) -> int:
        return sum(1 for s in self.steps if s.action == action)

    def summary(self) -> str:
        return ", ".join(
            f"{self.count(a)} {word}"
            for a, word in (
                ("create", "to create"),
                ("update", "to update"),
                ("unchanged", "unchanged"),
                ("duplicate", "probable duplicates"),
            )
        )


# --- normalizing names and addresses ---------------------------------------------------------------


def _words(text: str | None) -> list[str]:
    return re.sub(r"[^a-z0-9]+", " ", (text or "").lower().replace("&", " and ")).split()


def normalized_name(name: str | None) -> str:
    return " ".join(w for w in _words(name) if w not in NOISE_WORDS)


def normalized_address(address_1: str | None, postal_code: str | None) -> str | None:
    """Street address and ZIP (first five digits) in one comparable form; None without a street."""
    street = " ".join(STREET_WORDS.get(w, w) for w in _words(address_1))
    if not street:
        return None
    return f"{street}|{(postal_code or '')[:5]}"


def probable_twins(name_a: str, addresses_a: set[str], name_b: str, addresses_b: set[str]) -> bool:
    """Same normalized name, and an address in common or none to tell them apart."""
    if not name_a or name_a != name_b:
        return False
    return not addresses_a or not addresses_b or bool(addresses_a & addresses_b)


# --- reading and validating rows --------------------------------------------------------------------


def read_rows(stream: TextIO, kind: str) -> tuple[list[tuple[int, dict[str, str | None]]], list[RowError]]:
    """(line, {column: trimmed cell or None}) pairs, and errors in the header or the row shape."""
    columns = ORGANIZATION_COLUMNS if kind == "organizations" else PROGRAM_COLUMNS
    rows, errors = csv_rows.read_rows(stream, columns=columns, required=REQUIRED[kind])
    return [(line, {k: ((v or "").strip() or None) for k, v in raw.items()}) for line, raw in rows], errors


def _load(schema: ma.Schema, data: dict[str, Any], line: int, errors: list[RowError], columns: dict[str, str]) -> dict | None:
    try:
        return schema.load(data)
    except ma.ValidationError as error:
        for path, message in flatten_messages(error.messages):
            column = columns.get(path) or columns.get(path.split(".")[0]) or path.split(".")[0]
            errors.append(RowError(line, column, message))
        return None


def _location(row: dict[str, Any], line: int, errors: list[RowError], *, name: str) -> dict | None:
    """The row's location, validated as the locations API would; None when the row has none."""
    given = {c: row[c] for c in (*LOCATION_COLUMNS, "is_confidential", "front_door_contact") if row.get(c) is not None}
    if not any(c in given for c in LOCATION_COLUMNS):
        return None
    count = len(errors)
    data = _load(
        LocationCreateSchema(), {"name": row.get("location_name") or name, **given}, line, errors, {"name": "location_name"}
    )
    if data is None:
        return None
    for column, message in locations.field_problems(Location(**data), set(given)).items():
        errors.append(RowError(line, column, message))
    return data if len(errors) == count else None


def _identifier(cell: str | None, line: int, column: str, errors: list[RowError]) -> tuple[str, str] | None:
    if cell is None:
        return None
    scheme, sep, value = cell.partition(":")
    if not sep or not scheme.strip() or not value.strip():
        errors.append(RowError(line, column, "Use scheme:value, e.g. ein:95-1234567."))
        return None
    return scheme.strip(), value.strip()


def _existing_identifiers(session: Session) -> dict[tuple[str, str], Organization]:
    rows = session.execute(
        select(OrganizationIdentifier.scheme, OrganizationIdentifier.value, Organization).join(
            Organization, Organization.id == OrganizationIdentifier.organization_id
        )
    )
    return {(scheme, value): organization for scheme, value, organization in rows}


def _addresses_by_organization(session: Session) -> dict[uuid.UUID, set[str]]:
    found: dict[uuid.UUID, set[str]] = {}
    for organization_id, address_1, postal_code in session.execute(
        select(Location.organization_id, Location.address_1, Location.postal_code)
    ):
        if address := normalized_address(address_1, postal_code):
            found.setdefault(organization_id, set()).add(address)
    return found


# --- planning -----------------------------------------------------------------------------------------


def plan_organizations(session: Session, rows: list[tuple[int, dict]], *, progress: Callable[[], None] = lambda: None) -> Plan:
    """Validate every row and decide what to do with it; writes nothing."""
    result = Plan()
    schema = OrganizationCreateSchema()
    by_identifier = _existing_identifiers(session)
    addresses = _addresses_by_organization(session)
    existing = [(normalized_name(o.name), addresses.get(o.id, set()), o) for o in session.scalars(select(Organization))]
    in_file: dict[tuple[str, str], int] = {}  # identifier -> line
    to_create: set[tuple[str, str]] = set()  # identifiers of the rows this import creates
    earlier: list[tuple[str, set[str], int]] = []  # (name, addresses, line) of rows to create
    for line, row in rows:
        progress()
        errors: list[RowError] = []
        fields = {
            c: row[c]
            for c in ("kind", "name", "alternate_name", "description", "jurisdiction", "website", "email", "phone", "status")
            if row.get(c) is not None
        }
        key: tuple[Any, Any] | None = None  # (scheme, value) as the row gives them: two strings once the row loads
        if row.get("identifier_scheme") or row.get("identifier_value"):
            fields["identifiers"] = [{"scheme": row.get("identifier_scheme"), "value": row.get("identifier_value")}]
            key = (row.get("identifier_scheme"), row.get("identifier_value"))
        data = _load(schema, fields, line, errors, ORGANIZATION_FIELD_COLUMNS)
        location = _location(row, line, errors, name="Main office")
        parent_key = _identifier(row.get("parent_identifier"), line, "parent_identifier", errors)
        if parent_key and parent_key not in by_identifier and parent_key not in to_create:
            errors.append(
                RowError(
                    line, "parent_identifier", "No organization (in the hub or created on an earlier line) has this identifier."
                )
            )
        if key and key in in_file:
            errors.append(RowError(line, "identifier_value", f"The same identifier as line {in_file[key]}."))
        if errors or data is None:
            result.errors += errors
            continue
        if key:
            in_file[key] = line
        if parent_key in by_identifier:
            data["parent_id"] = by_identifier[parent_key].id
        elif parent_key:
            data["parent_key"] = parent_key  # created earlier in this import: resolved when applying
        label = f"{data['name']!r}"
        address = (
            normalized_address(location["address_1"], location.get("postal_code"))
            if location and location.get("address_1")
            else None
        )
        row_addresses = {address} if address else set()
        match = by_identifier.get(key) if key else None
        if match is not None:
            # Only what the row states: a defaulted status must not overwrite the current one.
            changes = {k: data[k] for k in fields if k != "identifiers" and getattr(match, k) != data[k]}
            if "parent_id" in data and data["parent_id"] != match.parent_id:
                changes["parent_id"] = data["parent_id"]
            if "parent_key" in data:
                changes["parent_key"] = data["parent_key"]
            # A location is added only at an address the organization does not have yet.
            new_location = location if address and address not in addresses.get(match.id, set()) else None
            action = "update" if changes or new_location else "unchanged"
            assert key is not None  # the match was found by it
            note = f"{key[0]} {key[1]} is {match.name!r}" + (
                f"; changes {', '.join(sorted(changes)) or 'location'}" if action == "update" else ""
            )
            result.steps.append(Step(line, action, label, changes, new_location, match, note, key))
            continue
        name = normalized_name(data["name"])
        twin = next((o for n, a, o in existing if probable_twins(name, row_addresses, n, a)), None)
        if twin is not None:
            result.steps.append(
                Step(line, "duplicate", label, target=twin, note=f"probably {twin.name!r} ({twin.id}); not created")
            )
            continue
        twin_line = next((ln for n, a, ln in earlier if probable_twins(name, row_addresses, n, a)), None)
        if twin_line is not None:
            result.steps.append(Step(line, "duplicate", label, note=f"probably the same as line {twin_line}; not created"))
            continue
        earlier.append((name, row_addresses, line))
        if key:
            to_create.add(key)
        result.steps.append(Step(line, "create", label, data, location, key=key))
    return result


def plan_programs(session: Session, rows: list[tuple[int, dict]], *, progress: Callable[[], None] = lambda: None) -> Plan:
    result = Plan()
    schema = ProgramCreateSchema()
    by_identifier = _existing_identifiers(session)
    addresses: dict[uuid.UUID, set[str]] = {}
    for program_id, address_1, postal_code in session.execute(
        select(Program.id, Location.address_1, Location.postal_code).join(Program.program_locations).join(Location)
    ):
        if address := normalized_address(address_1, postal_code):
            addresses.setdefault(program_id, set()).add(address)
    existing = [
        (p.organization_id, normalized_name(p.name), addresses.get(p.id, set()), p) for p in session.scalars(select(Program))
    ]
    earlier: list[tuple[uuid.UUID, str, set[str], int]] = []
    for line, row in rows:
        progress()
        errors: list[RowError] = []
        owner_key = _identifier(row.get("organization_identifier"), line, "organization_identifier", errors)
        owner = by_identifier.get(owner_key) if owner_key else None
        if owner_key and owner is None:
            errors.append(RowError(line, "organization_identifier", "No organization in the hub has this identifier."))
        fields = {
            c: row[c]
            for c in (
                "name",
                "alternate_name",
                "program_type",
                "status",
                "description",
                "minimum_age",
                "maximum_age",
                "minimum_grade",
                "maximum_grade",
                "accepts_referrals",
                "population_description",
                "application_process",
                "url",
                "email",
                "phone",
            )
            if row.get(c) is not None
        }
        if row.get("languages"):
            fields["languages"] = [code.strip().lower() for code in row["languages"].split(";") if code.strip()]
        data = _load(schema, fields, line, errors, {})
        for low, high, what in (("minimum_age", "maximum_age", "age"), ("minimum_grade", "maximum_grade", "grade")):
            if data and data.get(low) is not None and data.get(high) is not None and data[low] > data[high]:
                errors.append(RowError(line, low, f"The minimum {what} is above the maximum {what}."))
        location = _location(row, line, errors, name=row.get("name") or "Program site")
        if errors or data is None or owner is None:
            result.errors += errors
            continue
        data["organization_id"] = owner.id
        address = (
            normalized_address(location["address_1"], location.get("postal_code"))
            if location and location.get("address_1")
            else None
        )
        row_addresses = {address} if address else set()
        name = normalized_name(data["name"])
        label = f"{data['name']!r} of {owner.name!r}"
        twin = next((p for o, n, a, p in existing if o == owner.id and probable_twins(name, row_addresses, n, a)), None)
        if twin is not None:
            result.steps.append(Step(line, "duplicate", label, target=twin, note=f"probably program {twin.id}; not created"))
            continue
        twin_line = next((ln for o, n, a, ln in earlier if o == owner.id and probable_twins(name, row_addresses, n, a)), None)
        if twin_line is not None:
            result.steps.append(Step(line, "duplicate", label, note=f"probably the same as line {twin_line}; not created"))
            continue
        earlier.append((owner.id, name, row_addresses, line))
        result.steps.append(Step(line, "create", label, data, location))
    return result


# --- writing ------------------------------------------------------------------------------------------


def _ensure_location(session: Session, principal: Principal, organization_id: uuid.UUID, location: dict) -> Location:
    """The organization's location at this address, created when it has none there."""
    address = normalized_address(location.get("address_1"), location.get("postal_code"))
    if address:
        for candidate in session.scalars(select(Location).where(Location.organization_id == organization_id)):
            if normalized_address(candidate.address_1, candidate.postal_code) == address:
                return candidate
    return locations.create(session=session, principal=principal, data={**location, "organization_id": organization_id})


def apply(session: Session, principal: Principal, plan: Plan, kind: str, *, progress: Callable[[], None] = lambda: None) -> None:
    """Write a plan that has no errors, through the API's services, in the caller's transaction
    (the caller rolls it back when a step fails)."""
    assert not plan.errors
    created: dict[tuple[str, str], uuid.UUID] = {}
    for step in plan.steps:
        progress()
        if step.action in ("create", "update"):
            try:
                _apply_step(session, principal, step, kind, created)
            except DomainError as error:  # a rule only the service knows: report the row, write nothing
                messages = [f"{column}: {m}" for column, m in flatten_messages((error.errors or {}).get("json", {}))]
                raise click.ClickException(
                    f"line {step.line}: {error.detail} {'; '.join(messages)} Nothing was written."
                ) from error


def _apply_step(session: Session, principal: Principal, step: Step, kind: str, created: dict[tuple[str, str], uuid.UUID]) -> None:
    from cbs_network.directory.programs import service as programs

    data = dict(step.data)
    if "parent_key" in data:
        data["parent_id"] = created[data.pop("parent_key")]
    if kind == "programs":
        location = _ensure_location(session, principal, data["organization_id"], step.location) if step.location else None
        programs.create(
            session=session, principal=principal, data={**data, **({"location_ids": [location.id]} if location else {})}
        )
    elif step.action == "create":
        organization = organizations.create(session=session, principal=principal, data=data)
        if step.key:
            created[step.key] = organization.id
        if step.location:
            _ensure_location(session, principal, organization.id, step.location)
    else:
        if data:
            organizations.update(
                session=session,
                principal=principal,
                organization_id=step.target.id,
                data=data,
                expected_version=step.target.version,
            )
        if step.location:
            _ensure_location(session, principal, step.target.id, step.location)


# --- the commands -------------------------------------------------------------------------------------


def run_import(kind: str, stream: TextIO, *, dry_run: bool) -> None:
    from cbs_network.core.db import session as current_session
    from cbs_network.identity.principal import system_principal
    from cbs_network.organizations.models import OrganizationKind

    session = current_session()
    rows, errors = read_rows(stream, kind)
    planner = plan_organizations if kind == "organizations" else plan_programs
    with click.progressbar(length=len(rows), label="checking", file=sys.stderr) as bar:
        plan = planner(session, rows, progress=lambda: bar.update(1))
    plan.errors = errors + plan.errors
    if plan.errors:
        session.rollback()
    csv_rows.stop_if_any(plan.errors)
    for step in plan.steps:
        click.echo(step.describe(dry_run=dry_run))
    if dry_run:
        session.rollback()
        click.echo(f"dry run: {plan.summary()}; nothing was written.")
        return
    hub = session.scalar(select(Organization.id).where(Organization.kind == OrganizationKind.network_hub).limit(1))
    if hub is None:
        raise click.ClickException("No network hub organization to act as; load the network first.")
    try:
        with click.progressbar(length=len(plan.steps), label="writing", file=sys.stderr) as bar:
            apply(session, system_principal(hub), plan, kind, progress=lambda: bar.update(1))
        session.commit()
    except BaseException:
        session.rollback()
        raise
    click.echo(f"imported: {plan.summary().replace('to create', 'created').replace('to update', 'updated')}.")


def _fields(*schemas: ma.Schema, renamed: dict[str, str] | None = None) -> dict[str, ma.fields.Field]:
    """Schema fields by the column that fills them."""
    fields = {name: field for schema in reversed(schemas) for name, field in schema.fields.items()}
    return {**fields, **{column: fields[name] for column, name in (renamed or {}).items()}}


_IDENTIFIER = "an identifier of an organization already in the hub, scheme:value (e.g. ein:95-1234567)"
_LOCATION = {"latitude": "decimal degrees", "longitude": "decimal degrees"}
ORGANIZATION_HELP = csv_rows.columns_help(
    ORGANIZATION_COLUMNS,
    required=REQUIRED["organizations"],
    fields=_fields(OrganizationCreateSchema(), LocationCreateSchema()),
    notes={
        "parent_identifier": _IDENTIFIER,
        "identifier_scheme": "with identifier_value: a known one updates that organization",
        **_LOCATION,
    },
)
PROGRAM_HELP = csv_rows.columns_help(
    PROGRAM_COLUMNS,
    required=REQUIRED["programs"],
    fields=_fields(ProgramCreateSchema(), LocationCreateSchema(), renamed={"location_name": "name"}),
    notes={
        "organization_identifier": _IDENTIFIER,
        "languages": "ISO 639 codes separated by ; (en;es)",
        "location_name": "the program's one location (default: the program's name)",
        **_LOCATION,
    },
)


@click.command("organizations", epilog=ORGANIZATION_HELP)
@click.argument("file", type=click.File("r", encoding="utf-8-sig"))
@click.option("--dry-run", is_flag=True, help="Validate and report what would change; write nothing.")
@with_appcontext
def import_organizations_command(file: TextIO, dry_run: bool) -> None:
    """Create or update organizations from a CSV file, all or nothing.

    The address columns are the main office, as a location. A known identifier updates that
    organization; the same name at the same address is reported as a probable duplicate and not
    created.
    """
    run_import("organizations", file, dry_run=dry_run)


@click.command("programs", epilog=PROGRAM_HELP)
@click.argument("file", type=click.File("r", encoding="utf-8-sig"))
@click.option("--dry-run", is_flag=True, help="Validate and report what would change; write nothing.")
@with_appcontext
def import_programs_command(file: TextIO, dry_run: bool) -> None:
    """Create programs from a CSV file, all or nothing.

    A program with the same organization, name and address as an existing one is reported, not
    created.
    """
    run_import("programs", file, dry_run=dry_run)
