"""The access matrix: every object endpoint tried as an actor of ANOTHER organization, and every
/api/v1 operation tried without a token and with a token lacking its scope.

Conventions under test: an object another organization may not see is 404 (the same answer as
for an id that does not exist); a visible object it may not change is 403 (organizations are
the network's directory, readable by every member); a missing scope is 403 with
WWW-Authenticate error="insufficient_scope"; no token is 401 with WWW-Authenticate. A refused
request changes nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any, Callable

import pytest
from sqlalchemy import func, select

from cbs_network.audit.models import AuditRecord
from cbs_network.capacity.models import CapacityProfile
from cbs_network.committees.models import Committee, CommitteeMember, PlanNeed, SafetyPlan
from cbs_network.directory.models import Location, Program, School
from cbs_network.identity.models import Membership, User
from cbs_network.identity.roles import ROLE_SCOPES, SCOPES, Role
from cbs_network.oauth.models import OAuthClient, OAuthToken, token_hash
from cbs_network.organizations.models import Organization, OrganizationKind

from . import factories
from .helpers import PROBLEM

# --- the victim organization's objects ---------------------------------------------------------


@dataclass
class Victim:
    """What one organization owns, as the matrix addresses it."""

    organization: Organization
    membership: Membership  # a member's membership (not its last admin's, where it has a choice)
    user: User  # that member
    invited: User  # a user who was invited and has not set a password yet
    client: OAuthClient  # a confidential client of the organization
    program: Program | None = None  # an active program of the organization
    location: Location | None = None  # a confidential location (a safe house) of the organization
    # A district's (owners in DISTRICTS only): a school of its own, with the school's own
    # organization under it, the school's committee with a seated member and a CBO's pending
    # nomination, and its safety plan (submitted, so approving is a real move) with a need.
    school: School | None = None
    committee: Committee | None = None
    member: CommitteeMember | None = None
    nomination: CommitteeMember | None = None
    plan: SafetyPlan | None = None
    need: PlanNeed | None = None


# owner organization -> the actor whose membership/user the matrix targets
MEMBER_OF = {
    "district": "district_coordinator",
    "city": "city_admin",
    "cbo": "cbo_caseworker",
    "hub": "network_admin",
    "district2": "district2_coordinator",
    "cbo2": "cbo2_caseworker",
}
# owner organization -> the actor whose OAuth client the matrix targets
CLIENT_OF = {
    "district": "district_admin",
    "city": "city_admin",
    "cbo": "cbo_admin",
    "hub": "network_admin",
    "district2": "district2_admin",
    "cbo2": "cbo2_admin",
}
DISTRICTS = ("district", "district2")  # the owners with schools, committees and plans

# (the organization whose objects are attacked, the actor of another organization attacking them)
PAIRS = [
    ("district", "city_admin"),
    ("district", "cbo_admin"),
    ("district", "cbo_caseworker"),
    ("city", "district_admin"),
    ("city", "district_viewer"),
    ("cbo", "city_admin"),
    ("cbo", "district_coordinator"),
    ("hub", "district_admin"),
    ("hub", "cbo_caseworker"),
    # Tenants of the same kind: a school district is not another district's district, a CBO not another's.
    ("district", "district2_admin"),
    ("district", "district2_coordinator"),
    ("district2", "district_admin"),
    ("district2", "district_coordinator"),
    ("district2", "cbo2_admin"),
    ("cbo", "cbo2_admin"),
    ("cbo", "cbo2_caseworker"),
    ("cbo2", "cbo_admin"),
    ("cbo2", "cbo_caseworker"),
]


@pytest.fixture
def network(db_session):
    """The shared small network, with a second district and a second CBO."""
    return factories.Network.build(second_tenants=True)


def _school_side(db_session, district: Organization) -> dict[str, Any]:
    """A school of `district` with its committee and plan, as build_victim describes them."""
    school_org = factories.OrganizationFactory(kind=OrganizationKind.school, name="Victim school", parent_id=district.id)
    nominating = factories.OrganizationFactory(kind=OrganizationKind.cbo, name="Victim's nominating CBO")
    school = factories.SchoolFactory(name="Victim school", organization_id=school_org.id, district_id=district.id)
    committee = Committee(id=uuid.uuid4(), school_id=school.id, school_year="2026-27")
    plan = SafetyPlan(
        id=uuid.uuid4(),
        school_id=school.id,
        school_year="2026-27",
        state="submitted",
        due_on=date(2027, 3, 1),
        due_rule="CA (test)",
        public_meeting_on=date(2026, 8, 20),
        summary="Victim plan",
    )
    db_session.add_all([committee, plan])
    db_session.flush()
    member = CommitteeMember(
        id=uuid.uuid4(),
        committee_id=committee.id,
        role="parent",
        name="Victim parent",
        email="parent@victim.example.org",
        organization_id=school_org.id,
        status="active",
    )
    nomination = CommitteeMember(
        id=uuid.uuid4(),
        committee_id=committee.id,
        role="cbo_representative",
        name="Victim rep",
        email="rep@victim.example.org",
        organization_id=nominating.id,
        nominated_by_organization_id=nominating.id,
        status="nominated",
    )
    need = PlanNeed(
        id=uuid.uuid4(), plan_id=plan.id, need_type="safe_passage", description="Walk to the bus", priority="high", status="open"
    )
    db_session.add_all([member, nomination, need])
    return {"school": school, "committee": committee, "member": member, "nomination": nomination, "plan": plan, "need": need}


def build_victim(db_session, network, owner: str) -> Victim:
    organization = getattr(network, owner)
    member = network[MEMBER_OF[owner]]
    invited = factories.UserFactory(password_hash=None, invitation_token_hash=token_hash(uuid.uuid4().hex))
    factories.MembershipFactory(user=invited, organization=organization, role=Role.viewer)
    membership = db_session.scalars(
        select(Membership).where(Membership.user_id == member.user.id, Membership.organization_id == organization.id)
    ).one()
    program = Program(
        id=uuid.uuid4(), organization_id=organization.id, name="Victim program", program_type="mentoring", status="active"
    )
    db_session.add(program)
    db_session.flush()  # the program row first: its capacity profile refers to it
    db_session.add(CapacityProfile(id=uuid.uuid4(), program_id=program.id, total_slots=10, available_slots=2, slot_unit="youth"))
    school_side = _school_side(db_session, organization) if owner in DISTRICTS else {}
    location = Location(
        id=uuid.uuid4(),
        organization_id=organization.id,
        name="Victim safe house",
        address_1="1 Hidden Way",
        latitude=34.05,
        longitude=-118.25,
        is_confidential=True,
        front_door_contact="Call (213) 555-0100",
    )
    db_session.add(location)
    db_session.commit()
    db_session.expunge_all()  # plain snapshots: the requests use sessions of their own
    return Victim(
        organization,
        membership,
        member.user,
        invited,
        network[CLIENT_OF[owner]].client,
        program=program,
        location=location,
        **school_side,
    )


def database_state(db_session, victim: Victim) -> dict[str, Any]:
    """Everything a refused request could have changed, read afresh from the database."""

    def row(model, ident, *columns):
        found = db_session.execute(select(*(getattr(model, c) for c in columns)).where(model.id == ident)).first()
        return tuple(found) if found else None

    org_id = victim.organization.id
    return {
        "organization": row(Organization, org_id, "version", "name", "status", "website"),
        "membership": row(Membership, victim.membership.id, "version", "role"),
        "user": row(User, victim.user.id, "version", "name", "is_active"),
        "invited": row(User, victim.invited.id, "version", "invitation_token_hash", "invitation_expires_at"),
        "client": row(OAuthClient, victim.client.id, "version", "name", "is_active", "client_secret_hash", "redirect_uris"),
        "members": sorted(
            (str(user_id), str(role))
            for user_id, role in db_session.execute(
                select(Membership.user_id, Membership.role).where(Membership.organization_id == org_id)
            )
        ),
        "users": db_session.scalar(select(func.count()).select_from(User)),
        "clients": db_session.scalar(select(func.count()).select_from(OAuthClient)),
        "revoked_tokens": db_session.scalar(
            select(func.count()).select_from(OAuthToken).where(OAuthToken.access_revoked_at.is_not(None))
        ),
        "audit_records": db_session.scalar(select(func.count()).select_from(AuditRecord)),
        "program": row(Program, victim.program.id, "version", "name", "status", "assured_at"),
        "school": row(School, victim.school.id, "version", "name", "status", "district_id") if victim.school else None,
        "committee": row(Committee, victim.committee.id, "version", "notes") if victim.committee else None,
        "committee_members": sorted(
            (str(i), v, str(s))
            for i, v, s in db_session.execute(select(CommitteeMember.id, CommitteeMember.version, CommitteeMember.status))
        ),
        "plans": sorted(
            (str(i), v, str(s)) for i, v, s in db_session.execute(select(SafetyPlan.id, SafetyPlan.version, SafetyPlan.state))
        ),
        "committees": db_session.scalar(select(func.count()).select_from(Committee)),
        "needs": sorted(
            (str(i), v, str(s)) for i, v, s in db_session.execute(select(PlanNeed.id, PlanNeed.version, PlanNeed.status))
        ),
        "location": row(Location, victim.location.id, "version", "name", "address_1", "is_confidential"),
        "capacity": tuple(
            db_session.execute(
                select(CapacityProfile.version, CapacityProfile.total_slots).where(
                    CapacityProfile.program_id == victim.program.id
                )
            ).one()
        ),
    }


# --- the endpoints -------------------------------------------------------------------------------


@dataclass
class Endpoint:
    name: str
    method: str
    path: Callable[[Victim], str]  # the victim's object
    scope: str | None  # None: any valid token (the object policy alone decides)
    status: int  # for an attacker whose role holds the scope: 404 (cannot see) or 403 (can see, cannot change)
    version: Callable[[Victim], int] | None = None  # If-Match, for PATCH and DELETE
    body: Callable[[Victim, Any], dict] | None = None  # (victim, attacker) -> JSON body
    owners: tuple[str, ...] | None = None  # the owners whose objects it addresses (None: every owner)

    def call(self, client, victim: Victim, attacker, path: str | None = None):
        headers = dict(attacker.headers)
        if self.version is not None:
            headers["If-Match"] = f'"{self.version(victim)}"'
        kwargs = {"headers": headers}
        if self.body is not None:
            kwargs["json"] = self.body(victim, attacker)
        return client.open(path or self.path(victim), method=self.method, **kwargs)


def _committee(v: Victim, rest: str = "") -> str:
    return f"/api/v1/committees/{v.committee.id}{rest}"


def _plan(v: Victim, rest: str = "") -> str:
    return f"/api/v1/safety-plans/{v.plan.id}{rest}"


# A school's committee and plan: read by every member, kept by the school side (the school, its
# own district, network admins) and approved by its own district; another district is refused.
COMMITTEE_ENDPOINTS = [
    Endpoint(*args, **kwargs, owners=DISTRICTS)
    for args, kwargs in [
        (
            ("create the school's committee", "POST", lambda v: "/api/v1/committees", "committees:write", 403),
            {"body": lambda v, a: {"school_id": str(v.school.id), "school_year": "2030-31"}},
        ),
        (("get committee", "GET", _committee, "committees:read", 200), {}),
        (
            ("update committee", "PATCH", _committee, "committees:write", 403),
            {"version": lambda v: v.committee.version, "body": lambda v, a: {"notes": "Taken over"}},
        ),
        (("committee compliance", "GET", lambda v: _committee(v, "/compliance"), "committees:read", 200), {}),
        (
            ("seat a member", "POST", lambda v: _committee(v, "/members"), "committees:write", 403),
            {"body": lambda v, a: {"role": "parent", "name": "Intruder", "email": "intruder@evil.example.org"}},
        ),
        (("get member", "GET", lambda v: _committee(v, f"/members/{v.member.id}"), "committees:read", 200), {}),
        (
            ("update member", "PATCH", lambda v: _committee(v, f"/members/{v.member.id}"), "committees:write", 403),
            {"version": lambda v: v.member.version, "body": lambda v, a: {"name": "Taken over", "email": "x@evil.example.org"}},
        ),
        (
            (
                "decide nomination",
                "POST",
                lambda v: _committee(v, f"/members/{v.nomination.id}/decision"),
                "committees:write",
                403,
            ),
            {"body": lambda v, a: {"decision": "approve"}},
        ),
        (
            ("end member", "POST", lambda v: _committee(v, f"/members/{v.member.id}/end"), "committees:write", 403),
            {"body": lambda v, a: {"reason": "Taken over"}},
        ),
        (
            ("open the school's plan", "POST", lambda v: "/api/v1/safety-plans", "committees:write", 403),
            {"body": lambda v, a: {"school_id": str(v.school.id), "school_year": "2030-31"}},
        ),
        (("get plan", "GET", _plan, "committees:read", 200), {}),
        (
            ("update plan", "PATCH", _plan, "committees:write", 403),
            {"version": lambda v: v.plan.version, "body": lambda v, a: {"summary": "Taken over"}},
        ),
        (
            ("approve plan", "POST", lambda v: _plan(v, "/transitions"), "committees:write", 403),
            {"body": lambda v, a: {"to": "approved"}},
        ),
        (("list plan needs", "GET", lambda v: _plan(v, "/needs"), "committees:read", 200), {}),
        (
            ("add plan need", "POST", lambda v: _plan(v, "/needs"), "committees:write", 403),
            {"body": lambda v, a: {"need_type": "mental_health", "description": "Taken over"}},
        ),
        (("get plan need", "GET", lambda v: _plan(v, f"/needs/{v.need.id}"), "committees:read", 200), {}),
        (
            ("update plan need", "PATCH", lambda v: _plan(v, f"/needs/{v.need.id}"), "committees:write", 403),
            {"version": lambda v: v.need.version, "body": lambda v, a: {"status": "met"}},
        ),
        (
            ("delete plan need", "DELETE", lambda v: _plan(v, f"/needs/{v.need.id}"), "committees:write", 403),
            {"version": lambda v: v.need.version},
        ),
    ]
]
# Object endpoints the matrix leaves out, and why.
NOT_IN_THE_MATRIX = {
    # Any CBO puts its own staff forward for any school's committee (the school side decides):
    # a nomination by another organization is the endpoint's purpose, not a breach.
    ("POST", "/api/v1/committees/<uuid:committee_id>/nominations"),
}


ENDPOINTS = [
    Endpoint("get organization", "GET", lambda v: f"/api/v1/organizations/{v.organization.id}", "organizations:read", 200),
    Endpoint(
        "update organization",
        "PATCH",
        lambda v: f"/api/v1/organizations/{v.organization.id}",
        "organizations:write",
        403,
        version=lambda v: v.organization.version,
        body=lambda v, a: {"name": "Taken over", "website": "https://evil.example.org"},
    ),
    Endpoint(
        "delete organization",
        "DELETE",
        lambda v: f"/api/v1/organizations/{v.organization.id}",
        "organizations:write",
        403,
        version=lambda v: v.organization.version,
    ),
    Endpoint(
        "list organization's memberships",
        "GET",
        lambda v: f"/api/v1/organizations/{v.organization.id}/memberships",
        "users:read",
        404,
    ),
    Endpoint(
        "invite into organization",
        "POST",
        lambda v: f"/api/v1/organizations/{v.organization.id}/memberships",
        "users:write",
        403,
        body=lambda v, a: {"email": a.user.email, "role": "org_admin"},
    ),
    Endpoint("get membership", "GET", lambda v: f"/api/v1/memberships/{v.membership.id}", "users:read", 404),
    Endpoint(
        "update membership",
        "PATCH",
        lambda v: f"/api/v1/memberships/{v.membership.id}",
        "users:write",
        404,
        version=lambda v: v.membership.version,
        body=lambda v, a: {"role": "viewer"},
    ),
    Endpoint(
        "delete membership",
        "DELETE",
        lambda v: f"/api/v1/memberships/{v.membership.id}",
        "users:write",
        404,
        version=lambda v: v.membership.version,
    ),
    # Only the person a pending membership was offered to answers it.
    Endpoint("accept membership", "POST", lambda v: f"/api/v1/memberships/{v.membership.id}/accept", None, 404),
    Endpoint("decline membership", "POST", lambda v: f"/api/v1/memberships/{v.membership.id}/decline", None, 404),
    Endpoint("get user", "GET", lambda v: f"/api/v1/users/{v.user.id}", "users:read", 404),
    Endpoint(
        "update user",
        "PATCH",
        lambda v: f"/api/v1/users/{v.user.id}",
        "users:write",
        404,
        version=lambda v: v.user.version,
        body=lambda v, a: {"name": "Taken over"},
    ),
    Endpoint("reissue invitation", "POST", lambda v: f"/api/v1/users/{v.invited.id}/invitation", "users:write", 404),
    Endpoint("get client", "GET", lambda v: f"/api/v1/clients/{v.client.id}", "clients:read", 404),
    Endpoint(
        "update client",
        "PATCH",
        lambda v: f"/api/v1/clients/{v.client.id}",
        "clients:write",
        404,
        version=lambda v: v.client.version,
        body=lambda v, a: {"name": "Taken over", "redirect_uris": ["https://evil.example.org/cb"]},
    ),
    Endpoint(
        "deactivate client",
        "DELETE",
        lambda v: f"/api/v1/clients/{v.client.id}",
        "clients:write",
        404,
        version=lambda v: v.client.version,
    ),
    Endpoint("rotate client secret", "POST", lambda v: f"/api/v1/clients/{v.client.id}/secret", "clients:write", 404),
    Endpoint("list audit log", "GET", lambda v: f"/api/v1/audit?organization_id={v.organization.id}", "audit:read", 403),
    Endpoint("get program", "GET", lambda v: f"/api/v1/programs/{v.program.id}", "directory:read", 200),
    Endpoint(
        "update program",
        "PATCH",
        lambda v: f"/api/v1/programs/{v.program.id}",
        "directory:write",
        403,
        version=lambda v: v.program.version,
        body=lambda v, a: {"name": "Taken over", "status": "defunct"},
    ),
    Endpoint(
        "delete program",
        "DELETE",
        lambda v: f"/api/v1/programs/{v.program.id}",
        "directory:write",
        403,
        version=lambda v: v.program.version,
    ),
    Endpoint("verify program", "POST", lambda v: f"/api/v1/programs/{v.program.id}/verification", "directory:write", 403),
    Endpoint("get school", "GET", lambda v: f"/api/v1/schools/{v.school.id}", "directory:read", 200, owners=DISTRICTS),
    Endpoint(
        "update school",
        "PATCH",
        lambda v: f"/api/v1/schools/{v.school.id}",
        "directory:write",
        403,
        owners=DISTRICTS,
        version=lambda v: v.school.version,
        body=lambda v, a: {"name": "Taken over", "status": "closed"},
    ),
    Endpoint("get location", "GET", lambda v: f"/api/v1/locations/{v.location.id}", "directory:read", 200),
    Endpoint(
        "update location",
        "PATCH",
        lambda v: f"/api/v1/locations/{v.location.id}",
        "directory:write",
        403,
        version=lambda v: v.location.version,
        body=lambda v, a: {"name": "Taken over", "is_confidential": False},
    ),
    Endpoint(
        "delete location",
        "DELETE",
        lambda v: f"/api/v1/locations/{v.location.id}",
        "directory:write",
        403,
        version=lambda v: v.location.version,
    ),
    Endpoint("get capacity", "GET", lambda v: f"/api/v1/programs/{v.program.id}/capacity", "capacity:read", 200),
    Endpoint(
        "update capacity",
        "PUT",
        lambda v: f"/api/v1/programs/{v.program.id}/capacity",
        "capacity:write",
        403,
        version=lambda v: 1,
        body=lambda v, a: {"total_slots": 99, "available_slots": 99, "slot_unit": "youth"},
    ),
    Endpoint("capacity history", "GET", lambda v: f"/api/v1/programs/{v.program.id}/capacity/history", "capacity:read", 200),
    Endpoint("capacity check", "GET", lambda v: f"/api/v1/programs/{v.program.id}/capacity/check", "capacity:read", 200),
    Endpoint("object history", "GET", lambda v: f"/api/v1/audit/organization/{v.organization.id}", "audit:read", 403),
    *COMMITTEE_ENDPOINTS,
]


def _without_noise(body: dict) -> dict:
    return {k: v for k, v in body.items() if k not in ("instance", "request_id")}


def _random_path(path: str, victim: Victim) -> str:
    """The same path with the victim's object id replaced by one that does not exist."""
    school_side = (victim.school, victim.committee, victim.member, victim.nomination, victim.plan, victim.need)
    for ident in (
        victim.organization.id,
        victim.membership.id,
        victim.user.id,
        victim.invited.id,
        victim.client.id,
        victim.program.id,
        victim.location.id,
        *(row.id for row in school_side if row is not None),
    ):
        if str(ident) in path:
            return path.replace(str(ident), str(uuid.uuid4()))
    raise AssertionError(f"no victim id in {path}")


# Every endpoint against every (owner, attacker) pair whose owner has such an object.
CASES = [
    pytest.param(endpoint, owner, attacker, id=f"{endpoint.name}-{owner}-{attacker}")
    for endpoint in ENDPOINTS
    for owner, attacker in PAIRS
    if endpoint.owners is None or owner in endpoint.owners
]


@pytest.mark.parametrize(("endpoint", "owner", "attacker_name"), CASES)
def test_another_organization_cannot_see_or_change(client, network, db_session, endpoint, owner, attacker_name):
    victim = build_victim(db_session, network, owner)
    attacker = network[attacker_name]
    assert attacker.organization.id != victim.organization.id
    before = database_state(db_session, victim)

    response = endpoint.call(client, victim, attacker)

    lacks_scope = endpoint.scope is not None and endpoint.scope not in ROLE_SCOPES[attacker.role]
    expected = 403 if lacks_scope else endpoint.status
    assert response.status_code == expected, (endpoint.name, attacker_name, response.get_data(as_text=True))
    if expected >= 400:
        assert response.mimetype == PROBLEM
        body = response.get_json()
        assert body["status"] == expected and body["detail"]
    if lacks_scope:
        assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]
    elif expected == 403:
        assert "WWW-Authenticate" not in response.headers  # an object policy refusal, not a scope one
    if expected == 404:
        # Indistinguishable from an id that does not exist: nothing about the object leaks.
        missing = endpoint.call(client, victim, attacker, path=_random_path(endpoint.path(victim), victim))
        assert missing.status_code == 404
        assert _without_noise(missing.get_json()) == _without_noise(response.get_json())
    if expected == 200:
        body = response.get_json()
        if "items" in body:  # a list of the object's rows (capacity history, a plan's needs)
            assert all(item.get("program_id", item.get("plan_id")) in endpoint.path(victim) for item in body["items"])
        else:
            assert next(body[k] for k in ("program_id", "committee_id", "plan_id", "id") if k in body) in endpoint.path(victim)
        # Committee members' emails are for the school side and the organization a member represents.
        assert "@victim.example.org" not in response.get_data(as_text=True)
        if "/locations/" in endpoint.path(victim):
            assert "address_1" not in response.get_json()  # the victim's location is confidential

    db_session.expunge_all()
    assert database_state(db_session, victim) == before


def test_the_matrix_covers_every_object_endpoint(app):
    """A new object endpoint must be added to the matrix (or to the exceptions here)."""
    covered = {(e.method, e.path(_FAKE_VICTIM).split("?")[0]) for e in ENDPOINTS}
    missing = []
    for rule in _api_rules(app):
        if not rule.arguments:
            continue  # collections: no particular object
        path = _build_path(
            app,
            rule,
            {
                "organization_id": _FAKE_VICTIM.organization.id,
                "membership_id": _FAKE_VICTIM.membership.id,
                "user_id": _FAKE_VICTIM.invited.id if rule.rule.endswith("/invitation") else _FAKE_VICTIM.user.id,
                "client_uuid": _FAKE_VICTIM.client.id,
                "program_id": _FAKE_VICTIM.program.id,
                "school_id": _FAKE_VICTIM.school.id,
                "location_id": _FAKE_VICTIM.location.id,
                "object_type": "organization",
                "object_id": _FAKE_VICTIM.organization.id,
                "committee_id": _FAKE_VICTIM.committee.id,
                "member_id": _FAKE_VICTIM.member.id,
                "plan_id": _FAKE_VICTIM.plan.id,
                "need_id": _FAKE_VICTIM.need.id,
            },
        )
        for method in _methods(rule):
            if (method, rule.rule) in NOT_IN_THE_MATRIX:
                continue
            if path is None or (method, path) not in covered:
                missing.append(f"{method} {rule.rule}")
    # Only the object endpoints of the packages this matrix knows are required to be covered;
    # other packages' endpoints are listed so the gap is visible when this test fails.
    known = (
        "/api/v1/organizations",
        "/api/v1/memberships",
        "/api/v1/users",
        "/api/v1/clients",
        "/api/v1/audit",
        "/api/v1/programs",
        "/api/v1/schools",
        "/api/v1/locations",
        "/api/v1/committees",
        "/api/v1/safety-plans",
    )
    assert not [m for m in missing if m.split(" ", 1)[1].startswith(known)], missing


class _Fake:
    def __init__(self, **kw):
        self.__dict__.update(kw)


_FAKE_MEMBER = _Fake(id=uuid.uuid4(), version=1)  # a nomination is a member too: one id for both routes
_FAKE_VICTIM = Victim(
    organization=_Fake(id=uuid.uuid4(), version=1),
    membership=_Fake(id=uuid.uuid4(), version=1),
    user=_Fake(id=uuid.uuid4(), version=1),
    invited=_Fake(id=uuid.uuid4(), version=1),
    client=_Fake(id=uuid.uuid4(), version=1),
    program=_Fake(id=uuid.uuid4(), version=1),
    school=_Fake(id=uuid.uuid4(), version=1),
    location=_Fake(id=uuid.uuid4(), version=1),
    committee=_Fake(id=uuid.uuid4(), version=1),
    member=_FAKE_MEMBER,
    nomination=_FAKE_MEMBER,
    plan=_Fake(id=uuid.uuid4(), version=1),
    need=_Fake(id=uuid.uuid4(), version=1),
)


# --- lists never carry another organization's rows ---------------------------------------------


@pytest.mark.parametrize("attacker_name", ["city_admin", "cbo_caseworker", "district_viewer"])
def test_lists_only_carry_the_own_organizations_rows(client, network, attacker_name):
    attacker = network[attacker_name]
    own_org = attacker.organization.id
    own_users = {str(a.user.id) for a in network.actors.values() if a.organization.id == own_org}
    own_clients = {str(a.client.id) for a in network.actors.values() if a.organization.id == own_org}

    users = client.get("/api/v1/users?limit=200", headers=attacker.headers).get_json()["items"]
    clients = client.get("/api/v1/clients?limit=200", headers=attacker.headers).get_json()["items"]
    members = client.get(f"/api/v1/organizations/{own_org}/memberships?limit=200", headers=attacker.headers).get_json()["items"]

    assert {u["id"] for u in users} == own_users
    assert {c["id"] for c in clients} == own_clients
    assert {m["user"]["id"] for m in members} == own_users
    assert {c["organization_id"] for c in clients} == {str(own_org)}


# --- every operation needs a token ----------------------------------------------------------------


def _api_rules(app):
    return [rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1")]


def _methods(rule) -> list[str]:
    return sorted(rule.methods - {"HEAD", "OPTIONS"})


def _build_path(app, rule, values: dict | None = None) -> str | None:
    adapter = app.url_map.bind("hub.test")
    arguments = {name: (values or {}).get(name, uuid.uuid4()) for name in rule.arguments}
    return adapter.build(rule.endpoint, {k: str(v) for k, v in arguments.items()}, method=_methods(rule)[0])


def _operations(app) -> list[tuple[str, str, Any]]:
    operations = []
    for rule in _api_rules(app):
        for method in _methods(rule):
            operations.append((method, _build_path(app, rule), rule))
    return operations


def test_the_api_has_operations_to_check(app):
    operations = {(method, rule.rule) for method, _path, rule in _operations(app)}
    assert len(operations) >= 23
    assert ("DELETE", "/api/v1/memberships/<uuid:membership_id>") in operations


def _send(client, method: str, path: str, headers: dict | None = None):
    kwargs: dict[str, Any] = {"headers": headers or {}}
    if method in ("POST", "PATCH", "PUT"):
        kwargs["json"] = {}  # authentication comes before body validation
    if method in ("PATCH", "DELETE", "PUT"):
        kwargs["headers"] = {**kwargs["headers"], "If-Match": '"1"'}
    return client.open(path, method=method, **kwargs)


def test_every_operation_without_a_token_is_401(app, client):
    failures = []
    for method, path, _rule in _operations(app):
        response = _send(client, method, path)
        challenge = response.headers.get("WWW-Authenticate", "")
        if (
            response.status_code != 401
            or response.mimetype != PROBLEM
            or response.get_json().get("status") != 401
            or not challenge.startswith("Bearer ")
            or "error=" in challenge  # RFC 6750 §3.1: no error code when no credentials were sent
        ):
            failures.append(f"{method} {path}: {response.status_code} {challenge!r}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("authorization", ["Bearer not-a-token-the-hub-issued", "Basic dXNlcjpwYXNz", "Bearer"])
def test_every_operation_with_a_bad_token_is_401(app, client, authorization):
    failures = []
    for method, path, _rule in _operations(app):
        response = _send(client, method, path, {"Authorization": authorization})
        if response.status_code != 401 or not response.headers.get("WWW-Authenticate", "").startswith("Bearer "):
            failures.append(f"{method} {path}: {response.status_code}")
    assert not failures, "\n".join(failures)


def test_every_operation_with_a_token_lacking_its_scope_is_403(app, client, network, db_session):
    failures, checked = [], 0
    for method, path, rule in _operations(app):
        required = app.view_functions[rule.endpoint]._apidoc.get("hub_scopes")
        assert required is not None, f"{method} {rule.rule} is not authenticated"
        if not required:
            continue  # /me: any valid token
        checked += 1
        # A network admin (whose role allows everything) holding every scope but the required ones.
        actor = factories.Network.actor(db_session, network.hub, Role.network_admin, scopes=sorted(set(SCOPES) - set(required)))
        db_session.commit()
        db_session.expunge_all()
        response = _send(client, method, path, actor.headers)
        challenge = response.headers.get("WWW-Authenticate", "")
        if (
            response.status_code != 403
            or response.mimetype != PROBLEM
            or 'error="insufficient_scope"' not in challenge
            or f'scope="{" ".join(required)}"' not in challenge
        ):
            failures.append(f"{method} {path}: {response.status_code} {challenge!r}")
    assert checked >= 20
    assert not failures, "\n".join(failures)


def test_scope_checks_come_before_object_lookups(client, network, db_session):
    """A token without the scope learns nothing about which ids exist."""
    actor = factories.Network.actor(db_session, network.district, Role.org_admin, scopes=["organizations:read"])
    db_session.commit()
    db_session.expunge_all()
    real = network["district_coordinator"].user.id
    existing = client.get(f"/api/v1/users/{real}", headers=actor.headers)
    missing = client.get(f"/api/v1/users/{uuid.uuid4()}", headers=actor.headers)
    assert existing.status_code == missing.status_code == 403
    assert _without_noise(existing.get_json()) == _without_noise(missing.get_json())
