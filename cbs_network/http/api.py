"""flask-smorest subclasses: the one place where auth, errors, idempotency and transactions
are wired into every operation and documented in the spec."""

from __future__ import annotations

import http
import json
import math
from copy import deepcopy
from functools import wraps
from typing import Any, Callable

import flask_smorest
import marshmallow as ma
from flask import Response, current_app, request
from flask_smorest.utils import get_appcontext, prepare_response
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from webargs.core import missing
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.exceptions import HTTPException

from cbs_network.core.db import session as db_session
from cbs_network.core.errors import Conflict, DomainError
from cbs_network.http import contract, idempotency, problems
from cbs_network.http.etag import IF_MATCH_PATTERN
from cbs_network.http.problems import MAX_URL_LENGTH, PROBLEM_MEDIA_TYPE, ProblemSchema

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def schema_name_resolver(schema: Any) -> str:
    cls = schema if isinstance(schema, type) else type(schema)
    name = cls.__name__
    return name[: -len("Schema")] if name.endswith("Schema") and name != "Schema" else name


def operation_id(view_name: str) -> str:
    first, *rest = view_name.strip("_").split("_")
    return first + "".join(word.capitalize() for word in rest)


def _exclusive_bounds(_converter: Any, field: ma.fields.Field, **_kwargs: Any) -> dict:
    """apispec states a Range's bounds as inclusive whatever it says; an exclusive one (a radius
    must be > 0) becomes exclusiveMinimum/exclusiveMaximum (JSON Schema 2020-12)."""
    bounds: dict[str, Any] = {}
    for validator in field.validators:
        if isinstance(validator, ma.validate.Range):
            if validator.min is not None and not validator.min_inclusive:
                bounds["exclusiveMinimum"] = validator.min
            if validator.max is not None and not validator.max_inclusive:
                bounds["exclusiveMaximum"] = validator.max
    return bounds


def _choices_taken(_converter: Any, field: ma.fields.Field, **_kwargs: Any) -> dict:
    """An Enum field narrowed by OneOf (a review decides upheld or not_upheld, never pending)
    lists only what it takes; apispec would list every member of the enum."""
    choices = [v for v in field.validators if isinstance(v, ma.validate.OneOf)]
    if not isinstance(field, ma.fields.Enum) or not choices:
        return {}
    taken = [getattr(choice, "value", choice) for choice in choices[0].choices]
    return {"enum": taken + [None] if field.allow_none else taken}


class HubParser(FlaskParser):
    """A JSON body's values have the types the spec gives them. marshmallow would coerce 0 to
    false and "5" to 5 (as the CSV imports, whose values are all text, need), so a body is
    checked for JSON types before it is loaded. JSON Schema counts 2.0 as the integer 2, so
    integral numbers within float precision are read as integers (float fields take them too)."""

    def _raw_load_json(self, req: Any) -> Any:
        if not is_json_request(req):
            return missing
        return json.loads(req.get_data(cache=True), parse_float=_integral_as_int)

    def _load_location_data(self, *, schema: ma.Schema, req: Any, location: str) -> Any:
        data = super()._load_location_data(schema=schema, req=req, location=location)
        if location == "json":
            errors = _json_type_errors(schema, data)
            if errors:
                raise ma.ValidationError(errors)
        return data


def _integral_as_int(text: str) -> float | int:
    value = float(text)
    return int(value) if value.is_integer() and abs(value) <= 2**53 else value


def _json_type_errors(schema: ma.Schema, data: Any) -> dict:
    if not isinstance(data, dict):
        return {}  # not an object: marshmallow says so
    errors = {}
    for name, field in schema.load_fields.items():
        key = field.data_key or name
        if key in data and (error := _json_type_error(field, data[key])):
            errors[key] = error
    return errors


def _json_type_error(field: ma.fields.Field, value: Any) -> Any:
    if value is None:
        return None  # the field's allow_none decides
    if isinstance(field, ma.fields.Boolean):
        return None if isinstance(value, bool) else ["Not a boolean: true or false."]
    if isinstance(field, ma.fields.Number):
        return None if isinstance(value, int | float) and not isinstance(value, bool) else ["Not a number."]
    if isinstance(field, ma.fields.Nested) and isinstance(value, dict) and not field.many:
        return _json_type_errors(field.schema, value) or None
    if isinstance(field, ma.fields.Nested) and isinstance(value, list) and field.many:
        return {str(n): e for n, item in enumerate(value) if (e := _json_type_errors(field.schema, item))} or None
    if isinstance(field, ma.fields.List) and isinstance(value, list):
        return {str(n): e for n, item in enumerate(value) if (e := _json_type_error(field.inner, item))} or None
    return None


class Api(flask_smorest.Api):
    ERROR_SCHEMA = ProblemSchema

    def _init_spec(self, *args: Any, **kwargs: Any) -> None:
        super()._init_spec(*args, **kwargs)
        self.ma_plugin.converter.add_attribute_function(_exclusive_bounds)
        self.ma_plugin.converter.add_attribute_function(_choices_taken)
        # Both the served spec and `flask openapi write` read to_dict(): one place finishes it.
        generate = self.spec.to_dict
        self.spec.to_dict = lambda: contract.finish(generate(), schema_name_resolver, self.TAGS)

    def _register_pagination_header(self) -> None:
        """Lists page by keyset in the body and `Link`; there is no X-Pagination header (nor its
        PaginationMetadata schema) to document."""

    def _register_responses(self) -> None:
        """Document every error status as application/problem+json, as it is served, with the
        real problems the hub sends for that status as its examples (without them, the explorer
        would make one up from the schema's field examples: a 404 under every status)."""
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
                if examples := problems.examples_for({status}):
                    response["examples"] = examples
            prepare_response(response, self.spec, PROBLEM_MEDIA_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        # `default` stands for the statuses an operation does not list itself (405, 415, 500, ...).
        listed = {404, 422, *_AUTH_RESPONSES, *_IF_MATCH_RESPONSES, *_IDEMPOTENCY_RESPONSES}
        others = {example.body["status"] for example in problems.PROBLEM_EXAMPLES} - listed
        response = {
            "description": "Error (RFC 9457 problem details)",
            "schema": self.ERROR_SCHEMA,
            "examples": problems.examples_for(others),
        }
        prepare_response(response, self.spec, PROBLEM_MEDIA_TYPE)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)

    # Blueprint name -> the tag its operations are listed under, in the order a coordinator works:
    # who is in the network, what it offers, referring a student, school safety, then the admins'
    # rules and records. Blueprints keep their names (endpoint names depend on them); contract.finish
    # renames the tags.
    TAGS = {
        "organizations": "Organizations",
        "identity": "Users and memberships",
        "clients": "OAuth clients",
        "schools": "Schools",
        "programs": "Programs",
        "locations": "Locations",
        "capacity": "Capacity",
        "referral_matching": "Referral matching",
        "subjects": "Subjects",
        "referrals": "Referrals",
        "committees": "School safety committees",
        "safety_plans": "Safety plans",
        "school_safety": "School safety views",
        "jurisdictions": "Jurisdictions",
        "directory_settings": "Directory settings",
        "audit": "Audit",
    }

    def _register_error_handlers(self) -> None:
        app = self._app
        app.before_request(_refuse_long_url)
        app.before_request(_require_json_body)
        app.register_error_handler(HTTPException, problems.from_http_exception)
        app.register_error_handler(DomainError, problems.from_domain_error)
        app.register_error_handler(StaleDataError, problems.from_stale_data)
        app.register_error_handler(OperationalError, problems.from_database_unavailable)
        app.register_error_handler(Exception, problems.from_unhandled)


# (status, component name) documented on every operation of a kind
_AUTH_RESPONSES = {401: "UNAUTHORIZED", 403: "FORBIDDEN", 429: "TOO_MANY_REQUESTS"}
_IF_MATCH_RESPONSES = {412: "PRECONDITION_FAILED", 428: "PRECONDITION_REQUIRED"}
_IDEMPOTENCY_RESPONSES = {400: "BAD_REQUEST", 409: "CONFLICT", 422: "UNPROCESSABLE_ENTITY"}

IF_MATCH_PARAMETER = {
    "name": "If-Match",
    "in": "header",
    "required": True,
    "description": "The ETag of the version being changed, from a previous GET; a stale one gets 412, one the hub did not issue 400.",
    "schema": {"type": "string", "pattern": IF_MATCH_PATTERN, "example": '"3"'},
}
IDEMPOTENCY_PARAMETER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": (
        "A unique key for this request (e.g. a UUID). A retry with the same key and body gets "
        "the stored response; the same key with another body gets 422; while the first request "
        "is still being processed, 409. A key belongs to its caller (the OAuth client and, for a person's "
        "token, the user and the organization acting) and is kept 24 hours; responses that carry a secret or "
        "personal fields are not kept: their retry gets 409 with where to read the record (`location`). "
        "A key must be 1-255 printable ASCII characters; any other gets 400."
    ),
    # What idempotency._key enforces: 1-255 printable characters (HTTP itself drops leading and
    # trailing spaces, so the pattern leaves them out too).
    "schema": {
        "type": "string",
        "minLength": 1,
        "maxLength": 255,
        "pattern": "^[\\x21-\\x7E]([\\x20-\\x7E]*[\\x21-\\x7E])?$",
        "example": "4f2c7d1e-9a85-4b6e-8a3b-2e7f0c9d1a64",
    },
}
ETAG_HEADER = {"description": "The record's version, for If-Match", "schema": {"type": "string"}}
LOCATION_HEADER = {"description": "URL of the created resource", "schema": {"type": "string"}}


def _add_responses(doc: dict, statuses: dict[int, str]) -> None:
    responses = doc.setdefault("responses", {})
    for status, name in statuses.items():
        if status not in responses and str(status) not in responses:
            responses[status] = name


def _own_apidoc(func: Callable) -> dict[str, Any]:
    """flask-smorest's doc of a view (the `_apidoc` it keeps on the function), as the view's own copy."""
    apidoc: dict[str, Any] = deepcopy(getattr(func, "_apidoc", {}))
    func._apidoc = apidoc  # type: ignore[attr-defined]  # flask-smorest's attribute on the view function
    return apidoc


class Blueprint(flask_smorest.Blueprint):
    """A blueprint whose operations are authenticated, transactional and documented alike."""

    ARGUMENTS_PARSER = HubParser()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._prepare_doc_cbks.append(self._prepare_hub_doc)

    def route(self, rule: str, **options: Any) -> Callable:
        register = super().route(rule, **options)

        def decorator(func: Callable) -> Callable:
            apidoc = _own_apidoc(func)
            # Partners generate clients from the spec: the view's name gives every operation a
            # stable method name (list_programs -> listPrograms) instead of a generated one.
            apidoc["hub_operation_id"] = operation_id(func.__name__)
            if "<" in rule:
                apidoc["hub_path_params"] = True
            return register(func)

        return decorator

    def requires(self, *scopes: str) -> Callable:
        """Authenticate the bearer token, require `scopes`, and run the operation as one
        transaction (with Idempotency-Key handling for POST)."""

        def decorator(func: Callable) -> Callable:
            @wraps(func)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                from cbs_network.http.security import authenticate

                authenticate(scopes)
                return _run_in_transaction(func, args, kwargs)

            _own_apidoc(wrapper)["hub_scopes"] = list(scopes)
            return wrapper

        return decorator

    def if_match(self, func: Callable) -> Callable:
        """Pass the If-Match version as `expected_version` (428 when missing)."""

        @wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            from cbs_network.http.etag import required_if_match_version

            return func(*args, expected_version=required_if_match_version(), **kwargs)

        _own_apidoc(wrapper)["hub_if_match"] = True
        return wrapper

    @staticmethod
    def _prepare_hub_doc(doc: dict, doc_info: dict, *, method: str, **_kwargs: Any) -> dict:
        if "hub_operation_id" in doc_info:
            doc["operationId"] = doc_info["hub_operation_id"]
        scopes = doc_info.get("hub_scopes")
        if scopes is not None:
            doc["security"] = [{"oauth2": scopes}]
            _add_responses(doc, _AUTH_RESPONSES)
        if doc_info.get("hub_path_params"):
            _add_responses(doc, {404: "NOT_FOUND"})
        if "argument" in doc_info:
            _add_responses(doc, {422: "UNPROCESSABLE_ENTITY"})
        parameters = doc.setdefault("parameters", [])
        if doc_info.get("hub_if_match"):
            parameters.append(IF_MATCH_PARAMETER)
            _add_responses(doc, _IF_MATCH_RESPONSES)
        if method == "post":
            parameters.append(IDEMPOTENCY_PARAMETER)
            _add_responses(doc, _IDEMPOTENCY_RESPONSES)
        if not parameters:
            doc.pop("parameters")
        for status, response in doc.get("responses", {}).items():
            if not isinstance(response, dict) or int(status) >= 300:
                continue
            schema_name = _schema_name(response)
            headers = response.setdefault("headers", {})
            if int(status) == 201:
                headers.setdefault("Location", LOCATION_HEADER)
            if schema_name in _VERSIONED_SCHEMAS:
                headers.setdefault("ETag", ETAG_HEADER)
            if not headers:
                response.pop("headers")
        return doc


# Names of response schemas whose records carry a version (their responses carry an ETag).
_VERSIONED_SCHEMAS: set[str] = set()


def versioned(schema_cls: type) -> type:
    """Class decorator: responses with this schema carry the record's ETag."""
    _VERSIONED_SCHEMAS.add(schema_name_resolver(schema_cls))
    return schema_cls


def _schema_name(response: dict) -> str | None:
    for media in (response.get("content") or {}).values():
        schema = media.get("schema")
        if schema is not None and not isinstance(schema, dict):
            return schema_name_resolver(schema)
    return None


def _run_in_transaction(func: Callable, args: tuple, kwargs: dict) -> Any:
    session = db_session()
    replay = idempotency.begin(session) if request.method == "POST" else None
    if replay is not None:
        return replay
    try:
        response = current_app.make_response(func(*args, **kwargs))
        _set_etag(response)
        if response.status_code < 400:
            if request.method == "POST":
                idempotency.finish(session, response)
            session.commit()
        else:
            session.rollback()
    except IntegrityError as error:
        session.rollback()
        raise Conflict("The request conflicts with an existing record (a unique value is already taken).") from error
    except BaseException:
        session.rollback()
        raise
    return response


# Hostile bodies must be refused before anything parses them for real: Python's parser gives
# up on deep nesting with a RecursionError and on thousands of digits with a ValueError (both
# 500s), and an integer past 64 bits fails in the database driver.
MAX_JSON_DEPTH = 32
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
NUL_DETAIL = "Text may not contain NUL (U+0000) characters."
DEPTH_DETAIL = f"The JSON body may nest arrays and objects at most {MAX_JSON_DEPTH} levels deep."
INTEGER_DETAIL = f"Integers in the JSON body must lie between {INT64_MIN} and {INT64_MAX} (64-bit signed)."
NUMBER_DETAIL = "Numbers in the JSON body must be finite (no NaN, Infinity or overflowing exponents)."


class _Refused(ValueError):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def _parse_int(text: str) -> int:
    if len(text) > 20:  # refused before int() spends quadratic time on thousands of digits
        raise _Refused(INTEGER_DETAIL)
    value = int(text)
    if not INT64_MIN <= value <= INT64_MAX:
        raise _Refused(INTEGER_DETAIL)
    return value


def _parse_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise _Refused(NUMBER_DETAIL)
    return value


def _parse_constant(_name: str) -> float:
    raise _Refused(NUMBER_DETAIL)


# RFC 9110 §4.1 asks servers to take URIs of at least 8000 octets; gunicorn.conf.py lets request
# lines up to gunicorn's own maximum through, so a URL between the two gets this problem+json
# rather than gunicorn's HTML page. Flask matches the route before its before_request hooks run
# but raises a 404 or 405 only after them, so this answers whatever the path.
URL_TOO_LONG_DETAIL = (
    f"The URL (path and query string) may be at most {MAX_URL_LENGTH} bytes; narrow the query or page through it."
)


def _refuse_long_url() -> Response | None:
    target = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or request.full_path
    if len(target) > MAX_URL_LENGTH:
        return problems.problem_response(414, detail=URL_TOO_LONG_DETAIL)
    return None


def _require_json_body() -> Response | None:
    """415 for a write to the API whose body is not JSON (an empty body is fine); 400 for a NUL
    character anywhere in the query or body (PostgreSQL cannot store one in text), for a body
    nested too deeply, and for numbers no column can hold. Malformed JSON is left to the
    argument parser's own 400."""
    if not request.path.startswith("/api/"):
        return None
    if request.method in WRITE_METHODS and request.content_length and not request.is_json:
        return problems.problem_response(415, detail="Send the request body as application/json.")
    query_values = [value for _name, values in request.args.lists() for value in values]
    if "\x00" in request.path or _contains_nul(query_values):
        return problems.problem_response(400, detail=NUL_DETAIL)
    if not request.is_json or not request.get_data(cache=True):
        return None
    try:
        body = json.loads(
            request.get_data(cache=True),
            parse_int=_parse_int,
            parse_float=_parse_float,
            parse_constant=_parse_constant,
        )
    except _Refused as refused:
        return problems.problem_response(400, detail=refused.detail)
    except RecursionError:
        return problems.problem_response(400, detail=DEPTH_DETAIL)
    except ValueError:
        return None
    detail = _body_problem(body)
    return problems.problem_response(400, detail=detail) if detail else None


def _body_problem(body: Any) -> str | None:
    """Walked without recursion, so no depth can overflow the stack here either."""
    stack = [(body, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                return NUL_DETAIL
        elif isinstance(value, (dict, list)):
            if depth >= MAX_JSON_DEPTH:
                return DEPTH_DETAIL
            items = [*value.keys(), *value.values()] if isinstance(value, dict) else value
            stack.extend((item, depth + 1) for item in items)
    return None


def _contains_nul(values: list[str]) -> bool:
    return any("\x00" in value for value in values)


def _set_etag(response: Response) -> None:
    dumped = get_appcontext().get("result_dump")
    if isinstance(dumped, dict) and "version" in dumped and "id" in dumped and response.status_code < 300:
        response.headers.setdefault("ETag", f'"{dumped["version"]}"')


def created(location: str) -> dict[str, str]:
    """Headers for a 201 response."""
    return {"Location": location}
