from __future__ import annotations

import uuid
from typing import Any

from flask import url_for

from cbs_network.core.db import session
from cbs_network.http import idempotency
from cbs_network.http.api import Blueprint, created
from cbs_network.http.csv_export import CSV_RESPONSE, csv_response
from cbs_network.http.pagination import PageArgsSchema, keyset_rows, next_link_header, page_schema, paginate
from cbs_network.identity.principal import current_principal
from cbs_network.referrals import policy
from cbs_network.referrals.models import Disclosure, Referral, ReferralNote
from cbs_network.referrals.policy import PersonalAccess
from cbs_network.referrals.referrals import service
from cbs_network.referrals.referrals.schemas import (
    DisclosurePageSchema,
    DisclosureQuerySchema,
    EmergencyReviewSchema,
    NoteCreateSchema,
    NoteSchema,
    ReferralCreateSchema,
    ReferralPageSchema,
    ReferralQuerySchema,
    ReferralSchema,
    TransitionCreateSchema,
)
from cbs_network.referrals.subjects import disclosures

blp = Blueprint(
    "referrals",
    __name__,
    url_prefix="/api/v1/referrals",
    description="Closed-loop referrals between organizations: sending with consent, the Gravity SDOH state machine, "
    "outcomes, notes and the records of who saw a student's personal data.",
)

IDS = {
    "id": "3f1e2d4c-5b6a-4978-8a9b-0c1d2e3f4a5b",
    "source_organization_id": "0b7c6d5e-4f3a-4b2c-9d1e-0f9a8b7c6d5e",
    "source_user_id": "7d2e5a1c-3b4f-4e6a-8c9d-0e1f2a3b4c5d",
    "target_program_id": "5b7f1c2e-9a4d-4e3b-8f61-2c0d9e7a4b10",
    "target_organization_id": "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
    "subject_id": "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b",
    "consent_id": "2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f",
    "school_id": "4d5e6f7a-8b9c-4d0e-8f1a-2b3c4d5e6f7a",
}
SUMMARY_EXAMPLE = {
    **IDS,
    "need_type": "mentoring",
    "urgency": "urgent",
    "state": "requested",
    "requested_at": "2026-11-27T16:00:00+00:00",
    "respond_by": "2026-11-30T16:00:00+00:00",
    "overdue": False,
    "service_due_on": None,
    "capacity_place": None,
    "emergency": None,
    "outcome": None,
    "allowed_transitions": ["cancelled", "entered-in-error"],
    "version": 1,
    "created_at": "2026-11-27T16:00:00+00:00",
    "updated_at": "2026-11-27T16:00:00+00:00",
}
EXAMPLE = {
    **SUMMARY_EXAMPLE,
    "personal_data": "included",
    "subject": {
        "given_name": "Ana",
        "family_name": "Example",
        "date_of_birth": "2011-04-02",
        "district_student_id": "S1234567",
        "contact": None,
        "guardian": {"name": "Rosa Example", "relationship": "mother", "phone": "+1 213 555 0100"},
    },
    "need_description": "Asked for a mentor after a conflict on the walk home.",
    "history": [
        {
            "id": "8c7b6a5f-4e3d-4c2b-9a1f-0e9d8c7b6a5f",
            "from_state": None,
            "to_state": "requested",
            "at": "2026-11-27T16:00:00+00:00",
            "actor_organization_id": IDS["source_organization_id"],
            "actor_user_id": IDS["source_user_id"],
            "actor_client_id": "district-sis",
            "reason": None,
        }
    ],
}
PAGE_EXAMPLE = {"items": [SUMMARY_EXAMPLE], "next_cursor": None}
NOTE_EXAMPLE = {
    "id": "6f5e4d3c-2b1a-4f9e-8d7c-6b5a4f3e2d1c",
    "referral_id": IDS["id"],
    "created_at": "2026-11-28T09:00:00+00:00",
    "organization_id": IDS["target_organization_id"],
    "author_user_id": None,
    "body": "Intake set for Tuesday 3pm.",
}
DISCLOSURES_EXAMPLE = {
    "items": [
        {
            "id": "5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d",
            "created_at": "2026-11-28T09:05:00+00:00",
            "subject_id": IDS["subject_id"],
            "referral_id": IDS["id"],
            "disclosed_to_organization_id": IDS["target_organization_id"],
            "user_id": "3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f",
            "client_id": "cbs-explorer",
            "fields": ["date_of_birth", "family_name", "given_name", "guardian", "need_description"],
            "purpose": "referral: mentoring",
            "basis": "consent",
            "consent_id": IDS["consent_id"],
            "request_id": "0711d6e930c8418b978f6c9387982169",
        }
    ],
    "next_cursor": None,
}


def _detail(referral: Any) -> Any:
    shown = service.present_and_record_disclosure(session=session(), principal=current_principal(), referral=referral)
    if shown.personal_data is PersonalAccess.included:
        idempotency.withhold_from_replay()
    return shown


def _page(box: str, args: dict[str, Any]) -> Any:
    principal = current_principal()
    body, headers = paginate(
        session(), service.list_query(session=session(), principal=principal, box=box, **args), Referral, args, rows=True
    )
    body["items"] = [service.present(session(), principal, referral) for referral in body["items"]]
    return body, headers


@blp.route("", methods=["GET"])
@blp.requires("referrals:read")
@blp.arguments(ReferralQuerySchema, location="query")
@blp.response(200, ReferralPageSchema, example=PAGE_EXAMPLE)
def list_referrals(args):
    """Every referral you may see

    Those your organization sent or received; for network admins, every referral of the
    network. Lists never carry personal fields: read one referral for them.
    """
    return _page("all", args)


@blp.route("/sent", methods=["GET"])
@blp.requires("referrals:read")
@blp.arguments(ReferralQuerySchema, location="query")
@blp.response(200, ReferralPageSchema, example=PAGE_EXAMPLE)
def list_sent_referrals(args):
    """Referrals sent by your organization (drafts included)"""
    return _page("sent", args)


@blp.route("/received", methods=["GET"])
@blp.requires("referrals:read")
@blp.arguments(ReferralQuerySchema, location="query")
@blp.response(200, ReferralPageSchema, example=PAGE_EXAMPLE)
def list_received_referrals(args):
    """Referrals received by your organization's programs

    `overdue=true` finds those still requested past the network's response deadline.
    """
    return _page("received", args)


@blp.route("", methods=["POST"])
@blp.requires("referrals:write")
@blp.arguments(
    ReferralCreateSchema,
    example={
        "subject_id": IDS["subject_id"],
        "target_program_id": IDS["target_program_id"],
        "urgency": "urgent",
        "school_id": IDS["school_id"],
        "consent_id": IDS["consent_id"],
        "need_description": "Asked for a mentor after a conflict on the walk home.",
    },
)
@blp.response(201, ReferralSchema, example=EXAMPLE)
def create_referral(data):
    """Send a referral (or save a draft)

    Sending needs a program that is active and accepting referrals, and either a consent of the
    subject that is in force today and covers the receiving organization (or its kind) and the
    need's program type, or an `emergency_reason` (a health or safety emergency), which is
    flagged for review by your organization's admins.
    """
    referral = service.create(session=session(), principal=current_principal(), data=data)
    return _detail(referral), 201, created(url_for(".get_referral", referral_id=referral.id))


@blp.route("/<uuid:referral_id>", methods=["GET"])
@blp.requires("referrals:read")
@blp.response(200, ReferralSchema, example=EXAMPLE)
def get_referral(referral_id: uuid.UUID):
    """Get a referral, with its history

    The two parties (with `subjects:read`) see the personal fields, and each such read is
    recorded as a disclosure; the receiver stops seeing them when the consent is revoked or
    expires. Network admins see the referral without them; other organizations get 404.
    """
    return _detail(service.get(session=session(), principal=current_principal(), referral_id=referral_id))


@blp.route("/<uuid:referral_id>/transitions", methods=["POST"])
@blp.requires("referrals:write")
@blp.arguments(TransitionCreateSchema, example={"to": "accepted"})
@blp.response(200, ReferralSchema, example={**EXAMPLE, "state": "accepted", "capacity_place": "slot"})
def transition_referral(data, referral_id: uuid.UUID):
    """Move a referral to another state

    The HL7 Gravity SDOH referral Task machine: the referring organization sends (draft to
    requested), cancels and marks entered-in-error; the receiving one accepts, rejects, starts,
    holds, completes and fails. A reason is required for rejected, cancelled, on-hold and
    failed; an outcome for completed and failed. Accepting into a program that counts slots
    takes one (409 when none is left, unless `waitlist_if_full` puts the referral on the
    waitlist); leaving for good gives it back. An illegal move is 409 listing the allowed ones.
    """
    referral = service.transition(session=session(), principal=current_principal(), referral_id=referral_id, data=data)
    return _detail(referral)


@blp.route("/<uuid:referral_id>/emergency-review", methods=["POST"])
@blp.requires("referrals:write")
@blp.arguments(
    EmergencyReviewSchema, example={"decision": "upheld", "note": "Threat reported by the dean; consent obtained next day."}
)
@blp.response(200, ReferralSchema, example=EXAMPLE)
def review_emergency(data, referral_id: uuid.UUID):
    """Review an emergency exception

    The referring organization's admins uphold it or not; not upheld stops the receiver seeing
    the personal fields.
    """
    referral = service.review_emergency(session=session(), principal=current_principal(), referral_id=referral_id, **data)
    return _detail(referral)


def _note(note: ReferralNote) -> dict[str, Any]:
    return {
        **{name: getattr(note, name) for name in ("id", "referral_id", "created_at", "organization_id", "author_user_id")},
        "body": service.note_body(note),
    }


@blp.route("/<uuid:referral_id>/notes", methods=["GET"])
@blp.requires("referrals:read", "subjects:read")
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, page_schema(NoteSchema), example={"items": [NOTE_EXAMPLE], "next_cursor": None})
def list_notes(args, referral_id: uuid.UUID):
    """The notes thread between the two parties, oldest first"""
    query = service.notes_query(session=session(), principal=current_principal(), referral_id=referral_id)
    rows, next_cursor = keyset_rows(
        session(),
        query,
        key="created_at",
        sort=ReferralNote.created_at,
        id_column=ReferralNote.id,
        limit=args["limit"],
        cursor=args.get("cursor"),
    )
    return {"items": [_note(row[0]) for row in rows], "next_cursor": next_cursor}, next_link_header(next_cursor)


@blp.route("/<uuid:referral_id>/notes", methods=["POST"])
@blp.requires("referrals:write", "subjects:read")
@blp.arguments(NoteCreateSchema, example={"body": "Intake set for Tuesday 3pm."})
@blp.response(201, NoteSchema, example=NOTE_EXAMPLE)
def add_note(data, referral_id: uuid.UUID):
    """Write in the notes thread (encrypted at rest; the two parties only)"""
    note = service.add_note(session=session(), principal=current_principal(), referral_id=referral_id, body=data["body"])
    return _note(note), 201, created(url_for(".list_notes", referral_id=referral_id))


def disclosure_page(query: Any, args: dict[str, Any], filename: str) -> Any:
    """The records oldest first, a page at a time, or all of them as CSV."""
    if args["format"] == "csv":
        records = session().scalars(query.order_by(Disclosure.created_at, Disclosure.id))
        return csv_response(disclosures.CSV_COLUMNS, disclosures.csv_rows(records), filename)
    rows, next_cursor = keyset_rows(
        session(),
        query,
        key="created_at",
        sort=Disclosure.created_at,
        id_column=Disclosure.id,
        limit=args["limit"],
        cursor=args.get("cursor"),
    )
    return {"items": [row[0] for row in rows], "next_cursor": next_cursor}, next_link_header(next_cursor)


@blp.route("/<uuid:referral_id>/disclosures", methods=["GET"])
@blp.requires("disclosures:read")
@blp.arguments(DisclosureQuerySchema, location="query")
@blp.response(200, DisclosurePageSchema, example=DISCLOSURES_EXAMPLE)
@blp.doc(responses={200: CSV_RESPONSE})
def referral_disclosures(args, referral_id: uuid.UUID):
    """Who saw this referral's personal fields

    For the admins of the referring organization (which keeps the student's record);
    `format=csv` exports them all.
    """
    principal = current_principal()
    referral = service.get(session=session(), principal=principal, referral_id=referral_id)
    policy.require_record_admin(principal, referral.source_organization_id)
    return disclosure_page(disclosures.query(referral_id=referral_id), args, f"referral-{referral_id}-disclosures.csv")
