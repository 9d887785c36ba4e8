"""Who keeps a school's committee and plan: the school side.

That is the school's own organization and any school district organization (coordinators and
org admins, who hold committees:write), and network admins. Everyone in the network reads
committees and plans; a member's email is shown only to the school side and to the
organization the member represents.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from ..directory.models import School
from ..errors import Forbidden
from ..identity.principal import Principal
from ..organizations.models import Organization, OrganizationKind


def is_school_side(session: Session, principal: Principal, school: School) -> bool:
    if principal.is_network_admin:
        return True
    if not principal.has_scope("committees:write"):
        return False
    if school.organization_id is not None and school.organization_id == principal.organization_id:
        return True
    organization = session.get(Organization, principal.organization_id)
    return organization is not None and organization.kind is OrganizationKind.school_district


def require_school_side(session: Session, principal: Principal, school: School, what: str) -> None:
    if not is_school_side(session, principal, school):
        raise Forbidden(f"Only the school's side (the school, its district, or network admins) {what}.")
