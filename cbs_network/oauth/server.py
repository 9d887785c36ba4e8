"""The Authlib authorization server: token, revocation (RFC 7009) and introspection (RFC 7662)
endpoints, and the server metadata document (RFC 8414).

Tokens are opaque random strings stored only as SHA-256 hashes; the API looks them up on every
request (cbs_network.http.security), so a revocation is effective on every instance at once.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from authlib.common.security import generate_token
from authlib.consts import default_json_headers
from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7009 import RevocationEndpoint as _RevocationEndpoint
from authlib.oauth2.rfc7662 import IntrospectionEndpoint as _IntrospectionEndpoint
from flask import Flask, current_app
from sqlalchemy import select

from cbs_network.core.db import session as db_session
from cbs_network.core.db import utcnow
from cbs_network.identity.roles import SCOPES
from cbs_network.oauth import service
from cbs_network.oauth.grants import (
    ALL_AUTH_METHODS,
    CONFIDENTIAL_AUTH_METHODS,
    AuthorizationCodeGrant,
    ClientCredentialsGrant,
    RefreshTokenGrant,
    S256CodeChallenge,
)
from cbs_network.oauth.models import OAuthClient, OAuthToken, token_hash
from cbs_network.organizations.models import OrganizationKind

GRANT_TYPES = ["authorization_code", "client_credentials", "refresh_token"]
REVOCATION_AUTH_METHODS = ALL_AUTH_METHODS  # public clients may revoke their own tokens
INTROSPECTION_AUTH_METHODS = CONFIDENTIAL_AUTH_METHODS


def _settings():
    return current_app.config["CBS_SETTINGS"]


def _expires_in(client: OAuthClient, grant_type: str) -> int:
    # Read per request, not at init_app: one server object serves every app (tests run several).
    configured = current_app.config.get("OAUTH2_TOKEN_EXPIRES_IN") or {}
    return int(configured.get(grant_type) or _settings().access_token_ttl)


class RevocationEndpoint(_RevocationEndpoint):
    CLIENT_AUTH_METHODS = REVOCATION_AUTH_METHODS

    def query_token(self, token_string, token_type_hint):
        found = service.find_token(db_session(), token_string)
        return found.token if found else None

    def revoke_token(self, token, request):
        if token.refresh_token_hash == token_hash(request.form["token"]):
            # A refresh token stands for the whole authorization: end all of it.
            service.revoke_family(db_session(), token.family_id)
        elif token.access_revoked_at is None:
            token.access_revoked_at = utcnow()


class IntrospectionEndpoint(_IntrospectionEndpoint):
    CLIENT_AUTH_METHODS = INTROSPECTION_AUTH_METHODS

    def create_endpoint_response(self, request):
        client = self.authenticate_endpoint_client(request)
        self.check_params(request, client)
        session = db_session()
        found = service.find_token(session, request.form["token"])
        body: dict[str, Any] = {"active": False}
        if found and self.check_permission(found.token, client, request) and service.is_usable(session, found):
            body = self._describe(found)
        return 200, body, default_json_headers

    def check_permission(self, token, client, request):
        # A client may look at its own tokens; the hub's own clients (resource servers and
        # operators) at any.
        return token.client_id == client.client_id or client.organization.kind == OrganizationKind.network_hub

    @staticmethod
    def _describe(found: service.FoundToken) -> dict[str, Any]:
        token = found.token
        expires_at = token.refresh_expires_at if found.is_refresh else token.expires_at
        body: dict[str, Any] = {
            "active": True,
            "scope": token.scope,
            "client_id": token.client_id,
            "iat": int(token.issued_at.timestamp()),
            "exp": int(expires_at.timestamp()) if expires_at else None,
            "sub": str(token.user_id) if token.user_id else None,
            "organization_id": str(token.organization_id),
            "token_type": "refresh_token" if found.is_refresh else token.token_type,
            "iss": _settings().public_url,
        }
        return {k: v for k, v in body.items() if v is not None}


class HubAuthorizationServer(AuthorizationServer):
    def __init__(self) -> None:
        super().__init__()
        # Unknown scopes get invalid_scope instead of being silently dropped.
        self.scopes_supported = list(SCOPES)
        self.register_token_generator(
            "default",
            BearerTokenGenerator(lambda **_: generate_token(42), lambda **_: generate_token(48), _expires_in),
        )
        self.register_grant(ClientCredentialsGrant)
        self.register_grant(AuthorizationCodeGrant, [S256CodeChallenge(required=True)])
        self.register_grant(RefreshTokenGrant)
        self.register_endpoint(RevocationEndpoint)
        self.register_endpoint(IntrospectionEndpoint)

    def init_app(self, app: Flask, query_client=None, save_token=None) -> None:
        # Configuration is read from current_app when needed, so nothing app-specific is kept
        # here (Authlib's load_config would let the last app initialised win).
        app.extensions["cbs_authorization"] = self
        app.extensions["cbs_login_throttle"] = service.LoginThrottle(app)

    def query_client(self, client_id: str) -> OAuthClient | None:
        return db_session().scalar(select(OAuthClient).where(OAuthClient.client_id == client_id, OAuthClient.is_active.is_(True)))

    def save_token(self, token: dict[str, Any], request) -> None:
        """Store hashes only; the plaintext exists in the response alone. Committed by the
        token route once the whole grant (code deletion, refresh rotation) has succeeded."""
        client: OAuthClient = request.client
        grant_type = request.payload.grant_type
        refresh = token.get("refresh_token")
        refresh_expires_at = None
        code_hash = None
        if grant_type == "refresh_token":
            # Same family, and the family's original deadline: rotation does not extend a
            # sign-in forever.
            previous: OAuthToken = request.refresh_token
            organization_id, family_id = previous.organization_id, previous.family_id
            refresh_expires_at = previous.refresh_expires_at
            code_hash = previous.authorization_code_hash
        elif grant_type == "authorization_code":
            organization_id, family_id = request.authorization_code.organization_id, uuid.uuid4()
        else:
            organization_id, family_id = client.organization_id, uuid.uuid4()
        if refresh and refresh_expires_at is None:
            refresh_expires_at = utcnow() + timedelta(seconds=_settings().refresh_token_ttl)
        session = db_session()
        session.add(
            OAuthToken(
                client_id=client.client_id,
                user_id=request.user.id if request.user else None,
                organization_id=organization_id,
                family_id=family_id,
                token_type=token["token_type"],
                scope=token.get("scope", ""),
                access_token_hash=token_hash(token["access_token"]),
                refresh_token_hash=token_hash(refresh) if refresh else None,
                authorization_code_hash=(
                    request.authorization_code.code_hash if grant_type == "authorization_code" else code_hash
                ),
                issued_at=utcnow(),
                expires_in=token["expires_in"],
                refresh_expires_at=refresh_expires_at if refresh else None,
            )
        )
        session.flush()


authorization = HubAuthorizationServer()


def init_app(app: Flask) -> None:
    authorization.init_app(app)


def metadata() -> dict[str, Any]:
    """RFC 8414 authorization server metadata; the issuer is the configured public URL."""
    base = _settings().public_url
    return {
        "issuer": base,
        "authorization_endpoint": f"{base}/oauth/authorize",
        "token_endpoint": f"{base}/oauth/token",
        "revocation_endpoint": f"{base}/oauth/revoke",
        "introspection_endpoint": f"{base}/oauth/introspect",
        "scopes_supported": list(SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": GRANT_TYPES,
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ALL_AUTH_METHODS,
        "revocation_endpoint_auth_methods_supported": REVOCATION_AUTH_METHODS,
        "introspection_endpoint_auth_methods_supported": INTROSPECTION_AUTH_METHODS,
        "service_documentation": f"{base}/docs",
    }
