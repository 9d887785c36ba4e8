"""Idempotency-Key on POST (draft-ietf-httpapi-idempotency-key-header).

The key row is written in the same transaction as the work it protects, so a stored response
exists exactly when the work committed. Concurrent requests with one key are told apart with a
transaction-scoped advisory lock on PostgreSQL (409 while the first is in flight); SQLite
serialises writers itself, so there the second request waits and then gets the replay.
Stored responses are encrypted like personal fields: a response may carry a student's data.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime, timedelta

from flask import Response, current_app, g, request
from sqlalchemy import JSON, LargeBinary, String, UniqueConstraint, delete, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from ..db import Base, IdMixin, utcnow
from ..errors import Conflict, DomainError, ValidationFailed
from ..referrals.crypto import keyring

REPLAYED_HEADERS = ("Location", "ETag", "Content-Type")


class BadIdempotencyKey(DomainError):
    status, slug, title = 400, "bad-request", "Bad Idempotency-Key"


class IdempotencyKey(IdMixin, Base):
    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("client_id", "key"),)

    client_id: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(255))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(500))
    fingerprint: Mapped[str] = mapped_column(String(64))
    response_status: Mapped[int]
    response_headers: Mapped[dict] = mapped_column(JSON)
    response_body: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


def body_context(ident: uuid.UUID) -> str:
    return f"idempotency_keys.response_body:{ident}"


def _key() -> str | None:
    raw = request.headers.get("Idempotency-Key")
    if raw is None:
        return None
    key = raw.strip()
    if len(key) >= 2 and key[0] == key[-1] == '"':  # RFC 8941 sf-string form
        key = key[1:-1]
    if not key or len(key) > 255 or not key.isprintable():
        raise BadIdempotencyKey("Idempotency-Key must be 1-255 printable characters.")
    return key


def _fingerprint() -> str:
    return hashlib.sha256(
        request.method.encode() + b" " + request.path.encode() + b"\n" + request.get_data()
    ).hexdigest()


def _advisory_lock_id(client_id: str, key: str) -> int:
    digest = hashlib.sha256(f"idempotency:{client_id}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def begin(session: Session) -> Response | None:
    """Before a POST runs: the stored response to replay, or None to go ahead."""
    key = _key()
    if key is None:
        return None
    client_id = g.principal.client_id
    if session.get_bind().dialect.name == "postgresql":
        locked = session.execute(
            text("SELECT pg_try_advisory_xact_lock(:id)"), {"id": _advisory_lock_id(client_id, key)}
        ).scalar()
        if not locked:
            raise Conflict("A request with this Idempotency-Key is still being processed; retry later.")
    ttl = timedelta(hours=current_app.config["CBS_SETTINGS"].idempotency_ttl_hours)
    session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < utcnow() - ttl))
    stored = session.scalar(
        select(IdempotencyKey).where(IdempotencyKey.client_id == client_id, IdempotencyKey.key == key)
    )
    g.idempotency_key = key
    if stored is None:
        return None
    if stored.fingerprint != _fingerprint():
        raise ValidationFailed(
            "This Idempotency-Key was already used with a different request.",
            errors={"headers": {"Idempotency-Key": ["Reused with a different request body or path."]}},
        )
    response = Response(keyring().decrypt(stored.response_body.decode(), context=body_context(stored.id)),
                        status=stored.response_status)
    for name, value in stored.response_headers.items():
        response.headers[name] = value
    response.headers["Idempotent-Replayed"] = "true"
    return response


def finish(session: Session, response: Response) -> None:
    """After a successful POST: store its response with the work, in the same transaction."""
    key = g.get("idempotency_key")
    if key is None:
        return
    ident = uuid.uuid4()
    session.add(
        IdempotencyKey(
            id=ident,
            client_id=g.principal.client_id,
            key=key,
            method=request.method,
            path=request.path,
            fingerprint=_fingerprint(),
            response_status=response.status_code,
            response_headers={h: response.headers[h] for h in REPLAYED_HEADERS if h in response.headers},
            response_body=keyring().encrypt(response.get_data(as_text=True), context=body_context(ident)).encode(),
        )
    )
    session.flush()

