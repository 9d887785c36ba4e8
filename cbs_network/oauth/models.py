"""OAuth clients, authorization codes and tokens. Secrets, codes and tokens are stored hashed."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import datetime, timedelta

from authlib.oauth2.rfc6749 import ClientMixin, TokenMixin
from authlib.oauth2.rfc6749.util import list_to_scope, scope_to_list
from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cbs_network.core.db import Base, IdMixin, TimestampMixin, VersionedMixin, utcnow
from cbs_network.identity.roles import Role
from cbs_network.organizations.models import Organization, enum_column


def token_hash(value: str) -> str:
    """Tokens and codes are high-entropy random strings, so a plain SHA-256 is enough to
    make a stolen database useless for calling the API (RFC 6819 §5.1.4.1.3)."""
    return hashlib.sha256(value.encode()).hexdigest()


class OAuthClient(IdMixin, TimestampMixin, VersionedMixin, Base, ClientMixin):
    __tablename__ = "oauth_clients"
    # An organization's clients in keyset order.
    __table_args__ = (Index("ix_oauth_clients_organization_id_created_at_id", "organization_id", "created_at", "id"),)

    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    client_secret_hash: Mapped[str | None] = mapped_column(String(64))
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    redirect_uris: Mapped[list[str]] = mapped_column(JSON, default=list)
    grant_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    scope: Mapped[str] = mapped_column(Text, default="")
    token_endpoint_auth_method: Mapped[str] = mapped_column(String(40), default="client_secret_basic")
    role_ceiling: Mapped[Role] = mapped_column(enum_column(Role, "client_role_ceiling"), default=Role.viewer)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # A client acts only for the organization that registered it, unless network admins let it
    # act for any organization its users belong to (the explorer).
    network_wide: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    secret_rotated_at: Mapped[datetime | None]
    created_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))

    organization: Mapped[Organization] = relationship()

    @property
    def is_public(self) -> bool:
        return self.token_endpoint_auth_method == "none"

    @property
    def scopes(self) -> list[str]:
        return scope_to_list(self.scope) or []

    # --- authlib ClientMixin ---
    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        return self.redirect_uris[0] if self.redirect_uris else None

    def get_allowed_scope(self, scope: str) -> str:
        """The requested scopes the client may have; all of its scopes when none are asked for."""
        if not scope:
            return list_to_scope(self.scopes)
        allowed = set(self.scopes)
        return list_to_scope([s for s in scope_to_list(scope) if s in allowed])

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris  # exact string match (RFC 9700 §4.1.3)

    def check_client_secret(self, client_secret: str) -> bool:
        if not self.client_secret_hash or not self.is_active:
            return False
        return hmac.compare_digest(self.client_secret_hash, token_hash(client_secret))

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if not self.is_active:
            return False
        if endpoint == "token":
            return method == self.token_endpoint_auth_method
        return True

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code" and "authorization_code" in self.grant_types

    def check_grant_type(self, grant_type: str) -> bool:
        return self.is_active and grant_type in self.grant_types


class AuthorizationCode(IdMixin, Base):
    __tablename__ = "oauth_authorization_codes"

    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    redirect_uri: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(Text, default="")
    code_challenge: Mapped[str] = mapped_column(String(128))
    code_challenge_method: Mapped[str] = mapped_column(String(10))
    auth_time: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]

    # --- authlib AuthorizationCodeMixin ---
    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_auth_time(self) -> int:
        return int(self.auth_time.timestamp())

    def get_nonce(self) -> None:
        return None

    def is_expired(self) -> bool:
        return self.expires_at <= utcnow()


class OAuthToken(IdMixin, Base, TokenMixin):
    """One access token and (for user grants) its refresh token.

    Refresh tokens rotate: each use marks the old one used and issues a new token in the same
    family. Presenting a used refresh token again means it leaked, so the whole family is revoked.
    """

    __tablename__ = "oauth_tokens"

    client_id: Mapped[str] = mapped_column(String(64), index=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"), index=True)
    family_id: Mapped[uuid.UUID] = mapped_column(default=uuid.uuid4, index=True)
    token_type: Mapped[str] = mapped_column(String(40), default="Bearer")
    scope: Mapped[str] = mapped_column(Text, default="")
    access_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    refresh_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    # The code this family was issued for, so a code presented again can revoke what it issued.
    authorization_code_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_in: Mapped[int]
    refresh_expires_at: Mapped[datetime | None]
    access_revoked_at: Mapped[datetime | None]
    refresh_used_at: Mapped[datetime | None]
    refresh_revoked_at: Mapped[datetime | None]

    @property
    def expires_at(self) -> datetime:
        return self.issued_at + timedelta(seconds=self.expires_in)

    # --- authlib TokenMixin ---
    def check_client(self, client: OAuthClient) -> bool:
        return self.client_id == client.client_id

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return self.expires_in

    def is_expired(self) -> bool:
        return self.expires_at <= utcnow()

    def is_revoked(self) -> bool:
        return self.access_revoked_at is not None

    def is_refresh_usable(self) -> bool:
        return (
            self.refresh_token_hash is not None
            and self.refresh_used_at is None
            and self.refresh_revoked_at is None
            and (self.refresh_expires_at is None or self.refresh_expires_at > utcnow())
        )
