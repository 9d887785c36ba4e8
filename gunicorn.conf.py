"""gunicorn settings for the hub: `gunicorn -c gunicorn.conf.py wsgi:app`.

The API is I/O bound (database, Redis), so threaded workers; every piece of state lives in
PostgreSQL or Redis, so any number of workers and instances can serve it.
"""

import multiprocessing
import os

from gunicorn import glogging

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY") or multiprocessing.cpu_count() * 2 + 1)
threads = 4
timeout = 30
graceful_timeout = 30
keepalive = 5
# Import the app once, in the master: a worker that starts (or restarts) forks a ready app
# instead of spending a second of CPU importing it, and the workers share its memory pages.
preload_app = True
# A long-running service: recycling only guards against a slow leak, so it is rare (every
# ~1,000 requests cost 17% of the CPU in re-imports); the jitter keeps workers from restarting
# together.
max_requests = 100_000
max_requests_jitter = 10_000
# One access line per request: the hub's JSON line (cbs_network.access: request id, client,
# organization, route, status, duration) for everything the app answered. gunicorn writes its
# line only for what the hub did not log: a 400/414 gunicorn answered itself, or an error that
# escaped the app. CBS_GUNICORN_ACCESS_LOG=all brings back gunicorn's line for every request.
accesslog = "-"
_every_request = os.environ.get("CBS_GUNICORN_ACCESS_LOG", "").strip().lower() == "all"


class logger_class(glogging.Logger):  # noqa: N801 (gunicorn reads this setting's name)
    def access(self, resp, req, environ, request_time):  # type: ignore[no-untyped-def]
        if _every_request or not environ.get("cbs.access_logged"):
            super().access(resp, req, environ, request_time)


# The default format logs the request line with its query string, and the Referer: both can carry
# secrets (invitation tokens in /account/activate?token=..., cursors, authorization codes). Log
# the path alone; the request id ties a line to the hub's own JSON access log.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms "%(a)s" %({x-request-id}o)s'
errorlog = "-"
# gunicorn answers a request line past its limit (4094 bytes by default) with its own HTML page.
# 8190 is the most it allows short of 0 (unlimited, which its parser would buffer without bound):
# URLs up to the app's 8000-byte limit reach the app, and a longer one within it gets the app's
# 414 problem+json (cbs_network/http/problems.py MAX_URL_LENGTH).
limit_request_line = 8190
# Heartbeat files on tmpfs: a container's overlay filesystem can stall them (gunicorn docs, "Blocking OS calls").
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"
# Trust X-Forwarded-* only from the load balancer in front (the app applies ProxyFix with one hop).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
# gunicorn 25+ opens a control socket under $HOME by default; nothing here uses it, and two
# servers on one host (or a read-only home in a container) would trip over it.
control_socket_disable = True


def post_fork(server, worker):  # type: ignore[no-untyped-def]
    """A forked worker must never use a database connection the master opened (the app opens
    none at import, but a preloaded one could): drop the inherited pool without closing the
    master's sockets, so the worker opens its own (SQLAlchemy, "Using Connection Pools with
    Multiprocessing or os.fork()")."""
    import wsgi

    wsgi.app.extensions["cbs_db"].engine.dispose(close=False)
