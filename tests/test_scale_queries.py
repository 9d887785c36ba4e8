"""What the database does at scale: the statements a request runs, and the indexes that bound the
reads that would otherwise scan a table (issue 11, "The database at scale")."""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Float, event, func, literal, select, text, union_all

from cbs_network.directory import geo
from cbs_network.directory.models import Location, Program, ProgramLocation, ProgramStatus, ProgramType
from cbs_network.directory.programs.search import list_query
from cbs_network.identity.principal import Principal
from cbs_network.identity.roles import SCOPES, Role

from .conftest import is_postgres
from .referral_setup import new_case


@contextmanager
def statements(app) -> Iterator[list[str]]:
    """Every SQL statement sent to the database inside the block."""
    engine = app.extensions["cbs_db"].engine
    seen: list[str] = []

    def record(_conn, _cursor, statement, _parameters, _context, _executemany) -> None:  # type: ignore[no-untyped-def]
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


# Sending a referral with a consent: the savepoint the test's transaction wraps it in and its
# release, the token, the subject, the program with its organization, the consent, the referral
# and its first transition, the audit chain's head and the audit record, the event, the network's
# response window, and the disclosure record of the personal fields in the response.
SEND_STATEMENTS = 13


def test_sending_a_referral_loads_each_row_once(app, client, db_session, network):
    case = new_case(client, db_session, network)
    with statements(app) as seen:
        response = case.send(client, network["district_coordinator"])
    assert response.status_code == 201, response.json
    assert response.json["personal_data"] == "included" and response.json["history"][0]["to_state"] == "requested"
    read_tables = [found.group(1) for found in (re.search(r"\bFROM (\w+)", s) for s in seen) if found]
    assert len(read_tables) == len(set(read_tables)), read_tables
    # PostgreSQL also takes the audit chain's advisory lock.
    limit = SEND_STATEMENTS + (1 if is_postgres() else 0)
    assert len(seen) <= limit, "\n".join(" ".join(s.split())[:120] for s in seen)


def test_a_program_page_does_not_read_locations(app, client, db_session, network):
    """A page lists location ids, which program_locations holds: the locations table is not read."""
    site = Location(id=uuid.uuid4(), organization_id=network.cbo.id, name="Site", latitude=34.05, longitude=-118.25)
    program = Program(
        id=uuid.uuid4(),
        organization_id=network.cbo.id,
        name="Mentoring",
        program_type=ProgramType.mentoring,
        status=ProgramStatus.active,
        program_locations=[ProgramLocation(location_id=site.id)],
    )
    db_session.add_all([site, program])
    db_session.commit()
    actor = network["cbo_caseworker"]
    with statements(app) as seen:
        response = client.get("/api/v1/programs?program_type=mentoring", headers=actor.headers)
    assert response.status_code == 200, response.json
    assert [item["location_ids"] for item in response.json["items"]] == [[str(site.id)]]
    assert not [s for s in seen if re.search(r"\blocations\b", s)]


def _circle(lat: float, lon: float, radius_m: float, points: int = 360) -> list[tuple[float, float]]:
    """Points just inside the circle of radius_m around (lat, lon), longitudes in [-180, 180]."""
    angle = radius_m * 0.9999 / geo.EARTH_RADIUS_M
    phi, lam = math.radians(lat), math.radians(lon)
    found = []
    for step in range(points):
        bearing = 2 * math.pi * step / points
        phi2 = math.asin(math.sin(phi) * math.cos(angle) + math.cos(phi) * math.sin(angle) * math.cos(bearing))
        lam2 = lam + math.atan2(
            math.sin(bearing) * math.sin(angle) * math.cos(phi), math.cos(angle) - math.sin(phi) * math.sin(phi2)
        )
        found.append((math.degrees(phi2), (math.degrees(lam2) + 540) % 360 - 180))
    return found


@pytest.mark.parametrize(
    "lat, lon",
    [
        (34.05, -118.25),  # Los Angeles
        (70.0, 10.0),  # far north: the circle is widest in longitude away from its centre's latitude
        (10.0, 179.9),
        (10.0, -179.9),  # across the antimeridian
        (89.9, 100.0),
        (-89.9, -45.0),  # around a pole
    ],
)
def test_the_bounding_box_holds_every_point_within_the_radius(db_session, lat, lon):
    circle = _circle(lat, lon, geo.MAX_RADIUS_M)
    assert all(geo.haversine_m(lat, lon, a, b) < geo.MAX_RADIUS_M for a, b in circle)
    assert _boxed(db_session, circle, lat, lon) == len(circle)
    if abs(lat) < 80:  # away from the poles the box leaves out what is far enough
        assert _boxed(db_session, _circle(lat, lon, 3 * geo.MAX_RADIUS_M), lat, lon) == 0


def _boxed(db_session, points: list[tuple[float, float]], lat: float, lon: float) -> int:
    """How many of `points` the database finds in the bounding box of MAX_RADIUS_M around (lat, lon)."""
    rows = union_all(*(select(literal(a, Float).label("latitude"), literal(b, Float).label("longitude")) for a, b in points))
    table = rows.subquery("points")
    return db_session.scalar(
        select(func.count())
        .select_from(table)
        .where(geo.bounding_box(table.c.latitude, table.c.longitude, lat, lon, geo.MAX_RADIUS_M))
    )


def _plan(db_session, statement) -> str:
    sql = str(statement.compile(dialect=db_session.bind.dialect, compile_kwargs={"literal_binds": True}))
    if is_postgres():
        # The test tables are tiny, so PostgreSQL would read them whole: ask whether the index can
        # serve the search, as it does at scale.
        db_session.execute(text("SET LOCAL enable_seqscan = off"))
        return "\n".join(db_session.scalars(text("EXPLAIN " + sql)))
    return "\n".join(row[-1] for row in db_session.execute(text("EXPLAIN QUERY PLAN " + sql)))


def test_a_near_search_reads_locations_through_the_coordinates_index(db_session, network):
    principal = Principal(organization_id=network.cbo.id, role=Role.caseworker, token_scopes=frozenset(SCOPES), client_id="test")
    query = list_query(session=db_session, principal=principal, near_lat=34.05, near_lon=-118.25, radius_m=25_000.0)
    plan = _plan(db_session, query)
    assert "ix_locations_latitude_longitude" in plan, plan
