"""Who may read the audit log: network admins only (organizations see their own history through
each domain's records and events, never the log itself)."""

from __future__ import annotations

from cbs_network.core.errors import Forbidden
from cbs_network.identity.principal import Principal


def can_read(principal: Principal) -> bool:
    return principal.is_network_admin


def require_read(principal: Principal) -> None:
    if not can_read(principal):
        raise Forbidden("Only network admins may read the audit log.")
