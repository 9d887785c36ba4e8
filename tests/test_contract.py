"""The published contract: the committed OpenAPI document, and the pages its links lead to.

openapi/openapi.json is what partners code against; it must be exactly what the code serves
(regenerate it with `make openapi`), valid OpenAPI 3.1, and document every operation's
security, errors and examples.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator

from cbs_network.core.errors import DomainError
from cbs_network.http.docs import EXPLORER_CLIENT_ID, EXPLORER_SCOPES, all_subclasses, explorer_redirect_uri
from cbs_network.http.problems import PROBLEM_DOCS, PROBLEM_MEDIA_TYPE, STATUS_SLUGS
from cbs_network.identity.roles import SCOPES

COMMITTED_SPEC = Path(__file__).resolve().parent.parent / "openapi" / "openapi.json"
METHODS = {"get", "put", "post", "patch", "delete", "head", "options", "trace"}


@pytest.fixture(scope="module")
def spec(app) -> dict:
    # The document exactly as served (flask's JSON encoder, like `flask openapi write`).
    response = app.test_client().get("/api/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def _operations(spec: dict, prefix: str = "/api/v1"):
    for path, item in spec["paths"].items():
        if path.startswith(prefix):
            for method, operation in item.items():
                if method in METHODS:
                    yield f"{method.upper()} {path}", operation


def _resolve(spec: dict, obj: dict) -> dict:
    while "$ref" in obj:
        node = spec
        for part in obj["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        obj = node
    return obj


def test_committed_spec_matches_the_code(spec):
    assert COMMITTED_SPEC.exists(), "openapi/openapi.json is missing: run `make openapi` and commit it"
    committed = json.loads(COMMITTED_SPEC.read_text())
    assert committed == spec, (
        "openapi/openapi.json differs from the spec the code generates: run `make openapi` and commit the result"
    )


def test_spec_is_valid_openapi_3_1(spec):
    assert spec["openapi"].startswith("3.1")
    errors = [error.message for error in OpenAPIV31SpecValidator(spec).iter_errors()]
    assert not errors, errors[:10]


def test_every_operation_documents_security_errors_and_examples(spec):
    problems = []
    operations = list(_operations(spec))
    assert operations, "no /api/v1 operations in the spec"
    for name, operation in operations:
        if not operation.get("summary"):
            problems.append(f"{name}: no summary")
        security = operation.get("security") or []
        if not any("oauth2" in requirement for requirement in security):
            problems.append(f"{name}: no oauth2 security requirement")
        responses = operation.get("responses", {})
        for status in ("401", "403", "default"):
            if status not in responses:
                problems.append(f"{name}: response {status} not documented")
        for status, response in responses.items():
            response = _resolve(spec, response)
            content = response.get("content") or {}
            if status == "default" or int(status) >= 400:
                if set(content) != {PROBLEM_MEDIA_TYPE}:
                    problems.append(f"{name}: {status} is not documented as {PROBLEM_MEDIA_TYPE}")
            elif 200 <= int(status) < 300 and "application/json" in content:
                media = content["application/json"]
                if "example" not in media and "examples" not in media:
                    problems.append(f"{name}: {status} response has no example")
    assert not problems, "\n".join(problems)


def test_security_scheme_offers_both_flows(spec):
    scheme = spec["components"]["securitySchemes"]["oauth2"]
    flows = scheme["flows"]
    assert flows["clientCredentials"]["tokenUrl"] == "/oauth/token"
    assert flows["authorizationCode"]["authorizationUrl"] == "/oauth/authorize"
    assert set(flows["authorizationCode"]["scopes"]) == set(SCOPES)


# The problem+json `type` URIs lead to pages that explain them.


def test_every_problem_type_has_a_page(app):
    slugs = set(STATUS_SLUGS.values()) | {cls.slug for cls in all_subclasses(DomainError)}
    assert slugs <= set(PROBLEM_DOCS), f"undocumented problem types: {slugs - set(PROBLEM_DOCS)}"
    client = app.test_client()
    for slug in sorted(slugs):
        response = client.get(f"/problems/{slug}")
        assert response.status_code == 200, slug
        assert response.mimetype == "text/html"
        assert PROBLEM_DOCS[slug].split("`")[0][:40] in response.get_data(as_text=True)
    index = client.get("/problems").get_data(as_text=True)
    assert all(f'href="/problems/{slug}"' in index for slug in slugs)


def test_unknown_problem_type_is_a_404_problem(app):
    response = app.test_client().get("/problems/no-such-thing")
    assert response.status_code == 404
    assert response.mimetype == PROBLEM_MEDIA_TYPE
    assert response.get_json()["type"] == "/problems/not-found"


# The explorer and the landing page, served from the hub itself.


def test_swagger_ui_runs_pkce_with_the_explorer_client(app):
    client = app.test_client()
    public_url = app.config["CBS_SETTINGS"].public_url
    page = client.get("/docs/", base_url=public_url).get_data(as_text=True)
    config = json.loads(re.search(r"var user_config = (\{.*?\});", page).group(1))
    oauth = json.loads(re.search(r"var oauth_user_config = (\{.*?\});", page, re.S).group(1))
    assert config["url"] == "/api/openapi.json"
    assert config["oauth2RedirectUrl"] == explorer_redirect_uri(public_url)
    assert config["oauth2RedirectUrl"] == f"{public_url}/docs/oauth2-redirect.html"
    assert config["validatorUrl"] is None  # no call to validator.swagger.io
    assert oauth["clientId"] == EXPLORER_CLIENT_ID
    assert oauth["usePkceWithAuthorizationCodeGrant"] is True
    assert oauth["scopes"] == EXPLORER_SCOPES
    assert "clientSecret" not in oauth
    assert client.get("/docs/oauth2-redirect.html").status_code == 200


@pytest.mark.parametrize("path", ["/", "/docs/", "/redoc", "/problems", "/problems/not-found"])
def test_pages_load_nothing_from_other_hosts(app, path):
    response = app.test_client().get(path, base_url=app.config["CBS_SETTINGS"].public_url)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    external = re.findall(r'<(?:script|link|img)[^>]+(?:src|href)="(?:https?:)?//[^"]+"', page)
    assert not external, external
    for asset in re.findall(r'<(?:script|link)[^>]+(?:src|href)="(/[^"]+)"', page):
        assert app.test_client().get(asset).status_code == 200, asset


def test_landing_page_links_to_the_docs_spec_and_oauth_metadata(app):
    page = app.test_client().get("/").get_data(as_text=True)
    for link in ('href="/docs/"', 'href="/api/openapi.json"', 'href="/.well-known/oauth-authorization-server"'):
        assert link in page, link
    assert "Authorize" in page and "client_credentials" in page


def test_the_explorer_opened_elsewhere_goes_to_the_public_address(app):
    """Its redirect URI is registered for the public address only: elsewhere sign-in cannot work."""
    public_url = app.config["CBS_SETTINGS"].public_url
    response = app.test_client().get("/docs/?tag=referrals", base_url="http://localhost:5000")
    assert response.status_code == 302 and response.headers["Location"] == f"{public_url}/docs/?tag=referrals"
    # Its assets and the redirect page still load wherever they are asked for.
    assert app.test_client().get("/docs/swagger-ui-bundle.js", base_url="http://localhost:5000").status_code == 200
