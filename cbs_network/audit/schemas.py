from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from ..http.pagination import PageArgsSchema
from ..http.schemas import Schema


class AuditRecordSchema(Schema):
    id = ma.fields.UUID()
    seq = ma.fields.Integer(metadata={"description": "Position in the hash chain"})
    created_at = ma.fields.AwareDateTime()
    actor_user_id = ma.fields.UUID(allow_none=True)
    actor_client_id = ma.fields.String(allow_none=True)
    organization_id = ma.fields.UUID(allow_none=True, metadata={"description": "The acting organization"})
    action = ma.fields.String(metadata={"example": "organization.updated"})
    object_type = ma.fields.String(metadata={"example": "organization"})
    object_id = ma.fields.String()
    changes = ma.fields.Dict(metadata={"description": "field -> {before, after}; personal fields masked"})
    request_id = ma.fields.String(allow_none=True)
    prev_hash = ma.fields.String()
    hash = ma.fields.String()


class AuditQuerySchema(PageArgsSchema):
    object_type = ma.fields.String(validate=validate.Length(min=1, max=60))
    object_id = ma.fields.String(validate=validate.Length(min=1, max=64))
    organization_id = ma.fields.UUID()
    actor_user_id = ma.fields.UUID()
    action = ma.fields.String(validate=validate.Length(min=1, max=60))
    since = ma.fields.AwareDateTime(format="iso")
