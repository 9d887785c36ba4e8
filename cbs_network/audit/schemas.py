from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from cbs_network.http.pagination import PageArgsSchema
from cbs_network.http.schemas import Schema


class AuditRecordSchema(Schema):
    id = ma.fields.UUID()
    chain = ma.fields.String(
        metadata={
            "description": "The hash chain the record belongs to: the acting organization's id, or `system` when no one acted",
            "example": "6a1f7f0e-7a2b-4d8e-9c1a-2b3c4d5e6f70",
        }
    )
    seq = ma.fields.Integer(metadata={"description": "Position in its chain, from 1"})
    created_at = ma.fields.AwareDateTime()
    actor_user_id = ma.fields.UUID(allow_none=True)
    actor_client_id = ma.fields.String(allow_none=True)
    organization_id = ma.fields.UUID(allow_none=True, metadata={"description": "The acting organization"})
    action = ma.fields.String(metadata={"example": "organization.updated"})
    object_type = ma.fields.String(metadata={"example": "organization"})
    object_id = ma.fields.String()
    changes = ma.fields.Dict(metadata={"description": "field -> {before, after}; personal fields masked"})
    request_id = ma.fields.String(allow_none=True)
    key_id = ma.fields.String(metadata={"description": "The CBS_AUDIT_KEYS key the record's HMAC was made with"})
    prev_hash = ma.fields.String(metadata={"description": "The HMAC of the previous record in the chain"})
    hash = ma.fields.String(metadata={"description": "HMAC-SHA256 of the record's content and `prev_hash`"})


class AuditQuerySchema(PageArgsSchema):
    object_type = ma.fields.String(validate=validate.Length(min=1, max=60))
    object_id = ma.fields.String(validate=validate.Length(min=1, max=64))
    organization_id = ma.fields.UUID()
    actor_user_id = ma.fields.UUID()
    action = ma.fields.String(validate=validate.Length(min=1, max=60))
    chain = ma.fields.String(validate=validate.Length(min=1, max=64), metadata={"description": "Only this chain's records"})
    since = ma.fields.AwareDateTime(format="iso")
