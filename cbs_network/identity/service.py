"""Users, memberships and invitations.

An account belongs to the person, not to any one organization. The organization whose admin
created it manages its activation; any other organization can only offer it a membership, which
stays pending (and grants nothing) until the person accepts it after signing in. No other
organization's admin learns the account's sign-in facts or re-issues its activation link.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from cbs_network.audit import service as audit
from cbs_network.core.db import utcnow
from cbs_network.core.errors import Conflict, NotFound, ValidationFailed
from cbs_network.events.service import record_event
from cbs_network.http.etag import check_version
from cbs_network.http.schemas import WithFields
from cbs_network.identity import policy
from cbs_network.identity.models import Membership, MembershipStatus, User
from cbs_network.identity.passwords import MIN_LENGTH, hash_password
from cbs_network.identity.principal import Principal
from cbs_network.identity.roles import Role
from cbs_network.oauth.models import OAuthToken, token_hash
from cbs_network.oauth.service import revoke_tokens
from cbs_network.organizations.models import Organization, OrganizationKind

INVITATION_TTL = timedelta(days=7)


@dataclass
class Invitation:
    token: str
    expires_at: datetime


def _user_view(user: User) -> dict[str, Any]:
    return {"email": user.email, "name": user.name, "is_active": user.is_active}


def present_user(principal: Principal, user: User) -> WithFields:
    """Whether the account is active, activated and when it last signed in are the account's
    own business: shown only to those who manage it."""
    shown = policy.can_manage_account(principal, user)
    return WithFields(
        user,
        is_active=user.is_active if shown else None,
        is_invited=user.is_invited if shown else None,
        last_login_at=user.last_login_at if shown else None,
    )


def present_membership(principal: Principal, membership: Membership) -> WithFields:
    return WithFields(membership, user=present_user(principal, membership.user))


def get_user(*, session: Session, principal: Principal, user_id: uuid.UUID) -> User:
    return policy.require_visible_user(session, principal, session.get(User, user_id))


def users_query(*, principal: Principal, email: str | None = None) -> Select:
    """Users of the acting organization (every user for network admins)."""
    query = select(User).where(policy.users_visible(principal))
    if email:
        query = query.where(User.email == email.strip().lower())
    return query


def update_user(
    *, session: Session, principal: Principal, user_id: uuid.UUID, data: dict[str, Any], expected_version: int
) -> User:
    user = get_user(session=session, principal=principal, user_id=user_id)
    policy.require_update_user(principal, user, data)
    check_version(user, expected_version)
    before = _user_view(user)
    for name, value in data.items():
        setattr(user, name, value)
    changes = audit.diff(before, _user_view(user))
    if changes:
        session.flush()
        if not user.is_active:
            _revoke_user_tokens(session, user.id)
        audit.record(session, principal=principal, action="user.updated", object_type="user", object_id=user.id, changes=changes)
    return user


def _revoke_user_tokens(session: Session, user_id: uuid.UUID, organization_id: uuid.UUID | None = None) -> None:
    conditions = [OAuthToken.user_id == user_id]
    if organization_id is not None:
        conditions.append(OAuthToken.organization_id == organization_id)
    revoke_tokens(session, *conditions)


# --- memberships ---


def _check_grant(session: Session, principal: Principal, organization: Organization, role: Role) -> None:
    policy.require_grant(principal, organization.id, role)
    if role is Role.network_admin:
        if organization.kind is not OrganizationKind.network_hub:
            raise ValidationFailed(
                "network_admin is a role in the network hub organization only.",
                errors={"json": {"role": ["Not allowed in this organization."]}},
            )


def _membership_view(membership: Membership) -> dict[str, Any]:
    return {
        "user_id": membership.user_id,
        "organization_id": membership.organization_id,
        "role": membership.role,
        "status": membership.status,
    }


def memberships_query(
    *,
    session: Session,
    principal: Principal,
    organization_id: uuid.UUID,
    role: Role | None = None,
    status: MembershipStatus | None = None,
    **_page: Any,
) -> Select:
    policy.require_members_visible(principal, organization_id, found=session.get(Organization, organization_id) is not None)
    query = select(Membership).where(Membership.organization_id == organization_id)
    if role is not None:
        query = query.where(Membership.role == role)
    if status is not None:
        query = query.where(Membership.status == status)
    return query


def get_membership(*, session: Session, principal: Principal, membership_id: uuid.UUID) -> Membership:
    return policy.require_visible_membership(principal, session.get(Membership, membership_id))


def _new_invitation(user: User) -> Invitation:
    token = secrets.token_urlsafe(32)
    user.invitation_token_hash = token_hash(token)
    user.invitation_expires_at = utcnow() + INVITATION_TTL
    return Invitation(token, user.invitation_expires_at)


def invite_member(
    *, session: Session, principal: Principal, organization_id: uuid.UUID, email: str, role: Role, name: str | None = None
) -> tuple[Membership, Invitation | None]:
    """Add a member. A new email gets an account this organization manages, active membership and a
    one-time activation link; an existing account is only offered a pending membership, which its
    owner accepts or declines after signing in (whatever the account's state, so the answer tells
    nothing about it)."""
    organization = session.get(Organization, organization_id)
    if organization is None:  # organizations are the network's public directory: others get 403
        raise NotFound("No organization with this id.")
    _check_grant(session, principal, organization, role)
    email = email.strip().lower()
    user = session.scalar(select(User).where(User.email == email))
    invitation = None
    status = MembershipStatus.pending
    if user is None:
        if not name:
            raise ValidationFailed(
                "A name is needed to invite a new user.", errors={"json": {"name": ["Required for a new user."]}}
            )
        user = User(id=uuid.uuid4(), email=email, name=name, is_active=True, created_by_organization_id=organization_id)
        invitation = _new_invitation(user)
        status = MembershipStatus.active
        session.add(user)
        session.flush()
        audit.record(
            session,
            principal=principal,
            action="user.invited",
            object_type="user",
            object_id=user.id,
            changes=audit.diff({}, _user_view(user)),
        )
    elif session.scalar(select(Membership).where(Membership.user_id == user.id, Membership.organization_id == organization_id)):
        raise Conflict(
            "The user is already a member of this organization (or has been offered a membership); "
            "change the membership's role instead."
        )
    membership = Membership(id=uuid.uuid4(), user=user, organization=organization, role=role, status=status)
    session.add(membership)
    session.flush()
    audit.record(
        session,
        principal=principal,
        action="membership.created",
        object_type="membership",
        object_id=membership.id,
        changes=audit.diff({}, _membership_view(membership)),
    )
    record_event(
        session,
        type="membership.created",
        object_type="membership",
        object_id=membership.id,
        principal=principal,
        payload={
            "membership_id": membership.id,
            "user_id": user.id,
            "organization_id": organization_id,
            "role": role,
            "status": status,
        },
        audience=[organization_id],
    )
    return membership, invitation


def _require_own_pending(session: Session, user_id: uuid.UUID | None, membership_id: uuid.UUID) -> Membership:
    membership = policy.require_own_membership(user_id, session.get(Membership, membership_id))
    if membership.status is not MembershipStatus.pending:
        raise Conflict("This membership is not waiting for your answer.", current_status=membership.status.value)
    return membership


def accept_membership(
    *, session: Session, user_id: uuid.UUID | None, membership_id: uuid.UUID, principal: Principal | None = None
) -> Membership:
    """The person accepts a membership offered to their account; from now on they may act for it.
    `principal` is None when they answer on the hub's signed-in page rather than with a token."""
    membership = _require_own_pending(session, user_id, membership_id)
    membership.status = MembershipStatus.active
    session.flush()
    _record_answer(
        session,
        principal,
        membership,
        "membership.accepted",
        audit.diff({"status": MembershipStatus.pending}, {"status": MembershipStatus.active}),
    )
    return membership


def decline_membership(
    *, session: Session, user_id: uuid.UUID | None, membership_id: uuid.UUID, principal: Principal | None = None
) -> None:
    """The person declines a membership offered to their account: the offer is withdrawn."""
    membership = _require_own_pending(session, user_id, membership_id)
    before = _membership_view(membership)
    session.delete(membership)
    session.flush()
    _record_answer(session, principal, membership, "membership.declined", audit.diff(before, {}))


def _record_answer(session: Session, principal: Principal | None, membership: Membership, action: str, changes: dict) -> None:
    audit.record(session, principal=principal, action=action, object_type="membership", object_id=membership.id, changes=changes)
    record_event(
        session,
        type=action,
        object_type="membership",
        object_id=membership.id,
        principal=principal,
        payload={"membership_id": membership.id, "organization_id": membership.organization_id},
        audience=[membership.organization_id],
    )


def _admins_left(session: Session, organization_id: uuid.UUID, excluding: uuid.UUID) -> int:
    return session.execute(
        select(func.count())
        .select_from(Membership)
        .where(
            Membership.organization_id == organization_id,
            Membership.role.in_([Role.org_admin, Role.network_admin]),
            Membership.id != excluding,
        )
    ).scalar_one()


def update_membership(
    *, session: Session, principal: Principal, membership_id: uuid.UUID, role: Role, expected_version: int
) -> Membership:
    membership = get_membership(session=session, principal=principal, membership_id=membership_id)
    _check_grant(session, principal, membership.organization, role)
    policy.require_change_role(principal, membership)
    check_version(membership, expected_version)
    if membership.role in (Role.org_admin, Role.network_admin) and role not in (Role.org_admin, Role.network_admin):
        if not _admins_left(session, membership.organization_id, membership.id):
            raise Conflict("This is the organization's last admin; appoint another admin first.")
    before = _membership_view(membership)
    membership.role = role
    changes = audit.diff(before, _membership_view(membership))
    if changes:
        session.flush()
        audit.record(
            session,
            principal=principal,
            action="membership.updated",
            object_type="membership",
            object_id=membership.id,
            changes=changes,
        )
        record_event(
            session,
            type="membership.updated",
            object_type="membership",
            object_id=membership.id,
            principal=principal,
            payload={"membership_id": membership.id, "role": role},
            audience=[membership.organization_id],
        )
    return membership


def remove_membership(*, session: Session, principal: Principal, membership_id: uuid.UUID, expected_version: int) -> None:
    membership = get_membership(session=session, principal=principal, membership_id=membership_id)
    policy.require_remove(principal, membership)
    check_version(membership, expected_version)
    if membership.role in (Role.org_admin, Role.network_admin) and not _admins_left(
        session, membership.organization_id, membership.id
    ):
        raise Conflict("This is the organization's last admin; appoint another admin first.")
    before = _membership_view(membership)
    _revoke_user_tokens(session, membership.user_id, membership.organization_id)
    session.delete(membership)
    session.flush()
    audit.record(
        session,
        principal=principal,
        action="membership.deleted",
        object_type="membership",
        object_id=membership_id,
        changes=audit.diff(before, {}),
    )
    record_event(
        session,
        type="membership.deleted",
        object_type="membership",
        object_id=membership_id,
        principal=principal,
        payload={"membership_id": membership_id, "organization_id": before["organization_id"]},
        audience=[before["organization_id"]],
    )


def reissue_invitation(*, session: Session, principal: Principal, user_id: uuid.UUID) -> tuple[User, Invitation]:
    user = get_user(session=session, principal=principal, user_id=user_id)
    # Who may is checked first, so that no one else learns whether the account is activated.
    policy.require_reinvite(principal, user)
    if not user.is_invited:
        raise Conflict("The user has already set a password.")
    if not user.is_active:
        raise Conflict("This user is deactivated; a network admin must reactivate them first.")
    invitation = _new_invitation(user)
    session.flush()
    audit.record(session, principal=principal, action="user.reinvited", object_type="user", object_id=user.id)
    return user, invitation


def accept_invitation(*, session: Session, token: str, password: str) -> User:
    """An invited user sets a password through the one-time link."""
    user = session.scalar(select(User).where(User.invitation_token_hash == token_hash(token)))
    if (
        user is None
        or not user.is_invited
        or user.invitation_expires_at is None
        or user.invitation_expires_at <= utcnow()
        or not user.is_active
    ):
        raise NotFound("This invitation link is invalid or has expired; ask an admin to send a new one.")
    if len(password) < MIN_LENGTH:
        raise ValidationFailed(
            f"Choose a password of at least {MIN_LENGTH} characters.",
            errors={"form": {"password": [f"At least {MIN_LENGTH} characters."]}},
        )
    if password.strip().lower() == user.email:
        raise ValidationFailed("The password must not be your email.", errors={"form": {"password": ["Too easy to guess."]}})
    user.password_hash = hash_password(password)
    user.invitation_token_hash = None
    user.invitation_expires_at = None
    session.flush()
    audit.record(session, principal=None, action="user.activated", object_type="user", object_id=user.id)
    return user
