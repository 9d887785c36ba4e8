"""Domain errors. Services raise these; cbs_network.http turns them into problem+json."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status = 400
    slug = "bad-request"
    title = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        errors: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}
        self.extra = extra


class NotFound(DomainError):
    status, slug, title = 404, "not-found", "Not found"


class Forbidden(DomainError):
    status, slug, title = 403, "forbidden", "Forbidden"


class Conflict(DomainError):
    status, slug, title = 409, "conflict", "Conflict"


class InvalidTransition(DomainError):
    status, slug, title = 409, "invalid-transition", "Invalid state transition"


class PreconditionFailed(DomainError):
    status, slug, title = 412, "precondition-failed", "Precondition failed"


class PreconditionRequired(DomainError):
    status, slug, title = 428, "precondition-required", "Precondition required"


class ValidationFailed(DomainError):
    status, slug, title = 422, "validation-error", "Validation failed"


def field_error(field: str, message: str, *, location: str = "json") -> ValidationFailed:
    """A 422 naming one field of the body (or, with location="query", of the query string)."""
    return ValidationFailed(message, errors={location: {field: [message]}})
