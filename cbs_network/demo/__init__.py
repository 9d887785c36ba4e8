"""The demo network: a small, clearly fictional-but-plausible Los Angeles network.

Agencies carry their real public names; every person and every CBO is invented, and so are the
schools' CDS codes, street numbers and coordinates (plausible, in the right part of the city).
Beside LAUSD sits a second, small and wholly fictional district, Harbor Gateway Unified (HGUSD),
with its own schools, rules, committees, plans, staff and client: each district keeps its own
schools and only reads the other's.
Deterministic and idempotent, and it only adds what is missing: every id is a uuid5 of a stable
key (organizations are still matched by their `demo` identifier, so databases seeded before ids
were deterministic keep theirs), and a later run creates only the rows that do not exist yet. A
row that exists belongs to the people using the demo and is left alone entirely, with what hangs
off it: a program's lists, schedules and verification date, a committee's members, a plan's steps
and needs, a user's name, memberships and active flag, a client's scopes and redirect URIs. So a
program renamed, a description edited, a capacity changed or a membership removed stays as it
is; a row deleted since is created again (a membership, an offered one included, only with its
user). One addition to an existing row: the explorer client gets the redirect URI of the current
public address when it lacks it (`PORT=8080 make run` after a first `make run`), so signing in
through /docs keeps working; the URIs it has are kept.

One module per domain: organizations, identity (users, memberships, clients and the credentials
file's content), directory (schools, locations, programs), capacity, referrals, committees (with
the districts' rules and safety plans). seed_demo runs them in dependency order.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cbs_network.demo.capacity import seed_capacity
from cbs_network.demo.committees import HARBOR_COMMITTEES, HARBOR_PLANS, harbor_jurisdiction, lausd_jurisdiction, seed_committees
from cbs_network.demo.common import demo_id
from cbs_network.demo.directory import seed_harbor_schools, seed_locations, seed_programs, seed_schools
from cbs_network.demo.identity import (
    CBO_CLIENT_ID,
    EXPLORER_CLIENT_ID,
    PASSWORD_CHANGED,
    SECRET_ROTATED,
    seed_clients,
    seed_users,
)
from cbs_network.demo.organizations import HARBOR_KEY, seed_organizations
from cbs_network.demo.referrals import seed_referrals
from cbs_network.identity.models import User

__all__ = ["CBO_CLIENT_ID", "EXPLORER_CLIENT_ID", "PASSWORD_CHANGED", "SECRET_ROTATED", "demo_id", "seed_demo"]


def seed_demo(*, session: Session, public_url: str, previous: dict[str, Any] | None = None) -> dict[str, Any]:
    """Load what is missing of the demo network; returns the demo credentials. `previous` is what
    an earlier seed returned (the credentials file): its passwords and secrets are kept where they
    still verify, so reseeding with it changes nothing that exists."""
    previous = previous or {}
    orgs, school_orgs = seed_organizations(session)
    members = {**orgs, **{f"school:{name}": org for name, org in school_orgs.items()}}
    users = seed_users(session, members, previous)
    schools = {
        **seed_schools(session, school_orgs, lausd_jurisdiction(session), orgs["lausd"]),
        **seed_harbor_schools(session, school_orgs, harbor_jurisdiction(session), orgs[HARBOR_KEY]),
    }
    locations = seed_locations(session, orgs)
    verifier = session.execute(select(User).where(User.email == users[0]["email"])).scalar_one()  # the network admin
    seed_programs(session, orgs, schools, locations, verifier)
    seed_capacity(session, verifier)
    seed_referrals(session, members, schools)
    seed_committees(session, members, schools)
    seed_committees(session, members, schools, HARBOR_COMMITTEES, HARBOR_PLANS)
    clients = seed_clients(session, orgs, public_url=public_url, previous=previous)
    return {"public_url": public_url, "users": users, "clients": clients, "explorer_client_id": EXPLORER_CLIENT_ID}
