"""Who may see and keep an organization's OAuth clients.

An organization's clients are its own business: its members see them, network admins see every
one; anyone else gets 404, as for an id that does not exist. The organization's admins (or
network admins) register and change them, never above their own role, and only network admins
let a client act for organizations other than its own.
"""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, true

from cbs_network.core.errors import Forbidden, NotFound
from cbs_network.identity.principal import Principal
from cbs_network.identity.roles import Role
from cbs_network.oauth.models import OAuthClient


def visible(principal: Principal) -> ColumnElement[bool]:
    """SQL: the clients `principal` may see."""
    if principal.is_network_admin:
        return true()
    return OAuthClient.organization_id == principal.organization_id


def can_see(principal: Principal, client: OAuthClient) -> bool:
    return principal.is_network_admin or client.organization_id == principal.organization_id


def require_visible(principal: Principal, client: OAuthClient | None) -> OAuthClient:
    if client is None or not can_see(principal, client):
        raise NotFound("No OAuth client with this id.")
    return client


def require_admin(principal: Principal, organization_id: uuid.UUID, what: str) -> None:
    """`what`: the clause after "Only the organization's admins or network admins", e.g. "change its clients"."""
    if not principal.is_admin_of(organization_id):
        raise Forbidden(f"Only the organization's admins or network admins {what}.")


def require_ceiling(principal: Principal, role: Role) -> None:
    if role.rank > principal.role.rank:
        raise Forbidden(f"You cannot register a client with a role ceiling ({role}) above your own role ({principal.role}).")


def require_network_wide(principal: Principal) -> None:
    if not principal.is_network_admin:
        raise Forbidden("Only network admins let a client act for organizations other than its own.")
