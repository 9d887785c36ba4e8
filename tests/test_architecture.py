"""The shape every domain keeps (DESIGN.md, "How a request flows"): authorization decisions live
only in policy.py modules, services and their neighbours are plain Python, and every PATCH body
derives from the one change-schema base."""

from __future__ import annotations

import ast
from pathlib import Path

from cbs_network.http.schemas import ChangeSchema

from .helpers import assert_problem

PACKAGE = Path(__file__).resolve().parent.parent / "cbs_network"

# Modules that may name Forbidden besides policy.py files, and why.
FORBIDDEN_ALLOWED = {
    "core/errors.py": "defines it",
}
# The http layer refuses a token whose scopes do not cover the operation (InsufficientScope, a
# 403 of its own) before any object is loaded: authentication, not object policy, so it stays there.
SCOPE_REFUSAL_ALLOWED = {"http/security.py"}
AUTHORIZATION_ERRORS = {"Forbidden", "InsufficientScope"}

# Plain-Python modules: they take the session, the principal and whatever else they need as
# arguments, so the CLI, the worker and tests call them as routes do.
PLAIN_MODULES = {"service.py", "policy.py", "schemas.py", "search.py", "disclosures.py", "transitions.py"}
FLASK_AMBIENT = {"g", "current_app", "request", "session", "has_request_context", "has_app_context", "after_this_request"}
AMBIENT_HELPERS = {
    ("cbs_network.identity.principal", "current_principal"),
    ("cbs_network.core.db", "session"),
    ("cbs_network.core.db", "get_db"),
}


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path.relative_to(PACKAGE).as_posix(), ast.parse(path.read_text(), filename=str(path))


def _names(tree: ast.AST):
    """(line, name) for every Name, attribute and imported name in `tree`."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            yield node.lineno, node.id
        elif isinstance(node, ast.Attribute):
            yield node.lineno, node.attr
        elif isinstance(node, ast.ImportFrom):
            for alias in node.names:
                yield node.lineno, alias.name


def test_authorization_decisions_live_only_in_policy_modules():
    found = []
    for module, tree in _modules():
        if module.endswith("policy.py") or module in FORBIDDEN_ALLOWED:
            continue
        for line, name in _names(tree):
            if name == "InsufficientScope" and module in SCOPE_REFUSAL_ALLOWED:
                continue
            if name in AUTHORIZATION_ERRORS:
                found.append(f"cbs_network/{module}:{line} names {name}")
    assert not found, (
        "An authorization decision outside a policy module. Put it in the domain's policy.py as "
        "can_*(principal, ...) -> bool (and a visible(principal) SQL filter for lists) with a "
        "require_*(principal, ...) that raises, and call policy.require_*(...) from the service:\n" + "\n".join(found)
    )


def test_services_schemas_and_policies_are_plain_python():
    found = []
    for module, tree in _modules():
        if Path(module).name not in PLAIN_MODULES:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import) and any(a.name == "flask" or a.name.startswith("flask.") for a in node.names):
                found.append(f"cbs_network/{module}:{node.lineno} imports flask")
            elif isinstance(node, ast.ImportFrom) and node.module:
                for alias in node.names:
                    if (node.module == "flask" and alias.name in FLASK_AMBIENT) or (node.module, alias.name) in AMBIENT_HELPERS:
                        found.append(f"cbs_network/{module}:{node.lineno} imports {alias.name} from {node.module}")
            elif (
                isinstance(node, ast.Attribute)
                and node.attr == "principal"
                and isinstance(node.value, ast.Name)
                and node.value.id == "g"
            ):
                found.append(f"cbs_network/{module}:{node.lineno} reads g.principal")
    assert not found, (
        "A service, schema or policy module reaches into the request. Take the session, the principal "
        "and the network settings as arguments, passed in by the route (routes.py, http/):\n" + "\n".join(found)
    )


def _patch_body_schemas(app):
    for rule in app.url_map.iter_rules():
        if "PATCH" not in rule.methods:
            continue
        parameters = getattr(app.view_functions[rule.endpoint], "_apidoc", {}).get("arguments", {}).get("parameters", [])
        yield rule.rule, [p["schema"] for p in parameters if p["in"] == "json"]


def test_every_patch_body_is_a_change_schema(app):
    operations = dict(_patch_body_schemas(app))
    assert len(operations) >= 10  # the walk found the API's PATCH operations
    wrong = {
        path: schemas
        for path, schemas in operations.items()
        if len(schemas) != 1 or not (isinstance(schemas[0], type) and issubclass(schemas[0], ChangeSchema))
    }
    assert not wrong, (
        "A PATCH body that does not derive from http.schemas.ChangeSchema (which refuses {} and says "
        f"minProperties: 1 in the spec): {wrong}"
    )


def test_an_empty_patch_is_refused(client, network):
    created = client.post(
        "/api/v1/programs", json={"name": "Open Door Mentors", "program_type": "mentoring"}, headers=network["cbo_admin"].headers
    )
    assert created.status_code == 201, created.get_data(as_text=True)
    response = client.patch(
        f"/api/v1/programs/{created.json['id']}",
        json={},
        headers={**network["cbo_admin"].headers, "If-Match": created.headers["ETag"]},
    )
    body = assert_problem(response, 422)
    assert body["errors"]["json"]["_schema"] == ["Send at least one field to change."]
