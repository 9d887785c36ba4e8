"""keyed, sharded and checkpointed audit chain; append-only on SQLite too

Revision ID: a9030000c003
Revises: a9020000d002
Create Date: 2026-12-01 12:45:00
"""

from __future__ import annotations

import hashlib
import json

import sqlalchemy as sa
from alembic import op

import cbs_network.core.db

revision = "a9030000c003"
down_revision = "a9020000d002"
branch_labels = None
depends_on = None

GENESIS_HASH = "0" * 64
TABLES = ("audit_records", "audit_checkpoints")


def upgrade() -> None:
    op.create_table(
        "audit_checkpoints",
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("created_at", cbs_network.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("chains", sa.JSON(), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("prev_mac", sa.String(length=64), nullable=False),
        sa.Column("mac", sa.String(length=64), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_checkpoints")),
        sa.UniqueConstraint("seq", name=op.f("uq_audit_checkpoints_seq")),
    )
    with op.batch_alter_table("audit_records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("chain", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("key_id", sa.String(length=32), nullable=True))
        batch_op.drop_constraint(batch_op.f("uq_audit_records_seq"), type_="unique")
    _with_append_only_suspended(_resign_into_keyed_chains)
    with op.batch_alter_table("audit_records", schema=None) as batch_op:
        batch_op.alter_column("chain", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("key_id", existing_type=sa.String(length=32), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_audit_records_chain_seq"), ["chain", "seq"])

    # Last: on SQLite a batch migration copies the table and so drops its triggers. A later
    # migration that batch-alters either table must create these again.
    if op.get_bind().dialect.name == "postgresql":
        # audit_records has had its trigger since a1d17c0a0002.
        op.execute(
            """
            CREATE FUNCTION audit_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION '% is append-only (% refused)', TG_TABLE_NAME, TG_OP;
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            """
            CREATE TRIGGER audit_checkpoints_append_only
            BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_checkpoints
            FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()
            """
        )
        return
    for table in TABLES:
        for operation in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_append_only_{operation.lower()} BEFORE {operation} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only ({operation} refused)'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_checkpoints_append_only ON audit_checkpoints")
        op.execute("DROP FUNCTION audit_append_only()")
    else:
        for table in TABLES:
            for operation in ("update", "delete"):
                op.execute(f"DROP TRIGGER {table}_append_only_{operation}")
    op.drop_table("audit_checkpoints")
    with op.batch_alter_table("audit_records", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_audit_records_chain_seq"), type_="unique")
    _with_append_only_suspended(_relink_into_one_unkeyed_chain)
    with op.batch_alter_table("audit_records", schema=None) as batch_op:
        batch_op.drop_column("key_id")
        batch_op.drop_column("chain")
        batch_op.create_unique_constraint(batch_op.f("uq_audit_records_seq"), ["seq"])


# Rows already written were hashed without a key in one global chain. They are checked as the
# previous code would, then re-signed under the first CBS_AUDIT_KEYS key into the chains of
# their acting organizations: leaving them unkeyed would let anyone forge such rows, and
# re-signing a chain that does not verify would bless whatever was done to it, so that stops the
# upgrade. The hub has no production data yet; the rows are read at once.
_RECORDS = sa.table(
    "audit_records",
    sa.column("id", sa.Uuid()),
    sa.column("chain", sa.String()),
    sa.column("seq", sa.BigInteger()),
    sa.column("created_at", cbs_network.core.db.UTCDateTime(timezone=True)),
    sa.column("actor_user_id", sa.Uuid()),
    sa.column("actor_client_id", sa.String()),
    sa.column("organization_id", sa.Uuid()),
    sa.column("action", sa.String()),
    sa.column("object_type", sa.String()),
    sa.column("object_id", sa.String()),
    sa.column("changes", sa.JSON()),
    sa.column("request_id", sa.String()),
    sa.column("key_id", sa.String()),
    sa.column("prev_hash", sa.String()),
    sa.column("hash", sa.String()),
)


def _with_append_only_suspended(change) -> None:  # type: ignore[no-untyped-def]
    postgres = op.get_bind().dialect.name == "postgresql"  # SQLite's triggers are created after, dropped before
    if postgres:
        op.execute("ALTER TABLE audit_records DISABLE TRIGGER audit_records_append_only")
    change()
    if postgres:
        op.execute("ALTER TABLE audit_records ENABLE TRIGGER audit_records_append_only")


def _content(row, seq: int, prev_hash: str) -> dict:  # type: ignore[no-untyped-def]
    return {
        "seq": seq,
        "id": str(row.id),
        "created_at": row.created_at.isoformat(),
        "actor_user_id": str(row.actor_user_id) if row.actor_user_id else None,
        "actor_client_id": row.actor_client_id,
        "organization_id": str(row.organization_id) if row.organization_id else None,
        "action": row.action,
        "object_type": row.object_type,
        "object_id": row.object_id,
        "changes": row.changes,
        "request_id": row.request_id,
        "prev_hash": prev_hash,
    }


def _canonical(content: dict) -> bytes:
    return json.dumps(content, sort_keys=True, separators=(",", ":"), default=str).encode()


def _resign_into_keyed_chains() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.select(_RECORDS).order_by(_RECORDS.c.seq)).all()
    if not rows:
        return
    prev_hash = GENESIS_HASH
    for seq, row in enumerate(rows, 1):
        if (row.seq, row.prev_hash, row.hash) != (
            seq,
            prev_hash,
            hashlib.sha256(_canonical(_content(row, seq, prev_hash))).hexdigest(),
        ):
            raise RuntimeError(
                f"audit record {seq} does not verify (`flask cbs audit verify` on the previous release names it); "
                "the audit log is not re-signed and the upgrade stops"
            )
        prev_hash = row.hash
    from cbs_network.audit.keys import AuditKeys
    from cbs_network.core.config import Settings

    keys = AuditKeys(Settings().audit_key_spec())
    key_id, heads = keys.current_key_id, {}
    for row in rows:
        chain = str(row.organization_id) if row.organization_id else "system"
        seq, prev_hash = heads.get(chain, (0, GENESIS_HASH))
        content = {**_content(row, seq + 1, prev_hash), "chain": chain, "key_id": key_id}
        mac = keys.mac(key_id, _canonical(content))
        bind.execute(
            _RECORDS.update()
            .where(_RECORDS.c.id == row.id)
            .values(chain=chain, seq=seq + 1, key_id=key_id, prev_hash=prev_hash, hash=mac)
        )
        heads[chain] = (seq + 1, mac)


def _relink_into_one_unkeyed_chain() -> None:
    """The previous revision's code knows one global chain of unkeyed hashes: the records of every
    chain, by time, hashed its way. (Run `flask cbs audit verify` before downgrading: this blesses
    whatever the chains hold.)"""
    bind = op.get_bind()
    rows = bind.execute(sa.select(_RECORDS).order_by(_RECORDS.c.created_at, _RECORDS.c.chain, _RECORDS.c.seq)).all()
    prev_hash = GENESIS_HASH
    for seq, row in enumerate(rows, 1):
        digest = hashlib.sha256(_canonical(_content(row, seq, prev_hash))).hexdigest()
        bind.execute(_RECORDS.update().where(_RECORDS.c.id == row.id).values(seq=seq, prev_hash=prev_hash, hash=digest))
        prev_hash = digest
