"""The audit log: every write records who, for which organization, what changed, and why."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable

from sqlalchemy import Select, select, text
from sqlalchemy.orm import Session

from .. import context
from ..db import utcnow
from ..errors import Forbidden
from ..jsonable import jsonable
from ..identity.principal import Principal
from .models import AuditRecord

GENESIS_HASH = "0" * 64
MASK = "***"
_CHAIN_LOCK_ID = 0x43425341554449  # arbitrary constant: the audit chain's advisory lock


def snapshot(obj: Any, fields: Iterable[str]) -> dict[str, Any]:
    return {name: jsonable(getattr(obj, name)) for name in fields}


def diff(
    before: dict[str, Any], after: dict[str, Any], *, masked: Iterable[str] = ()
) -> dict[str, dict[str, Any]]:
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


def _row_hash(record: AuditRecord) -> str:
    content = {
        "seq": record.seq,
        "id": str(record.id),
        "created_at": record.created_at.isoformat(),
        "actor_user_id": str(record.actor_user_id) if record.actor_user_id else None,
        "actor_client_id": record.actor_client_id,
        "organization_id": str(record.organization_id) if record.organization_id else None,
        "action": record.action,
        "object_type": record.object_type,
        "object_id": record.object_id,
        "changes": record.changes,
        "request_id": record.request_id,
        "prev_hash": record.prev_hash,
    }
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def record(
    session: Session,
    *,
    principal: Principal | None,
    action: str,
    object_type: str,
    object_id: Any,
    changes: dict[str, Any] | None = None,
) -> AuditRecord:
    """Append one record to the chain, in the caller's transaction."""
    if session.get_bind().dialect.name == "postgresql":
        # Serialise appenders so each row links to the one committed before it.
        session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _CHAIN_LOCK_ID})
    last = session.execute(
        select(AuditRecord.seq, AuditRecord.hash).order_by(AuditRecord.seq.desc()).limit(1)
    ).first()
    entry = AuditRecord(
        id=uuid.uuid4(),
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
        prev_hash=last.hash if last else GENESIS_HASH,
    )
    entry.hash = _row_hash(entry)
    session.add(entry)
    session.flush()
    return entry


@dataclass
class VerifyResult:
    checked: int
    broken_seq: int | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.broken_seq is None


def verify(session: Session, *, batch: int = 1000) -> VerifyResult:
    """Walk the chain in order; report the first row whose link or content does not match."""
    prev_hash, expected_seq, checked = GENESIS_HASH, 1, 0
    last_seq = 0
    while True:
        rows = list(
            session.scalars(
                select(AuditRecord).where(AuditRecord.seq > last_seq).order_by(AuditRecord.seq).limit(batch)
            )
        )
        if not rows:
            return VerifyResult(checked)
        for row in rows:
            if row.seq != expected_seq:
                return VerifyResult(checked, expected_seq, f"record {expected_seq} is missing")
            if row.prev_hash != prev_hash:
                return VerifyResult(checked, row.seq, "link to the previous record does not match")
            if _row_hash(row) != row.hash:
                return VerifyResult(checked, row.seq, "content does not match its hash")
            prev_hash, expected_seq, last_seq = row.hash, expected_seq + 1, row.seq
            checked += 1
        session.expunge_all()


def _require_network_admin(principal: Principal) -> None:
    if not principal.is_network_admin:
        raise Forbidden("Only network admins may read the audit log.")


def list_query(
    *,
    principal: Principal,
    object_type: str | None = None,
    object_id: str | None = None,
    organization_id: uuid.UUID | None = None,
    actor_user_id: uuid.UUID | None = None,
    action: str | None = None,
    since: datetime | None = None,
) -> Select:
    _require_network_admin(principal)
    query = select(AuditRecord)
    for column, value in (
        (AuditRecord.object_type, object_type),
        (AuditRecord.object_id, object_id),
        (AuditRecord.organization_id, organization_id),
        (AuditRecord.actor_user_id, actor_user_id),
        (AuditRecord.action, action),
    ):
        if value is not None:
            query = query.where(column == value)
    if since is not None:
        query = query.where(AuditRecord.created_at >= since)
    return query
