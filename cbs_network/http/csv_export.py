"""CSV exports: one way to turn rows into a text/csv download."""

from __future__ import annotations

import csv
import io
from typing import Any, Iterable, Sequence

from flask import Response

# Documented on an operation's 200 response next to its JSON (`format=csv`).
CSV_RESPONSE = {"content": {"text/csv": {"schema": {"type": "string"}}}}

# A spreadsheet runs a cell that starts with one of these as a formula (OWASP, "CSV Injection"):
# any organization's text would reach every reader's spreadsheet as live formulas and links.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        value = " ".join(str(v) for v in value)
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        # The quote makes the spreadsheet show the text as typed; the csv module still quotes it.
        return "'" + value
    return value


def csv_response(columns: Sequence[str], rows: Iterable[dict[str, Any]], filename: str) -> Response:
    """`rows` (JSON-ready dicts) as a CSV attachment, one column per name, lists space-separated,
    text that a spreadsheet would run as a formula neutralized."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(name)) for name in columns])
    return Response(out.getvalue(), mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{filename}"'})
