"""Who keeps a school's committee and plan.

The school side: the school's own organization and the school's own district (the organization
its `district_id` names), acting with committees:write (coordinators and org admins), and
network admins. Another district is not the school side, whatever its kind. The district party
(who approves a plan) is the school's own district or network admins, never the school itself. A
school without a district has no district party but network admins.

Everyone in the network reads committees and plans; a member's email and a decision's reason
are shown only to the school side and to the organization the member represents.
"""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from cbs_network.directory.models import School
from cbs_network.core.errors import Forbidden
from cbs_network.identity.principal import Principal
from cbs_network.organizations.models import Organization, OrganizationKind


def _acts_for(principal: Principal, organization_id: uuid.UUID | None) -> bool:
    return organization_id is not None and principal.organization_id == organization_id and principal.has_scope("committees:write")


def is_school_side(principal: Principal, school: School) -> bool:
    return principal.is_network_admin or _acts_for(principal, school.organization_id) or _acts_for(principal, school.district_id)


def require_school_side(principal: Principal, school: School, what: str) -> None:
    if not is_school_side(principal, school):
        raise Forbidden(f"Only the school's side (the school, its own district, or network admins) {what}.")


def is_district(principal: Principal, school: School) -> bool:
    """The school's own district (its coordinators and org admins) or network admins; the school's
    own organization never approves its own plan."""
    if principal.is_network_admin:
        return True
    return _acts_for(principal, school.district_id) and principal.organization_id != school.organization_id


def is_represented(principal: Principal, member_organization_id: uuid.UUID | None) -> bool:
    """The principal acts for the organization a committee member represents."""
    return member_organization_id is not None and member_organization_id == principal.organization_id


def can_see_member_contact(principal: Principal, school: School, member_organization_id: uuid.UUID | None) -> bool:
    """A member's email and a decision's reason: the school side and the organization the member represents."""
    return is_school_side(principal, school) or is_represented(principal, member_organization_id)


def require_nominator(session: Session, principal: Principal) -> Organization:
    """A CBO (with committees:write, which the route requires) puts its own staff forward for any
    school's committee; the school side decides. Returns the nominating organization."""
    organization = session.get(Organization, principal.organization_id)
    if organization is None or organization.kind is not OrganizationKind.cbo:
        raise Forbidden("Only community-based organizations nominate representatives; the school side seats members directly.")
    return organization
