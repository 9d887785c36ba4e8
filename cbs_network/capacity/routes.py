from __future__ import annotations

import uuid

from flask import request, url_for

from cbs_network.capacity import service
from cbs_network.capacity.models import CapacityHistory
from cbs_network.capacity.schemas import (
    CapacityCheckSchema,
    CapacityHistoryArgsSchema,
    CapacityHistorySchema,
    CapacitySchema,
    CapacityUpdateSchema,
)
from cbs_network.core.db import session
from cbs_network.http.api import IF_MATCH_PARAMETER, Blueprint, created
from cbs_network.http.etag import required_if_match_version
from cbs_network.http.pagination import keyset_rows, next_link_header, page_schema
from cbs_network.identity.principal import current_principal

blp = Blueprint(
    "capacity",
    __name__,
    url_prefix="/api/v1/programs",
    description="Programs' capacity: slots, waitlist, staffing, their history, freshness and the pre-referral check.",
)

VALUES = {
    "total_slots": 40,
    "available_slots": 6,
    "slot_unit": "youth",
    "waitlist_length": 0,
    "waitlist_open": True,
    "assessment_required": False,
    "staff_count": 9,
    "certified_interventionists": 4,
    "languages_staffed": ["en", "es"],
    "hours": "Mon-Fri 14:00-19:00",
    "notes": "Summer cohort opens in June.",
}
PROGRAM_ID = "5b7f1c2e-9a4d-4e3b-8f61-2c0d9e7a4b10"
EXAMPLE = {
    "id": "0c4c3b0e-2f0d-4d55-9b1e-6a7f8e9d0c12",
    "program_id": PROGRAM_ID,
    **VALUES,
    "accepting_referrals": True,
    "updated_at": "2026-11-20T17:00:00+00:00",
    "updated_by_user_id": "7d2e5a1c-3b4f-4e6a-8c9d-0e1f2a3b4c5d",
    "version": 3,
    "stale": False,
    "fresh_until": "2026-12-20T17:00:00+00:00",
    "created_at": "2026-09-01T17:00:00+00:00",
}
# If-Match as documented here: needed to change an existing profile, not to create the first one.
OPTIONAL_IF_MATCH = {
    **IF_MATCH_PARAMETER,
    "required": False,
    "description": "The profile's ETag from a previous GET: required (428 without it, 412 when stale) once the "
    "profile exists; omit it to create the program's first profile.",
}


@blp.route("/<uuid:program_id>/capacity", methods=["GET"])
@blp.requires("capacity:read")
@blp.response(200, CapacitySchema, example=EXAMPLE)
def get_capacity(program_id: uuid.UUID):
    """Get a program's capacity profile

    `stale` is true when it was not updated within the network's `capacity_stale_after_days`.
    `accepting_referrals` is the program's `accepts_referrals`, shown here read-only.
    404 when the program has no profile yet.
    """
    return service.present(session(), service.get(session=session(), principal=current_principal(), program_id=program_id))


@blp.route("/<uuid:program_id>/capacity", methods=["PUT"])
@blp.requires("capacity:write")
@blp.arguments(CapacityUpdateSchema, example=VALUES)
@blp.doc(parameters=[OPTIONAL_IF_MATCH], responses={412: "PRECONDITION_FAILED", 428: "PRECONDITION_REQUIRED", 409: "CONFLICT"})
@blp.response(200, CapacitySchema, example=EXAMPLE)
@blp.alt_response(201, schema=CapacitySchema, description="The program's first capacity profile was created", example=EXAMPLE)
def put_capacity(data, program_id: uuid.UUID):
    """Update a program's capacity profile in one call

    The whole profile is replaced; the first update creates it (201, no If-Match), later ones
    need If-Match. Every update, even with the same values, refreshes `updated_at` and adds a
    history row. The program's organization (caseworkers and up) or network admins.

    Whether the program takes referrals is not part of the profile: it is the program's
    `accepts_referrals` (PATCH /api/v1/programs/{program_id}); a body with
    `accepting_referrals` is refused with a 422 that says so.
    """
    expected = required_if_match_version() if "If-Match" in request.headers else None
    profile, was_created = service.update(
        session=session(),
        principal=current_principal(),
        program_id=program_id,
        data=data,
        expected_version=expected,
    )
    shown = service.present(session(), profile)
    if was_created:
        return shown, 201, created(url_for(".get_capacity", program_id=program_id))
    return shown


@blp.route("/<uuid:program_id>/capacity/history", methods=["GET"])
@blp.requires("capacity:read")
@blp.arguments(CapacityHistoryArgsSchema, location="query")
@blp.response(
    200,
    page_schema(CapacityHistorySchema),
    example={
        "items": [
            {
                "id": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
                "program_id": PROGRAM_ID,
                "version": 3,
                "changed_at": "2026-11-20T17:00:00+00:00",
                "changed_by_user_id": "7d2e5a1c-3b4f-4e6a-8c9d-0e1f2a3b4c5d",
                "profile": VALUES,
            }
        ],
        "next_cursor": None,
    },
)
def capacity_history(args, program_id: uuid.UUID):
    """A program's capacity changes over a period, oldest first

    `since` (inclusive) and `until` (exclusive) bound the period; each row is the whole profile
    as it became, who changed it and when.
    """
    query = service.history_query(session=session(), principal=current_principal(), program_id=program_id, **args)
    rows, next_cursor = keyset_rows(
        session(),
        query,
        key="changed_at",
        sort=CapacityHistory.changed_at,
        id_column=CapacityHistory.id,
        limit=args["limit"],
        cursor=args.get("cursor"),
    )
    return {"items": [row[0] for row in rows], "next_cursor": next_cursor}, next_link_header(next_cursor)


@blp.route("/<uuid:program_id>/capacity/check", methods=["GET"])
@blp.requires("capacity:read")
@blp.response(
    200,
    CapacityCheckSchema,
    example={
        "program_id": PROGRAM_ID,
        "status": "waitlist",
        "stale": False,
        "reasons": ["No slot is available; the waitlist is open (12 waiting)."],
    },
)
def capacity_check(program_id: uuid.UUID):
    """Pre-referral capacity check

    `no_capacity` first when the program's `accepts_referrals` is false (sending it a referral
    is refused, so the check says so too); else `unknown` without a profile,
    `assessment_required`, `has_capacity` with a free slot, `waitlist` when full with an open
    waitlist, else `no_capacity`. `stale` flags an answer resting on an old (or missing)
    profile.
    """
    return service.check(session=session(), principal=current_principal(), program_id=program_id)
