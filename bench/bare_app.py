"""The baseline: a bare Flask + psycopg endpoint running the same query as
GET /api/v1/organizations?limit=50 (first page, ordered by created_at, id), with no auth,
no ORM and no schema. The hub's cost is reported as a ratio to this."""

from __future__ import annotations

import os

from flask import Flask, jsonify
from psycopg_pool import ConnectionPool

app = Flask(__name__)
pool = ConnectionPool(os.environ["BENCH_PSYCOPG_DSN"], min_size=1, max_size=4, open=True)

QUERY = """
SELECT id, kind, name, alternate_name, description, jurisdiction, governing_authority, website,
       email, phone, status, parent_id, created_at, updated_at, version
FROM organizations ORDER BY created_at, id LIMIT 51
"""


@app.get("/organizations")
def organizations():
    with pool.connection() as connection:
        rows = connection.execute(QUERY).fetchall()
    columns = ("id", "kind", "name", "alternate_name", "description", "jurisdiction", "governing_authority",
               "website", "email", "phone", "status", "parent_id", "created_at", "updated_at", "version")
    items = [
        {k: (str(v) if k in ("id", "parent_id") and v else v.isoformat() if hasattr(v, "isoformat") else v)
         for k, v in zip(columns, row, strict=False)}
        for row in rows[:50]
    ]
    return jsonify(items=items, next_cursor=None)
