"""Benchmark: audit appends per second with concurrent writers on PostgreSQL.

Each writer thread has its own connection and appends one audit record per short transaction
(record + commit) for a fixed time, acting either for its own organization ("spread") or all for
the same one ("same"). `--hold-ms` keeps each transaction open that long after the append, as the
rest of a request does (its other statements, its response) while the chain it wrote stays locked.
Several code trees can be compared in the same run: rounds alternate between them so machine
noise hits each alike. Each measurement runs in a subprocess with that tree first on PYTHONPATH,
on a fresh database it creates, migrates and drops.

    git worktree add /tmp/audit-before HEAD     # the code before the change
    .venv/bin/python bench/bench_audit_writes.py [--threads 8] [--seconds 5] [--rounds 3] [--hold-ms 0] \\
        [--mode spread|same] [--tree before=/tmp/audit-before --tree after=.]

Needs PostgreSQL at CBS_BENCH_SERVER_URL (default postgresql+psycopg://root@127.0.0.1:5432/test).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODES = ("spread", "same")


def _key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def measure(threads: int, seconds: float, mode: str, hold_ms: float) -> dict:
    """Runs inside the subprocess: whichever cbs_network PYTHONPATH gives is the code measured."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    import cbs_network
    from cbs_network import create_app
    from cbs_network.audit import service as audit
    from cbs_network.core.config import Settings
    from cbs_network.core.migrate import upgrade
    from cbs_network.identity.principal import system_principal

    server = make_url(os.environ.get("CBS_BENCH_SERVER_URL", "postgresql+psycopg://root@127.0.0.1:5432/test"))
    name = f"cbs_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = server.set(database=name).render_as_string(hide_password=False)
        upgrade(url)
        settings = Settings()
        settings.database_url, settings.secret_key, settings.log_level = url, "bench", "WARNING"
        settings.field_keys, settings.subject_hash_key = f"k1:{_key()}", _key()
        settings.audit_keys = f"a1:{_key()}"  # read by the keyed code only
        app = create_app(settings)
        factory = app.extensions["cbs_db"].session_factory
        shared = uuid.uuid4()
        organizations = [shared if mode == "same" else uuid.uuid4() for _ in range(threads)]
        counts = [0] * threads
        start = threading.Barrier(threads + 1)
        deadline = [0.0]

        def writer(index: int) -> None:
            principal = system_principal(organizations[index])
            start.wait()
            while time.perf_counter() < deadline[0]:
                with factory() as session:
                    audit.record(
                        session,
                        principal=principal,
                        action="bench.write",
                        object_type="thing",
                        object_id=counts[index],
                        changes={"n": {"before": None, "after": counts[index]}},
                    )
                    if hold_ms:
                        time.sleep(hold_ms / 1000)
                    session.commit()
                counts[index] += 1

        pool = [threading.Thread(target=writer, args=(i,)) for i in range(threads)]
        for thread in pool:
            thread.start()
        deadline[0] = time.perf_counter() + seconds
        began = time.perf_counter()
        start.wait()
        for thread in pool:
            thread.join()
        elapsed = time.perf_counter() - began
        with factory() as session:
            intact = audit.verify(session).ok
        app.extensions["cbs_db"].engine.dispose()
        return {
            "code": str(Path(cbs_network.__file__).parent.parent),
            "mode": mode,
            "records": sum(counts),
            "per_second": sum(counts) / elapsed,
            "verified": intact,
        }
    finally:
        with admin.connect() as connection:
            connection.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n AND pid <> pg_backend_pid()"),
                {"n": name},
            )
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def run(tree: Path, threads: int, seconds: float, mode: str, hold_ms: float) -> dict:
    with tempfile.TemporaryDirectory() as instance:
        env = {**os.environ, "PYTHONPATH": str(tree), "CBS_LOG_LEVEL": "WARNING", "CBS_INSTANCE_DIR": instance}
        completed = subprocess.run(
            [
                sys.executable,
                __file__,
                "--measure",
                mode,
                "--threads",
                str(threads),
                "--seconds",
                str(seconds),
                "--hold-ms",
                str(hold_ms),
            ],
            cwd=tree,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    if completed.returncode != 0:
        raise RuntimeError(f"{tree} ({mode}) failed:\n{completed.stderr[-3000:]}")
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    if Path(result["code"]).resolve() != tree.resolve():
        raise RuntimeError(f"measured {result['code']}, not {tree}: is cbs_network installed outside PYTHONPATH?")
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--hold-ms", type=float, default=0)
    parser.add_argument("--mode", action="append", choices=MODES, help="only this mode (repeatable; default both)")
    parser.add_argument("--tree", action="append", default=[], help="name=path of a checkout to measure (repeatable)")
    parser.add_argument("--measure", choices=MODES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.threads, args.seconds, args.measure, args.hold_ms)))
        return

    trees = dict(entry.split("=", 1) for entry in args.tree) or {"this": str(ROOT)}
    modes = args.mode or list(MODES)
    results: dict[tuple[str, str], list[float]] = {(name, mode): [] for name in trees for mode in modes}
    runs = list(results)
    for round_number in range(1, args.rounds + 1):
        # Each round starts one further along, so no measurement always follows the same one
        # (dropping the previous database sets PostgreSQL writing a checkpoint).
        shift = (round_number - 1) % len(runs)
        for name, mode in runs[shift:] + runs[:shift]:
            result = run(Path(trees[name]), args.threads, args.seconds, mode, args.hold_ms)
            if not result["verified"]:
                raise RuntimeError(f"{name} ({mode}): the audit chain did not verify after the run")
            results[(name, mode)].append(result["per_second"])
            print(
                f"round {round_number}  {name:<8} {mode:<6} {result['records']:>6} records  {result['per_second']:8.1f}/s",
                flush=True,
            )
    print(
        f"\n{args.threads} writers, {args.seconds:g} s per measurement, transactions held {args.hold_ms:g} ms after "
        f"the append, median of {args.rounds} rounds (records/second):"
    )
    for mode in modes:
        line = "  ".join(f"{name} {statistics.median(results[(name, mode)]):8.1f}" for name in trees)
        print(
            f"  {mode:<6} ({'each writer its own organization' if mode == 'spread' else 'all writers one organization'}): {line}"
        )


if __name__ == "__main__":
    main()
