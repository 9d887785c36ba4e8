"""The migration that leaves one truth about accepting referrals (the program's accepts_referrals)
keeps every program that was refused referrals refused: a profile that said no closes its
program. Downgrading gives each profile its program's value back."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa

from cbs_network.core.migrate import downgrade, upgrade

from .helpers import stamps

BEFORE, AFTER = "a9030000c003", "a9040000b004"
THEN = datetime(2026, 11, 1, tzinfo=UTC)


ORGANIZATIONS = sa.table(
    "organizations",
    sa.column("id", sa.Uuid()),
    sa.column("kind", sa.String()),
    sa.column("name", sa.String()),
    sa.column("status", sa.String()),
    *stamps(),
)
PROGRAMS = sa.table(
    "programs",
    sa.column("id", sa.Uuid()),
    sa.column("organization_id", sa.Uuid()),
    sa.column("name", sa.String()),
    sa.column("program_type", sa.String()),
    sa.column("status", sa.String()),
    sa.column("is_free", sa.Boolean()),
    sa.column("funding_sources", sa.JSON()),
    sa.column("contacts", sa.JSON()),
    sa.column("accepts_referrals", sa.Boolean()),
    *stamps(),
)
PROFILES = sa.table(
    "capacity_profiles",
    sa.column("id", sa.Uuid()),
    sa.column("program_id", sa.Uuid()),
    sa.column("total_slots", sa.Integer()),
    sa.column("available_slots", sa.Integer()),
    sa.column("slot_unit", sa.String()),
    sa.column("waitlist_length", sa.Integer()),
    sa.column("waitlist_open", sa.Boolean()),
    sa.column("accepting_referrals", sa.Boolean()),
    sa.column("assessment_required", sa.Boolean()),
    sa.column("languages_staffed", sa.JSON()),
    *stamps(),
)
# name: (program's accepts_referrals, profile's accepting_referrals or None for no profile)
CASES = {
    "both yes": (True, True),
    "profile says no": (True, False),
    "program says no": (False, True),
    "both no": (False, False),
    "no profile, yes": (True, None),
    "no profile, no": (False, None),
}


def test_a_profile_that_said_no_closes_its_program_and_downgrade_restores_the_profiles(scratch_database):
    url, engine = scratch_database
    ids = {name: uuid.uuid4() for name in CASES}
    upgrade(url, BEFORE)
    with engine.begin() as connection:
        owner = uuid.uuid4()
        connection.execute(
            ORGANIZATIONS.insert().values(
                id=owner, kind="cbo", name="Owner", status="active", created_at=THEN, updated_at=THEN, version=1
            )
        )
        for name, (accepts, accepting) in CASES.items():
            connection.execute(
                PROGRAMS.insert().values(
                    id=ids[name],
                    organization_id=owner,
                    name=name,
                    program_type="mentoring",
                    status="active",
                    is_free=True,
                    funding_sources=[],
                    contacts=[],
                    accepts_referrals=accepts,
                    created_at=THEN,
                    updated_at=THEN,
                    version=1,
                )
            )
            if accepting is not None:
                connection.execute(
                    PROFILES.insert().values(
                        id=uuid.uuid4(),
                        program_id=ids[name],
                        total_slots=5,
                        available_slots=5,
                        slot_unit="youth",
                        waitlist_length=0,
                        waitlist_open=False,
                        accepting_referrals=accepting,
                        assessment_required=False,
                        languages_staffed=[],
                        created_at=THEN,
                        updated_at=THEN,
                        version=1,
                    )
                )

    def programs() -> dict[str, tuple]:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.select(PROGRAMS.c.name, PROGRAMS.c.accepts_referrals, PROGRAMS.c.version, PROGRAMS.c.updated_at > THEN)
            )
            return {name: (accepts, version, moved) for name, accepts, version, moved in rows}

    upgrade(url, AFTER)
    # Refused before (either said no) stays refused; only the program that changed gets a new
    # version and updated_at, so ETags and updated_since syncs notice it.
    assert programs() == {
        "both yes": (True, 1, False),
        "profile says no": (False, 2, True),
        "program says no": (False, 1, False),
        "both no": (False, 1, False),
        "no profile, yes": (True, 1, False),
        "no profile, no": (False, 1, False),
    }
    assert "accepting_referrals" not in {c["name"] for c in sa.inspect(engine).get_columns("capacity_profiles")}

    downgrade(url, BEFORE)
    with engine.connect() as connection:
        restored = dict(
            connection.execute(
                sa.select(PROGRAMS.c.name, PROFILES.c.accepting_referrals).join(PROFILES, PROFILES.c.program_id == PROGRAMS.c.id)
            ).all()
        )
    assert restored == {"both yes": True, "profile says no": False, "program says no": False, "both no": False}
    upgrade(url, AFTER)
