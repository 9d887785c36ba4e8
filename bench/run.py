"""The benchmark: the hub against a bare Flask + psycopg app doing the same SQL, case by case.

    .venv/bin/python -m bench.run --database postgresql+psycopg://root@127.0.0.1:5432/bench_scale

Builds the database first when it is empty (`flask cbs seed-scale`, sizes passable after
`--seed-args`), mints bearer tokens for the clients seed-scale registered, starts the hub
(`wsgi:app`) and the bare app (bench/bare_app.py) under gunicorn with the repository's
gunicorn.conf.py and the same worker settings, then for each case drives both alternately on
loopback (keep-alive connections spread over a few client processes, a fixed time per round,
several rounds) and prints the median requests/s of each, their ratio, p50/p99 latency, SQL
statements per request (at page sizes 10, 50 and 200 for lists) and the workers' memory (RSS).
Needs PostgreSQL and Redis (the hub's rate limits are shared through it, as in production).
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import multiprocessing
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.setup import ROOT, hub_env, prepare

CLIENT_PROCESSES = 4


# --- servers -------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(app: str, port: int, workers: int, env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "bench" / "gunicorn_bench.py"), "--bind", f"127.0.0.1:{port}", app],
        cwd=ROOT,
        env={**os.environ, **env, "WEB_CONCURRENCY": str(workers)},
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_up(port: int, process: subprocess.Popen) -> None:
    deadline = time.time() + 60
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server on port {port} exited; see its log in instance/bench/")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"the server on port {port} did not come up")


def worker_rss_mb(master: int) -> list[float]:
    """Resident memory of each gunicorn worker (the master's children), from /proc."""
    sizes = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if fields.get("PPid", "").strip() == str(master) and "VmRSS" in fields:
            sizes.append(int(fields["VmRSS"].split()[0]) / 1024)
    return sorted(sizes)


# --- the load generator --------------------------------------------------------------------------


def _drive(port: int, spec: dict[str, Any], connections: list[int], seconds: float) -> dict[str, Any]:
    """One client process: a thread per connection, each sending its next request as soon as the
    previous answer is read, until the deadline."""
    latencies: list[float] = []
    counts = {"ok": 0, "errors": 0}
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds
    first_error: list[str] = []

    def loop(number: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        versions = dict(spec.get("versions", {}))
        mine: list[float] = []
        ok = errors = 0
        i = number
        while time.perf_counter() < deadline:
            method, path, headers, body = build(spec, number, i, versions)
            started = time.perf_counter()
            try:
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                payload = response.read()
            except (OSError, http.client.HTTPException) as error:
                errors += 1
                first_error[:] = first_error or [repr(error)]
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                continue
            mine.append(time.perf_counter() - started)
            if response.status in (200, 201):
                ok += 1
                if "capacity" in spec:
                    versions[path] = response.getheader("ETag", "").strip('W/"')
            else:
                errors += 1
                first_error[:] = first_error or [f"{response.status} {payload[:300]!r}"]
            i += len(spec["tokens"]) * 7 + 1
        with lock:
            latencies.extend(mine)
            counts["ok"] += ok
            counts["errors"] += errors

    threads = [threading.Thread(target=loop, args=(n,)) for n in connections]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {**counts, "latencies": latencies, "first_error": first_error[0] if first_error else None}


def build(spec: dict[str, Any], connection: int, i: int, versions: dict[str, str]) -> tuple[str, str, dict, str | None]:
    token = spec["tokens"][connection % len(spec["tokens"])]
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    if "capacity" in spec:
        path = spec["paths"][connection % len(spec["paths"])]
        headers.update({"Content-Type": "application/json", "If-Match": f'"{versions[path]}"'})
        body = {
            "total_slots": 40,
            "available_slots": i % 40,
            "slot_unit": "youth",
            "waitlist_length": 0,
            "languages_staffed": ["en", "es"],
            "hours": "Mon-Fri 09:00-18:00",
        }
        return "PUT", path, headers, json.dumps(body)
    path = spec["paths"][i % len(spec["paths"])]
    if spec.get("bodies"):
        headers.update({"Content-Type": "application/json", "Idempotency-Key": str(uuid.uuid4())})
        return "POST", path, headers, spec["bodies"][i % len(spec["bodies"])]
    return "GET", path, headers, None


def load(port: int, spec: dict[str, Any], connections: int, seconds: float) -> dict[str, Any]:
    groups = [list(range(n, connections, CLIENT_PROCESSES)) for n in range(min(CLIENT_PROCESSES, connections))]
    with multiprocessing.get_context("fork").Pool(len(groups)) as pool:
        began = time.perf_counter()
        parts = pool.starmap(_drive, [(port, spec, group, seconds) for group in groups])
        elapsed = time.perf_counter() - began
    latencies = sorted(x for part in parts for x in part["latencies"])
    ok = sum(part["ok"] for part in parts)
    errors = sum(part["errors"] for part in parts)
    return {
        "rps": ok / max(elapsed, seconds),
        "errors": errors,
        "latencies": latencies,
        "first_error": next((p["first_error"] for p in parts if p["first_error"]), None),
    }


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * fraction))] * 1000


# --- fixtures: tokens and the ids each case uses ---------------------------------------------------


def fixtures(url: str) -> dict[str, Any]:
    engine = create_engine(url)
    with engine.begin() as c:
        clients = c.execute(
            text("SELECT client_id, organization_id, scope, name FROM oauth_clients WHERE name LIKE 'seed-scale %' ORDER BY name")
        ).all()
        if not clients:
            raise SystemExit("No seed-scale clients in this database: was it built by `flask cbs seed-scale`?")
        tokens: dict[str, tuple[str, uuid.UUID]] = {}
        for client_id, organization_id, scope, name in clients:
            token = secrets.token_urlsafe(32)
            c.execute(
                text(
                    "INSERT INTO oauth_tokens (id, client_id, organization_id, family_id, token_type, scope, "
                    "access_token_hash, issued_at, expires_in) VALUES (:id, :client, :org, :family, 'Bearer', "
                    ":scope, encode(sha256(convert_to(:token, 'UTF8')), 'hex'), now(), 86400)"
                ),
                {
                    "id": uuid.uuid4(),
                    "client": client_id,
                    "org": organization_id,
                    "family": uuid.uuid4(),
                    "scope": scope,
                    "token": token,
                },
            )
            tokens[name.removeprefix("seed-scale ")] = (token, organization_id)
        district = tokens["district"][1]
        cbos = sorted((label for label in tokens if label.startswith("cbo ")), key=lambda x: int(x.split()[1]))
        sent = c.execute(text("SELECT count(*) FROM referrals WHERE source_organization_id = :o"), {"o": district}).scalar()
        deep_row = c.execute(
            text(
                "SELECT created_at, id FROM referrals WHERE source_organization_id = :o ORDER BY created_at, id OFFSET :n LIMIT 1"
            ),
            {"o": district, "n": sent // 2},
        ).first()
        readable = (
            c.execute(
                text("SELECT id FROM referrals WHERE source_organization_id = :o AND state != 'draft' ORDER BY id LIMIT 500"),
                {"o": district},
            )
            .scalars()
            .all()
        )
        pairs = c.execute(
            text(
                "SELECT s.id, c.id FROM subjects s JOIN consents c ON c.subject_id = s.id "
                "WHERE s.organization_id = :o ORDER BY s.id LIMIT 200"
            ),
            {"o": district},
        ).all()
        targets = (
            c.execute(
                text(
                    "SELECT p.id FROM programs p JOIN organizations o ON o.id = p.organization_id "
                    "WHERE p.status = 'active' AND p.accepts_referrals AND o.kind = 'cbo' "
                    "ORDER BY p.id LIMIT 500"
                )
            )
            .scalars()
            .all()
        )
        school_ids = c.execute(text("SELECT id FROM schools ORDER BY id LIMIT 100")).scalars().all()
        capacity = {
            label: c.execute(
                text(
                    "SELECT p.id FROM programs p JOIN capacity_profiles cp ON cp.program_id = p.id "
                    "WHERE p.organization_id = :o ORDER BY p.id LIMIT 2"
                ),
                {"o": tokens[label][1]},
            )
            .scalars()
            .all()
            for label in cbos
        }
    engine.dispose()
    deep = base64.urlsafe_b64encode(json.dumps(["created_at", deep_row[0].isoformat(), str(deep_row[1])]).encode())
    bodies = [
        json.dumps(
            {
                "subject_id": str(s),
                "consent_id": str(cn),
                "target_program_id": str(targets[n % len(targets)]),
                "school_id": str(school_ids[n % len(school_ids)]),
                "urgency": "routine",
                "need_description": "Asked for a mentor after a conflict on the walk home.",
            }
        )
        for n, (s, cn) in enumerate(pairs)
    ]
    return {
        "tokens": tokens,
        "cbos": cbos,
        "sent": sent,
        "deep_cursor": deep.decode().rstrip("="),
        "readable": [str(r) for r in readable],
        "bodies": bodies,
        "capacity": [(label, str(p)) for label in cbos for p in capacity[label]],
    }


def capacity_versions(url: str, paths: list[str]) -> dict[str, str]:
    engine = create_engine(url)
    with engine.connect() as c:
        ids = [path.split("/")[4] for path in paths]
        rows = dict(
            c.execute(
                text("SELECT program_id::text, version FROM capacity_profiles WHERE program_id::text = ANY(:ids)"), {"ids": ids}
            ).all()
        )
    engine.dispose()
    return {path: str(rows[path.split("/")[4]]) for path in paths}


def cases(f: dict[str, Any]) -> dict[str, dict[str, Any]]:
    district, cbo = f["tokens"]["district"][0], f["tokens"][f["cbos"][0]][0]
    return {
        "program search by type": {
            "tokens": [cbo],
            "paths": [
                "/api/v1/programs?program_type=mentoring&limit={limit}",
                "/api/v1/programs?program_type=safe_passage&limit={limit}",
            ],
        },
        "program search near a point": {
            "tokens": [cbo],
            "paths": [
                "/api/v1/programs?near_lat=34.05&near_lon=-118.25&radius_m=5000&limit={limit}",
                "/api/v1/programs?near_lat=33.96&near_lon=-118.30&radius_m=5000&limit={limit}",
            ],
        },
        "one referral with personal fields": {"tokens": [district], "paths": [f"/api/v1/referrals/{r}" for r in f["readable"]]},
        "referrals sent, first page": {"tokens": [district], "paths": ["/api/v1/referrals/sent?limit={limit}"]},
        "referrals sent, deep page": {
            "tokens": [district],
            "paths": [f"/api/v1/referrals/sent?limit={{limit}}&cursor={f['deep_cursor']}"],
        },
        "a CBO's referrals (sent or received)": {"tokens": [cbo], "paths": ["/api/v1/referrals?limit={limit}"]},
        "list organizations": {"tokens": [cbo], "paths": ["/api/v1/organizations?limit={limit}"]},
        "create a referral": {"tokens": [district], "paths": ["/api/v1/referrals"], "bodies": f["bodies"]},
        "audited writes, 8 organizations": {
            "tokens": [f["tokens"][label][0] for label, _ in f["capacity"]],
            "paths": [f"/api/v1/programs/{program}/capacity" for _, program in f["capacity"]],
            "capacity": True,
        },
    }


def with_limit(spec: dict[str, Any], limit: int) -> dict[str, Any]:
    return {**spec, "paths": [p.replace("{limit}", str(limit)) for p in spec["paths"]]}


def statements(port: int, spec: dict[str, Any], versions: dict[str, str]) -> str:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    method, path, headers, body = build(spec, 0, 0, versions)
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    response.read()
    if response.status not in (200, 201):
        raise RuntimeError(f"{method} {path}: {response.status}")
    return response.getheader("X-Bench-SQL-Statements", "?")


# --- the run ---------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", required=True, help="postgresql+psycopg://... (created and seeded when empty)")
    parser.add_argument("--seconds", type=float, default=8, help="per round and server")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--case", action="append", help="only the cases whose name contains this (repeatable)")
    parser.add_argument("--redis", default=os.environ.get("CBS_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"))
    parser.add_argument("--seed-args", nargs=argparse.REMAINDER, default=[], help="options for seed-scale, last")
    args = parser.parse_args()

    prepare(args.database, args.seed_args)
    f = fixtures(args.database)
    logs = ROOT / "instance" / "bench"
    logs.mkdir(parents=True, exist_ok=True)
    env = hub_env(args.database)
    hub_port, bare_port = free_port(), free_port()
    servers = {
        "hub": (
            start(
                "wsgi:app",
                hub_port,
                args.workers,
                {
                    **env,
                    "CBS_RATELIMIT_DEFAULT": "100000000 per minute",
                    "CBS_RATELIMIT_STORAGE_URI": args.redis,
                    "BENCH_COUNT_SQL": "1",
                },
                logs / "hub.log",
            ),
            hub_port,
        ),
        "bare": (
            start(
                "bench.bare_app:app",
                bare_port,
                args.workers,
                {
                    "BENCH_PSYCOPG_DSN": make_url(args.database)
                    .set(drivername="postgresql")
                    .render_as_string(hide_password=False),
                    "CBS_FIELD_KEYS": env["CBS_FIELD_KEYS"],
                    "CBS_AUDIT_KEYS": env["CBS_AUDIT_KEYS"],
                },
                logs / "bare.log",
            ),
            bare_port,
        ),
    }
    try:
        for process, port in servers.values():
            wait_up(port, process)
        print(
            f"{args.database.rsplit('/', 1)[-1]}: district sends {f['sent']:,} referrals; {args.workers} workers each, "
            f"{args.connections} connections, {args.rounds} rounds x {args.seconds:g} s, median",
            flush=True,
        )
        results = []
        for name, spec in cases(f).items():
            if args.case and not any(part in name for part in args.case):
                continue
            results.append(run_case(name, spec, servers, args))
        print_table(results)
    finally:
        for process, _port in servers.values():
            os.killpg(process.pid, signal.SIGTERM)
        for process, _port in servers.values():
            try:
                process.wait(40)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def run_case(
    name: str, spec: dict[str, Any], servers: dict[str, tuple[subprocess.Popen, int]], args: argparse.Namespace
) -> dict[str, Any]:
    url = args.database
    listing = "{limit}" in " ".join(spec["paths"])
    page = with_limit(spec, 50)

    def versions() -> dict[str, str]:
        return capacity_versions(url, page["paths"]) if "capacity" in spec else {}

    sql = {}
    for who, (_process, port) in servers.items():
        limits = (10, 50, 200) if listing else (50,)
        sql[who] = "/".join(statements(port, with_limit(spec, n), versions()) for n in limits)
        load(port, {**page, "versions": versions()}, args.connections, 1.5)  # warm up
    runs: dict[str, list[dict[str, Any]]] = {"hub": [], "bare": []}
    order = list(servers)
    for round_number in range(args.rounds):
        # Alternate which goes first, so neither always follows the other's writes.
        for who in order if round_number % 2 == 0 else order[::-1]:
            result = load(servers[who][1], {**page, "versions": versions()}, args.connections, args.seconds)
            if result["errors"]:
                print(f"  {name} ({who}): {result['errors']} errors, first: {result['first_error']}", flush=True)
            runs[who].append(result)
    summary: dict[str, Any] = {"case": name, "sql": sql}
    for who, (process, _port) in servers.items():
        latencies = sorted(x for run in runs[who] for x in run["latencies"])
        summary[who] = {
            "rps": statistics.median(run["rps"] for run in runs[who]),
            "p50": percentile(latencies, 0.5),
            "p99": percentile(latencies, 0.99),
            "rss": worker_rss_mb(process.pid),
        }
    summary["ratio"] = summary["hub"]["rps"] / summary["bare"]["rps"] if summary["bare"]["rps"] else float("nan")
    print(
        f"  {name}: hub {summary['hub']['rps']:.0f}/s, bare {summary['bare']['rps']:.0f}/s, ratio {summary['ratio']:.2f}",
        flush=True,
    )
    return summary


def print_table(results: list[dict[str, Any]]) -> None:
    print()
    print(
        "| case | hub req/s | bare req/s | hub/bare | hub p50 / p99 ms | bare p50 / p99 ms "
        "| SQL per request, hub (bare) | worker RSS MB, hub (bare) |"
    )
    print("|---|---:|---:|---:|---:|---:|---|---|")
    for r in results:
        hub, bare = r["hub"], r["bare"]
        print(
            f"| {r['case']} | {hub['rps']:.0f} | {bare['rps']:.0f} | {r['ratio']:.2f} "
            f"| {hub['p50']:.1f} / {hub['p99']:.1f} | {bare['p50']:.1f} / {bare['p99']:.1f} "
            f"| {r['sql']['hub']} ({r['sql']['bare']}) "
            f"| {', '.join(f'{m:.0f}' for m in hub['rss'])} ({', '.join(f'{m:.0f}' for m in bare['rss'])}) |"
        )
    print("\nSQL per request: at limit 10/50/200 for lists. RSS: each gunicorn worker at the end of the case.")


if __name__ == "__main__":
    main()
