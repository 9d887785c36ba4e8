"""keyset indexes: each list filtered by an organization (or a type, an object) reads one index
range in (created_at, id) order; proximity searches read a (latitude, longitude) range

Revision ID: a9050000e005
Revises: a9040000b004
Create Date: 2026-12-02 10:00:00
"""

from __future__ import annotations

from alembic import op

revision = "a9050000e005"
down_revision = "a9040000b004"
branch_labels = None
depends_on = None

# (table, new composite index, its columns, the single-column indexes it makes redundant).
# Plain CREATE/DROP INDEX, not batch mode: on SQLite a batch copies the table and would drop the
# audit tables' append-only triggers.
INDEXES = [
    (
        "referrals",
        "ix_referrals_source_organization_id_created_at_id",
        ["source_organization_id", "created_at", "id"],
        ["source_organization_id"],
    ),
    (
        "referrals",
        "ix_referrals_target_organization_id_created_at_id",
        ["target_organization_id", "created_at", "id"],
        ["target_organization_id"],
    ),
    ("programs", "ix_programs_program_type_created_at_id", ["program_type", "created_at", "id"], ["program_type"]),
    ("programs", "ix_programs_organization_id_created_at_id", ["organization_id", "created_at", "id"], ["organization_id"]),
    ("locations", "ix_locations_organization_id_created_at_id", ["organization_id", "created_at", "id"], ["organization_id"]),
    ("locations", "ix_locations_latitude_longitude", ["latitude", "longitude"], ["latitude", "longitude"]),
    ("schools", "ix_schools_latitude_longitude", ["latitude", "longitude"], ["latitude", "longitude"]),
    ("subjects", "ix_subjects_organization_id_created_at_id", ["organization_id", "created_at", "id"], ["organization_id"]),
    ("memberships", "ix_memberships_organization_id_created_at_id", ["organization_id", "created_at", "id"], ["organization_id"]),
    (
        "oauth_clients",
        "ix_oauth_clients_organization_id_created_at_id",
        ["organization_id", "created_at", "id"],
        ["organization_id"],
    ),
    (
        "audit_records",
        "ix_audit_records_organization_id_created_at_id",
        ["organization_id", "created_at", "id"],
        ["organization_id"],
    ),
    (
        "audit_records",
        "ix_audit_records_object_type_object_id_created_at_id",
        ["object_type", "object_id", "created_at", "id"],
        [],
    ),
]


def upgrade() -> None:
    for table, name, columns, redundant in INDEXES:
        op.create_index(name, table, columns, unique=False)
        for column in redundant:
            op.drop_index(op.f(f"ix_{table}_{column}"), table_name=table)


def downgrade() -> None:
    for table, name, _columns, redundant in reversed(INDEXES):
        for column in redundant:
            op.create_index(op.f(f"ix_{table}_{column}"), table, [column], unique=False)
        op.drop_index(name, table_name=table)
