"""gunicorn settings for the benchmark: the repository's gunicorn.conf.py as it stands (so the hub
runs as it is deployed), without the access log, and for the hub, when BENCH_COUNT_SQL is set, a
per-request count of SQL statements in the X-Bench-SQL-Statements response header."""

import os
import threading
from pathlib import Path

exec((Path(__file__).resolve().parent.parent / "gunicorn.conf.py").read_text())  # noqa: S102

accesslog = None


def post_worker_init(worker):  # type: ignore[no-untyped-def]
    if not os.environ.get("BENCH_COUNT_SQL"):
        return
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    local = threading.local()

    @event.listens_for(Engine, "before_cursor_execute")
    def count(*_args):  # type: ignore[no-untyped-def]
        local.n = getattr(local, "n", 0) + 1

    app = worker.wsgi

    def counted(environ, start_response):  # type: ignore[no-untyped-def]
        local.n = 0

        def start(status, headers, exc_info=None):  # type: ignore[no-untyped-def]
            return start_response(status, [*headers, ("X-Bench-SQL-Statements", str(local.n))], exc_info)

        return app(environ, start)

    worker.wsgi = counted
