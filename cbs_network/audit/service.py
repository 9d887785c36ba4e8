"""The audit log: every write records who, for which organization, what changed, and why."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable

from sqlalchemy import Select, select, text
from sqlalchemy.orm import Session

from cbs_network.audit import policy
from cbs_network.audit.keys import AuditKeys, audit_keys
from cbs_network.audit.models import AuditCheckpoint, AuditRecord
from cbs_network.core import context
from cbs_network.core.db import utcnow
from cbs_network.core.jsonable import jsonable
from cbs_network.identity.principal import Principal

GENESIS_HASH = "0" * 64
MASK = "***"
SYSTEM_CHAIN = "system"  # records written with no principal (e.g. a user activating their account)


def snapshot(obj: Any, fields: Iterable[str]) -> dict[str, Any]:
    return {name: jsonable(getattr(obj, name)) for name in fields}


def diff(before: dict[str, Any], after: dict[str, Any], *, masked: Iterable[str] = ()) -> dict[str, dict[str, Any]]:
    """{field: {"before": x, "after": y}} for changed fields; personal fields masked."""
    masked = set(masked)
    changes = {}
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name), after.get(name)
        if old != new:
            changes[name] = (
                {"before": MASK if old is not None else None, "after": MASK if new is not None else None}
                if name in masked
                else {"before": old, "after": new}
            )
    return changes


def _canonical(content: dict[str, Any]) -> bytes:
    return json.dumps(content, sort_keys=True, separators=(",", ":"), default=str).encode()


def _expected_hash(row: Any, keys: AuditKeys) -> str | None:
    """The HMAC `row` (a record or a result row) must carry; None if its key is not listed."""
    content = {
        "chain": row.chain,
        "seq": row.seq,
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
        "key_id": row.key_id,
        "prev_hash": row.prev_hash,
    }
    return keys.mac(row.key_id, _canonical(content))


def _checkpoint_body(checkpoint: Any) -> dict[str, Any]:
    return {
        "seq": checkpoint.seq,
        "id": str(checkpoint.id),
        "created_at": checkpoint.created_at.isoformat(),
        "chains": checkpoint.chains,
        "key_id": checkpoint.key_id,
        "prev_mac": checkpoint.prev_mac,
    }


def anchor_line(checkpoint: AuditCheckpoint) -> str:
    """The checkpoint as the one JSON line operators keep outside the database."""
    return json.dumps({**_checkpoint_body(checkpoint), "mac": checkpoint.mac}, sort_keys=True, separators=(",", ":"))


def _lock(session: Session, name: str) -> None:
    """On PostgreSQL, hold `name`'s transaction-scoped lock: appenders of one chain queue, others don't."""
    if session.get_bind().dialect.name == "postgresql":
        digest = hashlib.sha256(f"audit:{name}".encode()).digest()
        session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": int.from_bytes(digest[:8], "big", signed=True)})


def record(
    session: Session,
    *,
    principal: Principal | None,
    action: str,
    object_type: str,
    object_id: Any,
    changes: dict[str, Any] | None = None,
) -> AuditRecord:
    """Append one record to the acting organization's chain, in the caller's transaction."""
    keys = audit_keys(session)
    chain = str(principal.organization_id) if principal else SYSTEM_CHAIN
    _lock(session, chain)
    last = session.execute(
        select(AuditRecord.seq, AuditRecord.hash).where(AuditRecord.chain == chain).order_by(AuditRecord.seq.desc()).limit(1)
    ).first()
    entry = AuditRecord(
        id=uuid.uuid4(),
        chain=chain,
        seq=(last.seq + 1) if last else 1,
        created_at=utcnow(),
        actor_user_id=principal.user_id if principal else None,
        actor_client_id=principal.client_id if principal else None,
        organization_id=principal.organization_id if principal else None,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        changes=jsonable(changes or {}),
        request_id=context.request_id.get(),
        key_id=keys.current_key_id,
        prev_hash=last.hash if last else GENESIS_HASH,
    )
    signed = _expected_hash(entry, keys)
    assert signed is not None  # the current key is always listed
    entry.hash = signed
    session.add(entry)
    session.flush()
    return entry


def checkpoint(session: Session) -> AuditCheckpoint:
    """Sign every chain's length and head, linked to the previous checkpoint, in the caller's transaction.

    Refuses to sign a log that does not verify: a checkpoint must never bless a truncation."""
    keys = audit_keys(session)
    _lock(session, "checkpoints")
    # The heads signed are those the verification walked to, in one snapshot of the chains.
    result = verify(session)
    if result.problem is not None:
        raise AuditBroken(result.problem, chain=result.chain, seq=result.seq, record_id=result.record_id)
    last = result.checkpoint
    entry = AuditCheckpoint(
        id=uuid.uuid4(),
        seq=(last.seq + 1) if last else 1,
        created_at=utcnow(),
        chains=result.heads,
        key_id=keys.current_key_id,
        prev_mac=last.mac if last else GENESIS_HASH,
    )
    signed = keys.mac(entry.key_id, _canonical(_checkpoint_body(entry)))
    assert signed is not None  # the current key is always listed
    entry.mac = signed
    session.add(entry)
    session.flush()
    return entry


@dataclass
class VerifyResult:
    checked: int = 0  # records verified
    chains: int = 0
    checkpoint: Any = None  # the latest checkpoint, which covered them
    problem: str | None = None  # names the first bad record (or checkpoint)
    chain: str | None = None
    seq: int | None = None
    record_id: uuid.UUID | None = None
    heads: dict[str, list] = field(default_factory=dict)  # chain -> [record count, head hash]

    @property
    def ok(self) -> bool:
        return self.problem is None


class AuditBroken(Exception):
    def __init__(self, problem: str, *, chain: str | None = None, seq: int | None = None, record_id: Any = None) -> None:
        super().__init__(problem)
        self.chain, self.seq, self.record_id = chain, seq, record_id


def verify(session: Session, *, anchor: dict | None = None, batch: int = 1000) -> VerifyResult:
    """Walk the checkpoints, then every chain, `batch` rows at a time; report the first bad one.

    `anchor` is a checkpoint kept outside the database (a line of `flask cbs audit checkpoint`):
    it must still be there, unchanged.
    """
    keys = audit_keys(session)
    result = VerifyResult()
    try:
        if anchor is not None and keys.mac(str(anchor.get("key_id")), _canonical(_anchor_body(anchor))) != anchor.get("mac"):
            raise AuditBroken("the anchor does not verify: it was altered, or its key is not in CBS_AUDIT_KEYS")
        result.checkpoint = _verify_checkpoints(session, keys, anchor, batch)
        _verify_chains(session, keys, result, batch)
    except AuditBroken as broken:
        result.problem, result.chain, result.seq, result.record_id = str(broken), broken.chain, broken.seq, broken.record_id
    return result


def _stream(session: Session, table: Any, *order: Any, batch: int) -> Any:
    """Every row of `table` in `order`, fetched `batch` at a time (a server-side cursor on PostgreSQL)."""
    return session.execute(select(table).order_by(*order).execution_options(yield_per=batch))


def _anchor_body(anchor: dict) -> dict:
    return {name: anchor.get(name) for name in ("seq", "id", "created_at", "chains", "key_id", "prev_mac")}


def _verify_checkpoints(session: Session, keys: AuditKeys, anchor: dict | None, batch: int) -> Any:
    """The latest checkpoint, once every checkpoint is found linked and signed."""
    table = AuditCheckpoint.__table__
    latest, prev_mac, position = None, GENESIS_HASH, 0
    with _stream(session, table, table.c.seq, batch=batch) as rows:
        for row in rows:
            position += 1
            if row.seq != position:
                raise AuditBroken(
                    f"checkpoint {position}: missing (the next one is checkpoint {row.seq}, id {row.id})", seq=position
                )
            name, where = f"checkpoint {row.seq} (id {row.id})", {"seq": row.seq, "record_id": row.id}
            mac = keys.mac(row.key_id, _canonical(_checkpoint_body(row)))
            if mac is None:
                raise AuditBroken(f"{name}: signed with key {row.key_id!r}, which CBS_AUDIT_KEYS does not list", **where)
            if row.prev_mac != prev_mac:
                raise AuditBroken(f"{name}: link to the previous checkpoint does not match", **where)
            if not hmac.compare_digest(mac, row.mac):
                raise AuditBroken(f"{name}: content does not match its MAC", **where)
            if anchor is not None and row.seq == anchor["seq"] and row.mac != anchor["mac"]:
                raise AuditBroken(f"{name}: differs from the anchor (the log was rolled back and written again)", **where)
            latest, prev_mac = row, row.mac
    if anchor is not None and position < anchor["seq"]:
        raise AuditBroken(
            f"checkpoint {anchor['seq']}: missing, though the anchor holds it: the audit log was emptied "
            f"or rolled back (the database holds {position} checkpoints)",
            seq=anchor["seq"],
        )
    return latest


def _verify_chains(session: Session, keys: AuditKeys, result: VerifyResult, batch: int) -> None:
    latest = result.checkpoint
    signed = dict(latest.chains) if latest is not None else {}  # chain -> [count, head] at the latest checkpoint

    def close(chain: str, count: int, head: str) -> None:
        result.heads[chain] = [count, head]
        signed_count = signed.pop(chain, [0])[0]
        if count < signed_count:
            raise AuditBroken(
                f"chain {chain}, record {count + 1}: missing; checkpoint {latest.seq} counted {signed_count} records",
                chain=chain,
                seq=count + 1,
            )

    table = AuditRecord.__table__
    chain, prev_hash, count = None, GENESIS_HASH, 0
    with _stream(session, table, table.c.chain, table.c.seq, batch=batch) as rows:
        for row in rows:
            if row.chain != chain:
                if chain is not None:
                    close(chain, count, prev_hash)
                chain, prev_hash, count = row.chain, GENESIS_HASH, 0
                result.chains += 1
            if row.seq != count + 1:
                raise AuditBroken(
                    f"chain {chain}, record {count + 1}: missing (the next one is record {row.seq}, id {row.id})",
                    chain=chain,
                    seq=count + 1,
                )
            name, where = f"chain {chain}, record {row.seq} (id {row.id})", {"chain": chain, "seq": row.seq, "record_id": row.id}
            mac = _expected_hash(row, keys)
            if mac is None:
                raise AuditBroken(f"{name}: signed with key {row.key_id!r}, which CBS_AUDIT_KEYS does not list", **where)
            if row.prev_hash != prev_hash:
                raise AuditBroken(f"{name}: link to the previous record does not match", **where)
            if not hmac.compare_digest(mac, row.hash):
                raise AuditBroken(f"{name}: content does not match its MAC", **where)
            if signed.get(chain, [0])[0] == row.seq and signed[chain][1] != row.hash:
                raise AuditBroken(f"{name}: differs from the head checkpoint {latest.seq} signed", **where)
            prev_hash, count = row.hash, count + 1
            result.checked += 1
    if chain is not None:
        close(chain, count, prev_hash)
    for chain in sorted(signed):  # chains the checkpoint saw that no record is left of
        close(chain, 0, GENESIS_HASH)


def list_query(
    *,
    principal: Principal,
    object_type: str | None = None,
    object_id: str | None = None,
    organization_id: uuid.UUID | None = None,
    actor_user_id: uuid.UUID | None = None,
    action: str | None = None,
    chain: str | None = None,
    since: datetime | None = None,
) -> Select:
    policy.require_read(principal)
    query = select(AuditRecord)
    for column, value in (
        (AuditRecord.object_type, object_type),
        (AuditRecord.object_id, object_id),
        (AuditRecord.organization_id, organization_id),
        (AuditRecord.actor_user_id, actor_user_id),
        (AuditRecord.action, action),
        (AuditRecord.chain, chain),
    ):
        if value is not None:
            query = query.where(column == value)
    if since is not None:
        query = query.where(AuditRecord.created_at >= since)
    return query
