"""The rules no JSON Schema can state: the only reasons a schema-valid request may get 422 in the
HTTP contract run (tests/schemathesis_hooks.py). Kept apart from the hooks, which register
themselves with schemathesis on import and must not reach the in-process contract test."""

from __future__ import annotations

import re

# (message pattern, why no schema can state it)
RULES_NO_SCHEMA_CAN_STATE = [
    (
        r"^No [\w ]+ with this id\.$|^Unknown (school|organization|location|jurisdiction)|records no subject with this id|"
        r"^Some program_ids name no program|organization does not exist|this id is not one\.$",
        "a referenced record must exist (and be of the kind named)",
    ),
    (r"^Not allowed in this organization\.$", "a role the organization's kind allows (network_admin: the hub only)"),
    (r"^Required for a new user\.$", "an invitation names a new user (an email the hub does not know yet)"),
    (
        r"together|not both|Give both|needs near_lat|needs radius_m|radius needs|^Give school_id, or latitude and longitude\.$",
        "query arguments that go together",
    ),
    (
        r"^Must not be in the future\.$|^Must be after 1900\.$|^Must be after given_on\.$|is in the future: record it once held|"
        r"ends \(.*\) before it starts|The student was -?\d+",
        "dates relative to today or to each other",
    ),
    (
        r"^Must not exceed (total_slots|staff_count)\.$|lowest grade .* is above the highest|^One rule per role\.$|"
        r"needs an address or coordinates|public meeting date is given when moving|Name the organizations \(or kinds|"
        r"^Add authorization_code or drop refresh_token\.$|^client_credentials needs a confidential client\.$|^At least one is required\.$",
        "rules across fields or items",
    ),
    (r"does not sit under its district", "the organization tree"),
    (
        r"^The date of the public meeting \(Ed Code 32288\) is required|^The plan is \w+: its public meeting",
        "the plan's state: a date set earlier with PATCH counts, an approved plan keeps its date",
    ),
    (r"^Not a valid polygon: |^Not valid GeoJSON: ", "a polygon's rings must close and not cross themselves"),
]
RULES = re.compile("|".join(f"(?:{pattern})" for pattern, _why in RULES_NO_SCHEMA_CAN_STATE))


def messages(errors: object) -> list[str]:
    if isinstance(errors, str):
        return [errors]
    if isinstance(errors, list):
        return [message for item in errors for message in messages(item)]
    if isinstance(errors, dict):
        return [message for item in errors.values() for message in messages(item)]
    return []
