"""Migration a9030000c003 on a database that already holds audit rows of the old unkeyed global chain."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from cbs_network import create_app
from cbs_network.audit import service as audit
from cbs_network.core.db import UTCDateTime, utcnow
from cbs_network.core.migrate import downgrade, upgrade
from cbs_network.identity.principal import system_principal

from .conftest import TEST_AUDIT_KEYS, is_postgres, make_settings

BEFORE, AFTER = "a9020000d002", "a9030000c003"
OLD_RECORDS = sa.table(
    "audit_records",
    sa.column("id", sa.Uuid()),
    sa.column("seq", sa.BigInteger()),
    sa.column("created_at", UTCDateTime()),
    sa.column("actor_user_id", sa.Uuid()),
    sa.column("actor_client_id", sa.String()),
    sa.column("organization_id", sa.Uuid()),
    sa.column("action", sa.String()),
    sa.column("object_type", sa.String()),
    sa.column("object_id", sa.String()),
    sa.column("changes", sa.JSON()),
    sa.column("request_id", sa.String()),
    sa.column("prev_hash", sa.String()),
    sa.column("hash", sa.String()),
)


def _old_hash(row: dict) -> str:
    """The hash of the code before a9030000c003, unkeyed."""
    content = {
        name: row[name]
        for name in ("seq", "actor_client_id", "action", "object_type", "object_id", "changes", "request_id", "prev_hash")
    }
    content |= {
        "id": str(row["id"]),
        "created_at": row["created_at"].isoformat(),
        "actor_user_id": str(row["actor_user_id"]) if row["actor_user_id"] else None,
        "organization_id": str(row["organization_id"]) if row["organization_id"] else None,
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True, separators=(",", ":"), default=str).encode()).hexdigest()


def _old_chain_verifies(connection) -> bool:
    prev_hash = audit.GENESIS_HASH
    rows = connection.execute(sa.select(OLD_RECORDS).order_by(OLD_RECORDS.c.seq)).mappings().all()
    for seq, row in enumerate(rows, 1):
        if row["seq"] != seq or row["prev_hash"] != prev_hash or _old_hash(row) != row["hash"]:
            return False
        prev_hash = row["hash"]
    return True


@pytest.fixture
def old_database(scratch_database, monkeypatch):
    """A database one revision before, holding six rows of the old chain (two organizations and no one)."""
    monkeypatch.setenv("CBS_AUDIT_KEYS", TEST_AUDIT_KEYS)  # what `flask cbs migrate` reads in production
    url, engine = scratch_database
    upgrade(url, BEFORE)
    orgs = [uuid.uuid4(), uuid.uuid4(), None]
    start, prev_hash = utcnow() - timedelta(hours=1), audit.GENESIS_HASH
    with engine.begin() as connection:
        for seq in range(1, 7):
            row = {
                "id": uuid.uuid4(),
                "seq": seq,
                "created_at": start + timedelta(seconds=seq),
                "actor_user_id": None,
                "actor_client_id": "cli",
                "organization_id": orgs[seq % 3],
                "action": "thing.updated",
                "object_type": "thing",
                "object_id": str(seq),
                "changes": {"n": {"before": seq, "after": seq + 1}},
                "request_id": None,
                "prev_hash": prev_hash,
            }
            row["hash"] = prev_hash = _old_hash(row)
            connection.execute(OLD_RECORDS.insert().values(**row))
        assert _old_chain_verifies(connection)
    yield url, engine, orgs


def test_existing_rows_are_resigned_into_their_organizations_chains_and_back(old_database):
    url, engine, orgs = old_database
    upgrade(url, AFTER)
    app = create_app(make_settings(url), TESTING=True)
    database = app.extensions["cbs_db"]
    with database.session_factory() as session:
        chains = session.execute(sa.text("SELECT chain, seq, key_id FROM audit_records ORDER BY chain, seq")).all()
        assert sorted({chain for chain, _, _ in chains}) == sorted([str(orgs[0]), str(orgs[1]), audit.SYSTEM_CHAIN])
        assert {(seq, key_id) for _, seq, key_id in chains} == {(1, "audit1"), (2, "audit1")}
        result = audit.verify(session)
        assert result.ok and (result.checked, result.chains) == (6, 3)
        audit.record(session, principal=system_principal(orgs[1]), action="thing.created", object_type="thing", object_id=7)
        audit.checkpoint(session)
        session.commit()
        assert audit.verify(session).ok
    database.engine.dispose()

    downgrade(url, BEFORE)
    with engine.connect() as connection:
        assert _old_chain_verifies(connection)
        assert connection.execute(sa.select(sa.func.count()).select_from(OLD_RECORDS)).scalar() == 7


def test_an_old_chain_that_does_not_verify_stops_the_upgrade(old_database):
    url, engine, _orgs = old_database
    with engine.begin() as connection:
        if is_postgres():
            connection.execute(sa.text("ALTER TABLE audit_records DISABLE TRIGGER audit_records_append_only"))
        connection.execute(OLD_RECORDS.update().where(OLD_RECORDS.c.seq == 4).values(action="thing.tampered"))
        if is_postgres():
            connection.execute(sa.text("ALTER TABLE audit_records ENABLE TRIGGER audit_records_append_only"))
    with pytest.raises(RuntimeError, match="audit record 4 does not verify"):
        upgrade(url, AFTER)
