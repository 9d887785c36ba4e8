"""ETags are the record's `version`; writes to shared records must name the version they change."""

from __future__ import annotations

from flask import request

from ..errors import PreconditionFailed, PreconditionRequired


def etag(version: int) -> str:
    return f'"{version}"'


def required_if_match_version() -> int:
    header = request.headers.get("If-Match")
    if not header:
        raise PreconditionRequired(
            "Send If-Match with the ETag from your last GET of this record."
        )
    value = header.strip()
    if value.startswith("W/"):
        value = value[2:]
    value = value.strip('"')
    if not value.isdigit():
        raise PreconditionFailed(f"If-Match {header!r} is not an ETag this hub issued.")
    return int(value)


def check_version(record: object, expected_version: int) -> None:
    """Raise 412 unless the record is still at the version the client read."""
    current = record.version
    if current != expected_version:
        raise PreconditionFailed(
            f"The record is at version {current}, not {expected_version}; fetch it again.",
            current_etag=etag(current),
        )

