"""Personal data at rest (students' identifying fields, stored responses): AES-256-GCM under a
key ring from configuration, and a keyed hash of the district student id.

A ciphertext is "<key id>:<base64url(nonce ‖ ciphertext ‖ tag)>". Its associated data names
the record and field it belongs to, so a value copied into another row or column does not
decrypt. The key id lets rotation find what is still under an old key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import os
from collections.abc import Callable
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app

log = logging.getLogger("cbs_network.core.crypto")


class KeyRingError(ValueError):
    pass


class UnknownKeyError(KeyRingError):
    """A value is under a key id this process does not hold: a key added elsewhere (rotation) or removed."""


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _field_keys(spec: str) -> dict[str, AESGCM]:
    keys: dict[str, AESGCM] = {}
    for entry in filter(None, (part.strip() for part in spec.split(","))):
        key_id, _, encoded = entry.partition(":")
        try:
            raw = _b64decode(encoded)
        except (binascii.Error, ValueError) as error:
            raise KeyRingError(f"Field key {key_id!r} is not base64url.") from error
        if not key_id or len(raw) != 32:
            raise KeyRingError(f"Field key {key_id!r} must be 'id:<32 bytes, base64url>'.")
        if key_id in keys:
            raise KeyRingError(f"Field key id {key_id!r} appears twice.")
        keys[key_id] = AESGCM(raw)
    if not keys:
        raise KeyRingError("No field encryption key is configured.")
    return keys


class KeyRing:
    """`source`, when given, re-reads the field keys (instance/field_keys of the embedded default):
    an operator may rotate keys while this process serves, and it must follow."""

    def __init__(self, field_keys: str, hash_key: str, *, source: Callable[[], str] | None = None) -> None:
        self._spec, self._keys = field_keys, _field_keys(field_keys)
        self._source = source
        self._hash_key = _b64decode(hash_key)
        if len(self._hash_key) < 32:
            raise KeyRingError("The subject hash key must be at least 32 bytes.")

    @property
    def current_key_id(self) -> str:
        return next(iter(self._keys))

    def _follow_source(self) -> None:
        if self._source is None:
            return
        try:
            spec = self._source()
            if spec != self._spec:
                # The dict is replaced whole: a thread sees the old ring or the new one, never a mix.
                self._spec, self._keys = spec, _field_keys(spec)
                log.warning("field keys reloaded; encrypting under %r, decrypting %s", self.current_key_id, ", ".join(self._keys))
        except (OSError, KeyRingError) as error:  # a file caught mid-edit: keep the keys we have
            log.error("field keys not reloaded: %s", error)

    def encrypt(self, value: Any, *, context: str) -> str:
        """Encrypt a JSON value under the current key, bound to `context` (e.g. "subjects.personal:<id>")."""
        # A re-read of a small file on each write of personal data (never on reads), so that once
        # the operator puts a new key first no value is written under the old one for rotate-keys to miss.
        self._follow_source()
        nonce = os.urandom(12)
        key_id, key = next(iter(self._keys.items()))
        sealed = key.encrypt(nonce, json.dumps(value).encode(), context.encode())
        return f"{key_id}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def decrypt(self, token: str, *, context: str) -> Any:
        key_id, _, encoded = token.partition(":")
        key = self._keys.get(key_id)
        if key is None:
            self._follow_source()
            key = self._keys.get(key_id)
        if key is None:
            raise UnknownKeyError(
                f"No configured field key {key_id!r} decrypts this value (this process holds "
                f"{', '.join(self._keys)}): it was encrypted under a key this process was not "
                "given (restart it with the new key in CBS_FIELD_KEYS) or under a removed one."
            )
        raw = _b64decode(encoded)
        try:
            return json.loads(key.decrypt(raw[:12], raw[12:], context.encode()))
        except InvalidTag as error:
            raise KeyRingError("A value failed authentication: it was altered or moved from another record.") from error

    @staticmethod
    def key_id(token: str) -> str:
        return token.partition(":")[0]

    def student_id_hash(self, district_student_id: str) -> str:
        """HMAC-SHA256 of the id as written on district records (case and spaces ignored)."""
        normalized = "".join(district_student_id.split()).upper()
        return hmac.new(self._hash_key, normalized.encode(), hashlib.sha256).hexdigest()


def init_app(app: Any) -> None:
    settings = app.config["CBS_SETTINGS"]
    field_keys, hash_key = settings.privacy_keys()
    app.extensions["cbs_keyring"] = KeyRing(field_keys, hash_key, source=settings.field_keys_source())


def keyring() -> KeyRing:
    return current_app.extensions["cbs_keyring"]
