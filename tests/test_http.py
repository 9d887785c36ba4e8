"""The shared HTTP mechanisms: problem+json, request ids, pagination, ETags, idempotency."""

from __future__ import annotations

import json
import logging
import os
import uuid

import pytest

from cbs_network.organizations.models import Organization

from .factories import OrganizationFactory
from .helpers import assert_problem

# --- problem+json -------------------------------------------------------------------------


def test_unknown_route_is_a_404_problem(client):
    assert_problem(client.get("/api/v1/nothing-here"), 404)


def test_405_keeps_allow_header(client, network):
    response = client.put("/api/v1/organizations", headers=network["network_admin"].headers)
    assert_problem(response, 405)
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}


def test_401_keeps_www_authenticate(client):
    response = client.get("/api/v1/organizations")
    body = assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")
    assert "bearer access token" in body["detail"]


def test_invalid_token_is_401_with_error_code(client, network):
    response = client.get("/api/v1/organizations", headers={"Authorization": "Bearer not-a-token"})
    assert_problem(response, 401)
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_validation_errors_name_field_paths(client, network):
    response = client.post(
        "/api/v1/organizations",
        json={"kind": "spaceship", "name": "", "contacts": [{"email": "nope"}]},
        headers=network["network_admin"].headers,
    )
    body = assert_problem(response, 422)
    errors = body["errors"]["json"]
    assert "kind" in errors and "name" in errors
    assert set(errors["contacts"]["0"]) == {"name", "email"}


def test_unknown_fields_are_rejected(client, network):
    response = client.post(
        "/api/v1/organizations", json={"kind": "cbo", "name": "X", "colour": "red"}, headers=network["network_admin"].headers
    )
    assert "colour" in assert_problem(response, 422)["errors"]["json"]


def test_malformed_json_is_400(client, network, db_session):
    before = db_session.query(Organization).count()
    response = client.post(
        "/api/v1/organizations", data="{not json", content_type="application/json", headers=network["network_admin"].headers
    )
    assert_problem(response, 400)
    assert db_session.query(Organization).count() == before


@pytest.mark.parametrize("body", ["null", "[]", "3", '"text"'])
def test_a_body_that_is_not_an_object_is_422_on_every_write(client, network, app, body):
    """Every request body in the spec is an object; no operation may fail on another JSON value."""
    with app.app_context():
        spec = app.extensions["cbs_api"].spec.to_dict()
    headers = {**network["network_admin"].headers, "Content-Type": "application/json", "If-Match": '"1"'}
    for path, item in spec["paths"].items():
        url = path.replace("{", "").replace("}", "")
        url = "/".join(str(uuid.uuid4()) if part.endswith("_id") or part.endswith("_uuid") else part for part in url.split("/"))
        for method, operation in item.items():
            if "requestBody" in operation:
                response = client.open(url, method=method.upper(), data=body, headers=headers)
                assert response.status_code in (400, 404, 422), (method, path, response.status_code)


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({"is_bsap": 0}, {"is_bsap": ["Not a boolean: true or false."]}),
        ({"is_bsap": "true"}, {"is_bsap": ["Not a boolean: true or false."]}),
        ({"board_district": "2"}, {"board_district": ["Not a number."]}),
        ({"board_district": True}, {"board_district": ["Not a number."]}),
    ],
)
def test_a_json_body_value_of_the_wrong_type_is_422_not_coerced(client, network, changes, errors):
    """JSON carries types and the spec states them: 0 is not false, "2" is not 2. The type is
    judged before the version, so a stale If-Match does not hide it behind a 412."""
    school = network.school(name="Typed High")
    url = f"/api/v1/schools/{school.id}"
    headers = network["district_admin"].headers
    for version in (school.version, school.version + 3):
        response = client.patch(url, json=changes, headers={**headers, "If-Match": f'"{version}"'})
        assert assert_problem(response, 422)["errors"]["json"] == errors
    assert client.get(url, headers=headers).json["version"] == school.version


def test_wrong_json_types_are_found_inside_objects_and_lists(client, network):
    body = {
        "name": "Typed Mentoring",
        "program_type": "mentoring",
        "organization_id": str(network.cbo.id),
        "is_free": "yes",
        "schedules": [{"byday": ["MO"], "minutes_after_dismissal": 15}, {"minutes_after_dismissal": "15"}],
    }
    response = client.post("/api/v1/programs", json=body, headers=network["cbo_admin"].headers)
    errors = assert_problem(response, 422)["errors"]["json"]
    assert errors["is_free"] == ["Not a boolean: true or false."]
    assert errors["schedules"] == {"1": {"minutes_after_dismissal": ["Not a number."]}}


def test_non_json_body_is_415(client, network):
    response = client.post(
        "/api/v1/organizations",
        data="kind=cbo&name=X",
        content_type="application/x-www-form-urlencoded",
        headers=network["network_admin"].headers,
    )
    assert_problem(response, 415)


def test_unhandled_error_is_a_generic_500_with_request_id(client, network, monkeypatch, caplog):
    from cbs_network.organizations import service

    def explode(**_kwargs):
        raise RuntimeError("secret internals: password=hunter2")

    monkeypatch.setattr(service, "list_query", explode)
    logger = logging.getLogger("cbs_network")
    logger.addHandler(caplog.handler)
    try:
        response = client.get("/api/v1/organizations", headers=network["network_admin"].headers)
    finally:
        logger.removeHandler(caplog.handler)
    body = assert_problem(response, 500)
    text = response.get_data(as_text=True)
    assert "hunter2" not in text and "Traceback" not in text
    errors = [r for r in caplog.records if r.name == "cbs_network.core.errors"]
    assert errors and errors[0].request_id == body["request_id"]


def test_request_id_is_echoed_or_generated(client, network):
    given = client.get("/healthz", headers={"X-Request-ID": "partner-trace-123456"})
    assert given.headers["X-Request-ID"] == "partner-trace-123456"
    generated = client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert generated.headers["X-Request-ID"] != "bad id with spaces"
    assert len(generated.headers["X-Request-ID"]) == 32


def test_json_log_lines_carry_the_request_id(client, network, capsys):
    response = client.get("/api/v1/organizations", headers={**network["network_admin"].headers, "X-Request-ID": "trace-abcdef-1"})
    assert response.status_code == 200
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    access = [line for line in lines if line.get("logger") == "cbs_network.access" and line.get("request_id") == "trace-abcdef-1"]
    assert access and access[0]["status"] == 200 and access[0]["route"] == "/api/v1/organizations"
    assert access[0]["client_id"] == network["network_admin"].client.client_id


def test_problem_type_pages_exist(client):
    response = client.get("/problems/precondition-failed")
    assert response.status_code == 200
    assert "If-Match" in response.get_data(as_text=True)


def test_health_and_readiness(client):
    assert client.get("/healthz").json == {"status": "ok"}
    assert client.get("/readyz").json["status"] == "ready"


# --- keyset pagination -------------------------------------------------------------------


def _names(page):
    return [item["name"] for item in page["items"]]


def test_pagination_walks_every_row_once_with_link_header(client, network):
    for n in range(7):
        OrganizationFactory(name=f"Paged {n}")
    headers = network["network_admin"].headers
    seen, url, pages = [], "/api/v1/organizations?q=paged&limit=3", 0
    while url:
        response = client.get(url, headers=headers)
        assert response.status_code == 200
        page = response.json
        seen += _names(page)
        pages += 1
        if page["next_cursor"]:
            link = response.headers["Link"]
            assert link.endswith('>; rel="next"') and "cursor=" in link
            url = link[1 : link.index(">")].replace("http://localhost", "")
        else:
            assert "Link" not in response.headers
            url = None
    assert sorted(seen) == [f"Paged {n}" for n in range(7)]
    assert pages == 3


def test_rows_inserted_while_paging_are_neither_skipped_nor_repeated(client, network):
    for n in range(4):
        OrganizationFactory(name=f"Stable {n}")
    headers = network["network_admin"].headers
    first = client.get("/api/v1/organizations?q=stable&limit=2", headers=headers).json
    OrganizationFactory(name="Stable late")  # inserted between page requests
    rest, cursor = [], first["next_cursor"]
    while cursor:
        page = client.get(f"/api/v1/organizations?q=stable&limit=2&cursor={cursor}", headers=headers).json
        rest += _names(page)
        cursor = page["next_cursor"]
    everything = _names(first) + rest
    assert len(everything) == len(set(everything)) == 5
    assert everything[-1] == "Stable late"


def test_updated_since_orders_by_change(client, network):
    headers = network["admin"].headers if "admin" in network.actors else network["network_admin"].headers
    old = client.get("/api/v1/organizations?limit=200", headers=headers).json["items"]
    assert old
    mark = max(item["updated_at"] for item in old)
    target = old[0]
    client.patch(
        f"/api/v1/organizations/{target['id']}",
        json={"description": "changed"},
        headers={**headers, "If-Match": f'"{target["version"]}"'},
    )
    from urllib.parse import quote

    changed = client.get(f"/api/v1/organizations?updated_since={quote(mark)}", headers=headers).json["items"]
    assert target["id"] in [item["id"] for item in changed]


@pytest.mark.parametrize("cursor", ["garbage", "eyJhIjoxfQ", "WyJ1cGRhdGVkX2F0IiwgIjIwMjYiLCAieCJd"])
def test_bad_cursor_is_400(client, network, cursor):
    response = client.get(f"/api/v1/organizations?cursor={cursor}", headers=network["network_admin"].headers)
    assert "cursor" in assert_problem(response, 400)["errors"]["query"]


def test_limit_is_bounded(client, network):
    response = client.get("/api/v1/organizations?limit=201", headers=network["network_admin"].headers)
    assert "limit" in assert_problem(response, 422)["errors"]["query"]


# --- ETag / If-Match ------------------------------------------------------------------------


def test_get_returns_etag_and_patch_needs_if_match(client, network):
    headers = network["district_admin"].headers
    org_id = network.district.id
    response = client.get(f"/api/v1/organizations/{org_id}", headers=headers)
    etag = response.headers["ETag"]
    assert etag == f'"{response.json["version"]}"'

    assert_problem(client.patch(f"/api/v1/organizations/{org_id}", json={"phone": "213-555-0100"}, headers=headers), 428)
    updated = client.patch(
        f"/api/v1/organizations/{org_id}", json={"phone": "213-555-0100"}, headers={**headers, "If-Match": etag}
    )
    assert updated.status_code == 200
    assert updated.headers["ETag"] != etag
    stale = client.patch(f"/api/v1/organizations/{org_id}", json={"phone": "213-555-0199"}, headers={**headers, "If-Match": etag})
    assert_problem(stale, 412)
    assert client.get(f"/api/v1/organizations/{org_id}", headers=headers).json["phone"] == "213-555-0100"


@pytest.mark.parametrize("if_match", ["", "whatever", '"abc"', '"3', '"-1"', '"1234567890123456789"', "*"])
def test_an_if_match_the_hub_did_not_issue_is_400_and_changes_nothing(client, network, if_match):
    """The spec's If-Match pattern is what the server takes: a hub ETag is a quoted version."""
    url = f"/api/v1/organizations/{network.district.id}"
    response = client.patch(
        url, json={"phone": "213-555-0100"}, headers={**network["district_admin"].headers, "If-Match": if_match}
    )
    assert "If-Match" in assert_problem(response, 400)["detail"]
    assert client.get(url, headers=network["district_admin"].headers).json["phone"] != "213-555-0100"


@pytest.mark.parametrize("spelled", ['W/"{}"', "{}"])
def test_a_weak_etag_or_the_bare_version_is_taken(client, network, spelled):
    url = f"/api/v1/organizations/{network.district.id}"
    version = client.get(url, headers=network["district_admin"].headers).json["version"]
    response = client.patch(
        url, json={"phone": "213-555-0100"}, headers={**network["district_admin"].headers, "If-Match": spelled.format(version)}
    )
    assert response.status_code == 200


# --- Idempotency-Key -------------------------------------------------------------------------


def _create(client, headers, key, name="Idempotent CBO"):
    return client.post("/api/v1/organizations", json={"kind": "cbo", "name": name}, headers={**headers, "Idempotency-Key": key})


def test_idempotent_replay_returns_the_stored_response(client, network, db_session):
    headers = network["network_admin"].headers
    first = _create(client, headers, "key-1")
    assert first.status_code == 201
    again = _create(client, headers, "key-1")
    assert again.status_code == 201
    assert again.json == first.json
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert db_session.query(Organization).filter_by(name="Idempotent CBO").count() == 1


def test_quoted_key_form_is_the_same_key(client, network):
    headers = network["network_admin"].headers
    first = _create(client, headers, '"key-q"')
    assert _create(client, headers, "key-q").json["id"] == first.json["id"]


def test_same_key_different_body_is_422(client, network, db_session):
    headers = network["network_admin"].headers
    assert _create(client, headers, "key-2").status_code == 201
    body = assert_problem(_create(client, headers, "key-2", name="Another name"), 422)
    assert "Idempotency-Key" in body["errors"]["headers"]
    assert db_session.query(Organization).filter_by(name="Another name").count() == 0


def test_keys_are_scoped_per_client(client, network, db_session):
    hub = network.hub
    other = network.actor(db_session, hub, network["network_admin"].role)
    first = _create(client, network["network_admin"].headers, "shared-key")
    second = _create(client, other.headers, "shared-key")
    assert first.status_code == second.status_code == 201
    assert first.json["id"] != second.json["id"]


def test_failed_request_does_not_burn_the_key(client, network):
    headers = network["network_admin"].headers
    bad = client.post("/api/v1/organizations", json={"kind": "cbo"}, headers={**headers, "Idempotency-Key": "key-3"})
    assert bad.status_code == 422
    assert _create(client, headers, "key-3").status_code == 201


def test_overlong_key_is_400(client, network):
    assert_problem(_create(client, network["network_admin"].headers, "k" * 300), 400)


def test_unique_violation_is_a_409_problem(client, network):
    headers = network["network_admin"].headers
    body = {"kind": "cbo", "name": "Dup", "identifiers": [{"scheme": "ein", "value": "11-1111111"}]}
    assert client.post("/api/v1/organizations", json=body, headers=headers).status_code == 201
    assert_problem(client.post("/api/v1/organizations", json={**body, "name": "Dup 2"}, headers=headers), 409)


def test_rate_limit_is_429_problem_with_retry_after(make_database_url):
    from cbs_network import create_app

    from .conftest import make_settings

    app = create_app(make_settings(make_database_url(), ratelimit_default="2 per minute"), TESTING=True)
    with app.test_client() as test_client:
        first = test_client.get("/api/v1/organizations")
        statuses = [first.status_code, test_client.get("/api/v1/organizations").status_code]
        assert statuses == [401, 401]
        response = test_client.get("/api/v1/organizations")
    body = assert_problem(response, 429)
    assert int(response.headers["Retry-After"]) > 0
    assert "Retry-After" not in first.headers and first.headers["X-RateLimit-Limit"] == "2"
    assert body["type"] == "/problems/too-many-requests"


REDIS_URL = os.environ.get("CBS_TEST_REDIS_URL")


@pytest.mark.skipif(not REDIS_URL, reason="set CBS_TEST_REDIS_URL to test limits shared through Redis")
def test_rate_limits_are_shared_by_instances_through_redis(make_database_url):
    from cbs_network import create_app

    from .conftest import make_settings

    url = make_database_url()
    prefix = f"cbs-test-{uuid.uuid4().hex}"
    instances = [
        create_app(
            make_settings(url, ratelimit_storage_uri=REDIS_URL, ratelimit_default="3 per minute"),
            TESTING=True,
            RATELIMIT_KEY_PREFIX=prefix,
        )
        for _ in range(2)
    ]
    statuses = []
    for n in range(4):
        with instances[n % 2].test_client() as test_client:
            statuses.append(test_client.get("/api/v1/organizations").status_code)
    assert statuses == [401, 401, 401, 429]


def test_database_unavailable_is_a_retryable_503(client, network, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from cbs_network.organizations import service

    def locked(**_kwargs):
        raise OperationalError("INSERT ...", {}, Exception("database is locked"))

    monkeypatch.setattr(service, "create", locked)
    response = client.post(
        "/api/v1/organizations", json={"kind": "cbo", "name": "Locked"}, headers=network["network_admin"].headers
    )
    body = assert_problem(response, 503)
    assert response.headers["Retry-After"] == "1"
    assert "database is locked" not in body["detail"]


@pytest.mark.parametrize(
    "method, url, body",
    [
        ("POST", "/api/v1/organizations", {"kind": "cbo", "name": "a\u0000b"}),
        ("POST", "/api/v1/organizations", {"kind": "cbo", "name": "ok", "contacts": [{"name": "x\u0000"}]}),
        ("GET", "/api/v1/organizations?q=a%00b", None),
        ("GET", "/api/v1/organizations?q=fine&q=a%00b", None),
        ("GET", "/api/v1/audit/organization/a%00b", None),
    ],
)
def test_nul_characters_are_a_400_not_a_database_error(client, network, db_session, method, url, body):
    before = db_session.query(Organization).count()
    response = client.open(url, method=method, json=body, headers=network["network_admin"].headers)
    assert "NUL" in assert_problem(response, 400)["detail"]
    assert db_session.query(Organization).count() == before
