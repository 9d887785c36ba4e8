"""Bearer-token authentication of /api/v1 requests and the principal it yields.

Effective permission = token scopes ∩ the role the acting user (or the client's ceiling) holds
in the acting organization; object policy is applied by each domain's service.
"""

from __future__ import annotations

from authlib.integrations.flask_oauth2 import ResourceProtector
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6750 import BearerTokenValidator
from flask import g, request
from sqlalchemy import select
from sqlalchemy.orm import lazyload

from cbs_network.core.db import session as db_session
from cbs_network.core.errors import DomainError
from cbs_network.identity.models import Membership, User
from cbs_network.identity.principal import Principal
from cbs_network.oauth.models import OAuthClient, OAuthToken, token_hash
from cbs_network.oauth.service import refusal
from cbs_network.organizations.models import Organization

REALM = "cbs-network"


class Unauthorized(DomainError):
    status, slug, title = 401, "unauthorized", "Unauthorized"


class InsufficientScope(DomainError):
    status, slug, title = 403, "forbidden", "Forbidden"


TokenRow = tuple[OAuthToken, OAuthClient, Organization, User | None, Membership | None]


def bearer_token_string() -> str | None:
    """The bearer token of the request's Authorization header, split as Authlib splits it."""
    parts = request.headers.get("Authorization", "").split(None, 1)
    return parts[1] if len(parts) == 2 and parts[0].lower() == "bearer" else None


def lookup_token(token_string: str) -> TokenRow | None:
    """One query for everything a request's permission depends on, checked on every request
    so revocation, suspension and membership changes apply at once on every instance.

    Memoized for the request: the rate limiter's key and authentication both need it, and a
    second query per request would cost every API call."""
    digest = token_hash(token_string)
    this_request = request._get_current_object()  # type: ignore[attr-defined]
    memo = g.get("token_lookup")
    # g can outlive a request (an app context pushed around several): never reuse another's answer
    if memo is not None and memo[0] is this_request and memo[1] == digest:
        return memo[2]
    row = (
        db_session()
        .execute(
            select(OAuthToken, OAuthClient, Organization, User, Membership)
            .join(OAuthClient, OAuthClient.client_id == OAuthToken.client_id)
            .join(Organization, Organization.id == OAuthToken.organization_id)
            .outerjoin(User, User.id == OAuthToken.user_id)
            .outerjoin(
                Membership,
                (Membership.user_id == OAuthToken.user_id) & (Membership.organization_id == OAuthToken.organization_id),
            )
            .where(OAuthToken.access_token_hash == digest)
            # only the rows themselves: eager loads configured for the API's responses would add queries
            .options(
                lazyload(Organization.identifiers),
                lazyload(Organization.contacts),
                lazyload(Membership.organization),
                lazyload(Membership.user),
            )
        )
        .first()
    )
    found = None if row is None else tuple(row)
    g.token_lookup = (this_request, digest, found)
    return found  # type: ignore[return-value]


def usable_token_row() -> TokenRow | None:
    """The request's token if the API would accept it now (found, unexpired, unrevoked, not
    refused), else None."""
    token_string = bearer_token_string()
    row = lookup_token(token_string) if token_string else None
    if row is None:
        return None
    token = row[0]
    if token.is_expired() or token.is_revoked() or refusal(*row):
        return None
    return row


class HashedBearerTokenValidator(BearerTokenValidator):
    def authenticate_token(self, token_string: str) -> OAuthToken | None:
        row = lookup_token(token_string)
        if row is None:
            return None
        token, client, organization, user, membership = row
        g.token_context = (client, organization, user, membership)
        return token


class HubResourceProtector(ResourceProtector):
    def raise_error_response(self, error: OAuth2Error) -> None:
        if error.error == "missing_authorization":
            # RFC 6750 §3.1: no error code when the request carried no credentials at all.
            raise Unauthorized(
                "This operation needs a bearer access token.",
                headers={"WWW-Authenticate": f'Bearer realm="{REALM}"'},
            )
        detail = "The access token is invalid, expired or revoked."
        raise Unauthorized(detail, headers=_www_authenticate("invalid_token", detail))


resource_protector = HubResourceProtector()
resource_protector.register_token_validator(HashedBearerTokenValidator(realm=REALM))


def _www_authenticate(error: str, description: str, scope: str | None = None) -> dict[str, str]:
    value = f'Bearer realm="{REALM}", error="{error}", error_description="{description}"'
    if scope:
        value += f', scope="{scope}"'
    return {"WWW-Authenticate": value}


def _reject(description: str) -> Unauthorized:
    return Unauthorized(description, headers=_www_authenticate("invalid_token", description))


def authenticate(scopes: tuple[str, ...] | list[str]) -> Principal:
    """Resolve the request's token into g.principal, or raise 401/403."""
    try:
        token: OAuthToken = resource_protector.acquire_token()
    except OAuth2Error as error:
        resource_protector.raise_error_response(error)
    client, organization, user, membership = g.pop("token_context")
    reason = refusal(token, client, organization, user, membership)
    if reason:
        raise _reject(reason)
    role = client.role_ceiling if membership is None else membership.role.capped_by(client.role_ceiling)
    principal = Principal(
        organization_id=token.organization_id,
        role=role,
        token_scopes=frozenset(token.scope.split()),
        client_id=token.client_id,
        user_id=token.user_id,
    )
    missing = [s for s in scopes if not principal.has_scope(s)]
    if missing:
        granted = " ".join(missing)
        if all(s in principal.token_scopes for s in missing):
            detail = f"Your role ({role}) in the acting organization does not allow: {granted}."
        else:
            detail = f"The token lacks the scope(s): {granted}."
        raise InsufficientScope(detail, headers=_www_authenticate("insufficient_scope", detail, scope=" ".join(scopes)))
    g.principal = principal
    return principal
