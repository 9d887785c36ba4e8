from __future__ import annotations

import uuid
from typing import Any

from flask import url_for

from cbs_network.core.db import session
from cbs_network.http import idempotency
from cbs_network.http.api import Blueprint, created
from cbs_network.http.csv_export import CSV_RESPONSE
from cbs_network.http.pagination import paginate
from cbs_network.http.schemas import WithFields
from cbs_network.identity.principal import current_principal
from cbs_network.referrals import policy
from cbs_network.referrals.models import Consent, Subject
from cbs_network.referrals.referrals.routes import DISCLOSURES_EXAMPLE, disclosure_page
from cbs_network.referrals.referrals.schemas import (
    ConsentCreateSchema,
    ConsentListSchema,
    ConsentSchema,
    DisclosurePageSchema,
    DisclosureQuerySchema,
    RevocationSchema,
    SubjectCreateSchema,
    SubjectLookupSchema,
    SubjectPageSchema,
    SubjectQuerySchema,
    SubjectSchema,
    SubjectUpdateSchema,
)
from cbs_network.referrals.subjects import disclosures
from cbs_network.referrals.subjects import service as subjects

blp = Blueprint(
    "subjects",
    __name__,
    url_prefix="/api/v1/subjects",
    description="The students your organization refers: their identifying data (encrypted at rest, "
    "yours alone), their guardians' consents, and who saw their data.",
)

PERSON = {
    "given_name": "Ana",
    "family_name": "Example",
    "date_of_birth": "2011-04-02",
    "district_student_id": "S1234567",
    "contact": None,
    "guardian": {"name": "Rosa Example", "relationship": "mother", "phone": "+1 213 555 0100", "email": None, "address": None},
    "grade": "9",
    "preferred_language": "es",
}
EXAMPLE = {
    "id": "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b",
    "organization_id": "0b7c6d5e-4f3a-4b2c-9d1e-0f9a8b7c6d5e",
    **PERSON,
    "version": 1,
    "created_at": "2026-11-20T17:00:00+00:00",
    "updated_at": "2026-11-20T17:00:00+00:00",
}
SUMMARY_EXAMPLE = {
    **{k: EXAMPLE[k] for k in ("id", "organization_id", "grade", "preferred_language", "version", "created_at", "updated_at")},
    "referral_count": 2,
}
CONSENT_BODY = {
    "given_by": "guardian",
    "method": "written",
    "given_on": "2026-11-20",
    "expires_on": "2027-06-30",
    "covers_organization_kinds": ["cbo"],
    "purposes": ["mentoring", "mental_health"],
}
CONSENT_EXAMPLE = {
    "id": "2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f",
    "subject_id": EXAMPLE["id"],
    "organization_id": EXAMPLE["organization_id"],
    **CONSENT_BODY,
    "covers_organization_ids": [],
    "status": "active",
    "recorded_by_user_id": None,
    "revoked_at": None,
    "revoked_by_user_id": None,
    "revocation_reason": None,
    "version": 1,
    "created_at": "2026-11-20T17:00:00+00:00",
    "updated_at": "2026-11-20T17:00:00+00:00",
}


def _shown(subject: Subject) -> WithFields:
    """The subject with its personal fields (a disclosure): never kept for an Idempotency-Key replay."""
    idempotency.withhold_from_replay()
    return subjects.present_and_record_disclosure(session=session(), principal=current_principal(), subject=subject)


def _consent(consent: Consent) -> WithFields:
    return WithFields(consent, status=subjects.consent_status(consent, subjects.today()))


@blp.route("", methods=["GET"])
@blp.requires("subjects:read")
@blp.arguments(SubjectQuerySchema, location="query")
@blp.response(200, SubjectPageSchema, example={"items": [SUMMARY_EXAMPLE], "next_cursor": None})
def list_subjects(args: dict[str, Any]):
    """The students your organization records

    Without their personal fields, so listing discloses nothing; read one student (or look one
    up by district student id) for those.
    """
    body, headers = paginate(session(), subjects.list_query(principal=current_principal(), **args), Subject, args)
    counts = subjects.referral_counts(session(), [subject.id for subject in body["items"]])
    body["items"] = [WithFields(subject, referral_count=counts.get(subject.id, 0)) for subject in body["items"]]
    return body, headers


@blp.route("", methods=["POST"])
@blp.requires("subjects:write")
@blp.arguments(SubjectCreateSchema, example=PERSON)
@blp.response(201, SubjectSchema, example=EXAMPLE)
def create_subject(data):
    """Record a student your organization refers

    The identifying fields are encrypted at rest. A district student id already recorded by your
    organization is refused (409, with `existing_subject_id`).
    """
    subject = subjects.create(session=session(), principal=current_principal(), data=data)
    return _shown(subject), 201, created(url_for(".get_subject", subject_id=subject.id))


@blp.route("/lookup", methods=["POST"])
@blp.requires("subjects:read")
@blp.arguments(SubjectLookupSchema, example={"district_student_id": "S1234567"})
@blp.response(200, SubjectSchema, example=EXAMPLE)
def lookup_subject(data):
    """Find a student by district student id

    A POST, so the id never appears in a URL or an access log. Matches on the keyed hash, within
    your organization; then list their earlier referrals with `GET /api/v1/referrals/sent?subject_id=`.
    """
    return _shown(subjects.lookup(session=session(), principal=current_principal(), **data))


@blp.route("/<uuid:subject_id>", methods=["GET"])
@blp.requires("subjects:read")
@blp.response(200, SubjectSchema, example=EXAMPLE)
def get_subject(subject_id: uuid.UUID):
    """Get a student your organization recorded"""
    return _shown(subjects.get(session=session(), principal=current_principal(), subject_id=subject_id))


@blp.route("/<uuid:subject_id>", methods=["PATCH"])
@blp.requires("subjects:write")
@blp.arguments(SubjectUpdateSchema, example={"guardian": PERSON["guardian"]})
@blp.if_match
@blp.response(200, SubjectSchema, example=EXAMPLE)
def update_subject(data, subject_id: uuid.UUID, expected_version: int):
    """Correct a student's details"""
    subject = subjects.update(
        session=session(), principal=current_principal(), subject_id=subject_id, data=data, expected_version=expected_version
    )
    return _shown(subject)


@blp.route("/<uuid:subject_id>/consents", methods=["GET"])
@blp.requires("subjects:read")
@blp.response(200, ConsentListSchema, example={"items": [CONSENT_EXAMPLE]})
def list_consents(subject_id: uuid.UUID):
    """A student's consents, newest first, each with its status today"""
    consents = subjects.list_consents(session=session(), principal=current_principal(), subject_id=subject_id)
    return {"items": [_consent(c) for c in consents]}


@blp.route("/<uuid:subject_id>/consents", methods=["POST"])
@blp.requires("subjects:write")
@blp.arguments(ConsentCreateSchema, example=CONSENT_BODY)
@blp.response(201, ConsentSchema, example=CONSENT_EXAMPLE)
def create_consent(data, subject_id: uuid.UUID):
    """Record a consent to disclose

    Given by the guardian, or by the student once 18 (FERPA's eligible student); it covers named
    organizations and/or kinds of organization, and the kinds of program (purposes) it allows.
    """
    consent = subjects.create_consent(session=session(), principal=current_principal(), subject_id=subject_id, data=data)
    return _consent(consent), 201, created(url_for(".get_consent", subject_id=subject_id, consent_id=consent.id))


@blp.route("/<uuid:subject_id>/consents/<uuid:consent_id>", methods=["GET"])
@blp.requires("subjects:read")
@blp.response(200, ConsentSchema, example=CONSENT_EXAMPLE)
def get_consent(subject_id: uuid.UUID, consent_id: uuid.UUID):
    """Get a consent"""
    return _consent(
        subjects.get_consent(session=session(), principal=current_principal(), subject_id=subject_id, consent_id=consent_id)
    )


@blp.route("/<uuid:subject_id>/consents/<uuid:consent_id>/revocation", methods=["POST"])
@blp.requires("subjects:write")
@blp.arguments(RevocationSchema, example={"reason": "Guardian withdrew consent by letter of 2026-11-28."})
@blp.response(200, ConsentSchema, example={**CONSENT_EXAMPLE, "status": "revoked"})
def revoke_consent(data, subject_id: uuid.UUID, consent_id: uuid.UUID):
    """Revoke a consent

    From now on, the receivers of referrals sent under it see them without personal fields;
    they keep the referrals' history.
    """
    consent = subjects.revoke_consent(
        session=session(), principal=current_principal(), subject_id=subject_id, consent_id=consent_id, reason=data["reason"]
    )
    return _consent(consent)


@blp.route("/<uuid:subject_id>/disclosures", methods=["GET"])
@blp.requires("disclosures:read")
@blp.arguments(DisclosureQuerySchema, location="query")
@blp.response(200, DisclosurePageSchema, example=DISCLOSURES_EXAMPLE)
@blp.doc(responses={200: CSV_RESPONSE})
def subject_disclosures(args: dict[str, Any], subject_id: uuid.UUID):
    """Who saw a student's personal fields, across all referrals

    For your organization's admins; `format=csv` exports them all.
    """
    principal = current_principal()
    subject = subjects.get(session=session(), principal=principal, subject_id=subject_id)
    policy.require_record_admin(principal, subject.organization_id)
    return disclosure_page(disclosures.query(subject_id=subject_id), args, f"subject-{subject_id}-disclosures.csv")
