"""RFC 9457 problem details: the one shape of every error the hub returns."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

import marshmallow as ma
from flask import Response, g, json
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from cbs_network.core.crypto import UnknownKeyError
from cbs_network.core.errors import DomainError

log = logging.getLogger("cbs_network.core.errors")

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
    "conflict": "The request conflicts with the current state: a unique value or the record it would create already "
    "exists (a member such as `committee_id` names that record), the record's status does not allow the "
    "change, the program has no slot left, or a request with the same Idempotency-Key is still in flight.",
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

    type = ma.fields.String(
        metadata={"description": "URI of the page documenting this problem type", "example": "/problems/not-found"}
    )
    title = ma.fields.String(metadata={"description": "A short summary of the problem type", "example": "Not found"})
    status = ma.fields.Integer(metadata={"description": "The HTTP status code", "example": 404})
    detail = ma.fields.String(
        metadata={
            "description": "What went wrong with this request, for a person to read",
            "example": "No organization with this id.",
        }
    )
    instance = ma.fields.String(
        metadata={
            "description": "The path of the request that failed",
            "example": "/api/v1/organizations/0c5f3a3e-2d1b-4d0f-9a57-0d8a5b2f8f11",
        }
    )
    request_id = ma.fields.String(
        metadata={
            "description": "The request's id (also in X-Request-ID); quote it when you report a problem",
            "example": "8b1f6f0e5c0a4c7d",
        }
    )
    errors = ma.fields.Dict(
        metadata={
            "description": "On 422 (and 400 for a bad cursor): messages by location (json, query, headers) and "
            'field path, e.g. {"json": {"school_id": ["Missing data for required field."]}}'
        }
    )
    # RFC 9457 extension members: each appears only on the problems named in its description.
    # additionalProperties stays false, so every member the hub sends must be declared here.
    current_etag = ma.fields.String(
        metadata={"description": "On 412 when If-Match is stale: the record's current ETag", "example": '"4"'}
    )
    current_state = ma.fields.String(
        metadata={
            "description": "On 409 `invalid-transition`, and on 409 when an approved safety plan is changed "
            "without amending it: the record's current workflow state",
            "example": "approved",
        }
    )
    current_status = ma.fields.String(
        metadata={
            "description": "On 409 when a membership or committee seat is not in a status that allows the "
            "change: its current status",
            "example": "ended",
        }
    )
    allowed_transitions = ma.fields.List(
        ma.fields.Nested(ProblemTransitionSchema),
        metadata={
            "description": "On 409 `invalid-transition`, and on 403 when another party must make the move: "
            "the moves out of the current state and who may make each"
        },
    )
    existing_subject_id = ma.fields.UUID(
        metadata={
            "description": "On 409 when your organization already records a subject with this district "
            "student id: that subject's id"
        }
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
        metadata={
            "description": "On 409 when accepting a referral into a program with no slot left: whether "
            "accepting with `waitlist_if_full` would put the referral on its waitlist"
        }
    )
    location = ma.fields.String(
        metadata={
            "description": "On 409 when an Idempotency-Key's earlier request succeeded but its response was "
            "not kept (it carried a secret or personal fields): the created record's URL",
            "example": "/api/v1/subjects/0c5f3a3e-2d1b-4d0f-9a57-0d8a5b2f8f11",
        }
    )


# Real problems the hub sends, written out once: the spec shows them as each error response's
# examples (Api._register_responses) and /problems/<slug> shows them as that type's shape. Their
# details are the hub's own messages; tests/test_explorer.py checks each against ProblemSchema.
_ID = "0c5f3a3e-2d1b-4d0f-9a57-0d8a5b2f8f11"
_REQUEST_ID = "8b1f6f0e5c0a4c7d9e2f3a4b5c6d7e8f"
_FROM_REQUESTED = [
    {"to": "accepted", "by": "target"},
    {"to": "rejected", "by": "target"},
    {"to": "cancelled", "by": "requester"},
    {"to": "entered-in-error", "by": "requester"},
]


@dataclass(frozen=True)
class ProblemExample:
    name: str  # its key in the spec's `examples`
    summary: str
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)  # shown on the /problems page


def _example(
    name: str,
    summary: str,
    status: int,
    detail: str,
    instance: str,
    *,
    slug: str | None = None,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    **members: Any,
) -> ProblemExample:
    body = {
        "type": problem_type(slug or STATUS_SLUGS[status]),
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "instance": instance,
        "request_id": _REQUEST_ID,
        **members,
    }
    return ProblemExample(name, summary, body, headers or {})


PROBLEM_EXAMPLES = [
    _example(
        "nul-character",
        "A NUL character in the query or body",
        400,
        "Text may not contain NUL (U+0000) characters.",
        "/api/v1/organizations",
    ),
    _example(
        "bad-cursor",
        "A cursor this list did not issue",
        400,
        "The cursor is not one this list issued; start again without it.",
        "/api/v1/referrals",
        title="Bad cursor",
        errors={"query": {"cursor": ["Invalid cursor."]}},
    ),
    _example(
        "bad-idempotency-key",
        "An Idempotency-Key that is not 1-255 printable characters",
        400,
        "Idempotency-Key must be 1-255 printable characters.",
        "/api/v1/referrals",
        title="Bad Idempotency-Key",
    ),
    _example(
        "bad-if-match",
        "An If-Match that is not an ETag the hub issued",
        400,
        'If-Match must be an ETag this hub issued, like "3"; \'"abc"\' is not one.',
        f"/api/v1/organizations/{_ID}",
        title="Bad If-Match",
    ),
    _example(
        "missing-token",
        "No bearer token",
        401,
        "This operation needs a bearer access token.",
        "/api/v1/organizations",
        headers={"WWW-Authenticate": 'Bearer realm="cbs-network"'},
    ),
    _example(
        "invalid-token",
        "An expired or revoked token",
        401,
        "The access token is invalid, expired or revoked.",
        "/api/v1/organizations",
        headers={
            "WWW-Authenticate": 'Bearer realm="cbs-network", error="invalid_token", '
            'error_description="The access token is invalid, expired or revoked."'
        },
    ),
    _example(
        "missing-scope",
        "The token lacks a scope the operation needs",
        403,
        "The token lacks the scope(s): audit:read.",
        "/api/v1/audit",
        headers={"WWW-Authenticate": 'Bearer realm="cbs-network", error="insufficient_scope", scope="audit:read"'},
    ),
    _example(
        "role",
        "The role in the acting organization does not allow it",
        403,
        "Your role (coordinator) in the acting organization does not allow: organizations:write.",
        f"/api/v1/organizations/{_ID}",
    ),
    _example(
        "other-party",
        "The other organization makes this move",
        403,
        "Only the receiving organization may move a referral from requested to accepted.",
        f"/api/v1/referrals/{_ID}/transitions",
        allowed_transitions=_FROM_REQUESTED,
    ),
    _example(
        "not-found",
        "No such record, or not one the acting organization may see",
        404,
        "No organization with this id.",
        f"/api/v1/organizations/{_ID}",
        title="Not found",
    ),
    _example(
        "method-not-allowed",
        "A method the resource does not support",
        405,
        "The method is not allowed for the requested URL.",
        "/api/v1/organizations",
        headers={"Allow": "GET, HEAD, OPTIONS, POST"},
    ),
    _example(
        "not-acceptable",
        "An Accept header the hub cannot answer",
        406,
        "The resource identified by the request is only capable of generating response entities which have "
        "content characteristics not acceptable according to the accept headers sent in the request.",
        "/api/v1/organizations",
    ),
    _example(
        "duplicate",
        "A unique value already taken",
        409,
        "The request conflicts with an existing record (a unique value is already taken).",
        "/api/v1/organizations",
        title="Conflict",
    ),
    _example(
        "committee-exists",
        "The school already has a committee for the year",
        409,
        f"The school already has a committee for 2026-27 ({_ID}); change that one.",
        "/api/v1/committees",
        title="Conflict",
        committee_id=_ID,
    ),
    _example(
        "plan-exists",
        "The school already has a safety plan for the year",
        409,
        "Roosevelt High School already has a safety plan for 2026-27: change that one.",
        "/api/v1/safety-plans",
        title="Conflict",
        plan_id=_ID,
    ),
    _example(
        "approved-plan",
        "An approved safety plan changed without amending it",
        409,
        "An approved plan is changed by amending it: move it to amended first.",
        f"/api/v1/safety-plans/{_ID}",
        title="Conflict",
        current_state="approved",
    ),
    _example(
        "member-exists",
        "The person already holds a seat on the committee",
        409,
        f"This person already has a seat on the committee (active, member {_ID}).",
        f"/api/v1/committees/{_ID}/members",
        title="Conflict",
        member_id=_ID,
        current_status="active",
    ),
    _example(
        "membership-answered",
        "A membership no longer waiting for an answer",
        409,
        "This membership is not waiting for your answer.",
        f"/api/v1/memberships/{_ID}/accept",
        title="Conflict",
        current_status="active",
    ),
    _example(
        "subject-exists",
        "A subject with this district student id is already recorded",
        409,
        "Your organization already records a subject with this district student id.",
        "/api/v1/subjects",
        title="Conflict",
        existing_subject_id=_ID,
    ),
    _example(
        "no-slot",
        "Accepting into a program with no slot left",
        409,
        "The program has no slot left. Accept with waitlist_if_full to put the referral on its waitlist.",
        f"/api/v1/referrals/{_ID}/transitions",
        title="Conflict",
        waitlist_open=True,
    ),
    _example(
        "in-flight",
        "The first request with this Idempotency-Key is still running",
        409,
        "A request with this Idempotency-Key is still being processed; retry later.",
        "/api/v1/referrals",
        title="Conflict",
    ),
    _example(
        "not-kept",
        "A retried request whose response was not kept (it carried personal fields)",
        409,
        f"The request with this Idempotency-Key already succeeded (201); its response carried a secret or "
        f"personal data, which is not kept for replay. Read the record again at /api/v1/subjects/{_ID}.",
        "/api/v1/subjects",
        title="Conflict",
        location=f"/api/v1/subjects/{_ID}",
    ),
    _example(
        "invalid-transition",
        "A state change the workflow does not allow",
        409,
        "A referral in state completed cannot move to accepted; allowed: entered-in-error (by the requester).",
        f"/api/v1/referrals/{_ID}/transitions",
        slug="invalid-transition",
        title="Invalid state transition",
        current_state="completed",
        allowed_transitions=[{"to": "entered-in-error", "by": "requester"}],
    ),
    _example(
        "stale-if-match",
        "If-Match names an older version",
        412,
        "The record is at version 4, not 3; fetch it again.",
        f"/api/v1/organizations/{_ID}",
        title="Precondition failed",
        current_etag='"4"',
    ),
    _example(
        "content-too-large",
        "A body over the hub's limit (1 MiB)",
        413,
        "The data value transmitted exceeds the capacity limit.",
        "/api/v1/programs",
    ),
    _example(
        "uri-too-long",
        "A URL over the hub's limit",
        414,
        f"The URL (path and query string) may be at most {MAX_URL_LENGTH} bytes; narrow the query or page through it.",
        "/api/v1/referrals",
    ),
    _example(
        "unsupported-media-type",
        "A body that is not JSON",
        415,
        "Send the request body as application/json.",
        "/api/v1/organizations",
    ),
    _example(
        "body",
        "Fields of the JSON body",
        422,
        "The request failed validation; see errors.",
        "/api/v1/committees",
        errors={
            "json": {
                "school_id": ["Missing data for required field."],
                "school_year": ['A school year like "2026-27" (the second year follows the first).'],
            }
        },
    ),
    _example(
        "query",
        "Query arguments",
        422,
        "The request failed validation; see errors.",
        "/api/v1/organizations",
        errors={"query": {"limit": ["Must be greater than or equal to 1 and less than or equal to 200."]}},
    ),
    _example(
        "idempotency-key-reused",
        "An Idempotency-Key reused with a different request",
        422,
        "This Idempotency-Key was already used with a different request.",
        "/api/v1/referrals",
        title="Validation failed",
        errors={"headers": {"Idempotency-Key": ["Reused with a different request body or path."]}},
    ),
    _example(
        "if-match-missing",
        "A change of a shared record without If-Match",
        428,
        "Send If-Match with the ETag from your last GET of this record.",
        f"/api/v1/organizations/{_ID}",
        title="Precondition required",
    ),
    _example(
        "rate-limited", "Over the rate limit", 429, "600 per 1 minute", "/api/v1/organizations", headers={"Retry-After": "42"}
    ),
    _example(
        "internal-error",
        "An unexpected error (logged with its request_id)",
        500,
        "An unexpected error occurred.",
        "/api/v1/referrals",
    ),
    _example(
        "database-unavailable",
        "The database is busy or unreachable",
        503,
        "The database is busy or unreachable; retry shortly.",
        "/api/v1/referrals",
        headers={"Retry-After": "1"},
    ),
]


def examples_for(statuses: set[int]) -> dict[str, dict[str, Any]]:
    """The spec's `examples` of an error response covering `statuses`."""
    return {
        e.name: {"summary": f"{e.body['status']}: {e.summary}", "value": e.body}
        for e in PROBLEM_EXAMPLES
        if e.body["status"] in statuses
    }


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
        error.status,
        detail=error.detail,
        title=error.title,
        slug=error.slug,
        errors=error.errors,
        headers=error.headers,
        extra=error.extra or None,
    )


def from_stale_data(_error: StaleDataError) -> Response:
    return problem_response(412, detail="The record was changed by another request; fetch it again and retry.")


def from_database_unavailable(error: Exception) -> Response:
    """The database refused or timed out (SQLite's writer lock, a PostgreSQL failover): retryable."""
    log.warning("database unavailable: %s", type(error).__name__, exc_info=error)
    return problem_response(503, detail="The database is busy or unreachable; retry shortly.", headers={"Retry-After": "1"})


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
