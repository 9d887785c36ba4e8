"""OAuth client registration by organizations' admins. Secrets are shown once, stored hashed."""

from __future__ import annotations

import ipaddress
import re
import secrets
import uuid
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from cbs_network.audit import service as audit
from cbs_network.core.db import utcnow
from cbs_network.core.errors import ValidationFailed
from cbs_network.events.service import record_event
from cbs_network.http.etag import check_version
from cbs_network.http.schemas import REDIRECT_URI_PATTERN
from cbs_network.identity.principal import Principal
from cbs_network.oauth.clients import policy
from cbs_network.oauth.models import OAuthClient, OAuthToken, token_hash
from cbs_network.oauth.service import revoke_tokens
from cbs_network.organizations.models import Organization

AUDITED = (
    "name",
    "description",
    "redirect_uris",
    "grant_types",
    "scope",
    "token_endpoint_auth_method",
    "role_ceiling",
    "is_active",
    "network_wide",
)


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40] or "client"


def _is_loopback(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


def _check_redirect_uris(uris: list[str], *, allow_insecure: bool) -> None:
    problems = {}
    for n, uri in enumerate(uris):
        # The request schema checks the shape too; `flask cbs create-client` comes straight here.
        if not re.fullmatch(REDIRECT_URI_PATTERN, uri):
            problems[str(n)] = ["Must be an http or https URL without a fragment."]
            continue
        parts = urlsplit(uri)  # after the pattern: urlsplit raises on some malformed hosts
        if parts.scheme.lower() != "https" and not (allow_insecure or _is_loopback(parts.hostname)):
            problems[str(n)] = ["Must use https (http only on a loopback address)."]
    if problems:
        raise ValidationFailed("A redirect URI is not acceptable.", errors={"json": {"redirect_uris": problems}})


def _check_shape(data: dict[str, Any], *, allow_insecure: bool) -> None:
    grant_types = set(data["grant_types"])
    public = data["token_endpoint_auth_method"] == "none"
    if public and "client_credentials" in grant_types:
        raise ValidationFailed(
            "A public client cannot use client credentials.",
            errors={"json": {"grant_types": ["client_credentials needs a confidential client."]}},
        )
    if "refresh_token" in grant_types and "authorization_code" not in grant_types:
        raise ValidationFailed(
            "refresh_token only comes with authorization_code.",
            errors={"json": {"grant_types": ["Add authorization_code or drop refresh_token."]}},
        )
    if "authorization_code" in grant_types and not data.get("redirect_uris"):
        raise ValidationFailed(
            "The authorization-code flow needs a redirect URI.", errors={"json": {"redirect_uris": ["At least one is required."]}}
        )
    _check_redirect_uris(data.get("redirect_uris") or [], allow_insecure=allow_insecure)


def _view(client: OAuthClient) -> dict[str, Any]:
    return audit.snapshot(client, AUDITED)


def get(*, session: Session, principal: Principal, client_uuid: uuid.UUID) -> OAuthClient:
    return policy.require_visible(principal, session.get(OAuthClient, client_uuid))


def list_query(
    *, principal: Principal, organization_id: uuid.UUID | None = None, is_active: bool | None = None, **_page: Any
) -> Select:
    query = select(OAuthClient).where(policy.visible(principal))
    if organization_id is not None:
        query = query.where(OAuthClient.organization_id == organization_id)
    if is_active is not None:
        query = query.where(OAuthClient.is_active == is_active)
    return query


def register(
    *, session: Session, principal: Principal, data: dict[str, Any], allow_insecure_redirects: bool = False
) -> tuple[OAuthClient, str | None]:
    organization_id = data.pop("organization_id", None) or principal.organization_id
    policy.require_admin(principal, organization_id, "register its clients")
    if session.get(Organization, organization_id) is None:
        raise ValidationFailed("No organization with this id.", errors={"json": {"organization_id": ["Unknown organization."]}})
    policy.require_ceiling(principal, data["role_ceiling"])
    if data.get("network_wide"):
        policy.require_network_wide(principal)
    _check_shape(data, allow_insecure=allow_insecure_redirects)
    public = data["token_endpoint_auth_method"] == "none"
    secret = None if public else new_secret()
    client = OAuthClient(
        id=uuid.uuid4(),
        client_id=f"{_slug(data['name'])}-{secrets.token_hex(4)}",
        client_secret_hash=token_hash(secret) if secret else None,
        organization_id=organization_id,
        name=data["name"],
        description=data.get("description"),
        redirect_uris=data.get("redirect_uris") or [],
        grant_types=sorted(set(data["grant_types"])),
        scope=" ".join(sorted(set(data["scopes"]))),
        token_endpoint_auth_method=data["token_endpoint_auth_method"],
        role_ceiling=data["role_ceiling"],
        network_wide=data.get("network_wide", False),
        created_by_user_id=principal.user_id,
    )
    session.add(client)
    session.flush()
    audit.record(
        session,
        principal=principal,
        action="oauth_client.created",
        object_type="oauth_client",
        object_id=client.id,
        changes=audit.diff({}, _view(client)),
    )
    record_event(
        session,
        type="oauth_client.created",
        object_type="oauth_client",
        object_id=client.id,
        principal=principal,
        payload={"client_id": client.client_id, "organization_id": organization_id},
        audience=[organization_id],
    )
    return client, secret


def update_client(
    *,
    session: Session,
    principal: Principal,
    client_uuid: uuid.UUID,
    data: dict[str, Any],
    expected_version: int,
    allow_insecure_redirects: bool = False,
) -> OAuthClient:
    client = get(session=session, principal=principal, client_uuid=client_uuid)
    policy.require_admin(principal, client.organization_id, "change its clients")
    check_version(client, expected_version)
    if "role_ceiling" in data:
        policy.require_ceiling(principal, data["role_ceiling"])
    if data.get("network_wide", client.network_wide) != client.network_wide:
        policy.require_network_wide(principal)
    if "scopes" in data:
        data["scope"] = " ".join(sorted(set(data.pop("scopes"))))
    shape = {
        "grant_types": client.grant_types,
        "token_endpoint_auth_method": client.token_endpoint_auth_method,
        "redirect_uris": data.get("redirect_uris", client.redirect_uris),
    }
    _check_shape(shape, allow_insecure=allow_insecure_redirects)
    before = _view(client)
    for name, value in data.items():
        setattr(client, name, value)
    changes = audit.diff(before, _view(client))
    if changes:
        session.flush()
        audit.record(
            session,
            principal=principal,
            action="oauth_client.updated",
            object_type="oauth_client",
            object_id=client.id,
            changes=changes,
        )
    return client


def rotate_secret(*, session: Session, principal: Principal, client_uuid: uuid.UUID) -> tuple[OAuthClient, str]:
    """A new secret replaces the old one at once; tokens already issued stay valid until they expire."""
    client = get(session=session, principal=principal, client_uuid=client_uuid)
    policy.require_admin(principal, client.organization_id, "rotate its clients' secrets")
    if client.is_public:
        raise ValidationFailed("A public client has no secret to rotate.")
    if not client.is_active:
        raise ValidationFailed("The client is deactivated.")
    secret = new_secret()
    client.client_secret_hash = token_hash(secret)
    client.secret_rotated_at = utcnow()
    session.flush()
    audit.record(
        session,
        principal=principal,
        action="oauth_client.secret_rotated",
        object_type="oauth_client",
        object_id=client.id,
        changes={"client_secret": {"before": audit.MASK, "after": audit.MASK}},
    )
    return client, secret


def deactivate(*, session: Session, principal: Principal, client_uuid: uuid.UUID, expected_version: int) -> None:
    """Clients are deactivated, not deleted, so the audit log's client ids keep their meaning."""
    client = get(session=session, principal=principal, client_uuid=client_uuid)
    policy.require_admin(principal, client.organization_id, "deactivate its clients")
    check_version(client, expected_version)
    if not client.is_active:
        return
    client.is_active = False
    revoke_tokens(session, OAuthToken.client_id == client.client_id)
    session.flush()
    audit.record(
        session,
        principal=principal,
        action="oauth_client.deactivated",
        object_type="oauth_client",
        object_id=client.id,
        changes={"is_active": {"before": True, "after": False}},
    )
    record_event(
        session,
        type="oauth_client.deactivated",
        object_type="oauth_client",
        object_id=client.id,
        principal=principal,
        payload={"client_id": client.client_id},
        audience=[client.organization_id],
    )
