from __future__ import annotations

import uuid

from flask import url_for

from cbs_network.core.db import session
from cbs_network.directory.programs import search, service
from cbs_network.directory.programs.schemas import ProgramCreateSchema, ProgramQuerySchema, ProgramSchema, ProgramUpdateSchema
from cbs_network.http.api import Blueprint, created
from cbs_network.http.pagination import page_schema
from cbs_network.identity.principal import current_principal

blp = Blueprint(
    "programs",
    __name__,
    url_prefix="/api/v1/programs",
    description="Who provides what, where: the network's programs (HSDS services), their eligibility, schedules and service areas.",
)

EXAMPLE = {
    "id": "5b7f1c2e-9a4d-4e3b-8f61-2c0d9e7a4b10",
    "organization_id": "3f0f5d8e-6c1e-4c51-9d3b-0b2f7f3f8a11",
    "name": "Safe Passages: Watts",
    "program_type": "safe_passage",
    "status": "active",
    "minimum_age": 10,
    "maximum_age": 18,
    "minimum_grade": "6",
    "maximum_grade": "12",
    "languages": ["en", "es"],
    "schedules": [{"byday": ["MO", "TU", "WE", "TH", "FR"], "minutes_before_arrival": 60, "minutes_after_dismissal": 90}],
    "accepts_referrals": True,
    "served_regions": ["South"],
    "served_school_ids": [],
    "location_ids": [],
    "assured_at": "2026-09-01T17:00:00+00:00",
    "verification_due_at": "2027-02-28T17:00:00+00:00",
    "stale": False,
    "assured_by_user_id": "7d2e5a1c-3b4f-4e6a-8c9d-0e1f2a3b4c5d",
    "alternate_name": None,
    "description": "Trained adults on the walking routes before and after school.",
    "url": None,
    "email": None,
    "phone": "323-555-0190",
    "application_process": "Referral from the school or a call to the coordinator.",
    "eligibility_description": "Students of the schools on the routes.",
    "population_description": None,
    "fees_description": None,
    "is_free": True,
    "evidence_basis": "community_defined",
    "evidence_description": None,
    "funding_sources": ["City of Los Angeles GRYD"],
    "external_codes": [],
    "contacts": [],
    "service_area_description": "Watts",
    "service_area_geojson": None,
    "version": 4,
    "created_at": "2026-08-01T16:00:00+00:00",
    "updated_at": "2026-11-20T17:00:00+00:00",
}
CREATE_EXAMPLE = {
    "name": "Safe Passages: Watts",
    "program_type": "safe_passage",
    "status": "active",
    "minimum_age": 10,
    "maximum_age": 18,
    "languages": ["en", "es"],
    "accepts_referrals": True,
    "served_regions": ["South"],
}


@blp.route("", methods=["GET"])
@blp.requires("directory:read")
@blp.arguments(ProgramQuerySchema, location="query")
@blp.response(200, page_schema(ProgramSchema), example={"items": [EXAMPLE], "next_cursor": None})
def list_programs(args):
    """Search programs

    Filters combine with AND. `near_lat`+`near_lon` or `near_school` with `radius_m` finds programs
    with a physical location within the radius, nearest first, each with its `distance_m`.
    """
    query = search.list_query(session=session(), principal=current_principal(), **args)
    return search.page(session(), query, args)


@blp.route("", methods=["POST"])
@blp.requires("directory:write")
@blp.arguments(ProgramCreateSchema, example=CREATE_EXAMPLE)
@blp.response(201, ProgramSchema, example=EXAMPLE)
def create_program(data):
    """Add a program (for your organization; network admins for any)"""
    program = service.create(session=session(), principal=current_principal(), data=data)
    return service.present(session(), program), created(url_for(".get_program", program_id=program.id))


@blp.route("/<uuid:program_id>", methods=["GET"])
@blp.requires("directory:read")
@blp.response(200, ProgramSchema, example=EXAMPLE)
def get_program(program_id: uuid.UUID):
    """Get a program"""
    return service.present(session(), service.get(session=session(), principal=current_principal(), program_id=program_id))


@blp.route("/<uuid:program_id>", methods=["PATCH"])
@blp.requires("directory:write")
@blp.arguments(ProgramUpdateSchema, example={"accepts_referrals": False, "languages": ["en", "es", "ko"]})
@blp.if_match
@blp.response(200, ProgramSchema, example=EXAMPLE)
def update_program(data, program_id: uuid.UUID, expected_version: int):
    """Update a program

    The owning organization's coordinators and admins, or network admins. Lists are replaced whole.
    """
    program = service.update(
        session=session(),
        principal=current_principal(),
        program_id=program_id,
        data=data,
        expected_version=expected_version,
    )
    return service.present(session(), program)


@blp.route("/<uuid:program_id>", methods=["DELETE"])
@blp.requires("directory:write")
@blp.if_match
@blp.response(204)
def delete_program(program_id: uuid.UUID, expected_version: int):
    """Delete a draft program (others: set status defunct)"""
    service.delete(session=session(), principal=current_principal(), program_id=program_id, expected_version=expected_version)


@blp.route("/<uuid:program_id>/verification", methods=["POST"])
@blp.requires("directory:write")
@blp.response(200, ProgramSchema, example=EXAMPLE)
def verify_program(program_id: uuid.UUID):
    """Re-verify a program: its listing was checked and is current

    Sets `assured_at` to now and `assured_by_user_id` to the caller, so it is no longer stale.
    """
    return service.present(session(), service.verify(session=session(), principal=current_principal(), program_id=program_id))
