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
from sqlalchemy import ColumnElement, Row, Select, literal, tuple_
from sqlalchemy.orm import Session

from cbs_network.core.errors import DomainError

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


def _encode(key: str, value: datetime | float, ident: uuid.UUID) -> str:
    plain = value.isoformat() if isinstance(value, datetime) else float(value)
    raw = json.dumps([key, plain, str(ident)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str, key: str) -> tuple[datetime | float, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        cursor_key, value, ident = json.loads(raw)
        if cursor_key != key:
            raise ValueError("cursor from another ordering")
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        elif not isinstance(value, (int, float)) or isinstance(value, bool):
            raise ValueError("not a sort value")
        return value, uuid.UUID(ident)
    except (ValueError, TypeError, binascii.Error, json.JSONDecodeError) as error:
        raise BadCursor(
            "The cursor is not one this list issued; start again without it.",
            errors={"query": {"cursor": ["Invalid cursor."]}},
        ) from error


def keyset_rows(
    session: Session, query: Select, *, key: str, sort: ColumnElement, id_column: ColumnElement,
    limit: int, cursor: str | None,
) -> tuple[list[Row], str | None]:
    """One page of `query` ordered by (sort, id): the rows, and the cursor of the next page.

    Each page starts strictly after the previous page's last (sort, id) pair, which the cursor
    carries under the name `key`; a cursor from another ordering is refused.
    """
    if cursor:
        value, ident = _decode(cursor, key)
        query = query.where(tuple_(sort, id_column) > tuple_(literal(value, sort.type), literal(ident, id_column.type)))
    marked = query.add_columns(sort.label("keyset_sort"), id_column.label("keyset_id"))
    rows = session.execute(marked.order_by(sort, id_column).limit(limit + 1)).all()
    page = rows[:limit]
    next_cursor = _encode(key, page[-1].keyset_sort, page[-1].keyset_id) if len(rows) > limit else None
    return [row[:-2] for row in page], next_cursor


def paginate(
    session: Session, query: Select, model: Any, args: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Run `query` (a select of `model`) one page at a time, by creation, or by change when the
    client syncs with `updated_since`; returns the body and the Link header for the view."""
    since = args.get("updated_since")
    key = "updated_at" if since is not None else "created_at"
    if since is not None:
        query = query.where(model.updated_at >= since)
    rows, next_cursor = keyset_rows(
        session, query, key=key, sort=getattr(model, key), id_column=model.id, limit=args["limit"], cursor=args.get("cursor")
    )
    return {"items": [row[0] for row in rows], "next_cursor": next_cursor}, next_link_header(next_cursor)


def next_link_header(next_cursor: str | None) -> dict[str, str]:
    """The `Link: <...>; rel="next"` header: this request's URL, every filter kept (repeated
    ones too), with the new cursor."""
    if not next_cursor:
        return {}
    params = request.args.to_dict(flat=False)
    params["cursor"] = [next_cursor]
    return {"Link": f'<{request.base_url}?{urlencode(params, doseq=True)}>; rel="next"'}
