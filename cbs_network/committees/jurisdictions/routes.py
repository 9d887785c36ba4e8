from __future__ import annotations

import uuid

from flask import url_for
from sqlalchemy import select

from cbs_network.committees.jurisdictions import service as jurisdictions
from cbs_network.committees.models import Jurisdiction
from cbs_network.committees.schemas import JurisdictionCreateSchema, JurisdictionSchema, JurisdictionUpdateSchema
from cbs_network.core.db import session
from cbs_network.http.api import Blueprint, created
from cbs_network.identity.principal import current_principal

blp = Blueprint(
    "jurisdictions",
    __name__,
    url_prefix="/api/v1/jurisdictions",
    description="The rules school safety committees and plans answer to: required roles and plan deadlines, "
    "by jurisdiction (network admins keep them).",
)

EXAMPLE = {
    "id": "6a5b4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d",
    "code": "LAUSD",
    "name": "Los Angeles Unified School District",
    "parent_id": "1f2e3d4c-5b6a-4789-8a9b-0c1d2e3f4a5b",
    "plan_due_month": 10,
    "plan_due_day": 1,
    "composition_rules": [{"role": "pupil", "minimum": 1, "min_grade": 9, "source": "District policy for high schools"}],
    "description": "ISSP due October 1.",
    "version": 1,
    "created_at": "2026-08-01T17:00:00+00:00",
    "updated_at": "2026-08-01T17:00:00+00:00",
}


@blp.route("", methods=["GET"])
@blp.requires("committees:read")
@blp.response(200, JurisdictionSchema(many=True), example=[EXAMPLE])
def list_jurisdictions():
    """Every jurisdiction, by code"""
    return list(session().scalars(select(Jurisdiction).order_by(Jurisdiction.code)))


@blp.route("", methods=["POST"])
@blp.requires("committees:write")
@blp.arguments(
    JurisdictionCreateSchema,
    example={k: EXAMPLE[k] for k in ("code", "name", "parent_id", "plan_due_month", "plan_due_day", "composition_rules")},
)
@blp.response(201, JurisdictionSchema, example=EXAMPLE)
def create_jurisdiction(data):
    """Add a jurisdiction (network admins)"""
    jurisdiction = jurisdictions.create(session=session(), principal=current_principal(), data=data)
    return jurisdiction, 201, created(url_for(".get_jurisdiction", jurisdiction_id=jurisdiction.id))


@blp.route("/<uuid:jurisdiction_id>", methods=["GET"])
@blp.requires("committees:read")
@blp.response(200, JurisdictionSchema, example=EXAMPLE)
def get_jurisdiction(jurisdiction_id: uuid.UUID):
    """Get a jurisdiction"""
    return jurisdictions.get(session=session(), jurisdiction_id=jurisdiction_id)


@blp.route("/<uuid:jurisdiction_id>", methods=["PATCH"])
@blp.requires("committees:write")
@blp.arguments(JurisdictionUpdateSchema, example={"plan_due_month": 10, "plan_due_day": 1})
@blp.if_match
@blp.response(200, JurisdictionSchema, example=EXAMPLE)
def update_jurisdiction(data, jurisdiction_id: uuid.UUID, expected_version: int):
    """Change a jurisdiction's rules (network admins)

    Plans already opened keep the deadline they were given.
    """
    return jurisdictions.update(
        session=session(),
        principal=current_principal(),
        jurisdiction_id=jurisdiction_id,
        data=data,
        expected_version=expected_version,
    )
