"""Real concurrency on PostgreSQL: separate connections, real commits, threads racing."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from cbs_network.audit import service as audit
from cbs_network.organizations import service as organizations

from .conftest import is_postgres

pytestmark = [pytest.mark.postgres, pytest.mark.skipif(not is_postgres(), reason="real concurrency is tested on PostgreSQL")]


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
        results = list(
            pool.map(
                lambda n: _request(
                    app, "POST", "/api/v1/organizations", json={"kind": "cbo", "name": f"Parallel {n}"}, headers=headers
                ),
                range(24),
            )
        )
    assert [status for status, _ in results] == [201] * 24
    session.expire_all()
    result = audit.verify(session)
    assert result.ok and result.checked >= 24


# --- referrals taking a program's slots ---------------------------------------------------------


def _requested_referrals(app, network, session, count: int):
    """A program with 5 of 5 slots free and `count` referrals requested to it."""
    from .referral_setup import Case, make_consent, make_program, make_subject

    program = make_program(session, network.cbo, slots=5)
    coordinator = network["district_coordinator"]
    with app.test_client() as test_client:
        subject = make_subject(test_client, coordinator)
        case = Case(subject, make_consent(test_client, coordinator, subject["id"]), program)
        ids = []
        for _ in range(count):
            response = case.send(test_client, coordinator)
            assert response.status_code == 201, response.json
            ids.append(response.json["id"])
    return program, ids


def _slow_capacity_reads(monkeypatch) -> None:
    """Every accept reads the program's profile, with slots still free, before any takes one:
    a check-then-write implementation would oversubscribe here."""
    from cbs_network.capacity import slots

    real = slots.tracks_slots

    def slow(session, program_id):
        profile = real(session, program_id)
        time.sleep(0.2)
        return profile

    monkeypatch.setattr(slots, "tracks_slots", slow)


def _accept_together(app, actor, referral_ids):
    barrier = threading.Barrier(len(referral_ids), timeout=10)

    def accept(referral_id):
        barrier.wait()
        with app.test_client() as test_client:
            response = test_client.post(
                f"/api/v1/referrals/{referral_id}/transitions", json={"to": "accepted"}, headers=actor.headers
            )
            return response.status_code, response.mimetype, response.get_json(silent=True)

    with ThreadPoolExecutor(len(referral_ids)) as pool:
        return list(pool.map(accept, referral_ids))


def _profile_and_history(session, program):
    from cbs_network.capacity.models import CapacityHistory, CapacityProfile

    session.expire_all()
    profile = session.scalar(select(CapacityProfile).where(CapacityProfile.program_id == program.id))
    history = session.scalars(
        select(CapacityHistory).where(CapacityHistory.program_id == program.id).order_by(CapacityHistory.version)
    ).all()
    return profile, [h.snapshot["available_slots"] for h in history]


def test_twenty_simultaneous_accepts_for_five_slots_accept_exactly_five(live, monkeypatch):
    from cbs_network.capacity.models import CapacityProfile
    from cbs_network.referrals.models import Referral

    app, network, session = live
    program, ids = _requested_referrals(app, network, session, 20)
    _slow_capacity_reads(monkeypatch)
    results = _accept_together(app, network["cbo_caseworker"], ids)

    accepted = [body for status, _type, body in results if status == 200]
    refused = [(mimetype, body) for status, mimetype, body in results if status == 409]
    assert (len(accepted), len(refused)) == (5, 15), sorted(status for status, _t, _b in results)
    assert all(body["capacity_place"] == "slot" for body in accepted)
    for mimetype, body in refused:
        assert mimetype == "application/problem+json" and body["status"] == 409 and "no slot left" in body["detail"]

    profile, taken = _profile_and_history(session, program)
    assert (profile.total_slots, profile.available_slots) == (5, 0)
    assert taken == [4, 3, 2, 1, 0]  # one recorded change per slot taken; never below zero
    rows = session.scalars(select(Referral).where(Referral.target_program_id == program.id)).all()
    assert sorted((r.state.value, r.holds_slot) for r in rows) == [("accepted", True)] * 5 + [("requested", False)] * 15
    monkeypatch.undo()
    with app.test_client() as test_client:
        listed = test_client.get(
            f"/api/v1/referrals/received?program_id={program.id}&limit=50", headers=network["cbo_caseworker"].headers
        ).json["items"]
    assert [r["capacity_place"] for r in listed].count("slot") == 5 and len(listed) == 20

    # The database itself refuses a negative count, whatever the code does.
    with pytest.raises(IntegrityError, match="counts_not_negative"):
        session.execute(update(CapacityProfile).where(CapacityProfile.id == profile.id).values(available_slots=-1))
        session.flush()
    session.rollback()


def test_two_simultaneous_accepts_of_one_referral_accept_it_once(live, monkeypatch):
    app, network, session = live
    program, (referral_id,) = _requested_referrals(app, network, session, 1)
    _slow_capacity_reads(monkeypatch)
    results = _accept_together(app, network["cbo_caseworker"], [referral_id, referral_id])

    assert sorted(status for status, _type, _body in results) == [200, 409]
    mimetype, problem = next((mimetype, body) for status, mimetype, body in results if status == 409)
    assert mimetype == "application/problem+json" and problem["current_state"] == "accepted"
    profile, taken = _profile_and_history(session, program)
    assert profile.available_slots == 4 and taken == [4]
