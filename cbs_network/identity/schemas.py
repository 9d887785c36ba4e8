from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from cbs_network.http.api import versioned
from cbs_network.http.pagination import PageArgsSchema, SyncPageArgsSchema
from cbs_network.http.schemas import ChangeSchema, Schema, VersionedRecordSchema
from cbs_network.identity.models import MembershipStatus
from cbs_network.identity.roles import Role

_ACCOUNT_ONLY = (
    " Null unless you manage the account: network admins, the person, and the admins of the organization that created it."
)


@versioned
class UserSchema(VersionedRecordSchema):
    email = ma.fields.Email()
    name = ma.fields.String()
    is_active = ma.fields.Boolean(
        allow_none=True, metadata={"description": "False: signed out everywhere and refused." + _ACCOUNT_ONLY}
    )
    is_invited = ma.fields.Boolean(
        allow_none=True, metadata={"description": "Invited but has not set a password yet." + _ACCOUNT_ONLY}
    )
    last_login_at = ma.fields.AwareDateTime(allow_none=True, metadata={"description": "Last sign-in." + _ACCOUNT_ONLY})


class UserUpdateSchema(ChangeSchema):
    name = ma.fields.String(validate=validate.Length(min=1, max=200))
    is_active = ma.fields.Boolean(metadata={"description": "Network admins only: false signs the user out everywhere"})


class OrganizationRefSchema(Schema):
    id = ma.fields.UUID()
    name = ma.fields.String()
    kind = ma.fields.String()


@versioned
class MembershipSchema(VersionedRecordSchema):
    user = ma.fields.Nested(UserSchema)
    organization = ma.fields.Nested(OrganizationRefSchema)
    role = ma.fields.Enum(Role, by_value=True)
    status = ma.fields.Enum(
        MembershipStatus,
        by_value=True,
        metadata={
            "description": "pending: offered to an existing account and granting nothing until its owner accepts it "
            "(POST /api/v1/memberships/{id}/accept, or on the hub's sign-in page)"
        },
    )


class MembershipCreateSchema(Schema):
    email = ma.fields.Email(required=True, validate=validate.Length(max=320), metadata={"example": "ana.reyes@example.org"})
    name = ma.fields.String(
        validate=validate.Length(min=1, max=200),
        metadata={"description": "Needed when the email is new to the hub", "example": "Ana Reyes"},
    )
    role = ma.fields.Enum(Role, by_value=True, required=True)


class MembershipUpdateSchema(ChangeSchema):
    role = ma.fields.Enum(Role, by_value=True, required=True)


class InvitationSchema(Schema):
    invitation_url = ma.fields.String(
        allow_none=True,
        metadata={"description": "One-time link for a new user to set a password; shown only in this response"},
    )
    invitation_expires_at = ma.fields.AwareDateTime(allow_none=True)


class MembershipCreatedSchema(MembershipSchema, InvitationSchema):
    pass


class MembershipQuerySchema(SyncPageArgsSchema):
    role = ma.fields.Enum(Role, by_value=True)
    status = ma.fields.Enum(MembershipStatus, by_value=True)


class UserQuerySchema(PageArgsSchema):
    email = ma.fields.String(validate=validate.Length(min=1, max=320))


class MeSchema(Schema):
    user = ma.fields.Nested(UserSchema, allow_none=True, metadata={"description": "Null for client-credentials tokens"})
    client_id = ma.fields.String()
    organization = ma.fields.Nested(OrganizationRefSchema, metadata={"description": "The organization this token acts for"})
    role = ma.fields.Enum(
        Role, by_value=True, metadata={"description": "Role in the acting organization, capped by the client's ceiling"}
    )
    scopes = ma.fields.List(
        ma.fields.String(), metadata={"description": "Effective scopes: granted to the token and allowed by the role"}
    )
    memberships = ma.fields.List(ma.fields.Nested(lambda: MembershipSummarySchema()))


class MembershipSummarySchema(Schema):
    id = ma.fields.UUID()
    organization = ma.fields.Nested(OrganizationRefSchema)
    role = ma.fields.Enum(Role, by_value=True)
    status = ma.fields.Enum(MembershipStatus, by_value=True)
