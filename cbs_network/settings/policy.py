"""Who may change the network's directory settings: network admins only (every member reads them)."""

from __future__ import annotations

from cbs_network.core.errors import Forbidden
from cbs_network.identity.principal import Principal


def can_update(principal: Principal) -> bool:
    return principal.is_network_admin


def require_update(principal: Principal) -> None:
    if not can_update(principal):
        raise Forbidden("Only network admins change the network's directory settings.")
