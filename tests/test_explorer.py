"""The explorer and the reference read well: each error response shows real problems of its own
status, /problems explains each type's full shape, tags read as words in a coordinator's order,
the Authorize dialog preselects a coordinator's scopes, and ReDoc's bundle names no other host.
(tests/test_browser.py drives the explorer and ReDoc in a real browser.)"""

from __future__ import annotations

import re

import pytest

from cbs_network.http.api import Api
from cbs_network.http.docs import EXPLORER_SCOPES, problem_types
from cbs_network.http.problems import PROBLEM_EXAMPLES, PROBLEM_MEDIA_TYPE, ProblemSchema
from cbs_network.identity.roles import ROLE_SCOPES, SCOPES, Role

from .helpers import assert_problem, if_match

ID = "0c5f3a3e-2d1b-4d0f-9a57-0d8a5b2f8f11"  # the id the examples use
STANDARD = {"type", "title", "status", "detail", "instance", "request_id"}


@pytest.fixture(scope="module")
def spec(app) -> dict:
    return app.test_client().get("/api/openapi.json").get_json()


def _examples(spec: dict, component: str) -> dict:
    media = spec["components"]["responses"][component]["content"][PROBLEM_MEDIA_TYPE]
    assert "example" not in media  # one example for every status is what this replaced
    return media["examples"]


@pytest.mark.parametrize(
    "status, component",
    [
        (400, "BAD_REQUEST"),
        (401, "UNAUTHORIZED"),
        (403, "FORBIDDEN"),
        (404, "NOT_FOUND"),
        (409, "CONFLICT"),
        (412, "PRECONDITION_FAILED"),
        (422, "UNPROCESSABLE_ENTITY"),
        (428, "PRECONDITION_REQUIRED"),
        (429, "TOO_MANY_REQUESTS"),
    ],
)
def test_each_error_response_shows_problems_of_its_own_status(app, spec, status, component):
    examples = _examples(spec, component)
    assert examples
    client = app.test_client()
    for name, example in examples.items():
        body = example["value"]
        assert body["status"] == status, name
        assert example["summary"].startswith(f"{status}: ")
        assert body["type"].startswith("/problems/") and client.get(body["type"]).status_code == 200, body["type"]


def test_the_default_error_shows_the_statuses_operations_do_not_list(app, spec):
    examples = _examples(spec, "DEFAULT_ERROR")
    statuses = {example["value"]["status"] for example in examples.values()}
    assert {405, 415, 500, 503} <= statuses
    assert not statuses & {400, 401, 403, 404, 409, 412, 422, 428, 429}
    assert all(app.test_client().get(e["value"]["type"]).status_code == 200 for e in examples.values())


def test_examples_carry_the_members_of_their_problem(spec):
    unprocessable = [e["value"] for e in _examples(spec, "UNPROCESSABLE_ENTITY").values()]
    assert {location for body in unprocessable for location in body["errors"]} == {"json", "query", "headers"}
    for body in unprocessable:
        for fields in body["errors"].values():
            assert fields and all(isinstance(m, list) and all(isinstance(t, str) for t in m) for m in fields.values())
    stale = [e["value"] for e in _examples(spec, "PRECONDITION_FAILED").values()]
    assert any(body.get("current_etag") == '"4"' for body in stale)
    conflicts = {e["value"]["type"]: e["value"] for e in _examples(spec, "CONFLICT").values()}
    invalid = conflicts["/problems/invalid-transition"]
    assert invalid["current_state"] and invalid["allowed_transitions"][0].keys() == {"to", "by"}
    members = {name for body in (e["value"] for e in _examples(spec, "CONFLICT").values()) for name in body}
    assert {
        "existing_subject_id",
        "committee_id",
        "plan_id",
        "member_id",
        "current_status",
        "waitlist_open",
        "location",
        "current_state",
        "allowed_transitions",
    } <= members


def test_every_example_is_a_valid_problem_of_its_type():
    types = problem_types()
    for example in PROBLEM_EXAMPLES:
        assert ProblemSchema().validate(example.body) == {}, example.name
        slug = example.body["type"].removeprefix("/problems/")
        assert types[slug]["status"] == example.body["status"], example.name
    assert {example.body["type"] for example in PROBLEM_EXAMPLES} == {t["type"] for t in types.values()}


# The examples are the hub's own problems: those a request can reproduce here are compared.


def _same_problem(real: dict, example: dict, *, exactly: bool) -> None:
    assert real.keys() == example.keys()
    keep = set(example) - {"request_id"} if exactly else {"type", "title", "status"}
    assert {k: real[k] for k in keep} == {k: example[k] for k in keep}


def _example(name: str) -> dict:
    return next(example for example in PROBLEM_EXAMPLES if example.name == name)


@pytest.mark.parametrize(
    "name, method, url, kwargs",
    [
        ("missing-token", "get", "/api/v1/organizations", {}),
        ("invalid-token", "get", "/api/v1/organizations", {"headers": {"Authorization": "Bearer made-up"}}),
        ("method-not-allowed", "put", "/api/v1/organizations", {}),
        ("nul-character", "get", "/api/v1/organizations?q=%00", {}),
        ("unsupported-media-type", "post", "/api/v1/organizations", {"data": "x", "content_type": "text/plain"}),
        ("uri-too-long", "get", "/api/v1/referrals?q=" + "x" * 8000, {}),
    ],
)
def test_examples_match_what_the_hub_sends(client, name, method, url, kwargs):
    example = _example(name)
    response = getattr(client, method)(url, **kwargs)
    _same_problem(assert_problem(response, example.body["status"]), example.body, exactly=True)
    for header, value in example.headers.items():
        if header == "Allow":  # the same methods, in whatever order werkzeug lists them
            assert set(response.headers[header].split(", ")) == set(value.split(", "))
        else:
            assert response.headers[header] == value, header


def test_examples_match_what_the_hub_sends_a_signed_in_caller(client, network):
    admin = network["district_admin"]
    own = f"/api/v1/organizations/{network.district.id}"
    cases = [
        ("not-found", client.get(f"/api/v1/organizations/{ID}", headers=admin.headers), True),
        ("query", client.get("/api/v1/organizations?limit=500", headers=admin.headers), True),
        ("if-match-missing", client.patch(own, json={"phone": "213-555-0100"}, headers=admin.headers), False),
        ("stale-if-match", client.patch(own, json={"phone": "213-555-0100"}, headers=if_match(admin.headers, 99)), False),
    ]
    for name, response, exactly in cases:
        body = _example(name).body
        _same_problem(assert_problem(response, body["status"]), body, exactly=exactly)
    foreign = client.patch(own, json={"phone": "213-555-0100"}, headers={**admin.headers, "If-Match": '"abc"'})
    assert assert_problem(foreign, 400)["detail"] == _example("bad-if-match").body["detail"]


# /problems: ordered by status, code spans rendered, each type's full shape.


def test_problem_pages_show_the_members_and_examples_of_their_type(app):
    client = app.test_client()
    statuses = [int(s) for s in re.findall(r"<tr><td>(\d{3})</td>", client.get("/problems").get_data(as_text=True))]
    assert statuses == sorted(statuses) and len(statuses) == len(problem_types())
    for slug, problem in problem_types().items():
        page = client.get(problem["type"]).get_data(as_text=True)
        assert "`" not in page, slug
        used = {name for e in PROBLEM_EXAMPLES if e.body["type"] == problem["type"] for name in e.body}
        listed = set(re.findall(r"<tr><td><code>(\w+)</code></td>", page))
        assert listed == used and STANDARD <= listed, slug
        assert page.count("<pre><code>HTTP/1.1 ") == len([e for e in PROBLEM_EXAMPLES if e.body["type"] == problem["type"]])
    validation = client.get("/problems/validation-error").get_data(as_text=True)
    assert "<code>errors</code>" in validation and "&#34;headers&#34;: {" in validation
    assert "<code>errors</code>" not in client.get("/problems/not-found").get_data(as_text=True)
    conflict = client.get("/problems/conflict").get_data(as_text=True)
    for member in (
        "existing_subject_id",
        "committee_id",
        "plan_id",
        "member_id",
        "current_status",
        "waitlist_open",
        "location",
        "current_state",
    ):
        assert f"<code>{member}</code>" in conflict, member
    transition = client.get("/problems/invalid-transition").get_data(as_text=True)
    assert "<code>current_state</code>" in transition and "<code>allowed_transitions</code>" in transition
    assert "<code>current_etag</code>" in client.get("/problems/precondition-failed").get_data(as_text=True)
    assert "WWW-Authenticate: Bearer" in client.get("/problems/unauthorized").get_data(as_text=True)


# Tags: words, in the order a coordinator works.


def test_tags_read_as_words_in_a_coordinators_order(spec):
    names = [tag["name"] for tag in spec["tags"]]
    assert names == list(Api.TAGS.values())
    assert names[:4] == ["Organizations", "Users and memberships", "OAuth clients", "Schools"]
    assert names.index("Referral matching") < names.index("Referrals") < names.index("School safety committees")
    assert all(re.fullmatch(r"[A-Z][A-Za-z]*( [a-z]+)*", name) for name in names), names
    assert all(tag.get("description") for tag in spec["tags"])
    used = set()
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if isinstance(operation, dict) and "responses" in operation:
                assert len(operation["tags"]) == 1 and operation["tags"][0] in names, (method, path)
                used.add(operation["tags"][0])
    assert used == set(names)
    assert spec["paths"]["/api/v1/safety-plans"]["get"]["tags"] == ["Safety plans"]
    assert spec["paths"]["/api/v1/organizations"]["get"]["tags"] == ["Organizations"]


# The Authorize dialog and ReDoc.


def test_the_explorer_preselects_a_coordinators_scopes(app):
    page = app.test_client().get("/docs/", base_url=app.config["CBS_SETTINGS"].public_url).get_data(as_text=True)
    assert EXPLORER_SCOPES == [scope for scope in SCOPES if scope in ROLE_SCOPES[Role.coordinator]]
    scopes = re.search(r'"scopes": (\[[^\]]*\])', page).group(1)
    assert scopes == str(EXPLORER_SCOPES).replace("'", '"')
    assert '"audit:read"' not in scopes and '"committees:write"' in scopes
    assert "peopleSignIn" in page and 'scheme.get("flow") === "authorizationCode"' in page


def test_redoc_is_served_a_bundle_that_names_no_other_host_to_load(app):
    client = app.test_client()
    page = client.get("/redoc").get_data(as_text=True)
    src = re.search(r'<script src="([^"]+)"', page).group(1)
    assert src == "/redoc/redoc.standalone.js"
    bundle = client.get(src)
    assert bundle.status_code == 200 and bundle.mimetype == "text/javascript"
    text = bundle.get_data(as_text=True)
    assert "cdn.redoc.ly" not in text and "Redoc" in text
