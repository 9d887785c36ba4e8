from __future__ import annotations

import uuid

from flask import url_for

from cbs_network.committees.committees import service
from cbs_network.committees.committees.schemas import (
    CommitteeCreateSchema,
    CommitteeDetailSchema,
    CommitteePageSchema,
    CommitteeQuerySchema,
    CommitteeUpdateSchema,
    ComplianceQuerySchema,
    ComplianceSchema,
    DecisionSchema,
    MemberCreateSchema,
    MemberEndSchema,
    MemberSchema,
    MemberUpdateSchema,
    NominationCreateSchema,
)
from cbs_network.committees.models import Committee
from cbs_network.core.db import session
from cbs_network.http.api import Blueprint, created
from cbs_network.http.pagination import paginate
from cbs_network.identity.principal import current_principal

blp = Blueprint(
    "committees",
    __name__,
    url_prefix="/api/v1/committees",
    description="School safety committees (Ed Code 32281): one per school and year, their members, whether they fill "
    "the roles their jurisdictions require, and CBOs' nominations of their staff.",
)

IDS = {
    "committee_id": "2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e",
    "school_id": "4d5e6f7a-8b9c-4d0e-8f1a-2b3c4d5e6f7a",
    "cbo_id": "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
    "user_id": "7d2e5a1c-3b4f-4e6a-8c9d-0e1f2a3b4c5d",
    "member_id": "8e9f0a1b-2c3d-4e4f-9a5b-6c7d8e9f0a1b",
}
STAMPS = {"created_at": "2026-08-20T17:00:00+00:00", "updated_at": "2026-08-20T17:00:00+00:00"}
MEMBER_EXAMPLE = {
    "id": IDS["member_id"],
    "committee_id": IDS["committee_id"],
    "role": "cbo_representative",
    "name": "Dana Example",
    "email": "dana@example.org",
    "user_id": IDS["user_id"],
    "organization_id": IDS["cbo_id"],
    "term_start": "2026-08-15",
    "term_end": "2027-06-30",
    "status": "nominated",
    "nominated_by_organization_id": IDS["cbo_id"],
    "nominated_by_user_id": IDS["user_id"],
    "decided_by_user_id": None,
    "decided_at": None,
    "decision_reason": None,
    "allowed_transitions": ["active", "declined"],
    "version": 1,
    **STAMPS,
}
COMMITTEE_EXAMPLE = {
    "id": IDS["committee_id"],
    "school_id": IDS["school_id"],
    "school_year": "2026-27",
    "meeting_schedule": "Second Tuesday of each month, 3:30pm, library",
    "notes": None,
    "version": 1,
    **STAMPS,
}
DETAIL_EXAMPLE = {**COMMITTEE_EXAMPLE, "members": [MEMBER_EXAMPLE]}
COMPLIANCE_EXAMPLE = {
    "committee_id": IDS["committee_id"],
    "school_id": IDS["school_id"],
    "school_year": "2026-27",
    "compliant": False,
    "required": [
        {"role": "principal_or_designee", "minimum": 1, "filled": 1, "missing": 0, "sources": ["CA: Ed Code 32281(b)(2)"]},
        {
            "role": "cbo_representative",
            "minimum": 1,
            "filled": 0,
            "missing": 1,
            "sources": ["CBS-NETWORK: Network rule: a community-based organization on every committee (IAU recommendation)"],
        },
    ],
    "missing_roles": ["cbo_representative"],
    "terms_ending": [{"member_id": IDS["member_id"], "role": "parent", "name": "Rosa Example", "term_end": "2026-10-31"}],
    "as_of": "2026-09-15",
    "within_days": 60,
}


def _detail(committee: Committee):
    return service.present(session(), current_principal(), committee)


def _member(member):
    return service.present_member(session(), current_principal(), member)


def _member_location(member) -> dict[str, str]:
    return created(url_for(".get_member", committee_id=member.committee_id, member_id=member.id))


@blp.route("", methods=["GET"])
@blp.requires("committees:read")
@blp.arguments(CommitteeQuerySchema, location="query")
@blp.response(200, CommitteePageSchema, example={"items": [COMMITTEE_EXAMPLE], "next_cursor": None})
def list_committees(args):
    """Committees of the network

    Filters combine with AND; `region` and `board_district` are the school's. `compliant`
    keeps the committees that fill (true) or lack (false) a role their school's jurisdictions
    require, judged on `as_of` (default today).
    """
    query = service.list_query(session=session(), principal=current_principal(), **args)
    return paginate(session(), query, Committee, args)


@blp.route("", methods=["POST"])
@blp.requires("committees:write")
@blp.arguments(CommitteeCreateSchema, example={k: COMMITTEE_EXAMPLE[k] for k in ("school_id", "school_year", "meeting_schedule")})
@blp.response(201, CommitteeDetailSchema, example={**COMMITTEE_EXAMPLE, "members": []})
def create_committee(data):
    """Create a school's committee for a school year

    The school side only (the school, its own district, network admins). One per school and year:
    a second is 409.
    """
    committee = service.create(session=session(), principal=current_principal(), data=data)
    return _detail(committee), 201, created(url_for(".get_committee", committee_id=committee.id))


@blp.route("/<uuid:committee_id>", methods=["GET"])
@blp.requires("committees:read")
@blp.response(200, CommitteeDetailSchema, example=DETAIL_EXAMPLE)
def get_committee(committee_id: uuid.UUID):
    """Get a committee with its members

    Members' names are public to the network; their email only to the school side and to the
    organization the member represents.
    """
    return _detail(service.get(session=session(), committee_id=committee_id))


@blp.route("/<uuid:committee_id>", methods=["PATCH"])
@blp.requires("committees:write")
@blp.arguments(CommitteeUpdateSchema, example={"meeting_schedule": "First Monday of each month, 3pm"})
@blp.if_match
@blp.response(200, CommitteeDetailSchema, example=DETAIL_EXAMPLE)
def update_committee(data, committee_id: uuid.UUID, expected_version: int):
    """Change a committee's meeting schedule or notes (the school side)"""
    committee = service.update(
        session=session(), principal=current_principal(), committee_id=committee_id, data=data, expected_version=expected_version
    )
    return _detail(committee)


@blp.route("/<uuid:committee_id>/compliance", methods=["GET"])
@blp.requires("committees:read")
@blp.arguments(ComplianceQuerySchema, location="query")
@blp.response(200, ComplianceSchema, example=COMPLIANCE_EXAMPLE)
def committee_compliance(args, committee_id: uuid.UUID):
    """Whether the committee fills the roles its school's jurisdictions require

    Counts active members whose term covers `as_of` (default today, UTC). A role applies when
    any of the school's jurisdictions asks for it (some only from a grade up, e.g. a pupil for
    grades 9-12); `terms_ending` lists active members whose term ends within `within_days`, or
    has already ended.
    """
    return service.compliance(session=session(), committee_id=committee_id, **args)


@blp.route("/<uuid:committee_id>/members", methods=["POST"])
@blp.requires("committees:write")
@blp.arguments(
    MemberCreateSchema,
    example={
        "role": "parent",
        "name": "Rosa Example",
        "email": "rosa@example.org",
        "term_start": "2026-08-15",
        "term_end": "2027-06-30",
    },
)
@blp.response(201, MemberSchema, example={**MEMBER_EXAMPLE, "status": "active", "allowed_transitions": ["ended"]})
def add_member(data, committee_id: uuid.UUID):
    """Seat a member directly (the school side); the member is active

    `organization_id` is the organization the member represents; `user_id` when the member is
    a hub user. A term that ends before it starts is 422.
    """
    member = service.add_member(session=session(), principal=current_principal(), committee_id=committee_id, data=data)
    return _member(member), 201, _member_location(member)


@blp.route("/<uuid:committee_id>/members/<uuid:member_id>", methods=["GET"])
@blp.requires("committees:read")
@blp.response(200, MemberSchema, example=MEMBER_EXAMPLE)
def get_member(committee_id: uuid.UUID, member_id: uuid.UUID):
    """Get a committee member"""
    return _member(service.get_member(session=session(), committee_id=committee_id, member_id=member_id))


@blp.route("/<uuid:committee_id>/members/<uuid:member_id>", methods=["PATCH"])
@blp.requires("committees:write")
@blp.arguments(MemberUpdateSchema, example={"term_end": "2027-06-30"})
@blp.if_match
@blp.response(200, MemberSchema, example=MEMBER_EXAMPLE)
def update_member(data, committee_id: uuid.UUID, member_id: uuid.UUID, expected_version: int):
    """Change a member's name, email, organization or term (the school side)

    Status changes go through `/decision` and `/end`; a declined or ended seat is not changed (409).
    """
    member = service.update_member(
        session=session(),
        principal=current_principal(),
        committee_id=committee_id,
        member_id=member_id,
        data=data,
        expected_version=expected_version,
    )
    return _member(member)


@blp.route("/<uuid:committee_id>/nominations", methods=["POST"])
@blp.requires("committees:write")
@blp.arguments(
    NominationCreateSchema,
    example={"user_id": IDS["user_id"], "role": "cbo_representative", "term_start": "2026-08-15", "term_end": "2027-06-30"},
)
@blp.response(201, MemberSchema, example=MEMBER_EXAMPLE)
def nominate(data, committee_id: uuid.UUID):
    """Nominate one of your staff to a committee (CBOs)

    The nominee must be a user of your organization; the member waits in `nominated` with your
    organization as the one represented, until the school side decides.
    """
    member = service.nominate(session=session(), principal=current_principal(), committee_id=committee_id, data=data)
    return _member(member), 201, _member_location(member)


@blp.route("/<uuid:committee_id>/members/<uuid:member_id>/decision", methods=["POST"])
@blp.requires("committees:write")
@blp.arguments(DecisionSchema, example={"decision": "decline", "reason": "The committee already has two CBO representatives."})
@blp.response(
    200,
    MemberSchema,
    example={
        **MEMBER_EXAMPLE,
        "status": "active",
        "allowed_transitions": ["ended"],
        "decided_by_user_id": IDS["user_id"],
        "decided_at": "2026-08-22T17:00:00+00:00",
    },
)
def decide_nomination(data, committee_id: uuid.UUID, member_id: uuid.UUID):
    """Approve or decline a nomination (the school side)

    Approving makes the member active; declining needs a reason. A nomination already decided
    is 409 naming its status.
    """
    member = service.decide(
        session=session(), principal=current_principal(), committee_id=committee_id, member_id=member_id, **data
    )
    return _member(member)


@blp.route("/<uuid:committee_id>/members/<uuid:member_id>/end", methods=["POST"])
@blp.requires("committees:write")
@blp.arguments(MemberEndSchema, example={"reason": "Moved to another school.", "term_end": "2027-01-31"})
@blp.response(
    200, MemberSchema, example={**MEMBER_EXAMPLE, "status": "ended", "term_end": "2027-01-31", "allowed_transitions": []}
)
def end_member(data, committee_id: uuid.UUID, member_id: uuid.UUID):
    """End an active member's seat

    The school side, or the organization the member represents. `term_end` defaults to today.
    """
    member = service.end_member(
        session=session(), principal=current_principal(), committee_id=committee_id, member_id=member_id, **data
    )
    return _member(member)
