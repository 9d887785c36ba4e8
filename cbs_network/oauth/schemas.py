from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from cbs_network.http.api import versioned
from cbs_network.http.pagination import PageArgsSchema
from cbs_network.http.schemas import ChangeSchema, Schema, VersionedRecordSchema, web_url
from cbs_network.identity.roles import SCOPES, Role

GRANT_TYPES = ("client_credentials", "authorization_code", "refresh_token")
AUTH_METHODS = ("client_secret_basic", "client_secret_post", "none")


class _ClientFields(Schema):
    name = ma.fields.String(validate=validate.Length(min=1, max=200), metadata={"example": "County case management system"})
    description = ma.fields.String(allow_none=True, validate=validate.Length(max=2000))
    redirect_uris = ma.fields.List(
        web_url(fragment=False),
        validate=validate.Length(max=10),
        metadata={
            "description": "Exact redirect URIs for the authorization-code flow: https, or http on a loopback address (any http outside production)"
        },
    )
    scopes = ma.fields.List(ma.fields.String(validate=validate.OneOf(list(SCOPES))), validate=validate.Length(max=len(SCOPES)))
    role_ceiling = ma.fields.Enum(
        Role,
        by_value=True,
        metadata={
            "description": "The highest role the client's tokens carry; client-credentials tokens act with exactly this role"
        },
    )
    network_wide = ma.fields.Boolean(
        metadata={
            "description": "Network admins only: the client's users may let it act for any organization they belong to. "
            "Otherwise it acts only for the organization that registered it."
        }
    )


@versioned
class OAuthClientSchema(VersionedRecordSchema, _ClientFields):
    client_id = ma.fields.String()
    organization_id = ma.fields.UUID()
    grant_types = ma.fields.List(ma.fields.String())
    token_endpoint_auth_method = ma.fields.String()
    is_active = ma.fields.Boolean()
    secret_rotated_at = ma.fields.AwareDateTime(allow_none=True)


class OAuthClientCreateSchema(_ClientFields):
    name = ma.fields.String(
        required=True, validate=validate.Length(min=1, max=200), metadata={"example": "County case management system"}
    )
    scopes = ma.fields.List(
        ma.fields.String(validate=validate.OneOf(list(SCOPES))), required=True, validate=validate.Length(min=1, max=len(SCOPES))
    )
    grant_types = ma.fields.List(
        ma.fields.String(validate=validate.OneOf(GRANT_TYPES)),
        required=True,
        validate=validate.Length(min=1, max=len(GRANT_TYPES)),
    )
    token_endpoint_auth_method = ma.fields.String(
        load_default="client_secret_basic",
        validate=validate.OneOf(AUTH_METHODS),
        metadata={"description": "`none` registers a public client (browser or native app; PKCE only)"},
    )
    role_ceiling = ma.fields.Enum(Role, by_value=True, load_default=Role.viewer)
    organization_id = ma.fields.UUID(metadata={"description": "Network admins may register clients for another organization"})


class OAuthClientUpdateSchema(ChangeSchema, _ClientFields):
    pass


class OAuthClientCreatedSchema(OAuthClientSchema):
    client_secret = ma.fields.String(allow_none=True, metadata={"description": "Shown only in this response; store it now"})


class OAuthClientQuerySchema(PageArgsSchema):
    organization_id = ma.fields.UUID()
    is_active = ma.fields.Boolean()
