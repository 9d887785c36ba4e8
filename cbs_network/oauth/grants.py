"""The grants the hub allows: client credentials, authorization code + PKCE S256, refresh with
rotation. No implicit and no password grant (RFC 9700 §2.1.2, §2.4)."""

from __future__ import annotations

from datetime import timedelta

from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import (
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
    UnauthorizedClientError,
)
from authlib.oauth2.rfc6749.util import scope_to_list
from authlib.oauth2.rfc7636 import CodeChallenge
from sqlalchemy import delete, select, update

from cbs_network.core.db import rowcount, utcnow
from cbs_network.core.db import session as db_session
from cbs_network.identity.models import User
from cbs_network.oauth import service
from cbs_network.oauth.models import AuthorizationCode, OAuthToken, token_hash

CONFIDENTIAL_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]
ALL_AUTH_METHODS = [*CONFIDENTIAL_AUTH_METHODS, "none"]
CODE_TTL = timedelta(minutes=5)


class _ScopeRules:
    """Unknown scopes and scopes the client is not registered for are refused, not dropped."""

    def validate_requested_scope(self) -> None:
        scope = self.request.payload.scope  # type: ignore[attr-defined]
        self.server.validate_requested_scope(scope)  # type: ignore[attr-defined]
        not_allowed = set(scope_to_list(scope) or []) - set(self.request.client.scopes)  # type: ignore[attr-defined]
        if not_allowed:
            raise InvalidScopeError(f"The client is not registered for: {' '.join(sorted(not_allowed))}.")


class ClientCredentialsGrant(_ScopeRules, grants.ClientCredentialsGrant):
    # Only clients that can keep a secret (RFC 6749 §4.4); Authlib never adds a refresh token.
    TOKEN_ENDPOINT_AUTH_METHODS = CONFIDENTIAL_AUTH_METHODS

    def validate_token_request(self) -> None:
        super().validate_token_request()
        if self.request.client.organization.status in service.BARRED_STATUSES:
            raise UnauthorizedClientError("The client's organization is not active in the network.")


class S256CodeChallenge(CodeChallenge):
    """PKCE for every client, S256 only: Authlib alone lets a request without a challenge (or
    with `plain`) through and only fails at the token endpoint, or not at all for confidential
    clients (RFC 9700 §2.1.1)."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant, redirect_uri):
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: send code_challenge with code_challenge_method=S256.")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("Only code_challenge_method=S256 is supported.")
        super().validate_code_challenge(grant, redirect_uri)


class AuthorizationCodeGrant(_ScopeRules, grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ALL_AUTH_METHODS

    def save_authorization_code(self, code, request):
        session, now = db_session(), utcnow()
        session.execute(delete(AuthorizationCode).where(AuthorizationCode.expires_at < now))
        session.add(
            AuthorizationCode(
                code_hash=token_hash(code),
                client_id=request.client.client_id,
                user_id=request.user.id,
                # chosen on the consent page (routes.authorize)
                organization_id=request.acting_organization_id,
                # empty when the request relied on the registered URI: then none is expected later
                redirect_uri=request.payload.redirect_uri or "",
                scope=request.scope or "",
                code_challenge=request.payload.data["code_challenge"],
                code_challenge_method=request.payload.data["code_challenge_method"],
                auth_time=now,
                expires_at=now + CODE_TTL,
            )
        )
        session.flush()

    def query_authorization_code(self, code, client):
        session = db_session()
        item = session.scalar(
            select(AuthorizationCode).where(
                AuthorizationCode.code_hash == token_hash(code),
                AuthorizationCode.client_id == client.client_id,
            )
        )
        if item is None:
            # A redeemed code presented again may have leaked: end what it issued (RFC 6749 §4.1.2).
            service.revoke_family_of_reused_code(session, token_hash(code))
            return None
        return None if item.is_expired() else item

    def delete_authorization_code(self, authorization_code):
        # A conditional delete makes redemption single-use even for two concurrent requests:
        # the loser deletes nothing and its token is rolled back.
        result = db_session().execute(delete(AuthorizationCode).where(AuthorizationCode.id == authorization_code.id))
        if rowcount(result) != 1:
            raise InvalidGrantError("The authorization code has already been used.")

    def authenticate_user(self, authorization_code):
        session = db_session()
        user = session.get(User, authorization_code.user_id)
        return user if service.may_act_for(session, user, authorization_code.organization_id) else None


class RefreshTokenGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ALL_AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True  # rotation (RFC 9700 §4.14.2)

    def authenticate_refresh_token(self, refresh_token):
        session = db_session()
        token = service.find_by_refresh_token(session, refresh_token)
        if token is None:
            return None
        if token.refresh_used_at is not None:
            service.revoke_family_after_reuse(session, token)
            return None
        return token if token.is_refresh_usable() else None

    def authenticate_user(self, refresh_token):
        session = db_session()
        user = session.get(User, refresh_token.user_id) if refresh_token.user_id else None
        if not service.may_act_for(session, user, refresh_token.organization_id):
            raise InvalidGrantError("The user may no longer act for this organization.")
        return user

    def revoke_old_credential(self, refresh_token):
        session = db_session()
        result = session.execute(
            update(OAuthToken)
            .where(OAuthToken.id == refresh_token.id, OAuthToken.refresh_used_at.is_(None))
            .values(refresh_used_at=utcnow())
        )
        if rowcount(result) != 1:
            # A concurrent request rotated the same refresh token first: it was presented twice.
            session.rollback()
            service.revoke_family_after_reuse(session, session.get_one(OAuthToken, refresh_token.id))
            raise InvalidGrantError("The refresh token has already been used.")
