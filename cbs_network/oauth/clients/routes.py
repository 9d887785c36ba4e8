from __future__ import annotations

import uuid

from flask import current_app, url_for

from cbs_network.core.db import session
from cbs_network.http import idempotency
from cbs_network.http.api import Blueprint, created
from cbs_network.http.pagination import page_schema, paginate
from cbs_network.http.schemas import WithFields
from cbs_network.identity.principal import current_principal
from cbs_network.oauth.clients import service
from cbs_network.oauth.models import OAuthClient
from cbs_network.oauth.schemas import (
    OAuthClientCreatedSchema,
    OAuthClientCreateSchema,
    OAuthClientQuerySchema,
    OAuthClientSchema,
    OAuthClientUpdateSchema,
)

blp = Blueprint(
    "clients",
    __name__,
    url_prefix="/api/v1/clients",
    description="OAuth clients: how an organization's systems and apps reach the hub.",
)

EXAMPLE = {
    "id": "7c6b5a49-3827-4160-9f5e-4d3c2b1a0f9e",
    "client_id": "county-case-system-1a2b3c4d",
    "organization_id": "6a1f7f0e-7a2b-4d8e-9c1a-2b3c4d5e6f70",
    "name": "County case management system",
    "grant_types": ["client_credentials"],
    "scopes": ["organizations:read"],
    "redirect_uris": [],
    "token_endpoint_auth_method": "client_secret_basic",
    "role_ceiling": "coordinator",
    "is_active": True,
    "version": 1,
    "description": "Reads the directory for the county's case managers",
    "network_wide": False,
    "secret_rotated_at": None,
    "created_at": "2026-08-01T16:00:00+00:00",
    "updated_at": "2026-11-20T17:00:00+00:00",
}


def _allow_insecure() -> bool:
    return not current_app.config["CBS_SETTINGS"].is_production


def _with_secret(client: OAuthClient, secret: str | None) -> WithFields:
    if secret is not None:
        idempotency.withhold_from_replay()  # a secret is shown once, never again from a replay cache
    return WithFields(client, client_secret=secret)


@blp.route("", methods=["GET"])
@blp.requires("clients:read")
@blp.arguments(OAuthClientQuerySchema, location="query")
@blp.response(200, page_schema(OAuthClientSchema), example={"items": [EXAMPLE], "next_cursor": None})
def list_clients(args):
    """List your organization's OAuth clients (network admins: all)"""
    return paginate(session(), service.list_query(principal=current_principal(), **args), OAuthClient, args)


@blp.route("", methods=["POST"])
@blp.requires("clients:write")
@blp.arguments(
    OAuthClientCreateSchema,
    example={
        "name": "County case management system",
        "grant_types": ["client_credentials"],
        "scopes": ["organizations:read"],
        "role_ceiling": "coordinator",
    },
)
@blp.response(201, OAuthClientCreatedSchema, example={**EXAMPLE, "client_secret": "shown-once-store-it-now"})
def register_client(data):
    """Register an OAuth client; a confidential client's secret is shown only in this response"""
    client, secret = service.register(
        session=session(), principal=current_principal(), data=data, allow_insecure_redirects=_allow_insecure()
    )
    return _with_secret(client, secret), created(url_for(".get_client", client_uuid=client.id))


@blp.route("/<uuid:client_uuid>", methods=["GET"])
@blp.requires("clients:read")
@blp.response(200, OAuthClientSchema, example=EXAMPLE)
def get_client(client_uuid: uuid.UUID):
    """Get an OAuth client"""
    return service.get(session=session(), principal=current_principal(), client_uuid=client_uuid)


@blp.route("/<uuid:client_uuid>", methods=["PATCH"])
@blp.requires("clients:write")
@blp.arguments(OAuthClientUpdateSchema, example={"redirect_uris": ["https://app.example.org/callback"]})
@blp.if_match
@blp.response(200, OAuthClientSchema, example=EXAMPLE)
def update_client(data, client_uuid: uuid.UUID, expected_version: int):
    """Update an OAuth client's name, redirect URIs, scopes or role ceiling"""
    return service.update_client(
        session=session(),
        principal=current_principal(),
        client_uuid=client_uuid,
        data=data,
        expected_version=expected_version,
        allow_insecure_redirects=_allow_insecure(),
    )


@blp.route("/<uuid:client_uuid>", methods=["DELETE"])
@blp.requires("clients:write")
@blp.if_match
@blp.response(204)
def deactivate_client(client_uuid: uuid.UUID, expected_version: int):
    """Deactivate an OAuth client and revoke all its tokens"""
    service.deactivate(
        session=session(), principal=current_principal(), client_uuid=client_uuid, expected_version=expected_version
    )


@blp.route("/<uuid:client_uuid>/secret", methods=["POST"])
@blp.requires("clients:write")
@blp.response(200, OAuthClientCreatedSchema, example={**EXAMPLE, "client_secret": "shown-once-store-it-now"})
def rotate_secret(client_uuid: uuid.UUID):
    """Rotate a confidential client's secret: the old one stops working at once"""
    client, secret = service.rotate_secret(session=session(), principal=current_principal(), client_uuid=client_uuid)
    return _with_secret(client, secret)
