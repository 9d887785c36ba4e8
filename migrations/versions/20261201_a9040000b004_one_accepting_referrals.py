"""one truth about accepting referrals: the program's accepts_referrals

Revision ID: a9040000b004
Revises: a9030000c003
Create Date: 2026-12-01 16:30:00
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import cbs_network.core.db

revision = "a9040000b004"
down_revision = "a9030000c003"
branch_labels = None
depends_on = None


def _programs() -> sa.TableClause:
    return sa.table(
        "programs",
        sa.column("id", sa.Uuid()),
        sa.column("accepts_referrals", sa.Boolean()),
        sa.column("updated_at", cbs_network.core.db.UTCDateTime()),
        sa.column("version", sa.Integer()),
    )


def _profiles() -> sa.TableClause:
    return sa.table("capacity_profiles", sa.column("program_id", sa.Uuid()), sa.column("accepting_referrals", sa.Boolean()))


def upgrade() -> None:
    # Until now a referral was refused when either flag said no, so a program whose profile said
    # no stops accepting: nobody starts receiving referrals they had turned away. Its version and
    # updated_at move on, so ETags change and partners syncing with updated_since see the change.
    programs, profiles = _programs(), _profiles()
    closed = sa.select(profiles.c.program_id).where(profiles.c.accepting_referrals.is_(False))
    op.get_bind().execute(
        programs.update()
        .where(programs.c.id.in_(closed), programs.c.accepts_referrals.is_(True))
        .values(accepts_referrals=False, version=programs.c.version + 1, updated_at=datetime.now(UTC))
    )
    with op.batch_alter_table("capacity_profiles", schema=None) as batch_op:
        batch_op.drop_column("accepting_referrals")


def downgrade() -> None:
    with op.batch_alter_table("capacity_profiles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("accepting_referrals", sa.Boolean(), server_default=sa.true(), nullable=False))
    programs, profiles = _programs(), _profiles()
    op.get_bind().execute(
        profiles.update().values(
            accepting_referrals=(
                sa.select(programs.c.accepts_referrals).where(programs.c.id == profiles.c.program_id).scalar_subquery()
            )
        )
    )
    with op.batch_alter_table("capacity_profiles", schema=None) as batch_op:
        batch_op.alter_column("accepting_referrals", server_default=None)
