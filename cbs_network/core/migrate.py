"""Run Alembic from code: `make run`, the CLI and the tests migrate the same way."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import make_url

from cbs_network.core.db import make_engine

ROOT = Path(__file__).resolve().parents[2]


def alembic_config(database_url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def current_revision(database_url: str) -> str | None:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def migrate(database_url: str) -> str:
    """Upgrade to head and say what that did, so an operator can tell a fresh database (wrong
    URL, lost volume) from an upgrade and from nothing to do."""
    before = current_revision(database_url)
    upgrade(database_url)
    after = current_revision(database_url)
    if before is None:
        url = make_url(database_url)
        where = url.database if url.get_backend_name() == "sqlite" else url.render_as_string(hide_password=True)
        return f"created a new database at {where}"
    if before != after:
        return f"upgraded the database from {before} to {after}"
    return "the database is at the latest revision"


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


def check(database_url: str) -> None:
    command.check(alembic_config(database_url))
