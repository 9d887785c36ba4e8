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


class WithFields:
    """An object seen through a response schema with a few extra one-time fields
    (a client secret, an invitation link) that are not stored on it."""

    def __init__(self, obj: object, **fields: object) -> None:
        self._obj = obj
        self.__dict__.update(fields)

    def __getattr__(self, name: str) -> object:
        return getattr(self._obj, name)


class ChangeSchema(Schema):
    """A PATCH body: any of its fields, and at least one (the spec says minProperties: 1)."""

    refuses_empty = True

    @ma.validates_schema
    def _not_empty(self, data, **_kwargs):  # type: ignore[no-untyped-def]
        if not data:
            raise ma.ValidationError("Send at least one field to change.")
