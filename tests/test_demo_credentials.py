"""The first hour with `make run`: demo credentials that survive a restart, and a taken port
reported before anything runs."""

from __future__ import annotations

import json
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
        _client(session, c["client_id"]).client_secret_hash == token_hash(c["client_secret"]) for c in credentials["clients"])


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
    assert [c for c in again["clients"] if c["client_id"] != client_id] == [c for c in first["clients"] if c["client_id"] != client_id]
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
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "port_free.py"), str(port)],
                          capture_output=True, text=True, timeout=30)


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
