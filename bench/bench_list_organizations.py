"""Benchmark: the hub's GET /api/v1/organizations against a bare Flask + psycopg endpoint.

Both run under gunicorn (1 gthread worker, 4 threads) against the same PostgreSQL database,
side by side in the same run; rounds alternate between them so machine noise hits both.
Prints requests per second and latency percentiles for each, and the ratios.

    .venv/bin/python bench/bench_list_organizations.py [--requests 300] [--rounds 5] [--concurrency 4]

Needs PostgreSQL at CBS_BENCH_SERVER_URL (default postgresql+psycopg://root@127.0.0.1:5432/test)
and Redis at CBS_BENCH_REDIS_URL (default redis://127.0.0.1:6379/0), as in production;
it creates and drops its own database.
"""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import statistics
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str) -> None:
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            if requests.get(url, timeout=1).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def prepare_database(server_url: str) -> tuple[str, callable]:
    server = make_url(server_url)
    name = f"cbs_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as c:
            c.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname=:n AND pid<>pg_backend_pid()"), {"n": name})
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()

    return server.set(database=name).render_as_string(hide_password=False), drop


def seed(url: str) -> str:
    """Migrate, load the demo network, and mint a network-admin token; returns the token."""
    from cbs_network import create_app
    from cbs_network.core.config import Settings
    from cbs_network.demo import seed_demo
    from cbs_network.identity.roles import SCOPES
    from cbs_network.core.migrate import upgrade
    from cbs_network.oauth.models import OAuthClient, OAuthToken, token_hash

    upgrade(url)
    settings = Settings()
    settings.database_url = url
    settings.secret_key = "bench"
    app = create_app(settings)
    with app.app_context():
        session = app.extensions["cbs_db"].session()
        seed_demo(session=session, public_url="http://127.0.0.1")
        client = session.query(OAuthClient).filter_by(client_id="demo-lausd").one()
        token = secrets.token_urlsafe(32)
        session.add(OAuthToken(id=uuid.uuid4(), client_id=client.client_id, organization_id=client.organization_id,
                               scope=" ".join(SCOPES), access_token_hash=token_hash(token), expires_in=3600))
        session.commit()
    return token


def start(app_spec: str, port: int, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "1", "-k", "gthread", "--threads", "4", "-b", f"127.0.0.1:{port}",
         "--log-level", "warning", app_spec],
        cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def run_round(url: str, headers: dict[str, str], n: int, concurrency: int) -> tuple[float, list[float]]:
    latencies: list[float] = []

    def worker(count: int) -> None:
        with requests.Session() as s:
            for _ in range(count):
                t0 = time.perf_counter()
                r = s.get(url, headers=headers, timeout=10)
                latencies.append(time.perf_counter() - t0)
                if r.status_code != 200:
                    raise RuntimeError(f"{url}: {r.status_code} {r.text[:200]}")

    start_time = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(worker, [n // concurrency] * concurrency))
    return (n // concurrency * concurrency) / (time.perf_counter() - start_time), latencies


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()

    server_url = os.environ.get("CBS_BENCH_SERVER_URL", "postgresql+psycopg://root@127.0.0.1:5432/test")
    url, drop = prepare_database(server_url)
    processes: list[subprocess.Popen] = []
    try:
        token = seed(url)
        hub_port, bare_port = free_port(), free_port()
        processes.append(start("wsgi:app", hub_port, {
            "CBS_DATABASE_URL": url, "CBS_SECRET_KEY": "bench", "CBS_LOG_LEVEL": "WARNING",
            "CBS_RATELIMIT_DEFAULT": "100000000 per minute",
            # production shape: limits shared through Redis
            "CBS_RATELIMIT_STORAGE_URI": os.environ.get("CBS_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"),
        }))
        processes.append(start("bench.bare_app:app", bare_port, {
            "BENCH_PSYCOPG_DSN": make_url(url).set(drivername="postgresql").render_as_string(hide_password=False),
        }))
        targets = {
            "hub": (f"http://127.0.0.1:{hub_port}/api/v1/organizations?limit=50", {"Authorization": f"Bearer {token}"}),
            "bare": (f"http://127.0.0.1:{bare_port}/organizations", {}),
        }
        for name, (target, headers) in targets.items():
            wait_until_up(target.split("/api")[0] + "/healthz" if name == "hub" else target)
            run_round(target, headers, 50, args.concurrency)  # warm up
        results: dict[str, dict[str, list[float]]] = {name: {"rps": [], "lat": []} for name in targets}
        for _ in range(args.rounds):
            for name, (target, headers) in targets.items():
                rps, latencies = run_round(target, headers, args.requests, args.concurrency)
                results[name]["rps"].append(rps)
                results[name]["lat"].extend(latencies)
        print(f"GET first page of 50 organizations; {args.rounds} rounds x {args.requests} requests, concurrency {args.concurrency}")
        summary = {}
        for name, data in results.items():
            lat = sorted(data["lat"])
            summary[name] = (statistics.median(data["rps"]), lat[len(lat) // 2] * 1000, lat[int(len(lat) * 0.95)] * 1000)
            print(f"  {name:<5} median {summary[name][0]:8.1f} req/s   p50 {summary[name][1]:6.2f} ms   p95 {summary[name][2]:6.2f} ms")
        print(f"  ratio hub/bare: throughput {summary['hub'][0] / summary['bare'][0]:.2f}x, "
              f"p50 latency {summary['hub'][1] / summary['bare'][1]:.2f}x, p95 latency {summary['hub'][2] / summary['bare'][2]:.2f}x")
    finally:
        for process in processes:
            process.terminate()
            process.wait(10)
        drop()


if __name__ == "__main__":
    main()
