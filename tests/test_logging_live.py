"""One access line per request under the real gunicorn and gunicorn.conf.py: the hub's JSON line
for what the app answered, gunicorn's own line only for what never reached the app."""

from __future__ import annotations

import json
import socket
import time
import uuid
from urllib.parse import urlsplit

import pytest

from .test_hardening_live import _get, gunicorn_hub  # noqa: F401 (a fixture)

ACCESS_LOGGER = '"logger": "cbs_network.access"'


def _raw_get(base: str, target: str) -> bytes:
    """A request urllib would not send as is (a request line past gunicorn's limit)."""
    url = urlsplit(base)
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: {url.netloc}\r\nConnection: close\r\n\r\n".encode())
        return sock.recv(65536)


def _settled(logged) -> list[str]:  # type: ignore[no-untyped-def]
    time.sleep(0.5)  # each line is written as its response goes out; give the last one a moment
    return logged().splitlines()


def test_each_request_the_app_answers_is_logged_once_by_the_hub(gunicorn_hub):  # noqa: F811
    base, logged = gunicorn_hub
    mark = uuid.uuid4().hex
    expected = {"/problems/not-found": 200, f"/api/v1/organizations/{uuid.UUID(mark)}": 401, f"/no-such-page-{mark}": 404}
    for path, status in expected.items():
        assert _get(f"{base}{path}?marker={mark}") == status
    lines = _settled(logged)
    for path, status in expected.items():
        mine = [line for line in lines if f'"path": "{path}"' in line or f"GET {path} " in line]
        assert len(mine) == 1, lines
        record = json.loads(mine[0])
        assert (record["logger"], record["status"]) == ("cbs_network.access", status)
        assert record["request_id"] and "duration_ms" in record
    assert not [line for line in lines if "marker=" in line], lines


def test_a_request_gunicorn_refuses_itself_shows_in_gunicorns_log(gunicorn_hub):  # noqa: F811
    base, logged = gunicorn_hub
    mark = uuid.uuid4().hex
    assert _raw_get(base, f"/too-long-{mark}?q=" + "a" * 9000).startswith(b"HTTP/1.1 414")
    lines = _settled(logged)
    # gunicorn never parsed a request out of it, so it has no access line: its error log names it,
    # without the URL (which could carry a secret).
    refused = [line for line in lines if "[WARNING] Invalid request from ip=127.0.0.1: Request Line is too large" in line]
    assert len(refused) == 1, lines
    assert not [line for line in lines if mark in line], lines


@pytest.mark.parametrize("gunicorn_hub", [{"CBS_GUNICORN_ACCESS_LOG": "all"}], indirect=True)
def test_operators_can_turn_gunicorns_line_back_on_for_every_request(gunicorn_hub):  # noqa: F811
    base, logged = gunicorn_hub
    mark = uuid.uuid4().hex
    assert _get(f"{base}/no-such-page-{mark}?token=SECRET{mark}") == 404
    lines = [line for line in _settled(logged) if f"/no-such-page-{mark}" in line]
    assert len(lines) == 2 and sum(ACCESS_LOGGER in line for line in lines) == 1, lines
    assert not [line for line in lines if f"SECRET{mark}" in line], lines
