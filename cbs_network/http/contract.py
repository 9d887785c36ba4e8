"""The last pass over the generated spec: what apispec cannot say from one field at a time.

Partners generate clients from the spec, so it says what the server always sends and refuses:
- enums used in several places are one named component (one class in a generated client),
  and a nullable enum admits null;
- output-only schemas mark every field the server always sends as required;
- a PATCH body that refuses `{}` says minProperties: 1;
- request text says it cannot hold NUL (PostgreSQL cannot store it; the server refuses it);
- the headers the server sends on every response (X-Request-ID, the rate-limit headers,
  Link on pages, Idempotent-Replayed on a replay, Retry-After on 429 and 503) are declared.
"""

from __future__ import annotations

import copy
import re
from enum import Enum
from typing import Any, Callable, Iterable

import marshmallow as ma

# name -> the values of an enum that is one component in the spec
NAMED_ENUMS: dict[str, list[Any]] = {}

NO_NUL_PATTERN = "^[^\\u0000]*$"
_FORMATS_WITHOUT_NUL = {"uuid", "date", "date-time", "uri", "email"}
_KEPT_BESIDE_REF = ("description", "example", "default", "readOnly", "writeOnly", "deprecated")
_OUTPUT_ONLY_EXEMPT = {"Problem", "ProblemTransition"}

HEADERS: dict[str, dict[str, Any]] = {
    "X-Request-ID": {
        "description": "This request's id, also in the hub's log and in problem bodies",
        "schema": {"type": "string"},
    },
    "X-RateLimit-Limit": {"description": "Requests allowed in the current window", "schema": {"type": "integer"}},
    "X-RateLimit-Remaining": {"description": "Requests left in the current window", "schema": {"type": "integer"}},
    "X-RateLimit-Reset": {"description": "When the window resets (Unix time, seconds)", "schema": {"type": "integer"}},
    "Retry-After": {"description": "Seconds to wait before retrying", "schema": {"type": "integer", "minimum": 0}},
    "Link": {"description": 'The next page: `<url>; rel="next"`; absent on the last page', "schema": {"type": "string"}},
    "Idempotent-Replayed": {
        "description": "`true` when this is the stored response to an earlier request with the same Idempotency-Key",
        "schema": {"type": "string", "enum": ["true"]},
    },
}
_RATE_LIMIT_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")


def name_enum(name: str, values: Iterable[Any]) -> None:
    """Make every enum in the spec with exactly these values the component `name`."""
    NAMED_ENUMS[name] = [value.value if isinstance(value, Enum) else value for value in values]


def finish(spec: dict[str, Any], name_of: Callable[[type], str], tag_words: dict[str, str]) -> dict[str, Any]:
    """`name_of` gives a schema class's component name; `tag_words` each tag's name in words, in
    the order the tags are listed."""
    spec = copy.deepcopy(spec)
    _tags_in_words(spec, tag_words)
    classes = _schema_classes(name_of)
    components = spec.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    _name_enums(spec, schemas)
    _admit_null_in_enums(spec)
    _one_kind_of_bound(spec)
    _types_in_one_place(spec)
    inputs = _reachable(schemas, _request_roots(spec))
    for name in _reachable(schemas, _response_roots(spec)) - inputs - _OUTPUT_ONLY_EXEMPT:
        _require_sent_fields(schemas[name], classes.get(name))
    for name, schema in schemas.items():
        cls = classes.get(name)
        if cls is not None and getattr(cls, "refuses_empty", False):
            schema["minProperties"] = 1
        if name in inputs:
            _forbid_nul(schema)
    for operation in _operations(spec):
        for parameter in operation.get("parameters", []):
            if isinstance(parameter, dict) and parameter.get("in") == "query":
                _forbid_nul(parameter.get("schema", {}))
    _problem_shape(schemas)
    _declare_headers(spec, components)
    _link_records_to_their_operations(spec)
    return spec


def _tags_in_words(spec: dict, words: dict[str, str]) -> None:
    order = list(words.values())
    for operation in _operations(spec):
        operation["tags"] = [words.get(tag, tag) for tag in operation.get("tags", [])]
    tags = [{**tag, "name": words.get(tag["name"], tag["name"])} for tag in spec.get("tags", [])]
    spec["tags"] = sorted(tags, key=lambda tag: order.index(tag["name"]) if tag["name"] in order else len(order))


def _walk(node: Any):
    """Every dict in the document, depth first."""
    stack = [node]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            yield value
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)


def _name_enums(spec: dict, schemas: dict) -> None:
    by_values = {tuple(values): name for name, values in NAMED_ENUMS.items()}
    for name, values in NAMED_ENUMS.items():
        schemas[name] = {"type": "string" if all(isinstance(v, str) for v in values) else "integer", "enum": list(values)}
    named = {id(schemas[name]) for name in NAMED_ENUMS}
    for node in list(_walk(spec)):
        values = node.get("enum")
        if values is None or id(node) in named:
            continue
        enum_name = by_values.get(tuple(value for value in values if value is not None))
        if enum_name is None:
            continue
        nullable = None in values or "null" in _types(node)
        kept = {key: node[key] for key in _KEPT_BESIDE_REF if key in node}
        node.clear()
        reference = {"$ref": f"#/components/schemas/{enum_name}"}
        node.update({"anyOf": [reference, {"type": "null"}]} if nullable else reference)
        node.update(kept)


def _types(node: dict) -> list[str]:
    kind = node.get("type")
    return kind if isinstance(kind, list) else [kind] if kind else []


def _admit_null_in_enums(spec: dict) -> None:
    for node in _walk(spec):
        if "enum" in node and "null" in _types(node) and None not in node["enum"]:
            node["enum"] = [*node["enum"], None]


def _types_in_one_place(spec: dict) -> None:
    """A nullable field whose schema chooses among typed branches (null among them) says its types
    there only, not also in a `type` beside them."""
    for node in _walk(spec):
        branches = node.get("oneOf")
        if "type" in node and branches and all(isinstance(b, dict) and "type" in b for b in branches):
            del node["type"]


def _one_kind_of_bound(spec: dict) -> None:
    """apispec writes a Range's bound as minimum/maximum even when api._exclusive_bounds adds the
    exclusive one: keep only the exclusive bound."""
    for node in _walk(spec):
        for bound in ("minimum", "maximum"):
            exclusive = "exclusive" + bound.capitalize()
            if exclusive in node and node.get(bound) == node[exclusive]:
                del node[bound]


def _operations(spec: dict) -> Iterable[dict]:
    return (operation for _method, operation in _methods(spec))


def _methods(spec: dict) -> Iterable[tuple[str, dict]]:
    for item in spec.get("paths", {}).values():
        for method, operation in item.items():
            if method in ("get", "put", "post", "patch", "delete"):
                yield method, operation


def _request_roots(spec: dict) -> list[Any]:
    return [[operation.get("requestBody"), operation.get("parameters")] for operation in _operations(spec)]


def _response_roots(spec: dict) -> list[Any]:
    return [operation.get("responses") for operation in _operations(spec)]


def _reachable(schemas: dict, roots: list[Any]) -> set[str]:
    seen: set[str] = set()
    pending = [roots]
    while pending:
        for node in _walk(pending.pop()):
            reference = node.get("$ref", "")
            if reference.startswith("#/components/schemas/"):
                name = reference.rsplit("/", 1)[1]
                if name not in seen and name in schemas:
                    seen.add(name)
                    pending.append(schemas[name])
    return seen


def _schema_classes(name_of: Callable[[type], str]) -> dict[str, type]:
    classes: dict[str, type] = {}
    pending = [ma.Schema]
    while pending:
        for subclass in pending.pop().__subclasses__():
            classes.setdefault(name_of(subclass), subclass)
            pending.append(subclass)
    return classes


def _require_sent_fields(schema: dict, cls: type | None) -> None:
    """Every field of a response-only schema is sent (null where nullable), except those its
    class lists in `sometimes_absent` (distance_m outside proximity searches, say)."""
    properties = schema.get("properties")
    if not properties:
        return
    absent = set(getattr(cls, "sometimes_absent", ()))
    required = [field for field, prop in properties.items() if field not in absent and not prop.get("writeOnly")]
    if required:
        schema["required"] = required


def _problem_shape(schemas: dict) -> None:
    """What every problem carries (problems.problem_response), and the shape of `errors`: per
    location (json, query, headers, form), per field, a list of messages or, for a nested field or
    a list item, the same again (marshmallow's and webargs' error dicts); a location may also hold
    its messages directly."""
    problem = schemas.get("Problem")
    if problem is None:
        return
    problem["required"] = ["type", "title", "status", "instance"]
    schemas["FieldErrors"] = {
        "type": "object",
        "description": "Messages by field name (or list index): a list of messages, or the same shape for a nested field",
        "additionalProperties": {
            "anyOf": [{"type": "array", "items": {"type": "string"}}, {"$ref": "#/components/schemas/FieldErrors"}]
        },
    }
    errors = problem["properties"]["errors"]
    # A body that is not JSON at all gets its messages straight under the location: {"json": ["Invalid JSON body."]}.
    errors["additionalProperties"] = {
        "anyOf": [{"type": "array", "items": {"type": "string"}}, {"$ref": "#/components/schemas/FieldErrors"}]
    }
    errors["propertyNames"] = {"enum": ["json", "query", "headers", "form", "path"]}


def _forbid_nul(schema: dict) -> None:
    for node in _walk(schema):
        if (
            "string" in _types(node)
            and "pattern" not in node
            and "enum" not in node
            and node.get("format") not in _FORMATS_WITHOUT_NUL
        ):
            node["pattern"] = NO_NUL_PATTERN


def _declare_headers(spec: dict, components: dict) -> None:
    headers = components.setdefault("headers", {})
    headers.update(copy.deepcopy(HEADERS))

    def ref(name: str) -> dict:
        return {"$ref": f"#/components/headers/{name}"}

    for name, response in components.get("responses", {}).items():
        declared = response.setdefault("headers", {})
        declared["X-Request-ID"] = ref("X-Request-ID")
        if name in ("TOO_MANY_REQUESTS", "SERVICE_UNAVAILABLE"):
            declared["Retry-After"] = ref("Retry-After")
    for method, operation in _methods(spec):
        limited = "security" in operation
        for status, response in operation.get("responses", {}).items():
            if not isinstance(response, dict) or "$ref" in response:
                continue
            declared = response.setdefault("headers", {})
            declared["X-Request-ID"] = ref("X-Request-ID")
            if limited:
                for header in _RATE_LIMIT_HEADERS:
                    declared[header] = ref(header)
            if int(status) < 300 and _is_page(response):
                declared["Link"] = ref("Link")
            if int(status) < 300 and method == "post":
                declared["Idempotent-Replayed"] = ref("Idempotent-Replayed")


_METHODS = ("get", "put", "post", "patch", "delete")


def _link_records_to_their_operations(spec: dict) -> None:
    """OpenAPI links, so a client (and a stateful test) can follow a record from its creation to
    its read, changes and transitions, and from a read to a change: the new record's id fills the
    path, the response's ETag the If-Match of a write."""
    paths = spec.get("paths", {})
    for path, item in paths.items():
        created = _success(item.get("post"), "201")
        read = _success(item.get("get"), "200")
        for target_path, target in paths.items():
            new_record = re.fullmatch(re.escape(path) + r"/\{(\w+)\}(/.*)?", target_path)
            below = target_path.startswith(path + "/")
            for method in _METHODS:
                operation = target.get(method)
                if operation is None or "operationId" not in operation:
                    continue
                # A path below a record with a GET of its own (a program's /capacity) is another
                # record with its own ETag; one without (/transitions) acts on the record itself.
                if created is not None and new_record:
                    item_path = f"{path}/{{{new_record.group(1)}}}"
                    _link(
                        created,
                        operation,
                        path,
                        {new_record.group(1): "$response.body#/id"},
                        target_path == item_path or "get" not in target,
                    )
                if read is not None and "{" in path and (below or target_path == path) and method != "get":
                    _link(read, operation, path, {}, target_path == path or "get" not in target)


def _success(operation: dict | None, status: str) -> dict | None:
    if operation is None:
        return None
    responses = operation.get("responses", {})
    return responses.get(status) or responses.get(int(status))


def _link(response: dict, target: dict, source_path: str, parameters: dict[str, str], etag_applies: bool) -> None:
    values = {name: f"$request.path.{name}" for name in re.findall(r"\{(\w+)\}", source_path)}
    values.update(parameters)
    header_names = {p.get("name") for p in target.get("parameters", []) if isinstance(p, dict) and p.get("in") == "header"}
    if etag_applies and "If-Match" in header_names and "ETag" in response.get("headers", {}):
        values["header.If-Match"] = "$response.header.ETag"
    response.setdefault("links", {})[target["operationId"]] = {"operationId": target["operationId"], "parameters": values}


def _is_page(response: dict) -> bool:
    for media in (response.get("content") or {}).values():
        reference = (media.get("schema") or {}).get("$ref", "")
        if reference.endswith("Page"):
            return True
    return False
