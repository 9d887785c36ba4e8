"""The contract says exactly what the hub enforces: partners generate clients from
openapi/openapi.json, so operation names, problem members, formats and header rules in it must
match what the server does."""

from __future__ import annotations

import ast
import json
import re
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

import cbs_network
from cbs_network.core.errors import DomainError
from cbs_network.http.docs import all_subclasses
from cbs_network.http.problems import MAX_URL_LENGTH

from .helpers import assert_problem, if_match
from .test_committees import make_committee, make_school, staff
from .test_hardening_live import gunicorn_hub  # noqa: F401 - a fixture

METHODS = {"get", "put", "post", "patch", "delete", "head", "options", "trace"}
REPO_ROOT = Path(__file__).resolve().parent.parent
PACKAGE = Path(cbs_network.__file__).resolve().parent


@pytest.fixture(scope="module")
def spec(app) -> dict:
    response = app.test_client().get("/api/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def _operations(spec: dict):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield f"{method.upper()} {path}", operation


# --- 1. operationId ----------------------------------------------------------------------------


def test_every_operation_has_a_unique_camel_case_operation_id(spec):
    seen: dict[str, str] = {}
    problems = []
    for name, operation in _operations(spec):
        operation_id = operation.get("operationId")
        if not operation_id:
            problems.append(f"{name}: no operationId")
        elif not re.fullmatch(r"[a-z][a-zA-Z0-9]*", operation_id):
            problems.append(f"{name}: operationId {operation_id!r} is not camelCase")
        elif operation_id in seen:
            problems.append(f"{name}: operationId {operation_id!r} repeats {seen[operation_id]}")
        else:
            seen[operation_id] = name
    assert seen and not problems, problems


def test_operation_ids_come_from_the_view_names(spec):
    assert spec["paths"]["/api/v1/programs"]["get"]["operationId"] == "listPrograms"
    transitions = spec["paths"]["/api/v1/referrals/{referral_id}/transitions"]["post"]
    assert transitions["operationId"] == "transitionReferral"


# --- 2. problem extension members --------------------------------------------------------------


def _raised_extension_members() -> dict[str, str]:
    """Every keyword a DomainError (or subclass) is raised with besides errors/headers: these
    become members of the problem body (cbs_network.core.errors.DomainError.extra)."""
    error_names = {cls.__name__ for cls in all_subclasses(DomainError)} | {"DomainError"}
    found: dict[str, str] = {}
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Call):
                continue
            called = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if called not in error_names:
                continue
            where = f"{path.relative_to(PACKAGE)}:{node.lineno}"
            for keyword in node.keywords:
                if keyword.arg is not None:
                    names = [keyword.arg]
                else:  # **{"name": value} or **({...} if ... else {})
                    names = [
                        key.value
                        for sub in ast.walk(keyword.value)
                        if isinstance(sub, ast.Dict)
                        for key in sub.keys
                        if isinstance(key, ast.Constant)
                    ]
                for name in names:
                    if name not in ("errors", "headers"):
                        found.setdefault(name, where)
    return found


def test_problem_schema_declares_every_extension_member_the_hub_raises(spec):
    problem = spec["components"]["schemas"]["Problem"]
    raised = _raised_extension_members()
    # The ones known today, so a broken scan cannot pass by finding nothing.
    assert {
        "current_etag",
        "current_state",
        "current_status",
        "allowed_transitions",
        "existing_subject_id",
        "member_id",
        "location",
    } <= set(raised)
    undeclared = {name: where for name, where in raised.items() if name not in problem["properties"]}
    assert not undeclared, f"problem members sent but not in ProblemSchema: {undeclared}"
    for name in raised:
        assert problem["properties"][name].get("description"), f"{name}: say when it appears"
    assert problem.get("additionalProperties") is False  # so a strict client catches a new undeclared one


@pytest.fixture(scope="module")
def problem_validator(spec) -> Draft202012Validator:
    schema = {"$ref": "#/components/schemas/Problem", "components": spec["components"]}
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _valid_problem(validator: Draft202012Validator, response, status: int) -> dict:
    body = assert_problem(response, status)
    errors = [f"{list(error.absolute_path)}: {error.message}" for error in validator.iter_errors(body)]
    assert not errors, (body, errors)
    return body


def test_real_409_and_412_problems_validate_against_the_documented_schema(client, network, db_session, problem_validator):
    coordinator = network["district_coordinator"].headers
    school = make_school(db_session, network)
    committee = make_committee(client, network, school)
    url = f"/api/v1/committees/{committee['id']}"

    # 412: a stale If-Match, with the current ETag
    assert client.patch(url, json={"notes": "First"}, headers=if_match(coordinator, 1)).status_code == 200
    stale = _valid_problem(problem_validator, client.patch(url, json={"notes": "Late"}, headers=if_match(coordinator, 1)), 412)
    assert stale["current_etag"] == '"2"'

    # 409: a second committee for the school year, naming the first
    again = client.post(
        "/api/v1/committees", json={"school_id": str(school.id), "school_year": committee["school_year"]}, headers=coordinator
    )
    assert _valid_problem(problem_validator, again, 409)["committee_id"] == committee["id"]

    # 409: a person already nominated, naming the seat and its status
    nominee = staff(db_session, network.cbo)
    nominate = {"user_id": str(nominee.id), "role": "cbo_representative"}
    first = client.post(f"{url}/nominations", json=nominate, headers=network["cbo_admin"].headers)
    assert first.status_code == 201, first.get_data(as_text=True)
    seat = _valid_problem(
        problem_validator, client.post(f"{url}/nominations", json=nominate, headers=network["cbo_admin"].headers), 409
    )
    assert (seat["member_id"], seat["current_status"]) == (first.json["id"], "nominated")

    # 409 invalid-transition: naming the current state and the allowed moves
    plan = client.post("/api/v1/safety-plans", json={"school_id": str(school.id), "school_year": "2026-27"}, headers=coordinator)
    assert plan.status_code == 201, plan.get_data(as_text=True)
    skip = client.post(f"/api/v1/safety-plans/{plan.json['id']}/transitions", json={"to": "approved"}, headers=coordinator)
    moved = _valid_problem(problem_validator, skip, 409)
    assert moved["current_state"] == "not_started" and moved["allowed_transitions"][0]["to"] == "drafting"

    # 409: a second plan for the school year, naming the first
    twice = client.post("/api/v1/safety-plans", json={"school_id": str(school.id), "school_year": "2026-27"}, headers=coordinator)
    assert _valid_problem(problem_validator, twice, 409)["plan_id"] == plan.json["id"]


def test_an_undeclared_member_fails_the_documented_schema(problem_validator):
    # The check above is only worth something if the schema refuses what it does not declare.
    body = {"type": "/problems/conflict", "title": "Conflict", "status": 409, "detail": "x", "surprise": 1}
    assert list(problem_validator.iter_errors(body))


# --- 3. spec hygiene ---------------------------------------------------------------------------


def test_info_names_a_license(spec):
    if not list(REPO_ROOT.glob("LICENSE*")):
        assert spec["info"]["license"] == {"name": "Proprietary", "identifier": "LicenseRef-Proprietary"}
    else:
        assert spec["info"]["license"]["name"]


def test_no_unused_components(spec):
    assert "PaginationMetadata" not in spec["components"].get("schemas", {})
    text = json.dumps({key: value for key, value in spec.items() if key != "components"})
    text += json.dumps({key: value for key, value in spec["components"].items() if key != "schemas"})
    schemas = spec["components"]["schemas"]
    referenced = set(re.findall(r'"#/components/schemas/([^"]+)"', text + json.dumps(schemas)))
    assert set(schemas) <= referenced, sorted(set(schemas) - referenced)


def test_urls_use_the_json_schema_uri_format(spec):
    text = json.dumps(spec)
    assert '"format": "url"' not in text
    website = spec["components"]["schemas"]["Organization"]["properties"]["website"]
    assert website.get("format") == "uri"
    # The pattern is the server's own check: what it matches is taken, what it does not is refused.
    pattern = re.compile(website["pattern"])
    assert pattern.search("https://example.org/") and pattern.search("HTTP://example.org/")
    assert not pattern.search("ftp://example.org/") and not pattern.search("mailto:x@example.org")


@pytest.mark.parametrize(
    ("url", "taken"),
    [
        ("https://example.org", True),
        ("HTTP://a.b.co:8080/x?y=1#z", True),
        ("http://127.0.0.1:5000/", True),
        ("https://xn--bcher-kva.de/a%20b", True),
        ("http://[::1]/", False),
        ("https://example.org/<b>", False),
        ("https://example", False),
        ("https://user:secret@example.org/", False),
        ("https://example.org/a b", False),
        ("https://example.org\n", False),
        ("https://-bad.example.org/", False),
        ("ftp://example.org/", False),
    ],
)
def test_the_url_pattern_in_the_spec_is_the_check_the_server_makes(client, network, spec, url, taken):
    pattern = re.compile(spec["components"]["schemas"]["OrganizationUpdate"]["properties"]["website"]["pattern"])
    organization = network.cbo
    response = client.patch(
        f"/api/v1/organizations/{organization.id}",
        json={"website": url},
        headers=if_match(network["cbo_admin"].headers, organization.version),
    )
    assert bool(pattern.fullmatch(url)) is taken
    assert response.status_code == (200 if taken else 422), response.get_json()


def _idempotency_schema(spec: dict) -> dict:
    parameter = next(p for p in spec["paths"]["/api/v1/committees"]["post"]["parameters"] if p["name"] == "Idempotency-Key")
    return parameter["schema"]


def test_idempotency_key_schema_states_what_the_server_enforces(spec, client, network):
    schema = _idempotency_schema(spec)
    assert (schema.get("minLength"), schema.get("maxLength")) == (1, 255)
    pattern = re.compile(schema["pattern"])
    headers = network["district_coordinator"].headers
    # Keys the schema admits are accepted (the empty body gets the ordinary 422, not a 400 for the key);
    # keys it refuses get 400 from the server too.
    for key in ("a", "k" * 255, "4f2c7d1e-9a85-4b6e-8a3b-2e7f0c9d1a64", "with inner space~!"):
        assert pattern.search(key) and len(key) <= 255
        response = client.post("/api/v1/committees", json={}, headers={**headers, "Idempotency-Key": key})
        assert response.status_code == 422, (key, response.get_data(as_text=True))
    for key in ("k" * 256, "tab\there"):
        assert not (pattern.search(key) and len(key) <= 255)
        response = client.post("/api/v1/committees", json={}, headers={**headers, "Idempotency-Key": key})
        assert_problem(response, 400)


# --- 4. long URLs ------------------------------------------------------------------------------


def test_an_over_long_url_is_a_414_problem_before_routing(client):
    assert MAX_URL_LENGTH >= 8000  # RFC 9110 §4.1: take URIs of at least 8000 octets
    for path in ("/api/v1/organizations", "/nowhere", "/healthz"):
        query = "?q=" + "a" * (MAX_URL_LENGTH - len(path) - 2)
        body = assert_problem(client.get(path + query), 414)
        assert body["type"] == "/problems/uri-too-long" and str(MAX_URL_LENGTH) in body["detail"]
        assert client.get(path + query[:-1]).status_code != 414


def _fetch(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers.get_content_type(), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get_content_type(), error.read().decode()


def test_gunicorn_lets_long_urls_reach_the_app(gunicorn_hub):  # noqa: F811 - the fixture imported above
    base, logged = gunicorn_hub
    # Past gunicorn's default 4094-byte request line: the app answers (401, no token).
    status, media_type, _body = _fetch(f"{base}/api/v1/organizations?q={'a' * 6000}")
    assert (status, media_type) == (401, "application/problem+json"), logged()
    # Past the app's limit but within gunicorn's: the app's 414 problem, not gunicorn's HTML page.
    status, media_type, body = _fetch(f"{base}/api/v1/organizations?q={'a' * MAX_URL_LENGTH}")
    assert (status, media_type) == (414, "application/problem+json"), body
    assert json.loads(body)["type"] == "/problems/uri-too-long"


def test_every_patch_body_says_it_needs_a_field(spec):
    schemas = spec["components"]["schemas"]
    for name, operation in _operations(spec):
        if name.startswith("PATCH "):
            ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
            assert schemas[ref].get("minProperties") == 1 or schemas[ref].get("required"), (name, ref)


@pytest.mark.parametrize("body", [{}, None])
def test_a_patch_with_nothing_to_change_is_422_even_with_a_stale_if_match(client, network, body):
    school = network.school(name="Nothing To Change High")
    url = f"/api/v1/schools/{school.id}"
    for version in (school.version, school.version + 5):
        response = client.patch(url, json=body, headers=if_match(network["district_admin"].headers, version))
        assert_problem(response, 422)
    assert client.get(url, headers=network["district_admin"].headers).json["version"] == school.version


def test_the_language_codes_in_the_spec_are_the_validators_list(spec):
    """The HTTP contract run sends a sample of them (tests/schemathesis_hooks.py); this is why it may."""
    from cbs_network.directory.programs.schemas import LANGUAGE_CODES, LanguageCode

    assert spec["components"]["schemas"]["LanguageCode"]["enum"] == LANGUAGE_CODES
    field = LanguageCode()
    assert all(field.deserialize(code) for code in LANGUAGE_CODES[::97])
