"""Property-based contract testing of the whole /api/v1 spec, in process, with a real token.

Every generated request (valid and invalid) must get no 5xx and a response that conforms to the
spec: status documented, content type, headers and body schema.

The hub runs on its own database where each request really commits: thousands of writes inside
one rolled-back test transaction would hold a lock per savepoint until the end, and PostgreSQL's
shared lock table runs out (for every connection on the server, not only this test's).
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import missing_required_header, positive_data_acceptance



@pytest.fixture
def api_schema(live):
    app, network, _session = live
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    schema = schema.include(path_regex="^/api/v1/")
    _tokens["network_admin"] = network["network_admin"].token
    return schema


_tokens: dict[str, str] = {}


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_api_conforms_to_its_spec(case):
    case.call_and_validate(
        headers={"Authorization": f"Bearer {_tokens['network_admin']}"},
        # positive_data_acceptance: opaque cursors and cross-field rules (a public client cannot use
        # client credentials, a parent must exist) cannot be stated in JSON Schema, so a
        # schema-valid request may rightly get 400/422. missing_required_header: a missing If-Match
        # is 428 Precondition Required (RFC 6585), which the check does not know; tests/test_http.py
        # covers it. Every other check runs.
        excluded_checks=[positive_data_acceptance, missing_required_header],
    )
