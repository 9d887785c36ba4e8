"""The audit chain's HMAC keys (CBS_AUDIT_KEYS): the first signs, every listed key verifies."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

EXTENSION = "cbs_audit_keys"


class AuditKeys:
    def __init__(self, spec: str) -> None:
        self._keys: dict[str, bytes] = {}
        for entry in filter(None, (part.strip() for part in spec.split(","))):
            key_id, _, encoded = entry.partition(":")
            try:
                raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
            except (binascii.Error, ValueError) as error:
                raise ValueError(f"CBS_AUDIT_KEYS: key {key_id!r} is not base64url.") from error
            if not key_id or len(key_id) > 32 or len(raw) != 32:
                raise ValueError(f"CBS_AUDIT_KEYS: key {key_id!r} must be 'id:<32 bytes, base64url>', id at most 32 characters.")
            if key_id in self._keys:
                raise ValueError(f"CBS_AUDIT_KEYS: key id {key_id!r} appears twice.")
            self._keys[key_id] = raw
        if not self._keys:
            raise ValueError("CBS_AUDIT_KEYS holds no key.")
        self.current_key_id = next(iter(self._keys))

    def mac(self, key_id: str, message: bytes) -> str | None:
        """HMAC-SHA256 (hex) under `key_id`; None when no listed key has that id."""
        key = self._keys.get(key_id)
        return None if key is None else hmac.new(key, message, hashlib.sha256).hexdigest()


def init_app(app: Any) -> None:
    keys = AuditKeys(app.config["CBS_SETTINGS"].audit_key_spec())
    app.extensions[EXTENSION] = keys
    # Sessions of the app carry the keys, so a worker thread or script holding only a session
    # (no app context) can still append and verify.
    factory = app.extensions["cbs_db"].session_factory
    factory.configure(info={**factory.kw.get("info", {}), EXTENSION: keys})


def audit_keys(session: Session) -> AuditKeys:
    keys = session.info.get(EXTENSION)
    return keys if keys is not None else current_app.extensions[EXTENSION]
