"""Security headers of every response, set in one place.

Every response: `X-Content-Type-Options: nosniff`. Every HTML page: a Content-Security-Policy
made for that page (always with `frame-ancestors 'none'`), `X-Frame-Options: DENY` for older
browsers, `Referrer-Policy: no-referrer` (URLs carry authorization codes, invitation tokens and
cursors), and `Cache-Control: no-store` where the page holds tokens or forms. JSON that carries
personal fields or tokens (authenticated /api requests, the OAuth endpoints) is `no-store` unless
the view chose a cache policy itself.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from flask import Flask, Response, g, request

_BASE = "base-uri 'none'; frame-ancestors 'none'"


@dataclass(frozen=True)
class PagePolicy:
    csp: str  # "{nonce}" stands for the response's nonce source, when its template asked for one
    no_store: bool = False


# The hub's own documentation pages: its stylesheet, no scripts.
DOCS_PAGE = PagePolicy(f"default-src 'none'; style-src 'self'; img-src 'self'; form-action 'none'; {_BASE}")
# Swagger UI holds the signed-in person's tokens: its bundle and one inline configuration
# script (by nonce); it calls only the hub (the spec, the API, /oauth/token). The style hash is
# the <style> of Swagger UI's own top-bar logo (swagger-ui 5, flask-swagger-ui's bundle).
SWAGGER_LOGO_STYLE = "'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='"
SWAGGER_UI = PagePolicy(
    f"default-src 'none'; script-src 'self'{{nonce}}; style-src 'self' {SWAGGER_LOGO_STYLE}; "
    f"img-src 'self' data:; connect-src 'self'; form-action 'self'; {_BASE}",
    no_store=True,
)
# ReDoc styles itself with injected <style> elements. Those of styled-components carry the nonce
# the page's initialization script hands to ReDoc; the one stylesheet the bundle injects as it
# loads, before that, is allowed by hash (its text, and the empty element it starts as) for the
# vendored redoc 2.5.4 (docs.py serves it with its one cdn.redoc.ly logo URL removed).
REDOC_LOAD_STYLES = "'sha256-QMIg+bpjm3JdElJ388KYke01izlUW0UoNOeKjpMxdgc=' 'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='"
REDOC = PagePolicy(
    f"default-src 'none'; script-src 'self'{{nonce}}; style-src 'self'{{nonce}} {REDOC_LOAD_STYLES}; "
    f"img-src 'self' data:; connect-src 'self'; worker-src blob:; form-action 'none'; {_BASE}"
)
# Sign-in, consent and activation: forms carrying CSRF and invitation tokens, styled inline. No
# form-action: the consent form ends in a redirect to the client, which browsers check against it.
OAUTH_PAGES = PagePolicy(f"default-src 'none'; style-src 'unsafe-inline'; {_BASE}", no_store=True)

# By endpoint, else by blueprint; any other HTML page gets DOCS_PAGE.
PAGE_POLICIES = {
    "swagger_ui.show": SWAGGER_UI,  # the explorer and its oauth2-redirect.html
    "docs.redoc": REDOC,
    "oauth": OAUTH_PAGES,
}
PRIVATE_BLUEPRINTS = {"oauth"}  # every response of theirs is about credentials


def csp_nonce() -> str:
    """The nonce of this response's inline scripts and styles (templates call `csp_nonce()`)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


def page_policy() -> PagePolicy:
    return PAGE_POLICIES.get(request.endpoint or "") or PAGE_POLICIES.get(request.blueprint or "") or DOCS_PAGE


def _carries_credentials() -> bool:
    if request.blueprint in PRIVATE_BLUEPRINTS:
        return True
    return request.path.startswith("/api/") and ("Authorization" in request.headers or g.get("principal") is not None)


def set_security_headers(response: Response) -> Response:
    response.headers["X-Content-Type-Options"] = "nosniff"
    # g outlives the response when an app context spans several requests (tests): one nonce each
    nonce = g.pop("csp_nonce", None)
    if response.mimetype == "text/html":
        policy = page_policy()
        response.headers["Content-Security-Policy"] = policy.csp.replace("{nonce}", f" 'nonce-{nonce}'" if nonce else "")
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "no-referrer"
        if policy.no_store:
            response.headers["Cache-Control"] = "no-store"
    elif _carries_credentials():
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def init_app(app: Flask) -> None:
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.after_request(set_security_headers)
