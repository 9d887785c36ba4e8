"""Real concurrency on PostgreSQL: separate connections, real commits, threads racing."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from cbs_network import create_app
from cbs_network.audit import service as audit
from cbs_network.organizations import service as organizations

from . import factories
from .conftest import is_postgres, make_settings

pytestmark = [pytest.mark.postgres, pytest.mark.skipif(not is_postgres(), reason="real concurrency is tested on PostgreSQL")]


@pytest.fixture
def live(make_database_url):
    """An app on its own database where requests really commit."""
    app = create_app(make_settings(make_database_url()), TESTING=True, RATELIMIT_ENABLED=False)
    database = app.extensions["cbs_db"]
    session = database.session_factory()
    factories.bind(session)
    network = factories.Network.build()
    session.commit()
    yield app, network, session
    session.close()
    database.engine.dispose()


def _request(app, method, url, **kwargs):
    with app.test_client() as test_client:
        response = test_client.open(url, method=method, **kwargs)
        return response.status_code, response.get_json(silent=True)


def test_idempotency_key_in_flight_is_409_then_replayed(live, monkeypatch):
    app, network, _session = live
    headers = {**network["network_admin"].headers, "Idempotency-Key": "race-1"}
    entered, release = threading.Event(), threading.Event()
    real_create = organizations.create

    def slow_create(**kwargs):
        entered.set()
        assert release.wait(10)
        return real_create(**kwargs)

    monkeypatch.setattr(organizations, "create", slow_create)
    body = {"kind": "cbo", "name": "Raced CBO"}
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(_request, app, "POST", "/api/v1/organizations", json=body, headers=headers)
        assert entered.wait(10)
        second = _request(app, "POST", "/api/v1/organizations", json=body, headers=headers)
        release.set()
        first_status, first_body = first.result()
    assert second[0] == 409 and "still being processed" in second[1]["detail"]
    assert first_status == 201
    monkeypatch.setattr(organizations, "create", real_create)
    replay_status, replay_body = _request(app, "POST", "/api/v1/organizations", json=body, headers=headers)
    assert (replay_status, replay_body["id"]) == (201, first_body["id"])


def test_concurrent_patches_with_one_etag_lose_no_update(live, monkeypatch):
    app, network, _session = live
    admin = network["district_admin"]
    url = f"/api/v1/organizations/{network.district.id}"
    barrier = threading.Barrier(2, timeout=10)
    real_check = organizations.check_version

    def racing_check(record, expected_version):
        real_check(record, expected_version)  # both requests pass this with the same version
        barrier.wait()

    monkeypatch.setattr(organizations, "check_version", racing_check)
    headers = {**admin.headers, "If-Match": '"1"'}
    with ThreadPoolExecutor(2) as pool:
        futures = [
            pool.submit(_request, app, "PATCH", url, json={"phone": phone}, headers=headers)
            for phone in ("213-555-0101", "213-555-0202")
        ]
        results = [f.result() for f in futures]
    statuses = sorted(status for status, _ in results)
    assert statuses == [200, 412]
    winner = next(body for status, body in results if status == 200)
    monkeypatch.setattr(organizations, "check_version", real_check)
    status, current = _request(app, "GET", url, headers=admin.headers)
    assert current["phone"] == winner["phone"] and current["version"] == 2


def test_audit_chain_stays_linear_under_concurrent_writers(live):
    app, network, session = live
    headers = network["network_admin"].headers
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(
            lambda n: _request(app, "POST", "/api/v1/organizations", json={"kind": "cbo", "name": f"Parallel {n}"}, headers=headers),
            range(24),
        ))
    assert [status for status, _ in results] == [201] * 24
    session.expire_all()
    result = audit.verify(session)
    assert result.ok and result.checked >= 24
