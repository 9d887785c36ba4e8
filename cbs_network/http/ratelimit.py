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
    # Registered before the limiter so that it runs after the limiter's own hook (Flask runs
    # after_request hooks last-registered first): Retry-After only where it means "retry".
    @app.after_request
    def retry_after_only_when_asked_to_wait(response):  # type: ignore[no-untyped-def]
        if response.status_code not in (429, 503):
            response.headers.pop("Retry-After", None)
        return response

    limiter = Limiter(key_func=rate_limit_key, app=app)
    limiter.request_filter(lambda: request.path.startswith(EXEMPT_PATHS))
    app.extensions["cbs_limiter"] = limiter
    return limiter
