"""Who may see and change schools.

Every network member with directory:read reads every school (the roster is the network's shared
map). The district keeps the roster: network admins and the org admins and coordinators of a
school_district organization create and update schools; no one else does. The HSDS public API
(principal None) reads through the same list query.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from ...errors import Forbidden
from ...identity.principal import Principal
from ...identity.roles import Role
from ...organizations.models import Organization, OrganizationKind

EDITOR_ROLES = (Role.org_admin, Role.coordinator)


def can_edit(session: Session, principal: Principal) -> None:
    if principal.is_network_admin:
        return
    if principal.role in EDITOR_ROLES:
        organization = session.get(Organization, principal.organization_id)
        if organization is not None and organization.kind == OrganizationKind.school_district:
            return
    raise Forbidden("Only a school district's admins and coordinators, or network admins, change schools.")
