"""pending memberships, accounts owned by the organization that created them, organization-bound
OAuth clients, Idempotency-Key scoped to its caller

Revision ID: a9010000a001
Revises: c0cc17ee0006
Create Date: 2026-12-01 12:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "a9010000a001"
down_revision = "c0cc17ee0006"
branch_labels = None
depends_on = None

# The explorer that `flask cbs seed-demo` and the README register keeps acting for every
# organization its users belong to; every other existing client is bound to its own organization.
EXPLORER_CLIENT_ID = "cbs-explorer"


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("created_by_organization_id", sa.Uuid(), nullable=True))
        batch_op.create_index(batch_op.f("ix_users_created_by_organization_id"), ["created_by_organization_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_users_created_by_organization_id_organizations"),
            "organizations",
            ["created_by_organization_id"],
            ["id"],
        )
    # An account with a single membership was made for that organization; shared accounts stay
    # with network admins.
    op.execute(
        """
        UPDATE users SET created_by_organization_id = (
            SELECT MIN(m.organization_id) FROM memberships m WHERE m.user_id = users.id)
        WHERE (SELECT COUNT(*) FROM memberships m WHERE m.user_id = users.id) = 1
        """
        if op.get_bind().dialect.name == "sqlite"
        else """
        UPDATE users SET created_by_organization_id = sole.organization_id
        FROM (SELECT user_id, MIN(organization_id::text)::uuid AS organization_id FROM memberships
              GROUP BY user_id HAVING COUNT(*) = 1) AS sole
        WHERE sole.user_id = users.id
        """
    )

    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "status",
                sa.Enum("pending", "active", name="membership_status", native_enum=False, create_constraint=True, length=40),
                server_default="active",
                nullable=False,
            )
        )
        batch_op.create_index(batch_op.f("ix_memberships_status"), ["status"], unique=False)

    with op.batch_alter_table("oauth_clients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("network_wide", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.execute(
        sa.text("UPDATE oauth_clients SET network_wide = :yes WHERE client_id = :explorer").bindparams(
            yes=True, explorer=EXPLORER_CLIENT_ID
        )
    )

    # Stored responses were keyed by client only; they live a day at most, so they are dropped
    # rather than guessed into a caller.
    op.execute("DELETE FROM idempotency_keys")
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("caller", sa.String(length=64), nullable=False))
        batch_op.drop_constraint("uq_idempotency_keys_client_id_key", type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_idempotency_keys_caller_key"), ["caller", "key"])


def downgrade() -> None:
    op.execute("DELETE FROM idempotency_keys")
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_idempotency_keys_caller_key"), type_="unique")
        batch_op.create_unique_constraint("uq_idempotency_keys_client_id_key", ["client_id", "key"])
        batch_op.drop_column("caller")

    with op.batch_alter_table("oauth_clients", schema=None) as batch_op:
        batch_op.drop_column("network_wide")

    op.execute("DELETE FROM memberships WHERE status = 'pending'")  # offers only: they granted nothing
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_memberships_status"))
        batch_op.drop_constraint(batch_op.f("ck_memberships_membership_status"), type_="check")
        batch_op.drop_column("status")

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_users_created_by_organization_id_organizations"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_users_created_by_organization_id"))
        batch_op.drop_column("created_by_organization_id")
