"""Who may see and change capacity profiles.

A profile is seen by whoever may see its program (every network member, except a draft's, which
only its organization and network admins see: the program's visibility, reused). Only the owning
organization's members holding capacity:write (its caseworkers and up), or network admins,
change it: CBO staff keep their own numbers current.
"""

from __future__ import annotations

from cbs_network.core.errors import Forbidden
from cbs_network.directory.models import Program
from cbs_network.identity.principal import Principal


def require_update(principal: Principal, program: Program) -> None:
    if principal.is_network_admin:
        return
    if principal.organization_id != program.organization_id or not principal.has_scope("capacity:write"):
        raise Forbidden("Only the program's organization (its caseworkers and up), or network admins, update its capacity.")
