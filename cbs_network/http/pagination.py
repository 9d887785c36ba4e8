"""Keyset pagination: `limit` + opaque `cursor`, `{"items", "next_cursor"}` and a Link header.

Rows are ordered by (created_at, id), or by (updated_at, id) when a client syncs with
`updated_since`, and each page starts strictly after the last row of the previous one, so rows
inserted while a client pages never shift what it has still to read.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from datetime import datetime
from urllib.parse import urlencode
from typing import Any

import marshmallow as ma
from flask import request
from sqlalchemy import Select, literal, tuple_
from sqlalchemy.orm import Session

from ..errors import DomainError

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class BadCursor(DomainError):
    status, slug, title = 400, "bad-request", "Bad cursor"


class PageArgsSchema(ma.Schema):
    limit = ma.fields.Integer(
        load_default=DEFAULT_LIMIT,
        validate=ma.validate.Range(min=1, max=MAX_LIMIT),
        metadata={"description": f"Page size (default {DEFAULT_LIMIT}, max {MAX_LIMIT})"},
    )
    cursor = ma.fields.String(
        load_default=None,
        validate=ma.validate.Length(max=500),
        metadata={"description": "Opaque cursor: the `next_cursor` of the previous page"},
    )


class SyncPageArgsSchema(PageArgsSchema):
    updated_since = ma.fields.AwareDateTime(
        load_default=None,
        format="iso",
        metadata={"description": "Only records changed at or after this instant (RFC 3339), oldest change first"},
    )


def page_schema(item_schema: type[ma.Schema]) -> type[ma.Schema]:
    """A named `<Item>PageSchema` so each list has its own component in the spec."""
    name = item_schema.__name__.removesuffix("Schema") + "PageSchema"
    return type(
        name,
        (ma.Schema,),
        {
            "items": ma.fields.List(ma.fields.Nested(item_schema), required=True),
            "next_cursor": ma.fields.String(
                allow_none=True,
                required=True,
                metadata={"description": "Pass as `cursor` for the next page; null on the last page"},
            ),
        },
    )


def _encode(key: str, values: tuple[datetime, uuid.UUID]) -> str:
    raw = json.dumps([key, values[0].isoformat(), str(values[1])]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str, key: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        cursor_key, moment, ident = json.loads(raw)
        if cursor_key != key:
            raise ValueError("cursor from another ordering")
        return datetime.fromisoformat(moment), uuid.UUID(ident)
    except (ValueError, TypeError, binascii.Error, json.JSONDecodeError) as error:
        raise BadCursor(
            "The cursor is not one this list issued; start again without it.",
            errors={"query": {"cursor": ["Invalid cursor."]}},
        ) from error


def paginate(
    session: Session, query: Select, model: Any, args: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Run `query` one page at a time; returns the body and the Link header for the view."""
    since = args.get("updated_since")
    key = "updated_at" if since is not None else "created_at"
    columns = (getattr(model, key), model.id)
    if since is not None:
        query = query.where(model.updated_at >= since)
    if args.get("cursor"):
        after = _decode(args["cursor"], key)
        query = query.where(
            tuple_(*columns) > tuple_(*(literal(v, c.type) for v, c in zip(after, columns, strict=False)))
        )
    limit = args["limit"]
    rows = list(session.scalars(query.order_by(*columns).limit(limit + 1)))
    items, more = rows[:limit], len(rows) > limit
    next_cursor = _encode(key, (getattr(items[-1], key), items[-1].id)) if more else None
    return {"items": items, "next_cursor": next_cursor}, next_link_header(next_cursor)


def next_link_header(next_cursor: str | None) -> dict[str, str]:
    """The `Link: <...>; rel="next"` header: this request's URL, every filter kept (repeated
    ones too), with the new cursor."""
    if not next_cursor:
        return {}
    params = request.args.to_dict(flat=False)
    params["cursor"] = [next_cursor]
    return {"Link": f'<{request.base_url}?{urlencode(params, doseq=True)}>; rel="next"'}
