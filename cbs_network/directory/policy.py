"""The directory's one editing rule for what an organization owns (programs, locations): the
owning organization's coordinators and org admins (who hold directory:write), or network admins."""

from __future__ import annotations

import uuid

from cbs_network.core.errors import Forbidden
from cbs_network.identity.principal import Principal


def can_edit_owned(principal: Principal, organization_id: uuid.UUID) -> bool:
    return principal.is_network_admin or (principal.organization_id == organization_id and principal.has_scope("directory:write"))


def require_edit_owned(principal: Principal, organization_id: uuid.UUID, what: str) -> None:
    if not can_edit_owned(principal, organization_id):
        raise Forbidden(f"Only the owning organization's coordinators and admins, or network admins, change its {what}.")
