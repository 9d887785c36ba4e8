"""Idempotency-Key on POST (draft-ietf-httpapi-idempotency-key-header).

The key row is written in the same transaction as the work it protects, so a stored response
exists exactly when the work committed. Concurrent requests with one key are told apart with a
transaction-scoped advisory lock on PostgreSQL (409 while the first is in flight); SQLite
serialises writers itself, so there the second request waits and then gets the replay.
A key belongs to its caller: the OAuth client and, for a person's token, the user and the
organization acting. Every person signs in through the same explorer client, so a key scoped to
the client alone would hand one tenant's stored response to another who sends the same key.
Stored responses are encrypted, and one that carried a secret (a client secret, an invitation
link) or a student's personal fields is not kept at all: replaying it would hand the secret out
again or disclose the fields without the need-to-know check (a consent may have been revoked
since), so its retry is told the request succeeded and where to read the record.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime, timedelta

from flask import Response, current_app, g, request
from sqlalchemy import JSON, Boolean, LargeBinary, String, UniqueConstraint, delete, select, text, true
from sqlalchemy.orm import Mapped, Session, mapped_column

from cbs_network.core.crypto import keyring
from cbs_network.core.db import Base, IdMixin, utcnow
from cbs_network.core.errors import Conflict, DomainError, ValidationFailed
from cbs_network.identity.principal import Principal

REPLAYED_HEADERS = ("Location", "ETag", "Content-Type")


class BadIdempotencyKey(DomainError):
    status, slug, title = 400, "bad-request", "Bad Idempotency-Key"


class IdempotencyKey(IdMixin, Base):
    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("caller", "key"),)

    caller: Mapped[str] = mapped_column(String(64))  # _caller(): client, user and acting organization
    client_id: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(255))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(500))
    fingerprint: Mapped[str] = mapped_column(String(64))
    response_status: Mapped[int]
    response_headers: Mapped[dict] = mapped_column(JSON)
    response_body: Mapped[bytes] = mapped_column(LargeBinary)  # ciphertext; empty when not replayable
    replayable: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
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
    return hashlib.sha256(request.method.encode() + b" " + request.path.encode() + b"\n" + request.get_data()).hexdigest()


def _caller(principal: Principal) -> str:
    return hashlib.sha256(f"{principal.client_id}\n{principal.user_id or ''}\n{principal.organization_id}".encode()).hexdigest()


def _advisory_lock_id(caller: str, key: str) -> int:
    digest = hashlib.sha256(f"idempotency:{caller}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def begin(session: Session) -> Response | None:
    """Before a POST runs: the stored response to replay, or None to go ahead."""
    key = _key()
    if key is None:
        return None
    caller = _caller(g.principal)
    if session.get_bind().dialect.name == "postgresql":
        locked = session.execute(text("SELECT pg_try_advisory_xact_lock(:id)"), {"id": _advisory_lock_id(caller, key)}).scalar()
        if not locked:
            raise Conflict("A request with this Idempotency-Key is still being processed; retry later.")
    ttl = timedelta(hours=current_app.config["CBS_SETTINGS"].idempotency_ttl_hours)
    session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < utcnow() - ttl))
    stored = session.scalar(select(IdempotencyKey).where(IdempotencyKey.caller == caller, IdempotencyKey.key == key))
    g.idempotency_key = key
    if stored is None:
        return None
    if stored.fingerprint != _fingerprint():
        raise ValidationFailed(
            "This Idempotency-Key was already used with a different request.",
            errors={"headers": {"Idempotency-Key": ["Reused with a different request body or path."]}},
        )
    if not stored.replayable:
        location = stored.response_headers.get("Location")
        raise Conflict(
            f"The request with this Idempotency-Key already succeeded ({stored.response_status}); its response "
            "carried a secret or personal data, which is not kept for replay. Read the record again"
            + (f" at {location}." if location else "."),
            **({"location": location} if location else {}),
        )
    response = Response(
        keyring().decrypt(stored.response_body.decode(), context=body_context(stored.id)), status=stored.response_status
    )
    for name, value in stored.response_headers.items():
        response.headers[name] = value
    response.headers["Idempotent-Replayed"] = "true"
    return response


def withhold_from_replay() -> None:
    """This response carries a secret or personal data: do not keep it for an Idempotency-Key replay."""
    g.idempotency_withheld = True


def finish(session: Session, response: Response) -> None:
    """After a successful POST: store its response with the work, in the same transaction."""
    key = g.get("idempotency_key")
    if key is None:
        return
    ident = uuid.uuid4()
    replayable = not g.get("idempotency_withheld", False)
    body = keyring().encrypt(response.get_data(as_text=True), context=body_context(ident)).encode() if replayable else b""
    session.add(
        IdempotencyKey(
            id=ident,
            caller=_caller(g.principal),
            client_id=g.principal.client_id,
            key=key,
            method=request.method,
            path=request.path,
            fingerprint=_fingerprint(),
            response_status=response.status_code,
            response_headers={h: response.headers[h] for h in REPLAYED_HEADERS if h in response.headers},
            response_body=body,
            replayable=replayable,
        )
    )
    session.flush()
