"""Base schemas shared by every domain."""

from __future__ import annotations

import marshmallow as ma


class Schema(ma.Schema):
    """Request bodies reject unknown fields; responses are plain dumps."""

    class Meta:
        ordered = True


class RecordSchema(Schema):
    id = ma.fields.UUID(dump_only=True)
    created_at = ma.fields.AwareDateTime(dump_only=True)
    updated_at = ma.fields.AwareDateTime(dump_only=True)


class VersionedRecordSchema(RecordSchema):
    version = ma.fields.Integer(
        dump_only=True, metadata={"description": "Record version; also its ETag, for If-Match"}
    )
