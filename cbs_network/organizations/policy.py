"""Who may do what to organizations.

Every member of the network may read the list of members (it is the network's directory of
partners). Network admins onboard organizations and change their status; an organization's own
admins keep its profile current.
"""

from __future__ import annotations

from cbs_network.core.errors import Forbidden
from cbs_network.identity.principal import Principal
from cbs_network.organizations.models import Organization


def require_create(principal: Principal) -> None:
    if not principal.is_network_admin:
        raise Forbidden("Only network admins add organizations to the network.")


def require_update(principal: Principal, organization: Organization, changes: dict) -> None:
    if principal.is_network_admin:
        return
    if not principal.is_admin_of(organization.id):
        raise Forbidden("Only the organization's own admins or network admins may change it.")
    for field in ("status", "kind", "parent_id"):
        if field in changes and changes[field] != getattr(organization, field):
            raise Forbidden(f"Only network admins change an organization's {field}.")
