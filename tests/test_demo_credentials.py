"""The first hour with `make run`: demo credentials that survive a restart, and a taken port
reported before anything runs."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from cbs_network.demo import PASSWORD_CHANGED, SECRET_ROTATED, seed_demo
from cbs_network.identity.models import User
from cbs_network.identity.passwords import hash_password, verify_password
from cbs_network.oauth.models import OAuthClient, token_hash

ROOT = Path(__file__).resolve().parents[1]
URL = "http://hub.test"


@pytest.fixture
def seeded(app, db_session):
    with app.app_context():  # the key ring the subjects' encryption uses
        yield db_session, seed_demo(session=db_session, public_url=URL)


def _user(session, email: str) -> User:
    return session.scalar(select(User).where(User.email == email))


def _client(session, client_id: str) -> OAuthClient:
    return session.scalar(select(OAuthClient).where(OAuthClient.client_id == client_id))


def _all_verify(session, credentials) -> bool:
    return all(verify_password(_user(session, u["email"]).password_hash, u["password"]) for u in credentials["users"]) and all(
        _client(session, c["client_id"]).client_secret_hash == token_hash(c["client_secret"]) for c in credentials["clients"]
    )


def test_credentials_survive_a_reseed(seeded):
    session, first = seeded
    again = seed_demo(session=session, public_url=URL, previous=first)
    assert again == first and _all_verify(session, again)


def test_a_users_own_password_and_a_rotated_secret_survive_a_reseed(seeded):
    session, first = seeded
    email, client_id = first["users"][1]["email"], first["clients"][0]["client_id"]
    user, client = _user(session, email), _client(session, client_id)
    user.password_hash = hash_password("a password of my own")
    client.client_secret_hash = token_hash("rotated by the district's admin")
    session.flush()
    hashes = (user.password_hash, client.client_secret_hash)

    again = seed_demo(session=session, public_url=URL, previous=first)
    assert (user.password_hash, client.client_secret_hash) == hashes
    assert verify_password(user.password_hash, "a password of my own")
    assert next(u["password"] for u in again["users"] if u["email"] == email) == PASSWORD_CHANGED
    assert next(c["client_secret"] for c in again["clients"] if c["client_id"] == client_id) == SECRET_ROTATED
    assert [u for u in again["users"] if u["email"] != email] == [u for u in first["users"] if u["email"] != email]
    assert [c for c in again["clients"] if c["client_id"] != client_id] == [
        c for c in first["clients"] if c["client_id"] != client_id
    ]
    # The marker, read back from the file, keeps the user's password on the next reseed too.
    assert seed_demo(session=session, public_url=URL, previous=again) == again
    assert (user.password_hash, client.client_secret_hash) == hashes


def test_a_lost_file_gives_new_credentials(seeded):
    session, first = seeded
    again = seed_demo(session=session, public_url=URL, previous=None)
    assert _all_verify(session, again) and not _all_verify(session, first)
    assert not {u["password"] for u in first["users"]} & {u["password"] for u in again["users"]}
    assert not {c["client_secret"] for c in first["clients"]} & {c["client_secret"] for c in again["clients"]}


def test_the_command_reads_the_previous_file_and_writes_the_same_credentials(app, db_session, tmp_path):
    path = tmp_path / "demo-credentials.json"
    runner = app.test_cli_runner()
    runs = [runner.invoke(args=["cbs", "seed-demo", "--credentials-file", str(path)]) for _ in range(2)]
    assert [r.exit_code for r in runs] == [0, 0], runs[-1].output
    credentials = json.loads(path.read_text())
    assert credentials["users"][0]["password"] in runs[0].output and runs[0].output == runs[1].output
    with app.app_context():
        assert _all_verify(db_session, credentials)


def _port_check(port: int) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "port_free.py"), str(port)], capture_output=True, text=True, timeout=30
    )


def test_a_taken_port_is_reported_in_one_sentence_before_make_run_migrates():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        taken = _port_check(port)
    assert taken.returncode == 1 and taken.stdout == ""
    assert taken.stderr.count("\n") == 1 and f"Port {port} " in taken.stderr and f"make run PORT={port + 1}" in taken.stderr
    free = _port_check(port)
    assert (free.returncode, free.stdout, free.stderr) == (0, "", "")
    recipe = (ROOT / "Makefile").read_text().split("\nrun:", 1)[1]
    assert recipe.index("scripts/port_free.py $(PORT)") < recipe.index("cbs migrate")


# --- `make run` again and again: its two commands, as it runs them ---------------------------------


def cli_env(instance: Path) -> dict[str, str]:
    """A fresh shell's environment for the hub's commands, with its instance directory (and so
    its SQLite database, keys and credentials file) in `instance`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CBS_")}
    return {**env, "CBS_INSTANCE_DIR": str(instance), "CBS_LOG_LEVEL": "WARNING", "PORT": "5000"}


def flask_cli(*args: str, env: dict[str, str], cwd: Path = ROOT) -> subprocess.CompletedProcess:
    """`flask --app wsgi ...` from the virtualenv running the tests (.venv/bin/flask under make)."""
    result = subprocess.run(
        [str(Path(sys.executable).parent / "flask"), "--app", "wsgi", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, (args, result.stdout, result.stderr)
    return result


def _make_run_seeding(env: dict[str, str]) -> dict:
    flask_cli("cbs", "migrate", env=env)
    flask_cli("cbs", "seed-demo", env=env)
    return json.loads((Path(env["CBS_INSTANCE_DIR"]) / "demo-credentials.json").read_text())


def test_make_run_twice_more_keeps_the_credentials_and_what_users_changed(tmp_path):
    from cbs_network import create_app
    from cbs_network.demo import demo_id
    from cbs_network.directory.models import Program
    from cbs_network.organizations.models import Organization

    from .conftest import make_settings

    env = cli_env(tmp_path / "instance")
    first = _make_run_seeding(env)
    app = create_app(
        make_settings(f"sqlite:///{tmp_path / 'instance' / 'cbs_network.db'}"), TESTING=True, RATELIMIT_ENABLED=False
    )
    database = app.extensions["cbs_db"]
    email = first["users"][2]["email"]
    try:
        with database.session_factory() as session:  # what the demo's users changed in the meantime
            session.get(Program, demo_id("program", "eastside-safe-passage")).name = "Boyle Heights Safe Passage"
            session.get(Organization, demo_id("organization", "cbo-1")).description = "Our own description"
            _user(session, email).password_hash = hash_password("my own password")
            session.commit()
        expected = {**first, "users": [{**u, "password": PASSWORD_CHANGED} if u["email"] == email else u for u in first["users"]]}

        for _rerun in range(2):
            assert _make_run_seeding(env) == expected
            with database.session_factory() as session:
                assert session.get(Program, demo_id("program", "eastside-safe-passage")).name == "Boyle Heights Safe Passage"
                assert session.get(Organization, demo_id("organization", "cbo-1")).description == "Our own description"
                assert verify_password(_user(session, email).password_hash, "my own password")
                assert all(
                    verify_password(_user(session, u["email"]).password_hash, u["password"])
                    for u in expected["users"]
                    if u["email"] != email
                )
            with app.test_client() as client:
                for entry in expected["clients"]:
                    token = client.post(
                        "/oauth/token",
                        auth=(entry["client_id"], entry["client_secret"]),
                        data={"grant_type": "client_credentials", "scope": "organizations:read"},
                    )
                    assert token.status_code == 200 and token.json["access_token"], (entry["client_id"], token.json)
    finally:
        database.engine.dispose()
