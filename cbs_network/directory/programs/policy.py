"""Who may see and change programs.

Every network member reads the directory, except drafts: a draft is the owning organization's
work in progress, seen only by it and network admins (the public sees no drafts either). Only
the owning organization's coordinators and org admins, or network admins, change a program.
"""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, or_, true

from cbs_network.directory.models import Program, ProgramStatus
from cbs_network.directory.policy import require_edit_owned
from cbs_network.identity.principal import Principal


def visible(principal: Principal | None) -> ColumnElement[bool]:
    """SQL: the programs `principal` may see (None: the public)."""
    if principal is not None and principal.is_network_admin:
        return true()
    published = Program.status != ProgramStatus.draft
    if principal is None:
        return published
    return or_(published, Program.organization_id == principal.organization_id)


def require_edit(principal: Principal, organization_id: uuid.UUID) -> None:
    require_edit_owned(principal, organization_id, "programs")
