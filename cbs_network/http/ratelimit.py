"""Rate limits: per OAuth token (or per address without one), shared through Redis in production."""

from __future__ import annotations

import hashlib

from flask import Flask, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

EXEMPT_PATHS = ("/healthz", "/readyz", "/metrics", "/docs", "/static", "/problems")


def rate_limit_key() -> str:
    authorization = request.headers.get("Authorization", "")
    if authorization.lower().startswith("bearer "):
        return "token:" + hashlib.sha256(authorization[7:].strip().encode()).hexdigest()[:32]
    return "addr:" + (get_remote_address() or "unknown")


def init_app(app: Flask) -> Limiter:
    limiter = Limiter(key_func=rate_limit_key, app=app)
    limiter.request_filter(lambda: request.path.startswith(EXEMPT_PATHS))
    app.extensions["cbs_limiter"] = limiter
    return limiter
