"""Every setting of the hub, read from CBS_* environment variables in this one place."""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

INSTANCE_DIR = Path(os.environ.get("CBS_INSTANCE_DIR", Path.cwd() / "instance"))


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _instance_secret_key() -> str:
    """The embedded default keeps a generated key in instance/ so sessions survive restarts.

    Production sets CBS_SECRET_KEY; a key is never committed.
    """
    return _instance_file("secret_key", lambda: secrets.token_urlsafe(48))


def _instance_file(name: str, make) -> str:
    path = INSTANCE_DIR / name
    if not path.exists():
        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(make())
        path.chmod(0o600)
    return path.read_text().strip()


def _new_field_key() -> str:
    return "k1:" + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def _new_hash_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


@dataclass
class Settings:
    database_url: str = field(
        default_factory=lambda: os.environ.get("CBS_DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'cbs_network.db'}")
    )
    secret_key: str = field(default_factory=lambda: os.environ.get("CBS_SECRET_KEY") or "")
    public_url: str = field(
        default_factory=lambda: os.environ.get("CBS_PUBLIC_URL", f"http://127.0.0.1:{os.environ.get('PORT', '5000')}").rstrip("/")
    )
    environment: str = field(default_factory=lambda: os.environ.get("CBS_ENV", "development"))
    ratelimit_storage_uri: str = field(default_factory=lambda: os.environ.get("CBS_RATELIMIT_STORAGE_URI", "memory://"))
    ratelimit_default: str = field(default_factory=lambda: os.environ.get("CBS_RATELIMIT_DEFAULT", "600 per minute"))
    login_failure_limit: str = field(default_factory=lambda: os.environ.get("CBS_LOGIN_FAILURE_LIMIT", "5 per 15 minutes"))
    login_address_failure_limit: str = field(
        default_factory=lambda: os.environ.get("CBS_LOGIN_ADDRESS_FAILURE_LIMIT", "50 per 15 minutes")
    )
    access_token_ttl: int = field(default_factory=lambda: int(os.environ.get("CBS_ACCESS_TOKEN_TTL", "900")))
    refresh_token_ttl: int = field(default_factory=lambda: int(os.environ.get("CBS_REFRESH_TOKEN_TTL", str(14 * 24 * 3600))))
    idempotency_ttl_hours: int = field(default_factory=lambda: int(os.environ.get("CBS_IDEMPOTENCY_TTL_HOURS", "24")))
    # How long a program's verification (HSDS assured_date) holds before it is due again.
    # Students' personal fields are encrypted under these AES-256 keys: "id:base64url-key" pairs,
    # comma-separated, the first encrypting and all decrypting (rotation: put a new key first,
    # run `flask cbs rotate-keys`, then drop the old one).
    field_keys: str = field(default_factory=lambda: os.environ.get("CBS_FIELD_KEYS", ""))
    # The HMAC key of the district student id's keyed hash (base64url, 32 bytes).
    subject_hash_key: str = field(default_factory=lambda: os.environ.get("CBS_SUBJECT_HASH_KEY", ""))
    # The audit chain's HMAC-SHA256 keys, "id:base64url-key" pairs like the field keys: the first
    # signs new records and checkpoints, all verify (rotation: put a new key first; keep the old
    # one listed while records signed with it are to be verified).
    audit_keys: str = field(default_factory=lambda: os.environ.get("CBS_AUDIT_KEYS", ""))
    log_level: str = field(default_factory=lambda: os.environ.get("CBS_LOG_LEVEL", "INFO"))
    sql_echo: bool = field(default_factory=lambda: _bool(os.environ.get("CBS_SQL_ECHO")))

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    def privacy_keys(self) -> tuple[str, str]:
        """(field keys, subject hash key); the embedded default generates them once in instance/."""
        if self.field_keys and self.subject_hash_key:
            return self.field_keys, self.subject_hash_key
        if self.is_production:
            raise RuntimeError("CBS_FIELD_KEYS and CBS_SUBJECT_HASH_KEY must be set in production")
        return (
            self.field_keys or _instance_file("field_keys", _new_field_key),
            self.subject_hash_key or _instance_file("subject_hash_key", _new_hash_key),
        )

    def field_keys_source(self) -> Callable[[], str] | None:
        """Re-reads the field keys where a running process can see them change: instance/field_keys.
        A process's environment is fixed, so CBS_FIELD_KEYS takes a restart."""
        if self.field_keys or self.is_production:
            return None
        path = INSTANCE_DIR / "field_keys"
        return lambda: path.read_text().strip()

    def audit_key_spec(self) -> str:
        """CBS_AUDIT_KEYS; the embedded default generates one key once in instance/."""
        if self.audit_keys:
            return self.audit_keys
        if self.is_production:
            raise RuntimeError("CBS_AUDIT_KEYS must be set in production")
        return _instance_file("audit_keys", _new_field_key)

    def flask_config(self) -> dict:
        secret_key = self.secret_key
        if not secret_key:
            if self.is_production:
                raise RuntimeError("CBS_SECRET_KEY must be set in production")
            secret_key = _instance_secret_key()
        return {
            "SECRET_KEY": secret_key,
            "CBS_SETTINGS": self,
            "MAX_CONTENT_LENGTH": 1024 * 1024,
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "SESSION_COOKIE_SECURE": self.public_url.startswith("https://"),
            "API_TITLE": "CBS Network Hub",
            "API_VERSION": "1.0.0",
            "OPENAPI_VERSION": "3.1.0",
            "OPENAPI_URL_PREFIX": "/api",
            "OPENAPI_JSON_PATH": "openapi.json",
            "RATELIMIT_STORAGE_URI": self.ratelimit_storage_uri,
            "RATELIMIT_DEFAULT": self.ratelimit_default,
            "RATELIMIT_HEADERS_ENABLED": True,
            "RATELIMIT_KEY_PREFIX": "cbs",
            "RATELIMIT_STRATEGY": "moving-window",
            "OAUTH2_TOKEN_EXPIRES_IN": {
                "authorization_code": self.access_token_ttl,
                "client_credentials": self.access_token_ttl,
                "refresh_token": self.access_token_ttl,
            },
            "OAUTH2_REFRESH_TOKEN_GENERATOR": True,
        }
