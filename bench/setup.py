"""The benchmark database: created, migrated and seeded with `flask cbs seed-scale` when empty.

Its field, hash and audit keys are derived from the database's name, so every run against the
same database (the seed, the hub, the bare app) holds the same keys without storing them
anywhere. That is only acceptable because the data is synthetic: never do this with real keys.
"""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent


def _key(purpose: str, database: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(f"cbs-bench:{purpose}:{database}".encode()).digest()).decode()


def hub_env(url: str) -> dict[str, str]:
    """The hub's environment for the benchmark database (also what the bare app reads its key from)."""
    name = make_url(url).database or "bench"
    return {
        "CBS_DATABASE_URL": url,
        "CBS_SECRET_KEY": _key("secret", name),
        "CBS_ENV": "production",
        "CBS_FIELD_KEYS": f"b1:{_key('field', name)}",
        "CBS_SUBJECT_HASH_KEY": _key("hash", name),
        "CBS_AUDIT_KEYS": f"a1:{_key('audit', name)}",
        "CBS_LOG_LEVEL": "WARNING",
        "CBS_PUBLIC_URL": "http://127.0.0.1",
        "CBS_INSTANCE_DIR": str(ROOT / "instance" / "bench"),
    }


def ensure_database(url: str) -> None:
    server = make_url(url)
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": server.database}).first()
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{server.database}"'))
    admin.dispose()


def is_seeded(url: str) -> bool:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            if connection.execute(text("SELECT to_regclass('organizations')")).scalar() is None:
                return False
            return bool(connection.execute(text("SELECT EXISTS (SELECT 1 FROM organizations)")).scalar())
    finally:
        engine.dispose()


def flask(url: str, *args: str) -> None:
    env = {**os.environ, **hub_env(url)}
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "cbs", *args], cwd=ROOT, env=env, check=True)


def prepare(url: str, seed_args: list[str]) -> None:
    """Create, migrate and seed the database unless it is already seeded."""
    ensure_database(url)
    # Always: a database seeded before a migration that adds an index still gets it.
    flask(url, "migrate")
    if is_seeded(url):
        print(f"{make_url(url).database}: already seeded, kept as it is", flush=True)
        return
    flask(url, "seed-scale", "--credentials-file", str(ROOT / "instance" / "bench" / "scale-credentials.json"), *seed_args)


if __name__ == "__main__":
    # python -m bench.setup URL [seed-scale options]: only build the database.
    prepare(sys.argv[1], sys.argv[2:])
