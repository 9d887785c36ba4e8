"""Rotating the field key while the hub serves: instances that hold the old key ring keep serving
(the embedded default follows instance/field_keys), a key they cannot get is a 503 and never a 500,
and `rotate-keys` counts what it rewrote."""

from __future__ import annotations

import logging
from contextlib import contextmanager

import pytest
from sqlalchemy import text

from cbs_network import create_app
from cbs_network.core import config
from cbs_network.core.crypto import KeyRing, UnknownKeyError

from . import factories
from .conftest import TEST_HASH_KEY, make_settings
from .helpers import assert_problem, if_match
from .referral_setup import Case, consent_body, make_consent, make_program, make_subject
from .test_referral_privacy import NEED, NOTE, add_note, new_key, send

OLD, NEW = f"old:{new_key()}", f"new:{new_key()}"
COLUMNS = {
    "subjects": "personal_data",
    "referrals": "personal_data",
    "referral_notes": "body",
    "idempotency_keys": "response_body",
}


@pytest.fixture
def instance_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "INSTANCE_DIR", tmp_path)
    return tmp_path


@pytest.fixture
def make_app(make_database_url):
    """make_app(field_keys): an app on one shared database with real commits; "" reads instance/field_keys."""
    url, apps = make_database_url(), []

    def make(field_keys: str):
        apps.append(create_app(make_settings(url, field_keys=field_keys), TESTING=True, RATELIMIT_ENABLED=False))
        return apps[-1]

    yield make
    for app in apps:
        app.extensions["cbs_db"].session.remove()
        app.extensions["cbs_db"].engine.dispose()


@contextmanager
def serving(hub):
    """A network with a subject, a referral with a note and a stored replayable response, made through `hub`."""
    session = hub.extensions["cbs_db"].session_factory()
    try:
        factories.bind(session)
        network = factories.Network.build()
        program = make_program(session, network.cbo)
        coordinator, caseworker = network["district_coordinator"], network["cbo_caseworker"]
        with hub.test_client() as client:
            subject = make_subject(client, coordinator)
            replayable = {**coordinator.headers, "Idempotency-Key": "rotation-live"}
            assert (
                client.post(f"/api/v1/subjects/{subject['id']}/consents", json=consent_body(), headers=replayable).status_code
                == 201
            )
            referral = send(client, Case(subject, make_consent(client, coordinator, subject["id"]), program), coordinator)
            assert add_note(client, referral["id"], caseworker).status_code == 201
            yield client, network, subject, referral
    finally:
        session.close()


def key_ids(app) -> set[str]:
    with app.extensions["cbs_db"].engine.connect() as connection:
        values = [
            value
            for table, column in COLUMNS.items()
            for value in connection.execute(text(f"SELECT {column} FROM {table}")).scalars()  # noqa: S608
            if value
        ]
    return {(bytes(value).decode() if isinstance(value, (bytes, memoryview)) else value).partition(":")[0] for value in values}


def rotate(app, exit_code: int = 0) -> str:
    with app.app_context():  # else the CLI would run in the serving app, whose test client keeps its context
        result = app.test_cli_runner().invoke(args=["cbs", "rotate-keys"])
    assert result.exit_code == exit_code, result.output
    return result.output


def reads_everything(client, network, subject, referral) -> None:
    coordinator, caseworker = network["district_coordinator"], network["cbo_caseworker"]
    read = client.get(f"/api/v1/subjects/{subject['id']}", headers=coordinator.headers)
    assert read.status_code == 200 and read.json["family_name"] == subject["family_name"], read.json
    shown = client.get(f"/api/v1/referrals/{referral['id']}", headers=caseworker.headers)
    assert shown.status_code == 200 and shown.json["need_description"] == NEED, shown.json
    notes = client.get(f"/api/v1/referrals/{referral['id']}/notes", headers=caseworker.headers)
    assert [note["body"] for note in notes.json["items"]] == [NOTE]
    replay = client.post(
        f"/api/v1/subjects/{subject['id']}/consents",
        json=consent_body(),
        headers={**coordinator.headers, "Idempotency-Key": "rotation-live"},
    )
    assert replay.headers.get("Idempotent-Replayed") == "true", replay.json


def test_the_embedded_hub_keeps_serving_through_a_rotation_made_while_it_runs(instance_dir, make_app):
    (instance_dir / "field_keys").write_text(OLD)
    hub = make_app("")  # `make run`: the keys come from instance/field_keys
    with serving(hub) as (client, network, subject, referral):
        assert key_ids(hub) == {"old"}

        # The operator puts a new key first and rotates from another process; the hub is not restarted.
        (instance_dir / "field_keys").write_text(f"{NEW},{OLD}")
        output = rotate(make_app(""))
        assert output.strip() == ("re-encrypted under key 'new': 1 subjects, 1 referrals, 1 notes, 1 stored responses"), output
        assert key_ids(hub) == {"new"}
        reads_everything(client, network, subject, referral)

        # What the hub writes from now on is under the new key, so dropping the old one loses nothing.
        make_subject(client, network["district_coordinator"], given_name="After")
        assert key_ids(hub) == {"new"}
        (instance_dir / "field_keys").write_text(NEW)
        reads_everything(client, network, subject, referral)
        assert rotate(make_app("")).strip() == (
            "re-encrypted under key 'new': 0 subjects, 0 referrals, 0 notes, 0 stored responses"
        )


def test_an_instance_without_the_new_key_answers_503_and_tells_the_operator(make_app, caplog):
    hub = make_app(OLD)  # CBS_FIELD_KEYS: a running process cannot see its environment change
    with serving(hub) as (client, network, subject, referral):
        rotate(make_app(f"{NEW},{OLD}"))
        errors = logging.getLogger("cbs_network.core.errors")
        errors.addHandler(caplog.handler)
        try:
            read = client.get(f"/api/v1/subjects/{subject['id']}", headers=network["district_coordinator"].headers)
        finally:
            errors.removeHandler(caplog.handler)
        assert_problem(read, 503)
        assert "new" not in read.json["detail"] and "key" not in read.get_data(as_text=True).lower()
        logged = [record.getMessage() for record in caplog.records if record.name == "cbs_network.core.errors"]
        assert any("'new'" in message and "CBS_FIELD_KEYS" in message for message in logged), logged


def test_rotate_keys_stops_with_a_plain_message_when_a_value_is_under_a_key_it_lacks(make_app):
    hub = make_app(OLD)
    with serving(hub):
        output = rotate(make_app(NEW), exit_code=1)
    assert "Traceback" not in output and "stopped: No configured field key 'old'" in output, output
    assert "Re-encrypted before stopping: 0 subjects." in output, output


def test_rotate_keys_never_undoes_a_write_made_meanwhile_and_counts_only_what_it_rewrote(make_app, monkeypatch):
    hub, rotating, rotated = make_app(OLD), make_app(f"{NEW},{OLD}"), make_app(NEW)
    with serving(hub) as (_client, network, subject, _referral):
        ring, decrypt = rotating.extensions["cbs_keyring"], rotating.extensions["cbs_keyring"].decrypt
        edits = []

        def decrypt_while_a_caseworker_edits(value, *, context):  # type: ignore[no-untyped-def]
            if context.startswith("subjects.") and not edits:  # between rotate-keys' read and its write
                edits.append(
                    hub.test_client().patch(
                        f"/api/v1/subjects/{subject['id']}",
                        json={"contact": {"phone": "+1 213 555 0142"}},
                        headers=if_match(network["district_coordinator"].headers, subject["version"]),
                    )
                )
            return decrypt(value, context=context)

        monkeypatch.setattr(ring, "decrypt", decrypt_while_a_caseworker_edits)
        output = rotate(rotating)
        assert edits[0].status_code == 200, edits[0].json
    # The edit (under the old key: that instance knows no other) was not overwritten, and was then re-encrypted.
    assert "1 subjects, 1 referrals, 1 notes, 1 stored responses" in output, output
    with rotated.test_client() as client:
        read = client.get(f"/api/v1/subjects/{subject['id']}", headers=network["district_coordinator"].headers)
    assert read.status_code == 200 and read.json["contact"]["phone"] == "+1 213 555 0142", read.json
    assert read.json["version"] == edits[0].json["version"]  # re-encrypting is not a change: same ETag


def test_a_ring_that_follows_its_source_writes_under_the_new_key_before_it_ever_reads_one():
    spec = [OLD]
    ring = KeyRing(OLD, TEST_HASH_KEY, source=lambda: spec[0])
    spec[0] = f"{NEW},{OLD}"
    assert ring.encrypt("x", context="c").startswith("new:")
    spec[0] = "not a key"  # a file caught mid-edit: the ring keeps what it has
    assert ring.decrypt(ring.encrypt("x", context="c"), context="c") == "x"
    with pytest.raises(UnknownKeyError):
        ring.decrypt("gone:AAAA", context="c")
