from __future__ import annotations

import uuid

from flask import current_app, url_for

from cbs_network.core.db import session
from cbs_network.http import idempotency
from cbs_network.http.api import Blueprint, created
from cbs_network.http.pagination import page_schema, paginate
from cbs_network.http.schemas import WithFields
from cbs_network.identity import service
from cbs_network.identity.models import Membership, User
from cbs_network.identity.principal import current_principal
from cbs_network.identity.schemas import (
    InvitationSchema,
    MembershipCreatedSchema,
    MembershipCreateSchema,
    MembershipQuerySchema,
    MembershipSchema,
    MembershipUpdateSchema,
    MeSchema,
    UserQuerySchema,
    UserSchema,
    UserUpdateSchema,
)
from cbs_network.organizations.models import Organization

blp = Blueprint(
    "identity",
    __name__,
    url_prefix="/api/v1",
    description="Users, their memberships (user × organization × role) and invitations.",
)

ORG_REF = {"id": "6a1f7f0e-7a2b-4d8e-9c1a-2b3c4d5e6f70", "name": "Los Angeles Unified School District", "kind": "school_district"}
USER_EXAMPLE = {
    "id": "0b6a9c8e-4f1e-4d6b-8f7a-1c2d3e4f5a6b",
    "email": "ana.reyes@example.org",
    "name": "Ana Reyes",
    "is_active": True,
    "is_invited": False,
    "last_login_at": None,
    "version": 1,
    "created_at": "2026-08-01T16:00:00+00:00",
    "updated_at": "2026-11-20T17:00:00+00:00",
}
MEMBERSHIP_EXAMPLE = {
    "id": "5e4d3c2b-1a09-4f8e-9d7c-6b5a4f3e2d1c",
    "user": USER_EXAMPLE,
    "organization": ORG_REF,
    "role": "coordinator",
    "status": "active",
    "version": 1,
    "created_at": "2026-08-01T16:00:00+00:00",
    "updated_at": "2026-11-20T17:00:00+00:00",
}


def _invitation_url(token: str) -> str:
    idempotency.withhold_from_replay()  # the link is shown once, never again from a replay cache
    return f"{current_app.config['CBS_SETTINGS'].public_url}/account/activate?token={token}"


def _page_of(page: tuple[dict, dict], present) -> tuple[dict, dict]:
    body, headers = page
    principal = current_principal()
    return {**body, "items": [present(principal, item) for item in body["items"]]}, headers


@blp.route("/me", methods=["GET"])
@blp.requires()
@blp.response(
    200,
    MeSchema,
    example={
        "user": USER_EXAMPLE,
        "client_id": "cbs-explorer",
        "organization": ORG_REF,
        "role": "coordinator",
        "scopes": ["organizations:read"],
        "memberships": [{"id": MEMBERSHIP_EXAMPLE["id"], "organization": ORG_REF, "role": "coordinator", "status": "active"}],
    },
)
def me():
    """Who this token acts as: user, organization, role and effective scopes"""
    principal = current_principal()
    user = session().get(User, principal.user_id) if principal.user_id else None
    return {
        "user": user,
        "client_id": principal.client_id,
        "organization": session().get(Organization, principal.organization_id),
        "role": principal.role,
        "scopes": sorted(principal.scopes),
        "memberships": user.memberships if user else [],
    }


@blp.route("/users", methods=["GET"])
@blp.requires("users:read")
@blp.arguments(UserQuerySchema, location="query")
@blp.response(200, page_schema(UserSchema), example={"items": [USER_EXAMPLE], "next_cursor": None})
def list_users(args):
    """List the users of your organization (network admins: all users)"""
    query = service.users_query(principal=current_principal(), email=args.get("email"))
    return _page_of(paginate(session(), query, User, args), service.present_user)


@blp.route("/users/<uuid:user_id>", methods=["GET"])
@blp.requires("users:read")
@blp.response(200, UserSchema, example=USER_EXAMPLE)
def get_user(user_id: uuid.UUID):
    """Get a user who belongs to your organization"""
    principal = current_principal()
    return service.present_user(principal, service.get_user(session=session(), principal=principal, user_id=user_id))


@blp.route("/users/<uuid:user_id>", methods=["PATCH"])
@blp.requires("users:write")
@blp.arguments(UserUpdateSchema, example={"is_active": False})
@blp.if_match
@blp.response(200, UserSchema, example=USER_EXAMPLE)
def update_user(data, user_id: uuid.UUID, expected_version: int):
    """Rename or (network admins) deactivate a user; deactivation revokes their tokens"""
    principal = current_principal()
    user = service.update_user(
        session=session(), principal=principal, user_id=user_id, data=data, expected_version=expected_version
    )
    return service.present_user(principal, user)


@blp.route("/users/<uuid:user_id>/invitation", methods=["POST"])
@blp.requires("users:write")
@blp.response(
    201,
    InvitationSchema,
    example={
        "invitation_url": "https://hub.example.org/account/activate?token=…",
        "invitation_expires_at": "2026-12-06T10:00:00+00:00",
    },
)
def reissue_invitation(user_id: uuid.UUID):
    """Send a new one-time activation link to an account your organization created that has not set a password yet"""
    user, invitation = service.reissue_invitation(session=session(), principal=current_principal(), user_id=user_id)
    return (
        {"invitation_url": _invitation_url(invitation.token), "invitation_expires_at": invitation.expires_at},
        created(url_for(".get_user", user_id=user.id)),
    )


@blp.route("/organizations/<uuid:organization_id>/memberships", methods=["GET"])
@blp.requires("users:read")
@blp.arguments(MembershipQuerySchema, location="query")
@blp.response(200, page_schema(MembershipSchema), example={"items": [MEMBERSHIP_EXAMPLE], "next_cursor": None})
def list_memberships(args, organization_id: uuid.UUID):
    """List an organization's members (your own organization; network admins: any)"""
    query = service.memberships_query(session=session(), principal=current_principal(), organization_id=organization_id, **args)
    return _page_of(paginate(session(), query, Membership, args), service.present_membership)


@blp.route("/organizations/<uuid:organization_id>/memberships", methods=["POST"])
@blp.requires("users:write")
@blp.arguments(MembershipCreateSchema, example={"email": "ana.reyes@example.org", "name": "Ana Reyes", "role": "coordinator"})
@blp.response(
    201,
    MembershipCreatedSchema,
    example={
        **MEMBERSHIP_EXAMPLE,
        "invitation_url": "https://hub.example.org/account/activate?token=…",
        "invitation_expires_at": "2026-12-06T10:00:00+00:00",
    },
)
def invite_member(data, organization_id: uuid.UUID):
    """Add a member: a new email gets an account and a one-time activation link (shown once); an existing
    account gets a pending membership that its owner accepts after signing in"""
    principal = current_principal()
    membership, invitation = service.invite_member(
        session=session(), principal=principal, organization_id=organization_id, **data
    )
    body = WithFields(
        service.present_membership(principal, membership),
        invitation_url=_invitation_url(invitation.token) if invitation else None,
        invitation_expires_at=invitation.expires_at if invitation else None,
    )
    return body, created(url_for(".get_membership", membership_id=membership.id))


@blp.route("/memberships/<uuid:membership_id>", methods=["GET"])
@blp.requires("users:read")
@blp.response(200, MembershipSchema, example=MEMBERSHIP_EXAMPLE)
def get_membership(membership_id: uuid.UUID):
    """Get a membership"""
    principal = current_principal()
    return service.present_membership(
        principal, service.get_membership(session=session(), principal=principal, membership_id=membership_id)
    )


@blp.route("/memberships/<uuid:membership_id>", methods=["PATCH"])
@blp.requires("users:write")
@blp.arguments(MembershipUpdateSchema, example={"role": "org_admin"})
@blp.if_match
@blp.response(200, MembershipSchema, example=MEMBERSHIP_EXAMPLE)
def update_membership(data, membership_id: uuid.UUID, expected_version: int):
    """Change a member's role"""
    principal = current_principal()
    membership = service.update_membership(
        session=session(), principal=principal, membership_id=membership_id, role=data["role"], expected_version=expected_version
    )
    return service.present_membership(principal, membership)


@blp.route("/memberships/<uuid:membership_id>/accept", methods=["POST"])
@blp.requires()
@blp.response(200, MembershipSchema, example=MEMBERSHIP_EXAMPLE)
def accept_membership(membership_id: uuid.UUID):
    """Accept a membership an organization offered you (yours only; it must be pending)"""
    principal = current_principal()
    membership = service.accept_membership(
        session=session(), user_id=principal.user_id, membership_id=membership_id, principal=principal
    )
    return service.present_membership(principal, membership)


@blp.route("/memberships/<uuid:membership_id>/decline", methods=["POST"])
@blp.requires()
@blp.response(204)
def decline_membership(membership_id: uuid.UUID):
    """Decline a membership an organization offered you (yours only; it must be pending)"""
    principal = current_principal()
    service.decline_membership(session=session(), user_id=principal.user_id, membership_id=membership_id, principal=principal)


@blp.route("/memberships/<uuid:membership_id>", methods=["DELETE"])
@blp.requires("users:write")
@blp.if_match
@blp.response(204)
def remove_membership(membership_id: uuid.UUID, expected_version: int):
    """Remove a member from an organization; their tokens for it are revoked"""
    service.remove_membership(
        session=session(), principal=current_principal(), membership_id=membership_id, expected_version=expected_version
    )
