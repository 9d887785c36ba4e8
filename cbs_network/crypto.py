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
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app


class KeyRingError(ValueError):
    pass


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class KeyRing:
    def __init__(self, field_keys: str, hash_key: str) -> None:
        self._keys: dict[str, AESGCM] = {}
        for entry in filter(None, (part.strip() for part in field_keys.split(","))):
            key_id, _, encoded = entry.partition(":")
            try:
                raw = _b64decode(encoded)
            except (binascii.Error, ValueError) as error:
                raise KeyRingError(f"Field key {key_id!r} is not base64url.") from error
            if not key_id or len(raw) != 32:
                raise KeyRingError(f"Field key {key_id!r} must be 'id:<32 bytes, base64url>'.")
            if key_id in self._keys:
                raise KeyRingError(f"Field key id {key_id!r} appears twice.")
            self._keys[key_id] = AESGCM(raw)
        if not self._keys:
            raise KeyRingError("No field encryption key is configured.")
        self.current_key_id = next(iter(self._keys))
        self._hash_key = _b64decode(hash_key)
        if len(self._hash_key) < 32:
            raise KeyRingError("The subject hash key must be at least 32 bytes.")

    def encrypt(self, value: Any, *, context: str) -> str:
        """Encrypt a JSON value under the current key, bound to `context` (e.g. "subjects.personal:<id>")."""
        nonce = os.urandom(12)
        sealed = self._keys[self.current_key_id].encrypt(nonce, json.dumps(value).encode(), context.encode())
        return f"{self.current_key_id}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def decrypt(self, token: str, *, context: str) -> Any:
        key_id, _, encoded = token.partition(":")
        key = self._keys.get(key_id)
        if key is None:
            raise KeyRingError(f"No configured key {key_id!r} decrypts this value; it was encrypted under a removed key.")
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
    field_keys, hash_key = app.config["CBS_SETTINGS"].privacy_keys()
    app.extensions["cbs_keyring"] = KeyRing(field_keys, hash_key)


def keyring() -> KeyRing:
    return current_app.extensions["cbs_keyring"]
