"""audit log is append-only on PostgreSQL

Revision ID: a1d17c0a0002
Revises: 25b7f1497625
Create Date: 2026-11-29 10:20:00
"""

from __future__ import annotations

from alembic import op

revision = "a1d17c0a0002"
down_revision = "25b7f1497625"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite has no roles to protect the table from; `cbs audit verify` still detects edits
    op.execute(
        """
        CREATE FUNCTION audit_records_append_only() RETURNS trigger AS $$
        BEGIN
            RAISE EXCEPTION 'audit_records is append-only (% refused)', TG_OP;
        END;
        $$ LANGUAGE plpgsql
        """
    )
    op.execute(
        """
        CREATE TRIGGER audit_records_append_only
        BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_records
        FOR EACH STATEMENT EXECUTE FUNCTION audit_records_append_only()
        """
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER audit_records_append_only ON audit_records")
    op.execute("DROP FUNCTION audit_records_append_only()")
