"""Who may see and change programs.

Every network member reads the directory, except drafts: a draft is the owning organization's
work in progress, seen only by it and network admins (the public sees no drafts either). Only
the owning organization's coordinators and org admins, or network admins, change a program.
"""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, or_, true

from ...errors import Forbidden
from ...identity.principal import Principal
from ...identity.roles import Role
from ..models import Location, Program, ProgramStatus

EDITOR_ROLES = (Role.coordinator, Role.org_admin)


def visible(principal: Principal | None) -> ColumnElement[bool]:
    """SQL: the programs `principal` may see (None: the public)."""
    if principal is not None and principal.is_network_admin:
        return true()
    published = Program.status != ProgramStatus.draft
    if principal is None:
        return published
    return or_(published, Program.organization_id == principal.organization_id)


def sees_confidential(principal: Principal | None) -> ColumnElement[bool]:
    """SQL: the locations whose address and coordinates `principal` may use."""
    if principal is not None and principal.is_network_admin:
        return true()
    public = Location.is_confidential.is_(False)
    if principal is None:
        return public
    return or_(public, Location.organization_id == principal.organization_id)


def can_edit(principal: Principal, organization_id: uuid.UUID) -> None:
    if principal.is_network_admin:
        return
    if principal.organization_id != organization_id or principal.role not in EDITOR_ROLES:
        raise Forbidden("Only the owning organization's coordinators and admins, or network admins, change its programs.")
