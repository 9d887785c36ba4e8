"""Test database, app and per-test isolation.

CBS_TEST_DATABASE_URL selects the backend. Unset: a fresh SQLite file. Set to a PostgreSQL
server URL (e.g. postgresql+psycopg://root@127.0.0.1:5432/test): the suite creates its own
database on that server for the run, and drops it afterwards; an unreachable server fails
the run instead of skipping it.
"""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from cbs_network import create_app
from cbs_network.core.config import Settings
from cbs_network.core.db import make_engine
from cbs_network.core.migrate import upgrade

from . import factories

SERVER_URL = os.environ.get("CBS_TEST_DATABASE_URL")


def is_postgres() -> bool:
    return bool(SERVER_URL) and SERVER_URL.startswith("postgresql")


def _create_postgres_database(server_url: str) -> tuple[str, callable]:
    server = make_url(server_url)
    name = f"cbs_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n AND pid <> pg_backend_pid()"),
                {"n": name},
            )
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()

    return server.set(database=name).render_as_string(hide_password=False), drop


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if is_postgres():
        url, drop = _create_postgres_database(SERVER_URL)
        try:
            upgrade(url)
            yield url
        finally:
            drop()
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        upgrade(url)
        yield url


@pytest.fixture
def scratch_database(tmp_path) -> Iterator[tuple[str, object]]:
    """An empty database of this leg's kind, for a migration test to upgrade and downgrade itself:
    (url, engine); dropped afterwards."""
    url, drop = _create_postgres_database(SERVER_URL) if is_postgres() else (f"sqlite:///{tmp_path / 'scratch.db'}", lambda: None)
    engine = make_engine(url)
    try:
        yield url, engine
    finally:
        engine.dispose()
        drop()


@pytest.fixture(scope="session")
def make_database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[callable]:
    """Fresh, migrated databases for tests that need real commits (live servers, concurrency)."""
    drops = []

    def make() -> str:
        if is_postgres():
            url, drop = _create_postgres_database(SERVER_URL)
            drops.append(drop)
        else:
            url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'extra.db'}"
        upgrade(url)
        return url

    yield make
    for drop in drops:
        drop()


# Generated per run: the suite's encrypted rows are readable only by this run.
TEST_FIELD_KEYS = "test1:" + base64.urlsafe_b64encode(os.urandom(32)).decode()
TEST_HASH_KEY = base64.urlsafe_b64encode(os.urandom(32)).decode()
TEST_AUDIT_KEYS = "audit1:" + base64.urlsafe_b64encode(os.urandom(32)).decode()


def make_settings(url: str, **changes) -> Settings:
    settings = Settings()
    settings.database_url = url
    settings.secret_key = "test-secret-key-not-for-production"
    settings.public_url = "http://hub.test"
    settings.field_keys = TEST_FIELD_KEYS
    settings.subject_hash_key = TEST_HASH_KEY
    settings.audit_keys = TEST_AUDIT_KEYS
    for key, value in changes.items():
        setattr(settings, key, value)
    return settings


@pytest.fixture(scope="session")
def app(database_url: str):
    app = create_app(make_settings(database_url), TESTING=True, RATELIMIT_ENABLED=False)
    return app


@pytest.fixture
def db_session(app) -> Iterator:
    """The test's own session. It and the sessions requests use share one connection whose
    transaction is rolled back after the test; their commits are savepoints. Being separate,
    a request closing or rolling back its session leaves the test's objects alone."""
    database = app.extensions["cbs_db"]
    connection = database.engine.connect()
    transaction = connection.begin()
    database.session.remove()
    database.session_factory.configure(bind=connection, join_transaction_mode="create_savepoint")
    session = database.session_factory()
    factories.bind(session)
    try:
        yield session
    finally:
        session.close()
        database.session.remove()
        database.session_factory.configure(bind=database.engine, join_transaction_mode="conservative_savepoint")
        transaction.rollback()
        connection.close()


@pytest.fixture
def client(app, db_session):
    with app.test_client() as client:
        yield client


@pytest.fixture
def ctx(app, db_session):
    with app.test_request_context():
        yield


@pytest.fixture
def network(db_session) -> factories.Network:
    """A small network: the hub (with a network admin), two agencies, one CBO."""
    return factories.Network.build()


@pytest.fixture
def live(make_database_url):
    """An app on its own database where requests really commit (concurrency, live servers):
    (app, network, the test's session)."""
    app = create_app(make_settings(make_database_url()), TESTING=True, RATELIMIT_ENABLED=False)
    database = app.extensions["cbs_db"]
    session = database.session_factory()
    factories.bind(session)
    network = factories.Network.build()
    session.commit()
    yield app, network, session
    session.close()
    database.engine.dispose()
