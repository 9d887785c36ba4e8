"""Assertions and small request helpers shared by the test modules."""

from __future__ import annotations

import socket
import urllib.error
import urllib.request

PROBLEM = "application/problem+json"


def assert_problem(response, status: int) -> dict:
    """Assert an RFC 9457 problem of `status` and return its body."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    assert response.mimetype == PROBLEM
    body = response.get_json(force=True)
    assert body["status"] == status
    assert body["type"].startswith("/problems/")
    assert body["title"] and body["detail"]
    assert body["request_id"] == response.headers["X-Request-ID"]
    return body


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def if_match(headers: dict, version: int | str) -> dict:
    return {**headers, "If-Match": f'"{version}"'}


def counted_get(app, client, url: str, headers: dict) -> tuple[int, object]:
    """GET `url` and count the SELECT statements it ran: (count, response)."""
    from sqlalchemy import event

    engine = app.extensions["cbs_db"].engine
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        response = client.get(url, headers=headers)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return len([s for s in statements if s.lstrip().upper().startswith("SELECT")]), response


# Test geography around Los Angeles City Hall.
CITY_HALL = (34.0537, -118.2428)
# A square around City Hall, [longitude, latitude].
SQUARE = {
    "type": "Polygon",
    "coordinates": [[[-118.30, 34.00], [-118.20, 34.00], [-118.20, 34.10], [-118.30, 34.10], [-118.30, 34.00]]],
}


def north_of(point: tuple[float, float], meters: float) -> tuple[float, float]:
    import math

    from cbs_network.directory.geo import EARTH_RADIUS_M

    return point[0] + math.degrees(meters / EARTH_RADIUS_M), point[1]


def free_port() -> int:
    """A TCP port nothing listens on now, for a hub a test starts."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_status(url: str) -> int | None:
    """The status of a GET, or None while nothing answers there."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def stamps() -> list:
    """The created_at, updated_at and version columns every record table has, for migration tests
    that write rows through Core at an old revision."""
    import sqlalchemy as sa

    from cbs_network.core.db import UTCDateTime

    return [sa.column("created_at", UTCDateTime()), sa.column("updated_at", UTCDateTime()), sa.column("version", sa.Integer())]
