"""The baseline: bare Flask + psycopg endpoints at the hub's own paths, each running the SQL that
does the work of the hub's endpoint (read from the hub's statement log, SQLAlchemy echo), with the
same hashed-token lookup, and nothing else: no ORM, no schemas, no rate limits, no policy layer.
The hub's cost is reported as a ratio to this (bench/run.py).

Writes go where the hub writes them (disclosures, referrals, transitions, events, idempotency
keys, capacity), except audit records, which go to a chain of their own ("bare:<organization>")
so that the hub's chains still verify after a run.

Each response carries X-Bench-SQL-Statements: the statements it ran.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import os
import threading
import uuid
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import Flask, Response, abort, jsonify, request
from psycopg.rows import dict_row
from psycopg.types.json import Json
from psycopg_pool import ConnectionPool

app = Flask(__name__)
_pools: dict[int, ConnectionPool] = {}
_pool_lock = threading.Lock()


def pooled():  # type: ignore[no-untyped-def]
    """A pooled connection of this process: a pool opened before gunicorn forks (preload) would
    share its sockets between workers."""
    pid = os.getpid()
    if pid not in _pools:
        with _pool_lock:
            if pid not in _pools:
                _pools[pid] = ConnectionPool(
                    os.environ["BENCH_PSYCOPG_DSN"], min_size=1, max_size=8, open=True, kwargs={"row_factory": dict_row}
                )
    return _pools[pid].connection()


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


FIELD_KEYS = {
    key_id: AESGCM(_b64decode(encoded))
    for key_id, _, encoded in (entry.partition(":") for entry in os.environ["CBS_FIELD_KEYS"].split(","))
}
AUDIT_KEY = _b64decode(os.environ["CBS_AUDIT_KEYS"].split(",")[0].partition(":")[2])
_counter = threading.local()


def q(connection, sql: str, params: dict | tuple | None = None) -> list[dict]:  # type: ignore[no-untyped-def]
    _counter.n = getattr(_counter, "n", 0) + 1
    cursor = connection.execute(sql, params)
    return cursor.fetchall() if cursor.description else []


@app.before_request
def _reset() -> None:
    _counter.n = 0


@app.after_request
def _count(response: Response) -> Response:
    response.headers["X-Bench-SQL-Statements"] = str(getattr(_counter, "n", 0))
    return response


# --- the token lookup: the hub's join, checked the way the hub checks it --------------------------

TOKEN_SQL = """
SELECT t.organization_id, t.client_id, t.user_id, t.scope, t.issued_at, t.expires_in, t.access_revoked_at,
       c.is_active AS client_active, c.role_ceiling, o.status AS organization_status, u.is_active AS user_active,
       m.role AS membership_role, m.status AS membership_status
FROM oauth_tokens t
JOIN oauth_clients c ON c.client_id = t.client_id
JOIN organizations o ON o.id = t.organization_id
LEFT JOIN users u ON u.id = t.user_id
LEFT JOIN memberships m ON m.user_id = t.user_id AND m.organization_id = t.organization_id
WHERE t.access_token_hash = %s
"""


def principal(connection, scope: str) -> dict:  # type: ignore[no-untyped-def]
    parts = request.headers.get("Authorization", "").split(None, 1)
    if len(parts) != 2 or parts[0].lower() != "bearer":
        abort(401)
    rows = q(connection, TOKEN_SQL, (hashlib.sha256(parts[1].encode()).hexdigest(),))
    if not rows:
        abort(401)
    token = rows[0]
    if (
        token["access_revoked_at"] is not None
        or token["issued_at"] + timedelta(seconds=token["expires_in"]) <= datetime.now(UTC)
        or not token["client_active"]
        or token["organization_status"] == "suspended"
    ):
        abort(401)
    if scope not in token["scope"].split():
        abort(403)
    return token


def settings(connection) -> dict:  # type: ignore[no-untyped-def]
    return (
        q(
            connection,
            "SELECT verification_interval_days, capacity_stale_after_days, referral_response_hours "
            "FROM directory_settings WHERE id = 1",
        )[0]
        or {}
    )


def _page(rows: list[dict], limit: int, key: str) -> tuple[list[dict], str | None]:
    page = rows[:limit]
    cursor = None
    if len(rows) > limit:
        last = page[-1]
        value = last[key].isoformat() if isinstance(last[key], datetime) else float(last[key])
        cursor = base64.urlsafe_b64encode(json.dumps([key, value, str(last["id"])]).encode()).decode().rstrip("=")
    return page, cursor


def _cursor(text: str | None) -> tuple | None:
    if not text:
        return None
    _key, value, ident = json.loads(_b64decode(text))
    return value, uuid.UUID(ident)


def _limit() -> int:
    return max(1, min(200, int(request.args.get("limit", 50))))


# --- programs ----------------------------------------------------------------------------------

PROGRAM_COLUMNS = """p.id, p.organization_id, p.name, p.alternate_name, p.description, p.program_type, p.status,
p.minimum_age, p.maximum_age, p.minimum_grade, p.maximum_grade, p.population_description, p.eligibility_description,
p.fees_description, p.is_free, p.application_process, p.evidence_basis, p.evidence_description, p.funding_sources,
p.contacts, p.url, p.email, p.phone, p.accepts_referrals, p.assured_at, p.assured_by_user_id, p.service_area_geojson,
p.service_area_description, p.created_at, p.updated_at, p.version"""
CHILDREN = {
    "languages": ("SELECT program_id, code FROM program_languages WHERE program_id = ANY(%s) ORDER BY code", "code"),
    "served_school_ids": ("SELECT program_id, school_id FROM program_schools WHERE program_id = ANY(%s)", "school_id"),
    "served_regions": ("SELECT program_id, region FROM program_regions WHERE program_id = ANY(%s) ORDER BY region", "region"),
    "location_ids": ("SELECT program_id, location_id FROM program_locations WHERE program_id = ANY(%s)", "location_id"),
    "external_codes": (
        "SELECT program_id, scheme, code FROM program_external_codes WHERE program_id = ANY(%s) ORDER BY scheme",
        None,
    ),
    "schedules": (
        "SELECT program_id, position, byday, opens_at, closes_at, minutes_before_arrival, "
        "minutes_after_dismissal, description FROM program_schedules WHERE program_id = ANY(%s) "
        "ORDER BY position",
        None,
    ),
}


def _program_items(connection, rows: list[dict]) -> list[dict]:  # type: ignore[no-untyped-def]
    ids = [row["id"] for row in rows]
    items = {row["id"]: {**row, **{name: [] for name in CHILDREN}} for row in rows}
    for name, (sql, column) in CHILDREN.items():
        for child in q(connection, sql, (ids,)):
            owner = child.pop("program_id")
            items[owner][name].append(child[column] if column else child)
    interval = timedelta(days=settings(connection)["verification_interval_days"])
    now = datetime.now(UTC)
    for item in items.values():
        due = item["assured_at"] + interval if item["assured_at"] else None
        item.update(verification_due_at=due, stale=due is None or due <= now)
    return list(items.values())


HAVERSINE = (
    "12742017.6 * asin(sqrt(least(1.0, power(sin(radians(l.latitude - %(lat)s) / 2), 2) + cos(radians(%(lat)s)) "
    "* cos(radians(l.latitude)) * power(sin(radians(l.longitude - %(lon)s) / 2), 2))))"
)


@app.get("/api/v1/programs")
def programs():  # type: ignore[no-untyped-def]
    limit = _limit()
    with pooled() as connection:
        token = principal(connection, "directory:read")
        visible = "(p.status != 'draft' OR p.organization_id = %(org)s)"
        params = {"org": token["organization_id"], "limit": limit + 1}
        if "near_lat" in request.args:
            lat, lon = float(request.args["near_lat"]), float(request.args["near_lon"])
            radius = float(request.args.get("radius_m", 5000))
            dlat = radius / 111_320
            dlon = dlat / max(0.01, abs(math.cos(math.radians(lat))))
            params.update(lat=lat, lon=lon, radius=radius, lat0=lat - dlat, lat1=lat + dlat, lon0=lon - dlon, lon1=lon + dlon)
            rows = q(
                connection,
                f"""
                SELECT {PROGRAM_COLUMNS}, nearest.distance_m FROM programs p JOIN (
                  SELECT pl.program_id, min({HAVERSINE}) AS distance_m
                  FROM program_locations pl JOIN locations l ON l.id = pl.location_id
                  WHERE l.location_type = 'physical' AND l.latitude IS NOT NULL AND l.longitude IS NOT NULL
                    AND (l.is_confidential IS false OR l.organization_id = %(org)s)
                    AND l.latitude BETWEEN %(lat0)s AND %(lat1)s AND l.longitude BETWEEN %(lon0)s AND %(lon1)s
                    AND {HAVERSINE} <= %(radius)s
                  GROUP BY pl.program_id) nearest ON nearest.program_id = p.id
                WHERE {visible} ORDER BY nearest.distance_m, p.id LIMIT %(limit)s""",
                params,
            )
            page, cursor = _page(rows, limit, "distance_m")
            for row in page:
                row["distance_m"] = round(row["distance_m"], 1)
        else:
            params["types"] = request.args.getlist("program_type")
            rows = q(
                connection,
                f"""SELECT {PROGRAM_COLUMNS} FROM programs p WHERE {visible}
                AND p.program_type = ANY(%(types)s) ORDER BY p.created_at, p.id LIMIT %(limit)s""",
                params,
            )
            page, cursor = _page(rows, limit, "created_at")
        items = _program_items(connection, page) if page else []
    return jsonify(items=items, next_cursor=cursor)


# --- organizations -------------------------------------------------------------------------------


@app.get("/api/v1/organizations")
def organizations():  # type: ignore[no-untyped-def]
    limit = _limit()
    with pooled() as connection:
        principal(connection, "organizations:read")
        rows = q(
            connection,
            """SELECT id, kind, name, alternate_name, description, jurisdiction, governing_authority,
            website, email, phone, status, parent_id, created_at, updated_at, version FROM organizations
            ORDER BY created_at, id LIMIT %s""",
            (limit + 1,),
        )
        page, cursor = _page(rows, limit, "created_at")
        items = {row["id"]: {**row, "identifiers": [], "contacts": []} for row in page}
        for name, sql in ORGANIZATION_CHILDREN.items():
            for child in q(connection, sql, (list(items),)):
                items[child.pop("organization_id")][name].append(child)
    return jsonify(items=list(items.values()), next_cursor=cursor)


ORGANIZATION_CHILDREN = {
    "identifiers": "SELECT organization_id, scheme, value FROM organization_identifiers WHERE organization_id = ANY(%s) "
    "ORDER BY scheme",
    "contacts": "SELECT organization_id, id, position, name, title, department, email, phone FROM organization_contacts "
    "WHERE organization_id = ANY(%s) ORDER BY position",
}


# --- referrals -----------------------------------------------------------------------------------

REFERRAL_COLUMNS = """id, source_organization_id, source_user_id, target_program_id, target_organization_id, subject_id,
consent_id, school_id, need_type, personal_data, urgency, state, requested_at, service_due_on, emergency_reason,
emergency_review, holds_slot, on_waitlist, outcome_enrollment_status, outcome_services, outcome_recorded_at,
created_at, updated_at, version"""


def _summary(referral: dict, hours: int) -> dict:
    item = {k: v for k, v in referral.items() if k != "personal_data"}
    respond_by = referral["requested_at"] + timedelta(hours=hours) if referral["requested_at"] else None
    item.update(
        respond_by=respond_by,
        overdue=referral["state"] == "requested" and respond_by is not None and respond_by <= datetime.now(UTC),
        capacity_place="slot" if referral["holds_slot"] else "waitlist" if referral["on_waitlist"] else None,
    )
    return item


def _referral_page(*arms: str) -> Response:
    """A page of referrals: each arm (a WHERE clause with disjoint rows) paged on its own index
    range and the pages merged, as the hub runs it."""
    limit = _limit()
    with pooled() as connection:
        token = principal(connection, "referrals:read")
        params = {"org": token["organization_id"], "limit": limit + 1}
        after = _cursor(request.args.get("cursor"))
        keyset = ""
        if after:
            keyset = " AND (created_at, id) > (%(after_at)s, %(after_id)s)"
            params.update(after_at=datetime.fromisoformat(after[0]), after_id=after[1])
        pages = [
            f"SELECT {REFERRAL_COLUMNS} FROM referrals WHERE {arm}{keyset} ORDER BY created_at, id LIMIT %(limit)s"
            for arm in arms
        ]
        sql = (
            pages[0]
            if len(pages) == 1
            else (
                "SELECT * FROM ("
                + " UNION ALL ".join(f"({page})" for page in pages)
                + ") merged ORDER BY created_at, id LIMIT %(limit)s"
            )
        )
        rows = q(connection, sql, params)
        hours = settings(connection)["referral_response_hours"]
    page, cursor = _page(rows, limit, "created_at")
    return jsonify(items=[_summary(row, hours) for row in page], next_cursor=cursor)


@app.get("/api/v1/referrals")
def referrals_all():  # type: ignore[no-untyped-def]
    return _referral_page(
        "source_organization_id = %(org)s",
        "target_organization_id = %(org)s AND state != 'draft' AND source_organization_id != %(org)s",
    )


@app.get("/api/v1/referrals/sent")
def referrals_sent():  # type: ignore[no-untyped-def]
    return _referral_page("source_organization_id = %(org)s")


def _decrypt(token: str, context: str) -> object:
    key_id, _, encoded = token.partition(":")
    raw = _b64decode(encoded)
    return json.loads(FIELD_KEYS[key_id].decrypt(raw[:12], raw[12:], context.encode()))


def _encrypt(value: object, context: str) -> str:
    key_id, key = next(iter(FIELD_KEYS.items()))
    nonce = os.urandom(12)
    return (
        f"{key_id}:{base64.urlsafe_b64encode(nonce + key.encrypt(nonce, json.dumps(value).encode(), context.encode())).decode()}"
    )


def _detail(connection, referral: dict, token: dict, hours: int) -> dict:  # type: ignore[no-untyped-def]
    """The referral with its history and, for the sender (own record), the personal fields and
    the disclosure record that reading them writes."""
    item = _summary(referral, hours)
    consent = (
        q(connection, "SELECT id, revoked_at, given_on, expires_on FROM consents WHERE id = %s", (referral["consent_id"],))
        if referral["consent_id"]
        else []
    )
    item["history"] = q(
        connection,
        "SELECT id, from_state, to_state, at, actor_organization_id, actor_user_id, "
        "actor_client_id, reason FROM referral_transitions WHERE referral_id = %s "
        "ORDER BY at, id",
        (referral["id"],),
    )
    if referral["source_organization_id"] == token["organization_id"]:
        subject = q(
            connection, "SELECT id, organization_id, personal_data FROM subjects WHERE id = %s", (referral["subject_id"],)
        )[0]
        shown = {
            k: v
            for k, v in _decrypt(subject["personal_data"], f"subjects.personal_data:{subject['id']}").items()
            if v is not None
        }
        need = (
            _decrypt(referral["personal_data"], f"referrals.personal_data:{referral['id']}")
            if referral["personal_data"]
            else None
        )
        item.update(personal_data="included", subject=shown, need_description=need)
        q(
            connection,
            """INSERT INTO disclosures (id, created_at, subject_id, referral_id, record_organization_id,
            disclosed_to_organization_id, user_id, client_id, fields, purpose, basis, consent_id, request_id)
            VALUES (%s, now(), %s, %s, %s, %s, NULL, %s, %s, %s, 'own_record', NULL, %s)""",
            (
                uuid.uuid4(),
                subject["id"],
                referral["id"],
                subject["organization_id"],
                token["organization_id"],
                token["client_id"],
                Json([*shown, *(["need_description"] if need else [])]),
                f"referral: {referral['need_type']}",
                uuid.uuid4().hex,
            ),
        )
    item["consent"] = bool(consent)
    return item


@app.get("/api/v1/referrals/<uuid:referral_id>")
def referral(referral_id: uuid.UUID):  # type: ignore[no-untyped-def]
    with pooled() as connection:
        token = principal(connection, "referrals:read")
        rows = q(connection, f"SELECT {REFERRAL_COLUMNS} FROM referrals WHERE id = %s", (referral_id,))
        if not rows or token["organization_id"] not in (rows[0]["source_organization_id"], rows[0]["target_organization_id"]):
            abort(404)
        hours = settings(connection)["referral_response_hours"]
        item = _detail(connection, rows[0], token, hours)
    return jsonify(item)


def _advisory(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def _audit(connection, token: dict, action: str, object_type: str, object_id: object, changes: dict) -> None:  # type: ignore[no-untyped-def]
    chain = f"bare:{token['organization_id']}"
    q(connection, "SELECT pg_advisory_xact_lock(%s)", (_advisory(f"audit:{chain}"),))
    last = q(connection, "SELECT seq, hash FROM audit_records WHERE chain = %s ORDER BY seq DESC LIMIT 1", (chain,))
    seq, prev = (last[0]["seq"] + 1, last[0]["hash"]) if last else (1, "0" * 64)
    now = datetime.now(UTC)
    record_id = uuid.uuid4()
    content = {
        "chain": chain,
        "seq": seq,
        "id": str(record_id),
        "created_at": now.isoformat(),
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id),
        "changes": changes,
        "prev_hash": prev,
    }
    digest = hmac.new(
        AUDIT_KEY, json.dumps(content, sort_keys=True, separators=(",", ":"), default=str).encode(), hashlib.sha256
    ).hexdigest()
    q(
        connection,
        """INSERT INTO audit_records (id, chain, seq, created_at, actor_user_id, actor_client_id, organization_id,
        action, object_type, object_id, changes, request_id, key_id, prev_hash, hash)
        VALUES (%s, %s, %s, %s, NULL, %s, %s, %s, %s, %s, %s, NULL, 'a1', %s, %s)""",
        (
            record_id,
            chain,
            seq,
            now,
            token["client_id"],
            token["organization_id"],
            action,
            object_type,
            str(object_id),
            Json(changes),
            prev,
            digest,
        ),
    )


def _event(
    connection,
    token: dict,
    type_: str,
    object_type: str,
    object_id: object,
    payload: dict,  # type: ignore[no-untyped-def]
    audience: list,
) -> None:
    q(
        connection,
        """INSERT INTO events (id, type, object_type, object_id, organization_id, audience_organization_ids,
        payload, request_id, created_at, published_at) VALUES (%s, %s, %s, %s, %s, %s, %s, NULL, now(), NULL)""",
        (
            uuid.uuid4(),
            type_,
            object_type,
            str(object_id),
            token["organization_id"],
            Json(sorted({str(a) for a in audience})),
            Json(payload, dumps=lambda v: json.dumps(v, default=str)),
        ),
    )


@app.post("/api/v1/referrals")
def create_referral():  # type: ignore[no-untyped-def]
    data = request.get_json()
    key = request.headers.get("Idempotency-Key")
    with pooled() as connection, connection.transaction():
        token = principal(connection, "referrals:write")
        caller = hashlib.sha256(f"{token['client_id']}:{token['organization_id']}".encode()).hexdigest()
        q(connection, "SELECT pg_try_advisory_xact_lock(%s)", (_advisory(f"idem:{caller}:{key}"),))
        q(connection, "DELETE FROM idempotency_keys WHERE created_at < %s", (datetime.now(UTC) - timedelta(hours=24),))
        if q(connection, "SELECT id FROM idempotency_keys WHERE caller = %s AND key = %s", (caller, key)):
            abort(409)
        subject = q(connection, "SELECT id, organization_id FROM subjects WHERE id = %s", (data["subject_id"],))
        program = q(
            connection,
            """SELECT p.id, p.organization_id, p.program_type, p.status, p.accepts_referrals, o.kind
            FROM programs p JOIN organizations o ON o.id = p.organization_id
            WHERE p.id = %s AND (p.status != 'draft' OR p.organization_id = %s)""",
            (data["target_program_id"], token["organization_id"]),
        )
        if not subject or subject[0]["organization_id"] != token["organization_id"] or not program:
            abort(422)
        program = program[0]
        if data.get("school_id") and not q(connection, "SELECT id FROM schools WHERE id = %s", (data["school_id"],)):
            abort(422)
        consent = q(
            connection,
            "SELECT id, subject_id, revoked_at, given_on, expires_on, covers_organization_ids, "
            "covers_organization_kinds, purposes FROM consents WHERE id = %s",
            (data["consent_id"],),
        )
        if (
            not consent
            or program["status"] != "active"
            or not program["accepts_referrals"]
            or program["kind"] not in consent[0]["covers_organization_kinds"]
            or program["program_type"] not in consent[0]["purposes"]
        ):
            abort(422)
        now = datetime.now(UTC)
        referral_id = uuid.uuid4()
        need = (
            _encrypt(data["need_description"], f"referrals.personal_data:{referral_id}") if data.get("need_description") else None
        )
        rows = q(
            connection,
            f"""INSERT INTO referrals (id, source_organization_id, target_program_id, target_organization_id,
            subject_id, consent_id, school_id, need_type, personal_data, urgency, state, requested_at, holds_slot,
            on_waitlist, outcome_services, created_at, updated_at, version)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 'requested', %s, false, false, '[]', %s, %s, 1)
            RETURNING {REFERRAL_COLUMNS}""",
            (
                referral_id,
                token["organization_id"],
                program["id"],
                program["organization_id"],
                subject[0]["id"],
                consent[0]["id"],
                data.get("school_id"),
                program["program_type"],
                need,
                data.get("urgency", "routine"),
                now,
                now,
                now,
            ),
        )
        q(
            connection,
            """INSERT INTO referral_transitions (id, referral_id, from_state, to_state, at, actor_organization_id,
            actor_user_id, actor_client_id, reason) VALUES (%s, %s, NULL, 'requested', %s, %s, NULL, %s, NULL)""",
            (uuid.uuid4(), referral_id, now, token["organization_id"], token["client_id"]),
        )
        _audit(
            connection,
            token,
            "referral.created",
            "referral",
            referral_id,
            {"state": {"before": None, "after": "requested"}, "need_description": {"before": None, "after": "***"}},
        )
        _event(
            connection,
            token,
            "referral.created",
            "referral",
            referral_id,
            {"referral_id": str(referral_id), "state": "requested"},
            [program["organization_id"]],
        )
        hours = settings(connection)["referral_response_hours"]
        q(
            connection,
            """INSERT INTO idempotency_keys (id, caller, client_id, key, method, path, fingerprint, response_status,
            response_headers, response_body, replayable, created_at) VALUES (%s, %s, %s, %s, 'POST', %s, %s, 201, '{}', ''::bytea,
            false, now())""",
            (uuid.uuid4(), caller, token["client_id"], key, request.path, hashlib.sha256(request.get_data()).hexdigest()),
        )
        item = _detail(connection, rows[0], token, hours)
    return jsonify(item), 201


# --- capacity: the audited write -----------------------------------------------------------------

CAPACITY_FIELDS = (
    "total_slots",
    "available_slots",
    "slot_unit",
    "waitlist_length",
    "waitlist_open",
    "assessment_required",
    "staff_count",
    "certified_interventionists",
    "languages_staffed",
    "hours",
    "notes",
)


@app.put("/api/v1/programs/<uuid:program_id>/capacity")
def put_capacity(program_id: uuid.UUID):  # type: ignore[no-untyped-def]
    data = request.get_json()
    values = {name: data.get(name) for name in CAPACITY_FIELDS}
    values.update(
        waitlist_length=values["waitlist_length"] or 0,
        waitlist_open=bool(values["waitlist_open"]),
        assessment_required=bool(values["assessment_required"]),
        languages_staffed=values["languages_staffed"] or [],
    )
    expected = int(request.headers.get("If-Match", "0").strip('W/"') or 0)
    with pooled() as connection, connection.transaction():
        token = principal(connection, "capacity:write")
        program = q(
            connection,
            "SELECT id, organization_id, accepts_referrals FROM programs WHERE id = %s "
            "AND (status != 'draft' OR organization_id = %s)",
            (program_id, token["organization_id"]),
        )
        if not program or program[0]["organization_id"] != token["organization_id"]:
            abort(404)
        now = datetime.now(UTC)
        rows = q(
            connection,
            f"""UPDATE capacity_profiles SET {", ".join(f"{n} = %({n})s" for n in CAPACITY_FIELDS)},
            updated_at = %(now)s, version = version + 1 WHERE program_id = %(program)s AND version = %(expected)s
            RETURNING id, version, created_at""",
            {
                **values,
                "languages_staffed": Json(values["languages_staffed"]),
                "now": now,
                "program": program_id,
                "expected": expected,
            },
        )
        if not rows:
            abort(412)
        q(
            connection,
            "INSERT INTO capacity_history (id, program_id, version, changed_at, changed_by_user_id, snapshot) "
            "VALUES (%s, %s, %s, %s, NULL, %s)",
            (uuid.uuid4(), program_id, rows[0]["version"], now, Json(values)),
        )
        _audit(
            connection,
            token,
            "capacity.updated",
            "capacity_profile",
            rows[0]["id"],
            {name: {"before": None, "after": value} for name, value in values.items()},
        )
        _event(connection, token, "capacity.updated", "program", program_id, {"program_id": str(program_id)}, [])
        stale_days = settings(connection)["capacity_stale_after_days"]
    body = {
        **values,
        "program_id": program_id,
        "accepting_referrals": program[0]["accepts_referrals"],
        "version": rows[0]["version"],
        "updated_at": now,
        "created_at": rows[0]["created_at"],
        "stale": False,
        "fresh_until": now + timedelta(days=stale_days),
    }
    response = jsonify(body)
    response.headers["ETag"] = f'"{rows[0]["version"]}"'
    return response


@app.get("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    return jsonify(status="ok")
