"""The migration that gives schools a district fills it in for the schools already listed: the
school_district above the school's own organization; failing that, the hub's only district."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa

from cbs_network.core.migrate import downgrade, upgrade

from .helpers import stamps

BEFORE, AFTER = "a9010000a001", "a9020000d002"
NOW = datetime(2026, 12, 1, tzinfo=UTC)


ORGANIZATIONS = sa.table(
    "organizations",
    sa.column("id", sa.Uuid()),
    sa.column("kind", sa.String()),
    sa.column("name", sa.String()),
    sa.column("status", sa.String()),
    sa.column("parent_id", sa.Uuid()),
    *stamps(),
)
SCHOOLS = sa.table(
    "schools",
    sa.column("id", sa.Uuid()),
    sa.column("cds_code", sa.String()),
    sa.column("name", sa.String()),
    sa.column("is_bsap", sa.Boolean()),
    sa.column("status", sa.String()),
    sa.column("organization_id", sa.Uuid()),
    sa.column("district_id", sa.Uuid()),
    *stamps(),
)


def test_existing_schools_get_the_district_above_them_or_the_only_one(scratch_database):
    url, engine = scratch_database
    ids = {
        name: uuid.uuid4()
        for name in (
            "lausd",
            "region",
            "garfield_org",
            "harbor",
            "tide_org",
            "loop_a",
            "loop_b",
            "looped_org",
            "garfield",
            "tide",
            "bare",
            "looped",
        )
    }
    upgrade(url, BEFORE)
    with engine.begin() as connection:

        def organization(key, kind, parent=None):
            connection.execute(
                ORGANIZATIONS.insert().values(
                    id=ids[key],
                    kind=kind,
                    name=key,
                    status="active",
                    parent_id=parent and ids[parent],
                    created_at=NOW,
                    updated_at=NOW,
                    version=1,
                )
            )

        organization("lausd", "school_district")
        organization("region", "district_office", "lausd")
        organization("garfield_org", "school", "region")  # two steps below its district
        organization("harbor", "school_district")
        organization("tide_org", "school", "harbor")
        organization("loop_a", "district_office")
        organization("loop_b", "district_office", "loop_a")
        organization("looped_org", "school", "loop_a")
        connection.execute(ORGANIZATIONS.update().where(ORGANIZATIONS.c.id == ids["loop_a"]).values(parent_id=ids["loop_b"]))
        for n, (key, org) in enumerate(
            (("garfield", "garfield_org"), ("tide", "tide_org"), ("bare", None), ("looped", "looped_org"))
        ):
            connection.execute(
                SCHOOLS.insert().values(
                    id=ids[key],
                    cds_code=f"1964733000000{n}",
                    name=key,
                    is_bsap=False,
                    status="active",
                    organization_id=org and ids[org],
                    created_at=NOW,
                    updated_at=NOW,
                    version=1,
                )
            )

    def districts() -> dict[str, uuid.UUID | None]:
        with engine.connect() as connection:
            rows = connection.execute(sa.select(SCHOOLS.c.id, SCHOOLS.c.district_id))
            names = {v: k for k, v in ids.items()}
            return {names[school]: district for school, district in rows}

    upgrade(url, AFTER)
    # Two districts: a school whose organization leads to none (or loops) gets no district.
    assert districts() == {"garfield": ids["lausd"], "tide": ids["harbor"], "bare": None, "looped": None}

    downgrade(url, BEFORE)
    with engine.begin() as connection:
        connection.execute(SCHOOLS.delete().where(SCHOOLS.c.id == ids["tide"]))
        connection.execute(ORGANIZATIONS.delete().where(ORGANIZATIONS.c.id.in_([ids["tide_org"], ids["harbor"]])))
    upgrade(url, AFTER)
    # One district left: every school answers to it.
    assert districts() == {"garfield": ids["lausd"], "bare": ids["lausd"], "looped": ids["lausd"]}
