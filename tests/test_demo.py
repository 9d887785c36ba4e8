"""The demo network: deterministic, idempotent, and covering what the directory must show."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from cbs_network.db import Base, make_engine, utcnow
from cbs_network.demo import PROGRAMS, seed_demo
from cbs_network.directory.models import (
    DirectorySettings,
    Location,
    Program,
    ProgramLanguage,
    ProgramSchedule,
    ProgramType,
    School,
)
from cbs_network.directory.service_areas import polygon_problem, school_ids_served
from cbs_network.organizations.models import Organization

# What a re-seed may change: the demo credentials (and the version of the rows holding them).
CREDENTIALS = {"users": {"password_hash", "version", "updated_at"},
               "oauth_clients": {"client_secret_hash", "version", "updated_at"}}


def snapshot(session) -> dict[str, list[tuple]]:
    tables = {}
    for table in Base.metadata.sorted_tables:
        columns = [c for c in table.columns if c.name not in CREDENTIALS.get(table.name, set())]
        rows = session.execute(select(*columns)).all()
        tables[table.name] = sorted((tuple(map(repr, row)) for row in rows))
    return tables


@pytest.fixture
def demo(db_session):
    seed_demo(session=db_session, public_url="http://hub.test")
    return db_session


def test_seeding_twice_changes_nothing_but_credentials(demo):
    before = snapshot(demo)
    assert len(before["programs"]) == len(PROGRAMS) and before["schools"]
    credentials = seed_demo(session=demo, public_url="http://hub.test")
    assert snapshot(demo) == before
    assert credentials["users"] and all(u["password"] for u in credentials["users"])


def test_ids_are_the_same_on_two_fresh_databases(make_database_url):
    ids = []
    for _ in range(2):
        engine = make_engine(make_database_url())
        try:
            with Session(engine) as session:
                seed_demo(session=session, public_url="http://hub.test")
                session.commit()
                ids.append({table.name: sorted(str(i) for i in session.scalars(select(table.c.id)))
                            for table in Base.metadata.sorted_tables if "id" in table.c and table.name not in ("audit_records", "events")})
        finally:
            engine.dispose()
    assert ids[0]["programs"] and ids[0]["schools"] and ids[0]["locations"] and ids[0]["program_schedules"]
    assert ids[0] == ids[1]


def test_every_program_type_is_present_with_languages_and_schedules(demo):
    assert set(demo.scalars(select(Program.program_type))) == set(ProgramType)
    assert {"en", "es", "ko", "zh", "hy", "tl"} <= set(demo.scalars(select(ProgramLanguage.code)))
    passages = demo.scalars(select(Program).where(Program.program_type == ProgramType.safe_passage)).all()
    schedules = [s for p in passages for s in p.schedules]
    assert schedules and all(s.minutes_before_arrival and s.minutes_after_dismissal for s in schedules)
    assert demo.scalar(select(ProgramSchedule).where(ProgramSchedule.opens_at.is_not(None))) is not None
    polygons = [p.service_area_geojson for p in demo.scalars(select(Program).where(Program.service_area_geojson.is_not(None)))]
    assert len(polygons) == 1 and polygon_problem(polygons[0]) is None
    owners = {o.kind for o in demo.scalars(select(Organization).join(Program, Program.organization_id == Organization.id))}
    assert {"cbo", "city_agency", "county_agency"} <= owners


def test_schools_are_linked_to_their_organizations(demo):
    schools = demo.scalars(select(School)).all()
    assert len(schools) == 24 and any(s.is_bsap for s in schools) and not all(s.is_bsap for s in schools)
    for school in schools:
        assert len(school.cds_code) == 14 and school.cds_code.isdigit()
        assert demo.get(Organization, school.organization_id).name == school.name
        assert 33.7 < school.latitude < 34.35 and -118.5 < school.longitude < -118.1
        assert school.region in ("North", "East", "South", "West") and 1 <= school.board_district <= 7
        assert school.grade_low <= school.grade_high


def test_exactly_one_confidential_location_with_a_front_door(demo):
    confidential = demo.scalars(select(Location).where(Location.is_confidential.is_(True))).all()
    assert len(confidential) == 1
    assert confidential[0].front_door_contact and confidential[0].address_1
    assert demo.scalar(select(Location).where(Location.location_type == "virtual")) is not None


def test_a_school_has_no_safe_passage(demo):
    school_ids = set(demo.scalars(select(School.id)))
    served = school_ids_served(demo, program_types=[ProgramType.safe_passage])
    assert served and served < school_ids  # some served, and at least one not


def test_some_verifications_are_overdue_and_some_never_done(app, demo):
    interval = timedelta(days=demo.get(DirectorySettings, 1).verification_interval_days)
    assured = list(demo.scalars(select(Program.assured_at)))
    now = utcnow()
    assert any(a is None for a in assured)
    assert any(a is not None and a + interval < now for a in assured)
    assert any(a is not None and a + interval > now for a in assured)
