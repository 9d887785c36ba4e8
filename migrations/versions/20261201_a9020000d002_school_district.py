"""each school answers to its own district

Revision ID: a9020000d002
Revises: a9010000a001
Create Date: 2026-12-01 12:45:00
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import op

revision = "a9020000d002"
down_revision = "a9010000a001"
branch_labels = None
depends_on = None

# How far up the organization tree a school's organization is followed (a loop stops earlier).
TREE_DEPTH = 12


def upgrade() -> None:
    with op.batch_alter_table("schools", schema=None) as batch_op:
        batch_op.add_column(sa.Column("district_id", sa.Uuid(), nullable=True))
        batch_op.create_index(batch_op.f("ix_schools_district_id"), ["district_id"], unique=False)
        batch_op.create_foreign_key(batch_op.f("fk_schools_district_id_organizations"), "organizations", ["district_id"], ["id"])
    _backfill()


def _backfill() -> None:
    """Each listed school gets the school_district above its own organization; failing that, the
    hub's only school district when it has exactly one (so a single-district hub keeps working);
    otherwise none (network admins then set it)."""
    connection = op.get_bind()
    organizations = sa.table(
        "organizations", sa.column("id", sa.Uuid()), sa.column("kind", sa.String()), sa.column("parent_id", sa.Uuid())
    )
    schools = sa.table(
        "schools", sa.column("id", sa.Uuid()), sa.column("organization_id", sa.Uuid()), sa.column("district_id", sa.Uuid())
    )
    parents: dict[uuid.UUID, uuid.UUID | None] = {}
    districts: set[uuid.UUID] = set()
    for ident, kind, parent_id in connection.execute(
        sa.select(organizations.c.id, organizations.c.kind, organizations.c.parent_id)
    ):
        parents[ident] = parent_id
        if kind == "school_district":
            districts.add(ident)
    only = next(iter(districts)) if len(districts) == 1 else None

    def district_above(organization_id: uuid.UUID | None) -> uuid.UUID | None:
        seen: set[uuid.UUID] = set()
        current = parents.get(organization_id) if organization_id is not None else None
        while current is not None and current not in seen and len(seen) < TREE_DEPTH:
            if current in districts:
                return current
            seen.add(current)
            current = parents.get(current)
        return None

    for school_id, organization_id in connection.execute(sa.select(schools.c.id, schools.c.organization_id)).all():
        district = district_above(organization_id) or only
        if district is not None:
            connection.execute(schools.update().where(schools.c.id == school_id).values(district_id=district))


def downgrade() -> None:
    with op.batch_alter_table("schools", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_schools_district_id_organizations"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_schools_district_id"))
        batch_op.drop_column("district_id")
