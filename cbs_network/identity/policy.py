"""Who may see and manage users and memberships.

An organization sees its own members (network admins see everyone); a person sees their own
account and memberships. An account is managed by network admins, the person, and the admins of
the organization that created it: only they learn its sign-in facts, and only that organization
(or network admins) re-sends its activation link. An organization's admins manage its members,
but the network_admin role, and the members who hold it, are network admins' alone. Anything a
caller may not see is a 404, as for an id that does not exist.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, func, select, true
from sqlalchemy.orm import Session

from cbs_network.core.errors import Forbidden, NotFound
from cbs_network.identity.models import Membership, User
from cbs_network.identity.principal import Principal
from cbs_network.identity.roles import Role


def users_visible(principal: Principal) -> ColumnElement[bool]:
    """SQL: the users `principal` may list: the acting organization's (every user for network admins)."""
    if principal.is_network_admin:
        return true()
    return User.id.in_(select(Membership.user_id).where(Membership.organization_id == principal.organization_id))


def can_see_user(session: Session, principal: Principal, user: User) -> bool:
    if principal.is_network_admin or principal.user_id == user.id:
        return True
    return (
        session.execute(
            select(func.count())
            .select_from(Membership)
            .where(Membership.user_id == user.id, Membership.organization_id == principal.organization_id)
        ).scalar_one()
        > 0
    )


def require_visible_user(session: Session, principal: Principal, user: User | None) -> User:
    if user is None or not can_see_user(session, principal, user):
        raise NotFound("No user with this id.")
    return user


def can_manage_account(principal: Principal, user: User) -> bool:
    """Network admins, the person, and the admins of the organization that created the account."""
    return (
        principal.is_network_admin
        or principal.user_id == user.id
        or (user.created_by_organization_id is not None and principal.is_admin_of(user.created_by_organization_id))
    )


def require_update_user(principal: Principal, user: User, data: dict[str, Any]) -> None:
    if "is_active" in data and data["is_active"] != user.is_active and not principal.is_network_admin:
        raise Forbidden("Only network admins activate or deactivate users.")
    if "name" in data and data["name"] != user.name and not (principal.is_network_admin or principal.user_id == user.id):
        raise Forbidden("Users change their own names; network admins may change any.")


def require_reinvite(principal: Principal, user: User) -> None:
    if not (
        principal.is_network_admin
        or (user.created_by_organization_id is not None and principal.is_admin_of(user.created_by_organization_id))
    ):
        raise Forbidden("Only the organization that created this account, or network admins, send its activation link.")


def require_members_visible(principal: Principal, organization_id: uuid.UUID, found: bool) -> None:
    """`found`: whether the organization exists; an unknown one and another's look the same."""
    if not found or not (principal.is_network_admin or principal.organization_id == organization_id):
        raise NotFound("No organization with this id among those whose members you may see.")


def can_see_membership(principal: Principal, membership: Membership) -> bool:
    return (
        principal.is_network_admin
        or membership.organization_id == principal.organization_id
        or membership.user_id == principal.user_id
    )


def require_visible_membership(principal: Principal, membership: Membership | None) -> Membership:
    if membership is None or not can_see_membership(principal, membership):
        raise NotFound("No membership with this id.")
    return membership


def require_own_membership(user_id: uuid.UUID | None, membership: Membership | None) -> Membership:
    """Only the person answers a membership offered to their account."""
    if membership is None or user_id is None or membership.user_id != user_id:
        raise NotFound("No membership of yours with this id.")
    return membership


def require_grant(principal: Principal, organization_id: uuid.UUID, role: Role) -> None:
    if not principal.is_admin_of(organization_id):
        raise Forbidden("Only the organization's admins or network admins manage its members.")
    if role is Role.network_admin and not principal.is_network_admin:
        raise Forbidden("Only network admins grant the network_admin role.")


def require_change_role(principal: Principal, membership: Membership) -> None:
    if membership.role is Role.network_admin and not principal.is_network_admin:
        raise Forbidden("Only network admins change a network admin's role.")


def require_remove(principal: Principal, membership: Membership) -> None:
    if not principal.is_admin_of(membership.organization_id):
        raise Forbidden("Only the organization's admins or network admins remove its members.")
    if membership.role is Role.network_admin and not principal.is_network_admin:
        raise Forbidden("Only network admins remove a network admin.")
