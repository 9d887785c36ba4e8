"""`flask cbs seed-scale`: a large synthetic network for the benchmarks in bench/.

Rows are generated from one seeded random generator (ids included) and written in batches with
bulk inserts: PostgreSQL's COPY, or SQLAlchemy Core `insert()` with lists of rows elsewhere.
Nothing here goes through the services except what must be real: subjects' personal fields and
referrals' need descriptions are sealed by the project's own encryption (the subject service's
`seal`, the key ring), and the benchmark's OAuth clients are registered by the client service.
The audit log and the event outbox are left empty: this is a starting state, not a history.

A pool of a few thousand subjects (each with a consent) is encrypted once and many referrals
point at each, so a million referrals cost a million small encryptions of the need, not of the
whole subject. Everything depends only on --seed and --as-of, except the ciphertexts' random
nonces and the clients' secrets.
"""

from __future__ import annotations

import enum
import itertools
import json
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from cbs_network.capacity.models import CapacityHistory, CapacityProfile, SlotUnit
from cbs_network.core.crypto import KeyRing, keyring
from cbs_network.core.jsonable import jsonable
from cbs_network.directory.models import (
    GRADES,
    EvidenceBasis,
    Location,
    LocationType,
    Program,
    ProgramExternalCode,
    ProgramLanguage,
    ProgramLocation,
    ProgramRegion,
    ProgramSchedule,
    ProgramSchool,
    ProgramStatus,
    ProgramType,
    School,
    SchoolStatus,
)
from cbs_network.organizations.models import (
    Organization,
    OrganizationContact,
    OrganizationIdentifier,
    OrganizationKind,
    OrganizationStatus,
)
from cbs_network.referrals.models import (
    Consent,
    ConsentGiver,
    ConsentMethod,
    EnrollmentStatus,
    Referral,
    ReferralState,
    ReferralTransition,
    Subject,
    Urgency,
)

S = ReferralState
BATCH = 20_000
CLIENT_PREFIX = "seed-scale"
REGIONS = ("North", "East", "South", "West", "Central")
LANGUAGES = ("en", "es", "ko", "zh", "hy", "tl", "vi", "ru", "fa", "ar")
# Greater Los Angeles, roughly: where schools and program sites fall.
LAT, LON = (33.75, 34.32), (-118.65, -118.15)
STREETS = (
    "Figueroa",
    "Vermont",
    "Western",
    "Crenshaw",
    "Central",
    "Alameda",
    "Soto",
    "Olympic",
    "Pico",
    "Slauson",
    "Florence",
    "Manchester",
    "Avalon",
    "Compton",
    "Normandie",
    "Hoover",
    "Broadway",
    "San Pedro",
    "Main",
    "Sepulveda",
    "Van Nuys",
    "Laurel Canyon",
    "Roscoe",
    "Sherman",
    "Victory",
    "Venice",
    "Washington",
)
WORDS = (
    "Harbor",
    "Valley",
    "Eastside",
    "Southside",
    "Westside",
    "Northeast",
    "Community",
    "Youth",
    "Family",
    "Hope",
    "Bridge",
    "Pathways",
    "Unity",
    "Circle",
    "Neighborhood",
    "Promise",
    "Rising",
    "New Day",
    "Open Door",
    "Roots",
)
CBO_NOUNS = (
    "Collective",
    "Alliance",
    "Partners",
    "Project",
    "Network",
    "Center",
    "Coalition",
    "Institute",
    "Mentors",
    "Outreach",
)
GIVEN = (
    "Avery",
    "Jordan",
    "Luz",
    "Marisol",
    "Dev",
    "Keanu",
    "Tobias",
    "Samira",
    "Eli",
    "Nova",
    "Quinn",
    "Rory",
    "Finley",
    "Imani",
    "Mateo",
    "Aiyana",
    "Hiro",
    "Lena",
    "Omar",
    "Priya",
    "Reza",
    "Sol",
    "Tariq",
    "Yara",
)
FAMILY = (
    "Sampleton",
    "Ejemplo",
    "Testwood",
    "Imaginario",
    "Demoski",
    "Placeholder",
    "Mockwell",
    "Notreal",
    "Fictitious",
    "Madeup",
    "Exampleton",
    "Pretendo",
    "Fakerson",
    "Synthia",
    "Invento",
    "Dummyford",
)
NEEDS = (
    "Withdrawn in class; the counselor suggests weekly sessions.",
    "Returning from a suspension; a restorative re-entry circle is requested.",
    "Witnessed violence near campus; trouble sleeping and concentrating.",
    "Asked for a mentor after a family member's arrest; attendance is dropping.",
    "Peer conflict turning into threats online.",
    "Family facing eviction; the student misses school to care for siblings.",
    "Anxiety after a lockdown; the family asks for a Spanish-speaking counselor.",
    "Fight after dismissal; both students agreed to a harm circle.",
    "Named in a neighborhood dispute; the dean fears retaliation.",
    "The family needs food assistance and a benefits screening.",
    "Walks home alone through a contested block; a safe passage escort is requested.",
    "Looking for an after-school program; the student asked for one.",
)
# Referral states by age: recent referrals are still open, older ones mostly closed.
RECENT_STATES = ((S.requested, 40), (S.accepted, 20), (S.in_progress, 25), (S.draft, 10), (S.on_hold, 5))
OLD_STATES = (
    (S.completed, 45),
    (S.failed, 8),
    (S.rejected, 12),
    (S.cancelled, 10),
    (S.in_progress, 12),
    (S.on_hold, 3),
    (S.entered_in_error, 2),
    (S.draft, 3),
    (S.requested, 3),
    (S.accepted, 2),
)
# The path each state was reached by, after the first (draft or requested) transition.
PATHS: dict[S, tuple[S, ...]] = {
    S.draft: (),
    S.requested: (),
    S.accepted: (S.accepted,),
    S.rejected: (S.rejected,),
    S.in_progress: (S.accepted, S.in_progress),
    S.on_hold: (S.accepted, S.in_progress, S.on_hold),
    S.completed: (S.accepted, S.in_progress, S.completed),
    S.failed: (S.accepted, S.in_progress, S.failed),
    S.cancelled: (S.cancelled,),
    S.entered_in_error: (S.entered_in_error,),
}
REASONS = {
    S.rejected: "The program serves an older age group.",
    S.cancelled: "The family found help elsewhere.",
    S.on_hold: "The family is away for a few weeks.",
    S.failed: "No response after five contact attempts.",
    S.entered_in_error: "Sent for the wrong student.",
}
BY_REQUESTER = frozenset({S.cancelled, S.entered_in_error})


@dataclass
class Sizes:
    schools: int = 1_000
    organizations: int = 5_000
    programs: int = 20_000
    subjects: int = 5_000
    referrals: int = 1_000_000
    # CBOs given their own OAuth client (and programs with capacity) for the benchmark's writes.
    bench_cbos: int = 8


@dataclass
class Made:
    counts: dict[str, int] = field(default_factory=dict)
    clients: list[dict[str, str]] = field(default_factory=list)

    def add(self, table: str, n: int) -> None:
        self.counts[table] = self.counts.get(table, 0) + n


class Writer:
    """Bulk inserts of dict rows: COPY on PostgreSQL, Core executemany elsewhere."""

    def __init__(self, connection: Connection, made: Made) -> None:
        self.connection, self.made = connection, made
        self.copy = connection.dialect.name == "postgresql"

    def write(self, table: Table, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        if self.copy:
            self._copy(table, rows)
        else:
            for start in range(0, len(rows), BATCH):
                self.connection.execute(insert(table), rows[start : start + BATCH])
        self.made.add(table.name, len(rows))

    def _copy(self, table: Table, rows: list[dict[str, Any]]) -> None:
        names = list(rows[0])
        json_columns = {name for name in names if table.c[name].type.__class__.__name__ == "JSON"}
        cursor = self.connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        columns = ", ".join(f'"{name}"' for name in names)
        with cursor.copy(f'COPY "{table.name}" ({columns}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row([_copy_value(row[name], name in json_columns) for name in names])


def _copy_value(value: Any, is_json: bool) -> Any:
    if is_json:
        return None if value is None else json.dumps(value)
    if isinstance(value, enum.Enum):
        return value.value
    return value


class Generator:
    def __init__(self, seed: int, as_of: datetime) -> None:
        self.rng = random.Random(seed)
        self.as_of = as_of
        self._cumulative: dict[tuple, tuple[tuple, list[int]]] = {}

    def uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def pick(self, weighted: tuple[tuple[Any, int], ...]) -> Any:
        if weighted not in self._cumulative:
            items, weights = zip(*weighted, strict=True)
            self._cumulative[weighted] = (items, list(itertools.accumulate(weights)))
        items, cumulative = self._cumulative[weighted]
        return self.rng.choices(items, cum_weights=cumulative)[0]

    def days_ago(self, low: float, high: float) -> datetime:
        return self.as_of - timedelta(days=self.rng.uniform(low, high))

    def point(self) -> tuple[float, float]:
        return round(self.rng.uniform(*LAT), 6), round(self.rng.uniform(*LON), 6)

    def phone(self) -> str:
        return f"(213) 555-{self.rng.randrange(10_000):04d}"


def seed_scale(
    *,
    session: Session,
    sizes: Sizes,
    seed: int = 1,
    as_of: datetime | None = None,
    register_client: Callable[[uuid.UUID, str, str, list[str]], tuple[str, str | None]] | None = None,
    log: Callable[[str], None] = lambda _line: None,
) -> Made:
    """Write the network in `session`'s transaction (the caller commits) and return what was made.
    Needs an application context: personal fields are sealed under the app's key ring.

    `register_client(organization_id, name, role_ceiling, scopes)` registers one OAuth client and
    returns (client_id, secret); without it no clients are made."""
    if sizes.organizations < 10 or sizes.schools < 2 or sizes.programs < sizes.bench_cbos * 2 or sizes.subjects < 3:
        raise ValueError("Too small: at least 10 organizations, 2 schools, 2 programs per bench CBO and 3 subjects.")
    as_of = as_of or datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    g = Generator(seed, as_of)
    made = Made()
    writer = Writer(session.connection(), made)
    started = time.perf_counter()

    def step(name: str) -> None:
        log(f"  {name:<28} {time.perf_counter() - started:7.1f} s")

    if writer.copy:
        # Bulk-load practice on PostgreSQL: the generator makes every reference point at a row it
        # wrote, so the per-row foreign-key triggers are skipped for this transaction (the test
        # seeds SQLite with its foreign keys enforced), and the big tables' secondary indexes are
        # built once at the end instead of row by row.
        session.execute(text("SET LOCAL session_replication_role = replica"))
        session.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
        rebuilt = _drop_indexes(session, ("referrals", "referral_transitions"))
    orgs = _organizations(g, writer, sizes)
    step("organizations")
    schools = _schools(g, writer, sizes, orgs)
    step("schools")
    programs = _programs(g, writer, sizes, orgs, schools)
    step("programs and capacity")
    pool = _subjects(g, writer, sizes, orgs)
    step("subjects and consents")
    _referrals(g, writer, sizes, pool, programs, schools, keyring(), lambda done: step(f"referrals {done:,}"))
    if writer.copy:
        for statement in rebuilt:
            session.execute(text(statement))
        session.execute(text("SET LOCAL session_replication_role = origin"))
        step("indexes")
    if register_client is not None:
        wanted = [("hub", orgs.hub, "network_admin"), ("district", orgs.district, "coordinator")]
        wanted += [(f"cbo {n + 1}", cbo, "coordinator") for n, cbo in enumerate(orgs.cbos[: sizes.bench_cbos])]
        from cbs_network.identity.roles import SCOPES

        for label, organization_id, role in wanted:
            client_id, secret = register_client(organization_id, f"{CLIENT_PREFIX} {label}", role, list(SCOPES))
            made.clients.append(
                {
                    "label": label,
                    "client_id": client_id,
                    "client_secret": secret or "",
                    "organization_id": str(organization_id),
                    "role_ceiling": role,
                }
            )
        made.add("oauth_clients", len(wanted))
    return made


def _drop_indexes(session: Session, tables: tuple[str, ...]) -> list[str]:
    """Drop the tables' indexes that back no constraint; return the statements that recreate them."""
    rows = session.execute(
        text(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = current_schema() "
            "AND i.tablename = ANY(:tables) AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)"
        ),
        {"tables": list(tables)},
    ).all()
    for name, _definition in rows:
        session.execute(text(f'DROP INDEX "{name}"'))
    return [definition for _name, definition in rows]


# --- organizations and schools -------------------------------------------------------------------


@dataclass
class Orgs:
    hub: uuid.UUID
    district: uuid.UUID
    districts: list[uuid.UUID]
    agencies: list[uuid.UUID]
    school_orgs: list[uuid.UUID]
    cbos: list[uuid.UUID]
    kinds: dict[uuid.UUID, OrganizationKind]


def _organizations(g: Generator, writer: Writer, sizes: Sizes) -> Orgs:
    n = sizes.organizations
    agencies = max(2, n // 125)
    school_orgs = min(sizes.schools // 2, (n - 3 - agencies) // 3)
    cbos = n - 3 - agencies - school_orgs
    agency_kinds = (OrganizationKind.city_agency, OrganizationKind.county_agency, OrganizationKind.state_agency)
    plan = (
        [(OrganizationKind.network_hub, "Scale Network Hub")]
        + [
            (OrganizationKind.school_district, name)
            for name in ("Scale Unified School District", "Scale Harbor Unified School District")
        ]
        + [
            (agency_kinds[i % 3], f"{g.rng.choice(WORDS)} {('City', 'County', 'State')[i % 3]} Agency {i + 1}")
            for i in range(agencies)
        ]
        + [(OrganizationKind.school, "") for _ in range(school_orgs)]
        + [
            (OrganizationKind.cbo, f"{g.rng.choice(WORDS)} {g.rng.choice(WORDS)} {g.rng.choice(CBO_NOUNS)} {i + 1}")
            for i in range(cbos)
        ]
    )
    rows, identifiers, contacts, kinds = [], [], [], {}
    ids = [g.uuid() for _ in plan]
    district = ids[1]
    for index, ((kind, name), ident) in enumerate(zip(plan, ids, strict=True)):
        if kind is OrganizationKind.school:
            name = f"{g.rng.choice(STREETS)} School Site Council {index}"
        created = g.days_ago(1200, 1500)
        slug = f"org{index}"
        rows.append(
            {
                "id": ident,
                "kind": kind,
                "name": name,
                "alternate_name": None,
                "description": f"{name}: a fictional member of the scale network.",
                "jurisdiction": "Los Angeles" if kind is not OrganizationKind.cbo else None,
                "governing_authority": None,
                "website": f"https://{slug}.example.org",
                "email": f"info@{slug}.example.org",
                "phone": g.phone(),
                "status": OrganizationStatus.active
                if g.rng.random() < 0.95 or index < 3 + agencies + school_orgs + sizes.bench_cbos
                else OrganizationStatus.prospective,
                "parent_id": district if kind is OrganizationKind.school else None,
                "created_at": created,
                "updated_at": created + timedelta(days=g.rng.uniform(0, 300)),
                "version": 1,
            }
        )
        identifiers.append({"id": g.uuid(), "organization_id": ident, "scheme": "cbs_scale", "value": str(ident)})
        contacts.append(
            {
                "id": g.uuid(),
                "organization_id": ident,
                "position": 0,
                "name": f"{g.rng.choice(GIVEN)} {g.rng.choice(FAMILY)}",
                "title": "Coordinator",
                "department": None,
                "email": f"contact@{slug}.example.org",
                "phone": g.phone(),
            }
        )
        kinds[ident] = kind
    writer.write(Organization.__table__, rows)
    writer.write(OrganizationIdentifier.__table__, identifiers)
    writer.write(OrganizationContact.__table__, contacts)
    first_school = 3 + agencies
    return Orgs(
        hub=ids[0],
        district=district,
        districts=ids[1:3],
        agencies=ids[3:first_school],
        school_orgs=ids[first_school : first_school + school_orgs],
        cbos=ids[first_school + school_orgs :],
        kinds=kinds,
    )


def _schools(g: Generator, writer: Writer, sizes: Sizes, orgs: Orgs) -> list[dict[str, Any]]:
    rows, codes = [], set()
    levels = (("Elementary School", "K", "5"), ("Middle School", "6", "8"), ("High School", "9", "12"), ("Span School", "K", "8"))
    for index in range(sizes.schools):
        code = str(10**13 + g.rng.randrange(9 * 10**13))
        while code in codes:
            code = str(10**13 + g.rng.randrange(9 * 10**13))
        codes.add(code)
        level, low, high = g.rng.choice(levels)
        lat, lon = g.point()
        created = g.days_ago(1100, 1400)
        rows.append(
            {
                "id": g.uuid(),
                "cds_code": code,
                "name": f"{g.rng.choice(STREETS)} {level} {index + 1}",
                "grade_low": GRADES[low],
                "grade_high": GRADES[high],
                "region": g.rng.choice(REGIONS),
                "board_district": g.rng.randint(1, 7),
                "address_1": f"{g.rng.randint(100, 19999)} {g.rng.choice(STREETS)} St",
                "city": "Los Angeles",
                "state": "CA",
                "postal_code": f"9{g.rng.randint(0, 1999):04d}",
                "latitude": lat,
                "longitude": lon,
                "is_bsap": g.rng.random() < 0.2,
                "status": SchoolStatus.active,
                "organization_id": orgs.school_orgs[index] if index < len(orgs.school_orgs) else None,
                "district_id": orgs.districts[0] if g.rng.random() < 0.85 else orgs.districts[1],
                "jurisdiction_id": None,
                "created_at": created,
                "updated_at": created,
                "version": 1,
            }
        )
    writer.write(School.__table__, rows)
    return rows


# --- programs, their lists and capacity ----------------------------------------------------------


@dataclass
class ProgramRef:
    id: uuid.UUID
    organization_id: uuid.UUID
    program_type: ProgramType


def _programs(g: Generator, writer: Writer, sizes: Sizes, orgs: Orgs, schools: list[dict[str, Any]]) -> list[ProgramRef]:
    """Programs with their child rows; returns those that take referrals (active and accepting)."""
    owners = [*orgs.cbos, *orgs.agencies]
    locations: dict[uuid.UUID, list[uuid.UUID]] = {}
    location_rows: list[dict[str, Any]] = []
    tables: dict[str, list[dict[str, Any]]] = {
        name: []
        for name in (
            "programs",
            "languages",
            "codes",
            "schedules",
            "schools",
            "regions",
            "program_locations",
            "capacity",
            "history",
        )
    }
    accepting: list[ProgramRef] = []
    types = list(ProgramType)

    def sites(owner: uuid.UUID) -> list[uuid.UUID]:
        if owner not in locations:
            locations[owner] = []
            for n in range(1 + g.rng.randrange(3)):
                virtual = g.rng.random() < 0.05
                lat, lon = (None, None) if virtual else g.point()
                created = g.days_ago(900, 1200)
                ident = g.uuid()
                location_rows.append(
                    {
                        "id": ident,
                        "organization_id": owner,
                        "name": f"Site {n + 1}",
                        "description": None,
                        "location_type": LocationType.virtual if virtual else LocationType.physical,
                        "url": "https://telehealth.example.org" if virtual else None,
                        "address_1": None if virtual else f"{g.rng.randint(100, 19999)} {g.rng.choice(STREETS)} Ave",
                        "city": None if virtual else "Los Angeles",
                        "state": None if virtual else "CA",
                        "postal_code": None if virtual else f"9{g.rng.randint(0, 1999):04d}",
                        "latitude": lat,
                        "longitude": lon,
                        "is_confidential": not virtual and g.rng.random() < 0.02,
                        "front_door_contact": None,
                        "created_at": created,
                        "updated_at": created,
                        "version": 1,
                    }
                )
                locations[owner].append(ident)
        return locations[owner]

    for index in range(sizes.programs):
        # The first programs belong two each to the bench CBOs, open, accepting and with capacity.
        bench = index < sizes.bench_cbos * 2
        owner = orgs.cbos[index // 2] if bench else g.rng.choice(owners)
        ident, kind = g.uuid(), g.rng.choice(types)
        status = (
            ProgramStatus.active
            if bench
            else g.pick(
                (
                    (ProgramStatus.active, 85),
                    (ProgramStatus.draft, 4),
                    (ProgramStatus.inactive, 4),
                    (ProgramStatus.temporarily_closed, 4),
                    (ProgramStatus.defunct, 3),
                )
            )
        )
        accepts = bench or (status is ProgramStatus.active and g.rng.random() < 0.7)
        low_age = g.rng.choice((None, 5, 10, 12, 14))
        created = g.days_ago(700, 1100)
        slug = f"p{index}"
        tables["programs"].append(
            {
                "id": ident,
                "organization_id": owner,
                "name": f"{g.rng.choice(WORDS)} {kind.value.replace('_', ' ').title()} {index + 1}",
                "alternate_name": None,
                "description": f"A fictional {kind.value.replace('_', ' ')} program of the scale network.",
                "program_type": kind,
                "status": status,
                "minimum_age": low_age,
                "maximum_age": None if low_age is None else low_age + g.rng.choice((4, 6, 8)),
                "minimum_grade": None,
                "maximum_grade": None,
                "population_description": "Students of the listed schools and their families",
                "eligibility_description": None,
                "fees_description": None,
                "is_free": g.rng.random() < 0.9,
                "application_process": "Refer through the CBS Network Hub.",
                "evidence_basis": g.rng.choice(list(EvidenceBasis)),
                "evidence_description": None,
                "funding_sources": [
                    g.rng.choice(("CalVIP grant (BSCC)", "City General Fund", "County Measure J", "Private foundation"))
                ],
                "contacts": [{"name": "Program coordinator", "phone": g.phone()}],
                "url": f"https://{slug}.example.org",
                "email": f"info@{slug}.example.org",
                "phone": g.phone(),
                "accepts_referrals": accepts,
                "assured_at": g.days_ago(0, 400) if g.rng.random() < 0.8 else None,
                "assured_by_user_id": None,
                "service_area_geojson": None,
                "service_area_description": None,
                "created_at": created,
                "updated_at": created + timedelta(days=g.rng.uniform(0, 200)),
                "version": 1,
            }
        )
        if accepts and status is ProgramStatus.active:
            accepting.append(ProgramRef(ident, owner, kind))
        for code in g.rng.sample(LANGUAGES[1:], g.rng.randrange(3)) + ["en"]:
            tables["languages"].append({"program_id": ident, "code": code})
        tables["codes"].append({"id": g.uuid(), "program_id": ident, "scheme": "cbs_scale", "code": f"CBS-{kind.value.upper()}"})
        for position in range(1 + (g.rng.random() < 0.3)):
            tables["schedules"].append(
                {
                    "id": g.uuid(),
                    "program_id": ident,
                    "position": position,
                    "byday": ["MO", "TU", "WE", "TH", "FR"],
                    "opens_at": "15:00",
                    "closes_at": "18:30",
                    "minutes_before_arrival": None,
                    "minutes_after_dismissal": None,
                    "description": None,
                }
            )
        if g.rng.random() < 0.6:
            for school in g.rng.sample(schools, min(len(schools), g.rng.randint(1, 4))):
                tables["schools"].append({"program_id": ident, "school_id": school["id"]})
        if g.rng.random() < 0.4:
            for region in g.rng.sample(REGIONS, g.rng.randint(1, 2)):
                tables["regions"].append({"program_id": ident, "region": region})
        owned = sites(owner)
        for location in g.rng.sample(owned, min(len(owned), 1 + (g.rng.random() < 0.2))):
            tables["program_locations"].append({"program_id": ident, "location_id": location})
        if bench or g.rng.random() < 0.6:
            total = g.rng.randint(10, 120)
            updated = g.days_ago(0, 60)
            values: dict[str, Any] = {
                "total_slots": total,
                "available_slots": g.rng.randint(0, total),
                "slot_unit": g.rng.choice(list(SlotUnit)),
                "waitlist_length": g.rng.randint(0, 10),
                "waitlist_open": g.rng.random() < 0.5,
                "assessment_required": g.rng.random() < 0.3,
                "staff_count": g.rng.randint(2, 20),
                "certified_interventionists": g.rng.randint(0, 5),
                "languages_staffed": ["en", "es"],
                "hours": "Mon-Fri 09:00-18:00",
                "notes": None,
            }
            tables["capacity"].append(
                {
                    "id": g.uuid(),
                    "program_id": ident,
                    "updated_by_user_id": None,
                    "created_at": updated,
                    "updated_at": updated,
                    "version": 1,
                    **values,
                }
            )
            tables["history"].append(
                {
                    "id": g.uuid(),
                    "program_id": ident,
                    "version": 1,
                    "changed_at": updated,
                    "changed_by_user_id": None,
                    "snapshot": {**values, "slot_unit": values["slot_unit"].value},
                }
            )
    writer.write(Location.__table__, location_rows)
    for name, table in (
        ("programs", Program),
        ("languages", ProgramLanguage),
        ("codes", ProgramExternalCode),
        ("schedules", ProgramSchedule),
        ("schools", ProgramSchool),
        ("regions", ProgramRegion),
        ("program_locations", ProgramLocation),
        ("capacity", CapacityProfile),
        ("history", CapacityHistory),
    ):
        writer.write(table.__table__, tables[name])
    return accepting


# --- subjects, consents and referrals ------------------------------------------------------------


@dataclass
class PoolSubject:
    id: uuid.UUID
    organization_id: uuid.UUID
    consent_id: uuid.UUID


def _subjects(g: Generator, writer: Writer, sizes: Sizes, orgs: Orgs) -> list[PoolSubject]:
    """The subjects referrals point at: the district's, its schools' and some CBOs' students."""
    from cbs_network.referrals.subjects.service import seal

    senders_cbo = orgs.cbos[: max(sizes.bench_cbos, len(orgs.cbos) // 8)]
    pool, subjects, consents = [], [], []
    purposes = [kind.value for kind in ProgramType]
    for index in range(sizes.subjects):
        share = index / sizes.subjects
        owner = (
            orgs.district
            if share < 0.4
            else g.rng.choice(orgs.school_orgs or orgs.districts)
            if share < 0.8
            else g.rng.choice(senders_cbo)
        )
        ident = g.uuid()
        given, family = g.rng.choice(GIVEN), g.rng.choice(FAMILY)
        born = (g.as_of - timedelta(days=g.rng.randint(11 * 365, 17 * 365))).date()
        student_id = f"SCALE-{index:07d}"
        subject = Subject(id=ident)
        # The subject service's own sealing: the same ciphertext format, context and keyed hash.
        seal(
            subject,
            jsonable(
                {
                    "given_name": given,
                    "family_name": family,
                    "date_of_birth": born,
                    "district_student_id": student_id,
                    "contact": {"phone": g.phone(), "email": f"{given.lower()}.{family.lower()}{index}@students.example.org"},
                    "guardian": {"name": f"Pat {family}", "relationship": "guardian", "phone": g.phone()},
                }
            ),
        )
        created = g.days_ago(1095, 1300)
        subjects.append(
            {
                "id": ident,
                "organization_id": owner,
                "personal_data": subject.personal_data,
                "student_id_hash": subject.student_id_hash,
                "grade": g.rng.randint(5, 12),
                "preferred_language": g.rng.choice(("en", "en", "es", "ko")),
                "created_by_user_id": None,
                "created_at": created,
                "updated_at": created,
                "version": 1,
            }
        )
        consent_id = g.uuid()
        given_on: date = (created + timedelta(days=1)).date()
        consents.append(
            {
                "id": consent_id,
                "subject_id": ident,
                "organization_id": owner,
                "given_by": ConsentGiver.guardian,
                "method": ConsentMethod.written,
                "given_on": given_on,
                "expires_on": (g.as_of + timedelta(days=365)).date(),
                "covers_organization_ids": [],
                "covers_organization_kinds": ["cbo", "city_agency", "county_agency", "state_agency"],
                "purposes": purposes,
                "recorded_by_user_id": None,
                "revoked_at": None,
                "revoked_by_user_id": None,
                "revocation_reason": None,
                "created_at": created,
                "updated_at": created,
                "version": 1,
            }
        )
        pool.append(PoolSubject(ident, owner, consent_id))
    writer.write(Subject.__table__, subjects)
    writer.write(Consent.__table__, consents)
    return pool


def _referrals(
    g: Generator,
    writer: Writer,
    sizes: Sizes,
    pool: list[PoolSubject],
    programs: list[ProgramRef],
    schools: list[dict[str, Any]],
    ring: KeyRing,
    progress: Callable[[int], None],
) -> None:
    n = sizes.referrals
    span = timedelta(days=1095).total_seconds()
    start = g.as_of - timedelta(days=1095)
    recent = g.as_of - timedelta(days=30)
    school_ids = [school["id"] for school in schools]
    for first in range(0, n, BATCH * 5):
        referrals, transitions = [], []
        for index in range(first, min(n, first + BATCH * 5)):
            # Created in order over three years, so creation time and insertion order agree.
            created = start + timedelta(seconds=(index + g.rng.random()) * span / n)
            subject = g.rng.choice(pool)
            program = g.rng.choice(programs)
            while program.organization_id == subject.organization_id:
                program = g.rng.choice(programs)
            state = g.pick(RECENT_STATES if created >= recent else OLD_STATES)
            ident = g.uuid()
            sent = state is not S.draft and not (state is S.entered_in_error and g.rng.random() < 0.3)
            steps: list[tuple[S | None, S, datetime]] = [(None, S.requested if sent else S.draft, created)]
            at = created
            for to in PATHS[state]:
                at = min(g.as_of, at + timedelta(hours=g.rng.uniform(2, 24 * 14)))
                steps.append((steps[-1][1], to, at))
            outcome = state in (S.completed, S.failed)
            referrals.append(
                {
                    "id": ident,
                    "source_organization_id": subject.organization_id,
                    "source_user_id": None,
                    "target_program_id": program.id,
                    "target_organization_id": program.organization_id,
                    "subject_id": subject.id,
                    "consent_id": subject.consent_id if sent else None,
                    "school_id": g.rng.choice(school_ids),
                    "need_type": program.program_type,
                    "personal_data": ring.encrypt(g.rng.choice(NEEDS), context=f"referrals.personal_data:{ident}"),
                    "urgency": g.pick(((Urgency.routine, 80), (Urgency.urgent, 17), (Urgency.emergency, 3))),
                    "state": state,
                    "requested_at": created if sent else None,
                    "service_due_on": (created + timedelta(days=30)).date() if g.rng.random() < 0.3 else None,
                    "emergency_reason": None,
                    "emergency_declared_by_user_id": None,
                    "emergency_declared_at": None,
                    "emergency_review": None,
                    "emergency_reviewed_by_user_id": None,
                    "emergency_reviewed_at": None,
                    "emergency_review_note": None,
                    "holds_slot": False,
                    "on_waitlist": False,
                    "outcome_enrollment_status": (
                        EnrollmentStatus.enrolled if state is S.completed else EnrollmentStatus.not_enrolled
                    )
                    if outcome
                    else None,
                    "outcome_services": [{"kind": "session", "count": g.rng.randint(1, 12)}] if state is S.completed else [],
                    "outcome_recorded_at": at if outcome else None,
                    "overdue_notified_at": None,
                    "created_at": created,
                    "updated_at": at,
                    "version": len(steps),
                }
            )
            for from_state, to_state, when in steps:
                by_source = to_state in (S.draft, S.requested) or to_state in BY_REQUESTER
                transitions.append(
                    {
                        "id": g.uuid(),
                        "referral_id": ident,
                        "from_state": from_state,
                        "to_state": to_state,
                        "at": when,
                        "actor_organization_id": subject.organization_id if by_source else program.organization_id,
                        "actor_user_id": None,
                        "actor_client_id": CLIENT_PREFIX,
                        "reason": REASONS.get(to_state),
                    }
                )
        writer.write(Referral.__table__, referrals)
        writer.write(ReferralTransition.__table__, transitions)
        progress(min(n, first + BATCH * 5))


def has_data(session: Session) -> bool:
    return bool(session.scalar(select(func.count()).select_from(Organization.__table__)))


def summary(made: Made, seconds: float) -> str:
    lines = [f"{table:<28} {count:>10,}" for table, count in sorted(made.counts.items())]
    return "\n".join([*lines, f"in {seconds:.1f} s"])


def seed_scale_command(
    *,
    schools: int,
    organizations: int,
    programs: int,
    subjects: int,
    referrals: int,
    seed: int,
    as_of: datetime | None,
    allow_existing: bool,
    credentials_file: str | None,
) -> None:
    """The body of `flask cbs seed-scale` (cli.py declares its options)."""
    import os
    from pathlib import Path

    import click
    from flask import current_app

    from cbs_network.core.config import INSTANCE_DIR
    from cbs_network.core.db import session as db_session
    from cbs_network.identity.principal import system_principal
    from cbs_network.identity.roles import Role
    from cbs_network.oauth.clients.service import register

    session = db_session()
    if has_data(session) and not allow_existing:
        raise click.ClickException(
            "The database already has organizations: seed-scale builds a network from "
            "nothing. Use an empty database, or --allow-existing with another --seed."
        )
    settings = current_app.config["CBS_SETTINGS"]

    def register_client(organization_id: uuid.UUID, name: str, role: str, scopes: list[str]) -> tuple[str, str | None]:
        client, secret = register(
            session=session,
            principal=system_principal(organization_id),
            data={
                "name": name,
                "scopes": scopes,
                "grant_types": ["client_credentials"],
                "redirect_uris": [],
                "role_ceiling": Role(role),
                "token_endpoint_auth_method": "client_secret_basic",
                "organization_id": organization_id,
                "network_wide": False,
            },
            allow_insecure_redirects=not settings.is_production,
        )
        return client.client_id, secret

    sizes = Sizes(schools=schools, organizations=organizations, programs=programs, subjects=subjects, referrals=referrals)
    began = time.perf_counter()
    try:
        made = seed_scale(
            session=session,
            sizes=sizes,
            seed=seed,
            as_of=as_of.replace(tzinfo=UTC) if as_of else None,
            register_client=register_client,
            log=click.echo,
        )
    except ValueError as error:
        session.rollback()
        raise click.ClickException(str(error)) from error
    session.commit()
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        assert isinstance(bind, Engine)  # the app's sessions are bound to its engine
        # Fresh statistics, or the planner judges a million rows by an empty table's.
        with bind.connect() as connection:
            connection.exec_driver_sql("ANALYZE")
    seconds = time.perf_counter() - began
    path = Path(credentials_file) if credentials_file else INSTANCE_DIR / "scale-credentials.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"clients": made.clients}, indent=2))
    os.chmod(path, 0o600)
    click.echo(summary(made, seconds))
    click.echo(f"Client credentials (shown once) written to {path}")
