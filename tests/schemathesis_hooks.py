"""Schemathesis hooks for the contract test over HTTP (tests/test_contract_http.py), loaded
through SCHEMATHESIS_HOOKS.

A schema-valid request may still be refused where no JSON Schema can say why: a referenced
record that does not exist, query arguments that go together, dates relative to today or to each
other, sums across fields. The check below lets a 422 through only when every message in it is
one of those rules, so a constraint the spec could state but does not still fails the run.
"""

from __future__ import annotations

import uuid

import schemathesis

from tests.contract_rules import RULES, messages


def _positive(case: object) -> bool:
    meta = getattr(case, "meta", None)
    return meta is not None and meta.generation.mode.is_positive


@schemathesis.hook
def before_load_schema(ctx, raw_schema):  # type: ignore[no-untyped-def]
    """The coverage phase sends every value of every enum to every operation that takes it.
    LanguageCode lists some 8,000 ISO 639 codes, from the one list the validator also uses
    (tests/test_contract_precision.py checks that); sending each everywhere would test that list,
    not the hub, and take most of the run. Every two-letter code is kept (the hub answers with
    those, or with a three-letter code as it was sent) and every 100th three-letter one."""
    language = raw_schema["components"]["schemas"]["LanguageCode"]
    three_letter = [code for code in language["enum"] if len(code) == 3]
    language["enum"] = [code for code in language["enum"] if len(code) == 2] + three_letter[::100]


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
    unexplained = [m for m in messages(problem.get("errors")) or [problem.get("detail", "")] if not RULES.search(m)]
    if unexplained:
        raise AssertionError(f"A schema-valid request was refused for a rule the spec could state: {unexplained}")
    return None
