"""Hardening checks that need real processes or real commits: secrets in access logs, and
concurrent writers on the embedded SQLite default."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from cbs_network.core.migrate import upgrade

from .conftest import is_postgres
from .helpers import free_port
from .test_concurrency_pg import _accept_together, _profile_and_history, _requested_referrals, _slow_capacity_reads


def test_twenty_simultaneous_accepts_for_five_slots_get_five_200s_and_fifteen_409s(live, monkeypatch):
    app, network, session = live
    program, ids = _requested_referrals(app, network, session, 20)
    _slow_capacity_reads(monkeypatch)
    results = _accept_together(app, network["cbo_caseworker"], ids)

    statuses = sorted(status for status, _type, _body in results)
    assert statuses == [200] * 5 + [409] * 15, statuses
    for status, mimetype, body in results:
        if status == 409:
            assert mimetype == "application/problem+json" and "no slot left" in body["detail"]
    profile, taken = _profile_and_history(session, program)
    assert (profile.total_slots, profile.available_slots) == (5, 0)
    assert taken == [4, 3, 2, 1, 0]


@pytest.mark.skipif(is_postgres(), reason="SQLite's locking")
def test_sqlite_reads_do_not_wait_for_a_writer(live):
    app, network, _session = live
    engine = app.extensions["cbs_db"].engine
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    writer = engine.raw_connection()
    try:
        writer.cursor().execute("BEGIN IMMEDIATE")  # another request holding the write lock
        started = time.monotonic()
        with ThreadPoolExecutor(1) as pool:  # a thread of its own, as a request would be
            status = pool.submit(
                lambda: app.test_client().get("/api/v1/organizations", headers=network["district_viewer"].headers).status_code
            ).result()
        assert status == 200 and time.monotonic() - started < 5
    finally:
        writer.rollback()
        writer.close()


# --- secrets in access logs --------------------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
SECRETS = ("SECRETinvitation0123456789", "SECRETcursor0123456789", "SECRETstate0123456789")


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.fixture
def gunicorn_hub(request, tmp_path):
    """gunicorn started with the repository's gunicorn.conf.py on a free port, on a fresh SQLite
    database; yields (base URL, a function returning everything it has logged so far).
    Parametrize it indirectly with a dict to add to its environment."""
    database_url = f"sqlite:///{tmp_path / 'hub.db'}"
    upgrade(database_url)
    port = free_port()
    env = {
        **os.environ,
        "CBS_DATABASE_URL": database_url,
        "CBS_INSTANCE_DIR": str(tmp_path / "instance"),
        "WEB_CONCURRENCY": "1",
        "PORT": str(port),
        "CBS_PUBLIC_URL": f"http://127.0.0.1:{port}",
        **getattr(request, "param", {}),
    }
    out, err = tmp_path / "stdout.log", tmp_path / "stderr.log"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}", "wsgi:app"],
            cwd=ROOT,
            env=env,
            stdout=stdout,
            stderr=stderr,
        )
    base = f"http://127.0.0.1:{port}"

    def logged() -> str:
        return out.read_text() + err.read_text()

    try:
        deadline = time.monotonic() + 60
        while _get_or_none(base + "/healthz") != 200:
            assert process.poll() is None and time.monotonic() < deadline, logged()
            time.sleep(0.2)
        yield base, logged
    finally:
        process.terminate()
        process.wait(timeout=30)


def _get_or_none(url: str) -> int | None:
    try:
        return _get(url)
    except OSError:
        return None


def test_access_logs_name_the_path_and_never_the_query_string(gunicorn_hub):
    base, logged = gunicorn_hub
    invitation, cursor, state = SECRETS
    assert _get(f"{base}/account/activate?token={invitation}") in (200, 400, 404)
    assert _get(f"{base}/api/v1/organizations?cursor={cursor}&limit=5") == 401
    assert _get(f"{base}/oauth/authorize?response_type=code&client_id=x&state={state}") < 500
    time.sleep(0.5)  # gunicorn writes each line as the response goes out; give the last one a moment
    text = logged()
    hub_lines = [line for line in text.splitlines() if '"logger": "cbs_network.access"' in line]
    for secret in SECRETS:
        assert secret not in text, text
    assert any('"path": "/account/activate"' in line for line in hub_lines), text
    assert any('"path": "/api/v1/organizations"' in line and '"status": 401' in line for line in hub_lines), text
