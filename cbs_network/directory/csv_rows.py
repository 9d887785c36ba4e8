"""What every CSV import shares: reading rows against a known header, and row-level errors
named by line and field (marshmallow's nested messages flattened to dotted paths)."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TextIO

import click
import marshmallow as ma


@dataclass
class RowError:
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.message}"


def read_rows(
    stream: TextIO, *, columns: Iterable[str], required: Iterable[str]
) -> tuple[list[tuple[int, dict[str, str]]], list[RowError]]:
    """(line number, raw row) pairs, and the errors of the header (missing or unknown columns)
    or of a row's shape (more cells than columns)."""
    columns = list(columns)
    reader = csv.DictReader(stream)
    header = reader.fieldnames or []
    errors = [RowError(1, c, "Missing column.") for c in required if c not in header]
    errors += [RowError(1, c, "Unknown column.") for c in header if c not in columns]
    if errors:
        return [], errors
    rows = []
    for raw in reader:
        if None in raw:
            errors.append(RowError(reader.line_num, "row", "More cells than the header has columns."))
            continue
        rows.append((reader.line_num, raw))
    return rows, errors


def flatten_messages(messages: Any, prefix: str = "") -> Iterable[tuple[str, str]]:
    """marshmallow's {"field": {"0": ["msg"]}} as ("field.0", "msg") pairs."""
    if isinstance(messages, dict):
        for key, value in messages.items():
            yield from flatten_messages(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(messages, list):
        for message in messages:
            yield from flatten_messages(message, prefix)
    else:
        yield prefix or "row", str(messages)


def stop_if_any(errors: list[RowError]) -> None:
    """Print every row error and end the command (exit 1) before anything is written."""
    if not errors:
        return
    for error in errors:
        click.echo(str(error), err=True)
    raise click.ClickException(f"{len(errors)} error(s); nothing was written.")


def _allowed_values(field: ma.fields.Field | None) -> list[str]:
    if field is None:
        return []
    if isinstance(field, ma.fields.Enum):
        return [str(member.value) for member in field.enum]
    if isinstance(field, ma.fields.Boolean):
        return ["true", "false"]
    if "enum" in field.metadata:
        return [str(value) for value in field.metadata["enum"] if value is not None]
    for validator in field.validators:
        if isinstance(validator, ma.validate.OneOf):
            return [str(choice) for choice in validator.choices]
    return []


def columns_help(
    columns: Iterable[str], *, required: Iterable[str], fields: dict[str, ma.fields.Field], notes: dict[str, str] | None = None
) -> str:
    """A command's epilog: each column, whether a row must fill it, and the values it allows,
    read from the same schema fields that validate the rows (so the help cannot drift)."""
    required, notes = set(required), notes or {}
    lines = ["\b", "Columns:"]
    for column in columns:
        parts = ["required" if column in required else "optional"]
        field = fields.get(column)
        allowed = _allowed_values(field)
        if allowed:
            parts.append("one of " + ", ".join(allowed))
        for validator in field.validators if field is not None else ():
            if isinstance(validator, ma.validate.Range) and None not in (validator.min, validator.max):
                parts.append(f"from {validator.min} to {validator.max}")
        if column in notes:
            parts.append(notes[column])
        lines.append(f"  {column}: {'; '.join(parts)}")
    return "\n".join(lines)
