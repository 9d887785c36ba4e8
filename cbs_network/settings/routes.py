from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from cbs_network.core.db import session
from cbs_network.http.api import Blueprint
from cbs_network.http.schemas import ChangeSchema, Schema
from cbs_network.identity.principal import current_principal
from cbs_network.settings import service

blp = Blueprint(
    "directory_settings",
    __name__,
    url_prefix="/api/v1/directory/settings",
    description="The network's directory rules (network admins change them).",
)


class DirectorySettingsSchema(Schema):
    id = ma.fields.Integer(dump_only=True)
    verification_interval_days = ma.fields.Integer(
        metadata={"description": "Programs not verified within this many days are stale (verification_overdue)"}
    )
    capacity_stale_after_days = ma.fields.Integer(
        metadata={"description": "Capacity profiles not updated within this many days are stale"}
    )
    referral_response_hours = ma.fields.Integer(
        metadata={"description": "A referral still `requested` this many hours after it was sent is overdue"}
    )
    version = ma.fields.Integer(dump_only=True)
    updated_at = ma.fields.AwareDateTime(dump_only=True)


class DirectorySettingsUpdateSchema(ChangeSchema):
    """Any of the settings; at least one."""

    verification_interval_days = ma.fields.Integer(validate=validate.Range(min=7, max=1095))
    capacity_stale_after_days = ma.fields.Integer(validate=validate.Range(min=1, max=365))
    referral_response_hours = ma.fields.Integer(validate=validate.Range(min=1, max=720))


EXAMPLE = {
    "id": 1,
    "verification_interval_days": 180,
    "capacity_stale_after_days": 30,
    "referral_response_hours": 72,
    "version": 1,
    "updated_at": "2026-11-29T10:00:00+00:00",
}


@blp.route("", methods=["GET"])
@blp.requires("directory:read")
@blp.response(200, DirectorySettingsSchema, example=EXAMPLE)
def get_settings():
    """The network's directory settings"""
    return service.get(session())


@blp.route("", methods=["PATCH"])
@blp.requires("directory:write")
@blp.arguments(DirectorySettingsUpdateSchema, example={"verification_interval_days": 90})
@blp.if_match
@blp.response(200, DirectorySettingsSchema, example=EXAMPLE)
def update_settings(data, expected_version: int):
    """Change the network's directory settings (network admins)"""
    return service.update(session=session(), principal=current_principal(), data=data, expected_version=expected_version)
