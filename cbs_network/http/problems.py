"""RFC 9457 problem details: the one shape of every error the hub returns."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

import marshmallow as ma
from flask import Response, g, json
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from ..crypto import UnknownKeyError
from ..errors import DomainError

log = logging.getLogger("cbs_network.errors")

PROBLEM_MEDIA_TYPE = "application/problem+json"

# The longest URL (path and query string, as sent) the hub reads; see http/api.py _refuse_long_url.
MAX_URL_LENGTH = 8000

# status -> slug of the documentation page that explains it (served at /problems/<slug>)
STATUS_SLUGS = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    409: "conflict",
    412: "precondition-failed",
    413: "content-too-large",
    414: "uri-too-long",
    415: "unsupported-media-type",
    422: "validation-error",
    428: "precondition-required",
    429: "too-many-requests",
    500: "internal-error",
    503: "service-unavailable",
}

PROBLEM_DOCS = {
    "bad-request": "The request could not be understood: malformed JSON, a bad header, or a bad cursor.",
    "unauthorized": "No valid access token was given. Obtain one at /oauth/token and send it as `Authorization: Bearer <token>`. The WWW-Authenticate header says why.",
    "forbidden": "The token is valid but lacks a scope the operation needs, or the acting organization's role does not allow it.",
    "not-found": "The resource does not exist, or the acting organization may not see it.",
    "method-not-allowed": "The resource exists but not with this HTTP method; the Allow header lists the methods it supports.",
    "not-acceptable": "The hub cannot answer in a media type the Accept header allows; ask for application/json.",
    "conflict": "The request conflicts with the current state: a duplicate unique value, or a request with the same Idempotency-Key is still in flight.",
    "invalid-transition": "The workflow does not allow this state change from the record's current state.",
    "precondition-failed": "If-Match named a version that is no longer current; fetch the record again and retry with its new ETag.",
    "content-too-large": "The request body is larger than the hub accepts.",
    "uri-too-long": f"The URL (path and query string) is longer than the {MAX_URL_LENGTH} bytes the hub accepts; narrow the query or page through the results.",
    "unsupported-media-type": "Request bodies must be application/json.",
    "validation-error": "The body or query failed validation; `errors` maps each location and field path to its messages. Also returned when an Idempotency-Key is reused with a different request.",
    "precondition-required": "Updates and deletions of shared records need an If-Match header with the record's ETag.",
    "too-many-requests": "Rate limit exceeded; wait for the number of seconds in Retry-After.",
    "internal-error": "An unexpected error. Quote the request_id when reporting it.",
    "service-unavailable": "The hub or its database is temporarily unavailable; retry later.",
}


def problem_type(slug: str) -> str:
    return f"/problems/{slug}"


class ProblemTransitionSchema(ma.Schema):
    to = ma.fields.String(metadata={"description": "A state the record may move to", "example": "accepted"})
    by = ma.fields.String(metadata={"description": "The party that may make this move", "example": "target"})


class ProblemSchema(ma.Schema):
    """An RFC 9457 problem details object."""

    type = ma.fields.String(metadata={"description": "URI of the page documenting this problem type", "example": "/problems/not-found"})
    title = ma.fields.String(metadata={"example": "Not found"})
    status = ma.fields.Integer(metadata={"example": 404})
    detail = ma.fields.String(metadata={"example": "No organization with this id."})
    instance = ma.fields.String(metadata={"example": "/api/v1/organizations/0c5f3a3e-2d1b-4d0f-9a57-0d8a5b2f8f11"})
    request_id = ma.fields.String(metadata={"example": "8b1f6f0e5c0a4c7d"})
    errors = ma.fields.Dict(
        metadata={"description": "Validation errors by location (json, query, headers) and field path"}
    )
    # RFC 9457 extension members: each appears only on the problems named in its description.
    # additionalProperties stays false, so every member the hub sends must be declared here.
    current_etag = ma.fields.String(
        metadata={"description": "On 412 when If-Match is stale: the record's current ETag", "example": '"4"'}
    )
    current_state = ma.fields.String(
        metadata={"description": "On 409 `invalid-transition`, and on 409 when an approved safety plan is changed "
                                 "without amending it: the record's current workflow state", "example": "approved"}
    )
    current_status = ma.fields.String(
        metadata={"description": "On 409 when a membership or committee seat is not in a status that allows the "
                                 "change: its current status", "example": "ended"}
    )
    allowed_transitions = ma.fields.List(
        ma.fields.Nested(ProblemTransitionSchema),
        metadata={"description": "On 409 `invalid-transition`, and on 403 when another party must make the move: "
                                 "the moves out of the current state and who may make each"},
    )
    existing_subject_id = ma.fields.UUID(
        metadata={"description": "On 409 when your organization already records a subject with this district "
                                 "student id: that subject's id"}
    )
    committee_id = ma.fields.UUID(
        metadata={"description": "On 409 when the school already has a committee for the school year: its id"}
    )
    plan_id = ma.fields.UUID(
        metadata={"description": "On 409 when the school already has a safety plan for the school year: its id"}
    )
    member_id = ma.fields.UUID(
        metadata={"description": "On 409 when the person already holds a seat on the committee: that seat's id"}
    )
    waitlist_open = ma.fields.Boolean(
        metadata={"description": "On 409 when accepting a referral into a program with no slot left: whether "
                                 "accepting with `waitlist_if_full` would put the referral on its waitlist"}
    )
    location = ma.fields.String(
        metadata={"description": "On 409 when an Idempotency-Key's earlier request succeeded but its response was "
                                 "not kept (it carried a secret or personal fields): the created record's URL",
                  "example": "/api/v1/subjects/0c5f3a3e-2d1b-4d0f-9a57-0d8a5b2f8f11"}
    )


def problem_response(
    status: int,
    *,
    detail: str | None = None,
    title: str | None = None,
    slug: str | None = None,
    errors: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> Response:
    from flask import request

    slug = slug or STATUS_SLUGS.get(status)
    body: dict[str, Any] = {
        "type": problem_type(slug) if slug else "about:blank",  # RFC 9457 §4.2.1
        "title": title or HTTPStatus(status).phrase,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    body["instance"] = request.path
    request_id = g.get("request_id")
    if request_id:
        body["request_id"] = request_id
    if errors:
        body["errors"] = errors
    if extra:
        body.update(extra)
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_MEDIA_TYPE)
    for name, value in (headers or {}).items():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def from_http_exception(error: HTTPException) -> Response:
    """Werkzeug/webargs/Authlib errors, keeping their WWW-Authenticate, Allow, Retry-After."""
    data = getattr(error, "data", None) or {}
    headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
    headers.update(data.get("headers") or {})
    errors = data.get("errors") or data.get("messages")
    detail = data.get("message") or error.description
    if errors and error.code == 422:
        detail = data.get("message") or "The request failed validation; see errors."
    status = error.code or 500
    if status >= 500:
        detail = "An unexpected error occurred."
    return problem_response(status, detail=detail, errors=errors, headers=headers)


def from_domain_error(error: DomainError) -> Response:
    return problem_response(
        error.status, detail=error.detail, title=error.title, slug=error.slug, errors=error.errors,
        headers=error.headers, extra=error.extra or None,
    )


def from_stale_data(_error: StaleDataError) -> Response:
    return problem_response(
        412, detail="The record was changed by another request; fetch it again and retry."
    )


def from_database_unavailable(error: Exception) -> Response:
    """The database refused or timed out (SQLite's writer lock, a PostgreSQL failover): retryable."""
    log.warning("database unavailable: %s", type(error).__name__, exc_info=error)
    return problem_response(
        503, detail="The database is busy or unreachable; retry shortly.", headers={"Retry-After": "1"}
    )


def from_unknown_key(error: UnknownKeyError) -> Response:
    """Stored personal data under a field key this process lacks: the operator's to fix (the log says
    how), not the client's; the client learns only that it may retry."""
    log.error("personal data unreadable: %s", error)
    return problem_response(503, detail="Some stored data cannot be read right now; retry later.")


def from_unhandled(error: Exception) -> Response:
    if isinstance(error, HTTPException):
        return from_http_exception(error)
    if isinstance(error, UnknownKeyError):
        return from_unknown_key(error)
    log.exception("unhandled error", exc_info=error)
    return problem_response(500, detail="An unexpected error occurred.")
