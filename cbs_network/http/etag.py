"""ETags are the record's `version`; writes to shared records must name the version they change."""

from __future__ import annotations

import re
from typing import Protocol

from flask import request

from cbs_network.core.errors import DomainError, PreconditionFailed, PreconditionRequired

# Every ETag the hub issues is a record version in quotes ("3"); the bare version (3) is taken too,
# as hand-written requests often drop the quotes. The spec's If-Match states the same.
IF_MATCH_PATTERN = r'^(W/)?("[0-9]{1,18}"|[0-9]{1,18})$'


class Versioned(Protocol):
    """A record with a `version` column."""

    @property
    def version(self) -> int: ...


class BadIfMatch(DomainError):
    status, slug, title = 400, "bad-request", "Bad If-Match"


def etag(version: int) -> str:
    return f'"{version}"'


def required_if_match_version() -> int:
    header = request.headers.get("If-Match")
    if header is None:
        raise PreconditionRequired("Send If-Match with the ETag from your last GET of this record.")
    if not re.fullmatch(IF_MATCH_PATTERN, header.strip()):
        raise BadIfMatch(f'If-Match must be an ETag this hub issued, like "3"; {header[:40]!r} is not one.')
    return int(header.strip().removeprefix("W/").strip('"'))


def check_version(record: Versioned, expected_version: int) -> None:
    """Raise 412 unless the record is still at the version the client read."""
    current = record.version
    if current != expected_version:
        raise PreconditionFailed(
            f"The record is at version {current}, not {expected_version}; fetch it again.",
            current_etag=etag(current),
        )
