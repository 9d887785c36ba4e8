from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, BigInteger, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cbs_network.core.db import Base, IdMixin, utcnow


class AuditRecord(IdMixin, Base):
    """Append-only. Records form one chain per acting organization (and one "system" chain):
    each row's HMAC covers its content and the previous row's HMAC in the same chain."""

    __tablename__ = "audit_records"
    __table_args__ = (
        UniqueConstraint("chain", "seq"),
        # The list filtered by organization, and one record's history, each in keyset order.
        Index("ix_audit_records_organization_id_created_at_id", "organization_id", "created_at", "id"),
        Index("ix_audit_records_object_type_object_id_created_at_id", "object_type", "object_id", "created_at", "id"),
    )

    chain: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_user_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    actor_client_id: Mapped[str | None] = mapped_column(String(64))
    organization_id: Mapped[uuid.UUID | None] = mapped_column()
    action: Mapped[str] = mapped_column(String(60), index=True)
    object_type: Mapped[str] = mapped_column(String(60))
    object_id: Mapped[str] = mapped_column(String(64))
    changes: Mapped[dict] = mapped_column(JSON, default=dict)
    request_id: Mapped[str | None] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(32))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditCheckpoint(IdMixin, Base):
    """Append-only. Each checkpoint signs every chain's length and head, and links to the one before,
    so records removed from a chain's end (or every record) no longer go unnoticed."""

    __tablename__ = "audit_checkpoints"

    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    chains: Mapped[dict] = mapped_column(JSON)  # {chain: [record count, head hash]}
    key_id: Mapped[str] = mapped_column(String(32))
    prev_mac: Mapped[str] = mapped_column(String(64))
    mac: Mapped[str] = mapped_column(String(64))
