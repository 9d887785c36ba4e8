"""Rate limits: per OAuth client (or per address without a usable token), shared through Redis
in production."""

from __future__ import annotations

from flask import Flask, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

EXEMPT_PATHS = ("/healthz", "/readyz", "/metrics", "/docs", "/static", "/problems")


def rate_limit_key() -> str:
    """A usable token counts against its client (and user), so minting more tokens buys no more
    requests; anything else, including unknown, expired or revoked tokens, counts against the
    address, so made-up bearer strings buy none either."""
    from cbs_network.http.security import usable_token_row

    row = usable_token_row()  # the same lookup authentication then reuses
    if row is None:
        return "addr:" + (get_remote_address() or "unknown")
    token = row[0]
    # One public client (the explorer) serves every person: each user keeps a budget of their own.
    return f"client:{token.client_id}" + (f":user:{token.user_id}" if token.user_id else "")


def init_app(app: Flask) -> Limiter:
    # Registered before the limiter so that it runs after the limiter's own hook (Flask runs
    # after_request hooks last-registered first): Retry-After only where it means "retry".
    @app.after_request
    def retry_after_only_when_asked_to_wait(response):
        if response.status_code not in (429, 503):
            response.headers.pop("Retry-After", None)
        return response

    limiter = Limiter(key_func=rate_limit_key, app=app)
    limiter.request_filter(lambda: request.path.startswith(EXEMPT_PATHS))
    app.extensions["cbs_limiter"] = limiter
    return limiter
