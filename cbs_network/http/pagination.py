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
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import marshmallow as ma
from flask import request
from sqlalchemy import ARRAY, ColumnElement, Row, Select, any_, literal, select, tuple_, union_all
from sqlalchemy.orm import QueryableAttribute, Session

from cbs_network.core.errors import DomainError
from cbs_network.http.schemas import Schema

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
DISTANCE_DECIMALS = 1  # distances are shown to 0.1 m, everywhere


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
        (Schema,),
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
    session: Session,
    query: Select | list[Select],
    *,
    key: str,
    sort: ColumnElement[Any] | QueryableAttribute[Any],
    id_column: ColumnElement[Any] | QueryableAttribute[Any],
    limit: int,
    cursor: str | None,
) -> tuple[Sequence[Row], str | None]:
    """One page of `query` ordered by (sort, id): the rows (with two more columns, keyset_sort and
    keyset_id), and the cursor of the next page.

    Each page starts strictly after the previous page's last (sort, id) pair, which the cursor
    carries under the name `key`; a cursor from another ordering is refused. A list of queries
    with disjoint rows (selecting the same columns) is one list: each is paged on its own, so each
    walks its own index, and the pages merged.
    """
    after = None
    if cursor:
        value, ident = _decode(cursor, key)
        after = tuple_(sort, id_column) > tuple_(literal(value, sort.type), literal(ident, id_column.type))
    pages = [
        (arm if after is None else arm.where(after))
        .add_columns(sort.label("keyset_sort"), id_column.label("keyset_id"))
        .order_by(sort, id_column)
        .limit(limit + 1)
        for arm in (query if isinstance(query, list) else [query])
    ]
    if len(pages) == 1:
        statement = pages[0]
    else:
        merged = union_all(*(select(*page.subquery().c) for page in pages)).subquery()
        statement = select(*merged.c).order_by(merged.c.keyset_sort, merged.c.keyset_id).limit(limit + 1)
    rows = session.execute(statement).all()
    page = rows[:limit]
    next_cursor = _encode(key, page[-1].keyset_sort, page[-1].keyset_id) if len(rows) > limit else None
    return page, next_cursor


class Record(dict):
    """A row of a page as a dict whose keys also read as attributes, so a presenter written for
    the model's objects reads it alike."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def paginate(
    session: Session,
    query: Select | list[Select],
    model: Any,
    args: dict[str, Any],
    *,
    distance: ColumnElement[float] | None = None,
    rows: bool = False,
    children: dict[str, Select] | None = None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """Run `query` (a select of `model`, or several with disjoint rows) one page at a time: by
    creation, by change when the client syncs with `updated_since`, or nearest first by `distance`
    (meters, given to 0.1 m as `distance_m`). Returns the body and the Link header for the view.

    Items are the model's objects, or (object, distance_m) pairs; with `rows`, Records of the
    model's columns (and `distance_m`) instead, for lists whose presenter needs no relationship: loading
    ORM objects costs more than the rest of such a request together. `children` (rows only) adds
    each item's child lists, a statement per list for the whole page (`child_lists`).
    """
    since = args.get("updated_since")
    arms = query if isinstance(query, list) else [query]
    if since is not None:
        arms = [arm.where(model.updated_at >= since) for arm in arms]
    if distance is not None:
        key, sort = "distance", distance
    else:
        key = "updated_at" if since is not None else "created_at"
        sort = getattr(model, key)
    if rows:
        arms = [arm.with_only_columns(*model.__table__.columns) for arm in arms]
    elif len(arms) > 1:
        raise ValueError("a list of several queries is paged as rows")
    if distance is not None and "distance_m" not in arms[0].selected_columns:
        arms = [arm.add_columns(distance.label("distance_m")) for arm in arms]
    page, next_cursor = keyset_rows(
        session, arms, key=key, sort=sort, id_column=model.id, limit=args["limit"], cursor=args.get("cursor")
    )
    items: list[Any]
    if rows:
        items = [Record(row._mapping) for row in page]
        for item in items:
            del item["keyset_sort"], item["keyset_id"]
            if distance is not None:
                item["distance_m"] = round(item["distance_m"], DISTANCE_DECIMALS)
        found = child_lists(session, [item["id"] for item in items], children or {})
        for item in items:
            for name, by_parent in found.items():
                item[name] = by_parent.get(item["id"], [])
    elif distance is not None:
        items = [(row[0], round(row.distance_m, DISTANCE_DECIMALS)) for row in page]
    else:
        items = [row[0] for row in page]
    return {"items": items, "next_cursor": next_cursor}, next_link_header(next_cursor)


def child_lists(session: Session, parent_ids: list[Any], queries: dict[str, Select]) -> dict[str, dict[Any, list[Any]]]:
    """The child collections of a page, each in one statement however long the page: every query
    selects the parent's id first, then one value (listed as it is) or several (listed as a dict).
    The lists keep each query's order."""
    found: dict[str, dict[Any, list[Any]]] = {}
    one_array = session.get_bind().dialect.name == "postgresql"
    for name, query in queries.items():
        by_parent: dict[Any, list[Any]] = defaultdict(list)
        found[name] = by_parent
        if not parent_ids:
            continue
        parent = query.selected_columns[0]
        # PostgreSQL takes the ids as one array parameter: an IN list of 50 is 50 parameters to
        # render, bind and cast on every page, more work than the query itself.
        ids = literal(parent_ids, ARRAY(parent.type)) if one_array else None
        matching = parent == any_(ids) if ids is not None else parent.in_(parent_ids)
        single = len(query.selected_columns) == 2
        # Plain columns: the connection runs them without the ORM's per-statement work.
        for row in session.connection().execute(query.where(matching)):
            by_parent[row[0]].append(row[1] if single else row._asdict())
    return found


def next_link_header(next_cursor: str | None) -> dict[str, str]:
    """The `Link: <...>; rel="next"` header: this request's URL, every filter kept (repeated
    ones too), with the new cursor."""
    if not next_cursor:
        return {}
    params = request.args.to_dict(flat=False)
    params["cursor"] = [next_cursor]
    return {"Link": f'<{request.base_url}?{urlencode(params, doseq=True)}>; rel="next"'}
