from __future__ import annotations

import uuid

from flask import url_for

from cbs_network.core.db import session
from cbs_network.http.api import Blueprint, created
from cbs_network.http.pagination import page_schema
from cbs_network.identity.principal import current_principal
from cbs_network.organizations import service
from cbs_network.organizations.schemas import (
    OrganizationCreateSchema,
    OrganizationQuerySchema,
    OrganizationSchema,
    OrganizationUpdateSchema,
)

blp = Blueprint(
    "organizations",
    __name__,
    url_prefix="/api/v1/organizations",
    description="The network's members: agencies, schools, CBOs, funders and the hub itself.",
)

EXAMPLE = {
    "id": "3f0f5d8e-6c1e-4c51-9d3b-0b2f7f3f8a11",
    "kind": "cbo",
    "name": "Urban Peace Institute",
    "status": "active",
    "jurisdiction": "City of Los Angeles",
    "version": 3,
    "identifiers": [{"scheme": "ein", "value": "95-1234567"}],
    "contacts": [],
    "alternate_name": "UPI",
    "description": "Violence reduction training and community safety partnerships.",
    "governing_authority": "Board of directors",
    "website": "https://www.urbanpeaceinstitute.org",
    "email": None,
    "phone": "213-555-0140",
    "parent_id": None,
    "created_at": "2026-08-01T16:00:00+00:00",
    "updated_at": "2026-11-20T17:00:00+00:00",
}


@blp.route("", methods=["GET"])
@blp.requires("organizations:read")
@blp.arguments(OrganizationQuerySchema, location="query")
@blp.response(200, page_schema(OrganizationSchema), example={"items": [EXAMPLE], "next_cursor": None})
def list_organizations(args):
    """List organizations

    Filter by kind, status, parent, name or identifier; `updated_since` for partners that sync.
    """
    query = service.list_query(principal=current_principal(), **args)
    return service.page(session(), query, args)


@blp.route("", methods=["POST"])
@blp.requires("organizations:write")
@blp.arguments(
    OrganizationCreateSchema, example={"kind": "cbo", "name": "Urban Peace Institute", "jurisdiction": "City of Los Angeles"}
)
@blp.response(201, OrganizationSchema, example=EXAMPLE)
def create_organization(data):
    """Add an organization to the network (network admins)"""
    organization = service.create(session=session(), principal=current_principal(), data=data)
    return organization, created(url_for(".get_organization", organization_id=organization.id))


@blp.route("/<uuid:organization_id>", methods=["GET"])
@blp.requires("organizations:read")
@blp.response(200, OrganizationSchema, example=EXAMPLE)
def get_organization(organization_id: uuid.UUID):
    """Get an organization"""
    return service.get(session=session(), principal=current_principal(), organization_id=organization_id)


@blp.route("/<uuid:organization_id>", methods=["PATCH"])
@blp.requires("organizations:write")
@blp.arguments(OrganizationUpdateSchema, example={"website": "https://www.urbanpeaceinstitute.org"})
@blp.if_match
@blp.response(200, OrganizationSchema, example=EXAMPLE)
def update_organization(data, organization_id: uuid.UUID, expected_version: int):
    """Update an organization

    Its own org admins keep the profile current; only network admins change kind, status or parent.
    Lists (identifiers, contacts) are replaced whole.
    """
    return service.update(
        session=session(),
        principal=current_principal(),
        organization_id=organization_id,
        data=data,
        expected_version=expected_version,
    )


@blp.route("/<uuid:organization_id>", methods=["DELETE"])
@blp.requires("organizations:write")
@blp.if_match
@blp.response(204)
def delete_organization(organization_id: uuid.UUID, expected_version: int):
    """Remove an organization with no members, clients or children (network admins)"""
    service.delete(
        session=session(),
        principal=current_principal(),
        organization_id=organization_id,
        expected_version=expected_version,
    )
