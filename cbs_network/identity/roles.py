"""Scopes the hub knows, roles, and which scopes each role may exercise."""

from __future__ import annotations

import enum

SCOPES: dict[str, str] = {
    "organizations:read": "Read the network's member organizations",
    "organizations:write": "Update your organization (network admins: create and update any)",
    "users:read": "Read the users and memberships of your organization",
    "users:write": "Invite users and manage memberships of your organization",
    "clients:read": "Read your organization's OAuth clients",
    "clients:write": "Register OAuth clients and rotate their secrets",
    "directory:read": "Read the directory: schools, programs, locations and service areas",
    "directory:write": "Keep your organization's programs and locations current (schools: the district)",
    "capacity:read": "Read programs' capacity profiles, their history and the pre-referral capacity check",
    "capacity:write": "Keep your organization's programs' capacity profiles current",
    "referrals:read": "Read the referrals your organization sent or received (network admins: all, without personal fields)",
    "referrals:write": "Send, answer and close referrals, and write in their notes",
    "subjects:read": "Read the students your organization refers, their consents, and referrals' personal fields",
    "subjects:write": "Record the students your organization refers and their guardians' consents",
    "disclosures:read": "List and export the records of who saw your organization's students' personal data (org admins)",
    "committees:read": "Read school safety committees, safety plans, their needs and the network's gap views",
    "committees:write": "Keep your schools' committees and plans current, or nominate your staff to committees",
    "audit:read": "Read the audit log (network admins only)",
    "events:read": "Read the event feed of what your organization may see",
}


class Role(enum.StrEnum):
    viewer = "viewer"
    caseworker = "caseworker"
    coordinator = "coordinator"
    org_admin = "org_admin"
    network_admin = "network_admin"

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def capped_by(self, ceiling: Role | None) -> Role:
        return self if ceiling is None or self.rank <= ceiling.rank else ceiling


# Students' personal data is for the staff who work their cases, not for viewers.
_PERSONAL = {"subjects:read", "disclosures:read"}
_READ = {s for s in SCOPES if s.endswith(":read") and s != "audit:read"} - _PERSONAL
_CASEWORK = _READ | {"capacity:write", "referrals:write", "subjects:read", "subjects:write"}
_ADMIN = _CASEWORK | {
    "organizations:write",
    "users:write",
    "clients:write",
    "directory:write",
    "disclosures:read",
    "committees:write",
}

ROLE_SCOPES: dict[Role, frozenset[str]] = {
    Role.viewer: frozenset(_READ),
    Role.caseworker: frozenset(_CASEWORK),
    # Coordinators run committees and plans (the school side) and nominate their staff (a CBO).
    Role.coordinator: frozenset(_CASEWORK | {"directory:write", "committees:write"}),
    Role.org_admin: frozenset(_ADMIN),
    Role.network_admin: frozenset(SCOPES),
}
