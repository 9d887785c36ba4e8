"""Schemathesis hooks for the contract test over HTTP (tests/test_contract_http.py), loaded
through SCHEMATHESIS_HOOKS.

A schema-valid request may still be refused where no JSON Schema can say why: a referenced
record that does not exist, query arguments that go together, dates relative to today or to each
other, sums across fields. The check below lets a 422 through only when every message in it is
one of those rules, so a constraint the spec could state but does not still fails the run.
"""

from __future__ import annotations

import re
import uuid

import schemathesis

# (message pattern, why no schema can state it)
RULES_NO_SCHEMA_CAN_STATE = [
    (r"^No [\w ]+ with this id\.$|^Unknown (school|organization|location|jurisdiction)|records no subject with this id|"
     r"^Some program_ids name no program|organization does not exist", "a referenced record must exist"),
    (r"together|not both|Give both|needs near_lat|needs radius_m|radius needs|^Give school_id, or latitude and longitude\.$",
     "query arguments that go together"),
    (r"^Must not be in the future\.$|^Must be after 1900\.$|^Must be after given_on\.$|is in the future: record it once held|"
     r"ends \(.*\) before it starts|The student was -?\d+", "dates relative to today or to each other"),
    (r"^Must not exceed (total_slots|staff_count)\.$|lowest grade .* is above the highest|^One rule per role\.$|"
     r"needs an address or coordinates|public meeting date is given when moving|Name the organizations \(or kinds",
     "rules across fields or items"),
    (r"does not sit under its district", "the organization tree"),
    (r"^The date of the public meeting \(Ed Code 32288\) is required|^The plan is \w+: its public meeting",
     "the plan's state: a date set earlier with PATCH counts, an approved plan keeps its date"),
    (r"^Not a valid polygon: |^Not valid GeoJSON: ", "a polygon's rings must close and not cross themselves"),
]
_RULES = re.compile("|".join(f"(?:{pattern})" for pattern, _why in RULES_NO_SCHEMA_CAN_STATE))


def _messages(errors: object) -> list[str]:
    if isinstance(errors, str):
        return [errors]
    if isinstance(errors, list):
        return [message for item in errors for message in _messages(item)]
    if isinstance(errors, dict):
        return [message for item in errors.values() for message in _messages(item)]
    return []


def _positive(case: object) -> bool:
    meta = getattr(case, "meta", None)
    return meta is not None and meta.generation.mode.is_positive


@schemathesis.hook
def before_call(ctx, case, **kwargs):  # type: ignore[no-untyped-def]
    """A real client sends a fresh Idempotency-Key with each new request, and a cursor only from
    a page the hub gave it (the opaque cursor is the one value the spec cannot pin down)."""
    if not _positive(case):
        return
    if case.headers and "Idempotency-Key" in case.headers:
        case.headers["Idempotency-Key"] = str(uuid.uuid4())
    if case.query and "cursor" in case.query:
        case.query.pop("cursor")


@schemathesis.check
def refused_only_for_rules_no_schema_can_state(ctx, response, case):  # type: ignore[no-untyped-def]
    if not _positive(case) or response.status_code != 422:
        return None
    problem = response.json()
    unexplained = [m for m in _messages(problem.get("errors")) or [problem.get("detail", "")] if not _RULES.search(m)]
    if unexplained:
        raise AssertionError(f"A schema-valid request was refused for a rule the spec could state: {unexplained}")
    return None
