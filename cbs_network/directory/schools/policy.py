"""Who may see and change schools.

Every network member with directory:read reads every school (the roster is the network's shared
map). A school's entry is kept by its own district: the org admins and coordinators acting for
the organization its `district_id` names. A district adds schools to itself only. Network admins
keep every school, and only they move a school to another district (or leave it without one); a
school without a district is kept by network admins alone. The HSDS public API (principal None)
reads through the same list query.
"""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from cbs_network.core.errors import Forbidden
from cbs_network.directory.models import School
from cbs_network.identity.principal import Principal
from cbs_network.identity.roles import Role
from cbs_network.organizations.models import Organization, OrganizationKind

EDITOR_ROLES = (Role.org_admin, Role.coordinator)


def is_district_editor(principal: Principal, district_id: uuid.UUID | None) -> bool:
    """The principal keeps the roster of this district: one of its admins or coordinators."""
    return district_id is not None and principal.role in EDITOR_ROLES and principal.organization_id == district_id


def can_edit(principal: Principal, school: School) -> bool:
    return principal.is_network_admin or is_district_editor(principal, school.district_id)


def require_edit(principal: Principal, school: School) -> None:
    if not can_edit(principal, school):
        raise Forbidden("Only the school's own district (its org admins and coordinators) or network admins change this school.")


def require_create(session: Session, principal: Principal, district_id: uuid.UUID | None) -> None:
    """Network admins add any school; a school district's admins and coordinators add schools to
    their own district only."""
    if principal.is_network_admin:
        return
    organization = session.get(Organization, principal.organization_id)
    if organization is None or organization.kind is not OrganizationKind.school_district or principal.role not in EDITOR_ROLES:
        raise Forbidden("Only a school district's admins and coordinators, or network admins, add schools.")
    if not is_district_editor(principal, district_id):
        raise Forbidden("A district adds schools to itself only: leave district_id out, or give your own organization's id.")


def require_change_district(principal: Principal) -> None:
    if not principal.is_network_admin:
        raise Forbidden("Only network admins move a school to another district.")
