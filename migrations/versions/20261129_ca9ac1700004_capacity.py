"""capacity profiles, their history, and the network's capacity_stale_after_days setting

Revision ID: ca9ac1700004
Revises: d1ec7000a003
Create Date: 2026-11-29 11:51:02.082385
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cbs_network.core.db

revision = "ca9ac1700004"
down_revision = "d1ec7000a003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "capacity_history",
        sa.Column("program_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("changed_at", cbs_network.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("changed_by_user_id", sa.Uuid(), nullable=True),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["changed_by_user_id"], ["users.id"], name=op.f("fk_capacity_history_changed_by_user_id_users")),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_capacity_history_program_id_programs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_capacity_history")),
    )
    with op.batch_alter_table("capacity_history", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_capacity_history_changed_at"), ["changed_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_capacity_history_program_id"), ["program_id"], unique=False)

    op.create_table(
        "capacity_profiles",
        sa.Column("program_id", sa.Uuid(), nullable=False),
        sa.Column("total_slots", sa.Integer(), nullable=False),
        sa.Column("available_slots", sa.Integer(), nullable=False),
        sa.Column(
            "slot_unit",
            sa.Enum(
                "participants",
                "youth",
                "families",
                "shifts",
                name="slot_unit",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("waitlist_length", sa.Integer(), nullable=False),
        sa.Column("waitlist_open", sa.Boolean(), nullable=False),
        sa.Column("accepting_referrals", sa.Boolean(), nullable=False),
        sa.Column("assessment_required", sa.Boolean(), nullable=False),
        sa.Column("staff_count", sa.Integer(), nullable=True),
        sa.Column("certified_interventionists", sa.Integer(), nullable=True),
        sa.Column("languages_staffed", sa.JSON(), nullable=False),
        sa.Column("hours", sa.Text(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("updated_by_user_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", cbs_network.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", cbs_network.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_capacity_profiles_program_id_programs"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["updated_by_user_id"], ["users.id"], name=op.f("fk_capacity_profiles_updated_by_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_capacity_profiles")),
        sa.UniqueConstraint("program_id", name=op.f("uq_capacity_profiles_program_id")),
    )
    with op.batch_alter_table("capacity_profiles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_capacity_profiles_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_capacity_profiles_updated_at"), ["updated_at"], unique=False)

    # server_default: the existing settings row gets the default threshold.
    with op.batch_alter_table("directory_settings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("capacity_stale_after_days", sa.Integer(), server_default="30", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("directory_settings", schema=None) as batch_op:
        batch_op.drop_column("capacity_stale_after_days")

    with op.batch_alter_table("capacity_profiles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_capacity_profiles_updated_at"))
        batch_op.drop_index(batch_op.f("ix_capacity_profiles_created_at"))

    op.drop_table("capacity_profiles")
    with op.batch_alter_table("capacity_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_capacity_history_program_id"))
        batch_op.drop_index(batch_op.f("ix_capacity_history_changed_at"))

    op.drop_table("capacity_history")
