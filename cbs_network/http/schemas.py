"""Base schemas shared by every domain."""

from __future__ import annotations

import typing

import marshmallow as ma
from marshmallow import validate

from cbs_network.http import serialize


class FullMatch(validate.Regexp):
    """A pattern the whole value must match. apispec copies it into the spec, so it is written in
    the regex syntax ECMA-262 (JSON Schema) and Python read alike; fullmatch, because Python's `$`
    also matches before a final newline and ECMA's does not, so "12345\\n" would pass here alone."""

    @typing.overload
    def __call__(self, value: str) -> str: ...

    @typing.overload
    def __call__(self, value: bytes) -> bytes: ...

    def __call__(self, value: typing.Any) -> typing.Any:  # as Regexp's: a str pattern takes str, a bytes one bytes
        if self.regex.fullmatch(value) is None:
            raise ma.ValidationError(self._format_error(value))
        return value


# An http(s) URL to publish, in the part of RFC 3986 that format: uri means: a DNS name (ASCII; an
# international name in its xn-- form), localhost or an IPv4 address, an optional port, then a
# path, query and fragment of URI characters (others percent-encoded). No user:password@ part: the
# URL is shown to the whole network. Redirect URIs may also name the IPv6 loopback (RFC 8252).
_HOST = r"(([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?|localhost|[0-9]{1,3}(\.[0-9]{1,3}){3})"
_PCHAR = r"([A-Za-z0-9._~!$&'()*+,;=:@-]|%[0-9A-Fa-f]{2})"
_PATH_AND_QUERY = rf"(/{_PCHAR}*)*(\?({_PCHAR}|[/?])*)?"
_HTTP = r"^[hH][tT][tT][pP][sS]?://"
WEB_URL_PATTERN = rf"{_HTTP}{_HOST}(:[0-9]{{1,5}})?{_PATH_AND_QUERY}(#({_PCHAR}|[/?])*)?$"
# OAuth redirect URIs never carry a fragment (RFC 6749, 3.1.2).
REDIRECT_URI_PATTERN = rf"{_HTTP}({_HOST}|\[::1\])(:[0-9]{{1,5}})?{_PATH_AND_QUERY}$"


def web_url(*, fragment: bool = True, **kwargs) -> ma.fields.String:
    pattern, example = (
        (WEB_URL_PATTERN, "https://example.org/page") if fragment else (REDIRECT_URI_PATTERN, "https://example.org/callback")
    )
    return ma.fields.String(
        validate=[
            validate.Length(max=500),
            FullMatch(pattern, error=f"An http or https URL{'' if fragment else ' without a fragment'}, e.g. {example}."),
        ],
        metadata={"format": "uri"},
        **kwargs,
    )


class Schema(ma.Schema):
    """Request bodies reject unknown fields; responses are dumped by the plan compiled once per
    schema (http/serialize.py), which gives marshmallow's output."""

    class Meta:
        ordered = True

    def dump(self, obj, *, many=None):
        return serialize.dump(self, obj, many=many)


class RecordSchema(Schema):
    id = ma.fields.UUID(dump_only=True)
    created_at = ma.fields.AwareDateTime(dump_only=True)
    updated_at = ma.fields.AwareDateTime(dump_only=True)


class VersionedRecordSchema(RecordSchema):
    version = ma.fields.Integer(dump_only=True, metadata={"description": "Record version; also its ETag, for If-Match"})


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
    def _not_empty(self, data, **_kwargs):
        if not data:
            raise ma.ValidationError("Send at least one field to change.")
