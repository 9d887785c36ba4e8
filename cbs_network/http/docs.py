"""The hub's own documentation pages: landing page, Swagger UI, ReDoc, problem types.

Everything is served from the hub itself (no CDN): many district networks and the CI machines
have no internet. Swagger UI comes from flask-swagger-ui's bundled dist; ReDoc's standalone
bundle is vendored in static/ (redoc 2.5.4 from the npm registry, unmodified, sha256
dcaf76612bc4a3fbcc923a8966dee2f6146a5f32e5ce1b6f02dd60cbbf89500b) and served with its one
outside reference (the sidebar's Redocly logo) replaced, see redoc_bundle().
"""

from __future__ import annotations

import json
from functools import cache
from http import HTTPStatus
from pathlib import Path
from typing import TypeVar

import flask_swagger_ui
from flask import Blueprint, Flask, Response, current_app, redirect, render_template, request, send_from_directory
from flask_swagger_ui import get_swaggerui_blueprint
from markupsafe import Markup, escape
from werkzeug.wrappers import Response as BaseResponse

from cbs_network.core.errors import DomainError, NotFound
from cbs_network.http.problems import (
    PROBLEM_DOCS,
    PROBLEM_EXAMPLES,
    PROBLEM_MEDIA_TYPE,
    STATUS_SLUGS,
    ProblemSchema,
    problem_type,
)
from cbs_network.identity.roles import ROLE_SCOPES, SCOPES, Role

SPEC_URL = "/api/openapi.json"
DOCS_URL = "/docs"
EXPLORER_CLIENT_ID = "cbs-explorer"  # the public client `flask cbs seed-demo` registers
OAUTH_METADATA_URL = "/.well-known/oauth-authorization-server"
APP_NAME = "CBS Network Hub API explorer"
# Preselected in the Authorize dialog: a coordinator's work, the explorer's main users (DESIGN.md).
# Others untick or tick more; the hub grants only what the person's role allows anyway, and the
# consent page then lists scopes the person can use rather than every scope there is.
EXPLORER_SCOPES = [scope for scope in SCOPES if scope in ROLE_SCOPES[Role.coordinator]]
REDOC_BUNDLE = Path(__file__).parent.parent / "static" / "redoc.standalone.js"
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"

bp = Blueprint("docs", __name__)


def explorer_redirect_uri(public_url: str) -> str:
    """The one redirect URI registered for the explorer client (exact match is enforced)."""
    return f"{public_url.rstrip('/')}{DOCS_URL}/oauth2-redirect.html"


def init_app(app: Flask) -> None:
    settings = app.config["CBS_SETTINGS"]
    swagger_ui = get_swaggerui_blueprint(
        DOCS_URL,
        SPEC_URL,
        config={
            "app_name": APP_NAME,
            # flask-swagger-ui derives this from the request URL, which breaks for
            # /docs/index.html and for any host name other than the registered one; the
            # authorization server compares it byte for byte with the client's redirect URI.
            "oauth2RedirectUrl": explorer_redirect_uri(settings.public_url),
            # The default (validator.swagger.io) would send the spec to the internet.
            "validatorUrl": None,
            "displayRequestDuration": True,
        },
        oauth_config={
            # A public client: no secret; PKCE (S256) is what protects the code.
            "clientId": EXPLORER_CLIENT_ID,
            "appName": APP_NAME,
            "scopes": EXPLORER_SCOPES,
            "usePkceWithAuthorizationCodeGrant": True,
        },
        blueprint_name="swagger_ui",
    )
    # Its page is rendered from templates/index.template.html, which overrides the package's
    # own so that the inline configuration script carries the page's CSP nonce.
    swagger_ui.before_request(_at_the_public_address)
    app.register_blueprint(swagger_ui)
    app.register_blueprint(bp)


def problem_types() -> dict[str, dict]:
    """slug -> {status, title, description} for every documented problem type."""
    types: dict[str, dict] = {}
    for status, slug in STATUS_SLUGS.items():
        types[slug] = {"status": status, "title": HTTPStatus(status).phrase}
    for cls in all_subclasses(DomainError):
        types.setdefault(cls.slug, {"status": cls.status, "title": cls.title})
    return {
        slug: {**info, "description": _inline_code(PROBLEM_DOCS[slug]), "type": problem_type(slug), **_shape(problem_type(slug))}
        for slug, info in sorted(types.items(), key=lambda item: (item[1]["status"], item[0]))
        if slug in PROBLEM_DOCS
    }


def _shape(type_: str) -> dict:
    """The members a problem type carries (errors and extension members only where its real
    examples use them), with their descriptions, and those examples as HTTP responses."""
    examples = [example for example in PROBLEM_EXAMPLES if example.body["type"] == type_]
    used = {name for example in examples for name in example.body}
    fields = ProblemSchema().fields
    members = [(name, _inline_code(field.metadata.get("description", ""))) for name, field in fields.items() if name in used]
    shown = [(example.summary, _as_response(example.body, example.headers)) for example in examples]
    return {"members": members, "examples": shown}


def _as_response(body: dict, headers: dict[str, str]) -> str:
    lines = [f"HTTP/1.1 {body['status']} {HTTPStatus(body['status']).phrase}", f"Content-Type: {PROBLEM_MEDIA_TYPE}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return "\n".join(lines) + "\n\n" + json.dumps(body, indent=2, ensure_ascii=False)


def _inline_code(text: str) -> Markup:
    """The descriptions are written for the spec (Markdown); `name` becomes <code>name</code> here."""
    parts = str(escape(text)).split("`")
    return Markup("".join(f"<code>{part}</code>" if n % 2 else part for n, part in enumerate(parts)))


T = TypeVar("T")


def all_subclasses(cls: type[T]) -> list[type[T]]:
    found: list[type[T]] = []
    for sub in cls.__subclasses__():
        found += [sub, *all_subclasses(sub)]
    return found


@bp.get("/")
def landing() -> str:
    settings = current_app.config["CBS_SETTINGS"]
    return render_template(
        "docs_index.html",
        public_url=settings.public_url,
        spec_url=SPEC_URL,
        metadata_url=OAUTH_METADATA_URL,
        explorer_client_id=EXPLORER_CLIENT_ID,
        scopes=SCOPES,
    )


def _at_the_public_address() -> BaseResponse | None:
    """Sign-in through the explorer only works at the public address: the explorer's redirect URI
    is registered for it byte for byte, and the browser keeps the PKCE verifier per origin. Opened
    anywhere else (localhost instead of 127.0.0.1), the page goes to the public address rather
    than leaving the person with a blank sign-in popup."""
    public_url = current_app.config["CBS_SETTINGS"].public_url.rstrip("/")
    if request.path.rstrip("/") != DOCS_URL or request.host_url.rstrip("/") == public_url:
        return None
    return redirect(f"{public_url}{request.full_path.rstrip('?')}", 302)


@bp.get("/favicon.ico")
def favicon() -> Response:
    # Browsers ask for it on every page (the login popup too); reuse Swagger UI's icon.
    dist = Path(flask_swagger_ui.__file__).parent / "dist"
    return send_from_directory(dist, "favicon-32x32.png", mimetype="image/png", max_age=86400)


@bp.get("/redoc")
def redoc() -> str:
    return render_template("docs_redoc.html", spec_url=SPEC_URL)


@cache
def _redoc_bundle_text() -> str:
    text = REDOC_BUNDLE.read_text(encoding="utf-8")
    # redoc 2.x has no option to leave out its sidebar footer's logo, which it fetches from
    # cdn.redoc.ly; an empty data: URL fails to load at once and ReDoc then drops the image.
    if text.count(f'"{REDOC_LOGO}"') != 1:
        raise RuntimeError(f"{REDOC_BUNDLE} changed: find where it loads {REDOC_LOGO} again")
    return text.replace(f'"{REDOC_LOGO}"', '"data:,"')


@bp.get("/redoc/redoc.standalone.js")
def redoc_bundle() -> Response:
    """The vendored ReDoc bundle, made to load nothing from another host (see _redoc_bundle_text)."""
    response = Response(_redoc_bundle_text(), mimetype="text/javascript")
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return response


@bp.get("/problems")
def problems_index() -> str:
    return render_template("docs_problems.html", problems=problem_types())


@bp.get("/problems/<slug>")
def problem_page(slug: str) -> str:
    problem = problem_types().get(slug)
    if problem is None:
        raise NotFound(f"There is no problem type named {slug!r}; see /problems for the list.")
    return render_template("docs_problem.html", slug=slug, problem=problem)
