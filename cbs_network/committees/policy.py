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

from cbs_network.committees.committees.transitions import MEMBER_TRANSITIONS
from cbs_network.committees.committees.transitions import Party as MemberParty
from cbs_network.committees.models import CommitteeMember, MemberStatus, PlanState, SafetyPlan
from cbs_network.committees.plans.transitions import TRANSITIONS as PLAN_TRANSITIONS
from cbs_network.committees.plans.transitions import Party as PlanParty
from cbs_network.core.errors import Forbidden
from cbs_network.core.workflow import allowed_from
from cbs_network.directory.models import School
from cbs_network.identity.principal import Principal
from cbs_network.organizations.models import Organization, OrganizationKind


def _acts_for(principal: Principal, organization_id: uuid.UUID | None) -> bool:
    return (
        organization_id is not None and principal.organization_id == organization_id and principal.has_scope("committees:write")
    )


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


def require_keep_jurisdictions(principal: Principal) -> None:
    if not principal.is_network_admin:
        raise Forbidden("Only network admins keep the jurisdictions' rules.")


def member_parties(principal: Principal, school: School, member_organization_id: uuid.UUID | None) -> set[MemberParty]:
    """The sides of the member state machine `principal` acts as for a member of this school's committee."""
    found = set()
    if is_school_side(principal, school):
        found.add(MemberParty.school)
    if is_represented(principal, member_organization_id):
        found.add(MemberParty.represented)
    return found


def require_member_party(principal: Principal, school: School, member: CommitteeMember, to: MemberStatus) -> None:
    """The move of `member` to `to` (a move the table knows) is `principal`'s to make."""
    start = member.status
    allowed = MEMBER_TRANSITIONS[(start, to)]
    if not allowed & member_parties(principal, school, member.organization_id):
        who = "the school side (the school, its own district or network admins)"
        if MemberParty.represented in allowed:
            who += " or the organization the member represents"
        raise Forbidden(f"Only {who} may move a member from {start.value} to {to.value}.")


def plan_parties(principal: Principal, school: School) -> set[PlanParty]:
    """The sides of the plan state machine `principal` acts as for this school's plan."""
    found = set()
    if is_school_side(principal, school):
        found.add(PlanParty.school)
    if is_district(principal, school):
        found.add(PlanParty.district)
    return found


def require_plan_mover(principal: Principal, school: School) -> None:
    """Asked before the move itself is judged: someone with no side learns nothing of the plan's state machine."""
    if not plan_parties(principal, school):
        raise Forbidden("Only the school's side (the school, its own district, or network admins) moves its safety plan.")


def require_plan_party(principal: Principal, school: School, plan: SafetyPlan, to: PlanState) -> None:
    """The move of `plan` to `to` (a move the table knows) is `principal`'s to make."""
    start = plan.state
    party = PLAN_TRANSITIONS[(start, to)]
    if party not in plan_parties(principal, school):
        raise Forbidden(
            "A safety plan is approved by the school's own district (its coordinators or org admins) or network "
            "admins, not by the school itself."
            if party is PlanParty.district
            else f"Only the school's side may move a safety plan from {start.value} to {to.value}.",
            allowed_transitions=allowed_from(PLAN_TRANSITIONS, start),
        )
