from __future__ import annotations

from datetime import date

import marshmallow as ma
from marshmallow import validate

from cbs_network.core import clock
from cbs_network.directory.models import ProgramType
from cbs_network.directory.programs.schemas import Grade, LanguageCode
from cbs_network.directory.schools.schemas import GRADE_ENUM
from cbs_network.http.api import versioned
from cbs_network.http.pagination import PageArgsSchema, SyncPageArgsSchema, page_schema
from cbs_network.http.schemas import ChangeSchema, FullMatch, RecordSchema, Schema, VersionedRecordSchema
from cbs_network.organizations.models import OrganizationKind
from cbs_network.referrals.models import (
    ConsentGiver,
    ConsentMethod,
    DisclosureBasis,
    EmergencyReview,
    EnrollmentStatus,
    ReferralState,
    Urgency,
)
from cbs_network.referrals.policy import PersonalAccess

NAME = validate.Length(min=1, max=100)
PHONE = FullMatch(r"^\+?[0-9 ().-]{7,25}$", error="A phone number: digits, spaces, ( ) . - and an optional +.")
REASON = validate.Length(min=1, max=2000)


def _not_future(value: date) -> None:
    if value > clock.today():
        raise ma.ValidationError("Must not be in the future.")


def _plausible_birth(value: date) -> None:
    _not_future(value)
    if value.year < 1900:
        raise ma.ValidationError("Must be after 1900.")


# --- subjects ----------------------------------------------------------------------------------


class SubjectContactSchema(Schema):
    phone = ma.fields.String(load_default=None, allow_none=True, validate=PHONE)
    email = ma.fields.Email(load_default=None, allow_none=True, validate=validate.Length(max=320))
    address = ma.fields.String(load_default=None, allow_none=True, validate=validate.Length(max=300))


class GuardianSchema(SubjectContactSchema):
    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=200))
    relationship = ma.fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=60), metadata={"example": "mother"}
    )


class SubjectPersonalSchema(Schema):
    """The identifying fields: encrypted at rest, shown only on need to know."""

    given_name = ma.fields.String(required=True, validate=NAME)
    family_name = ma.fields.String(required=True, validate=NAME)
    date_of_birth = ma.fields.Date(required=True, validate=_plausible_birth)
    district_student_id = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=FullMatch(r"^[A-Za-z0-9-]{1,20}$", error="1-20 letters, digits or -."),
        metadata={"description": "Kept only encrypted and as a keyed hash; unique within your organization"},
    )
    contact = ma.fields.Nested(SubjectContactSchema, load_default=None, allow_none=True)
    guardian = ma.fields.Nested(GuardianSchema, load_default=None, allow_none=True)


class SubjectCreateSchema(SubjectPersonalSchema):
    grade = Grade(load_default=None, allow_none=True, metadata={"enum": GRADE_ENUM})
    preferred_language = LanguageCode(load_default=None, allow_none=True)


class SubjectUpdateSchema(SubjectCreateSchema, ChangeSchema):
    """Any of the fields; omitted ones keep their values (not their load defaults). Partial only at
    the top: partial=True would reach into a guardian sent, which still needs its name."""

    def __init__(self, **kwargs) -> None:
        super().__init__(partial=tuple(self._declared_fields), **kwargs)


@versioned
class SubjectSchema(SubjectCreateSchema, VersionedRecordSchema):
    organization_id = ma.fields.UUID(dump_only=True)


class SubjectSummarySchema(VersionedRecordSchema):
    """A subject without its personal fields, as the list shows it: reading a list discloses nothing."""

    organization_id = ma.fields.UUID()
    grade = Grade(allow_none=True, metadata={"enum": GRADE_ENUM})
    preferred_language = ma.fields.String(allow_none=True)
    referral_count = ma.fields.Integer(
        metadata={"description": "Referrals your organization made for the student, drafts included"}
    )


SubjectPageSchema = page_schema(SubjectSummarySchema)


class SubjectQuerySchema(SyncPageArgsSchema):
    grade = Grade()
    preferred_language = LanguageCode()


class SubjectLookupSchema(Schema):
    district_student_id = ma.fields.String(required=True, validate=validate.Length(min=1, max=20))


# --- consents ----------------------------------------------------------------------------------


class ConsentCreateSchema(Schema):
    given_by = ma.fields.Enum(
        ConsentGiver,
        by_value=True,
        required=True,
        metadata={"description": "A guardian until the student is 18; then the eligible student"},
    )
    method = ma.fields.Enum(ConsentMethod, by_value=True, required=True)
    given_on = ma.fields.Date(required=True, validate=_not_future)
    expires_on = ma.fields.Date(load_default=None, allow_none=True)
    covers_organization_ids = ma.fields.List(ma.fields.UUID(), load_default=list, validate=validate.Length(max=100))
    covers_organization_kinds = ma.fields.List(ma.fields.Enum(OrganizationKind, by_value=True), load_default=list)
    purposes = ma.fields.List(
        ma.fields.Enum(ProgramType, by_value=True),
        required=True,
        validate=validate.Length(min=1),
        metadata={"description": "The kinds of program the consent allows a referral to"},
    )

    @ma.validates_schema
    def _coherent(self, data, **_kwargs):
        errors = {}
        if not data.get("covers_organization_ids") and not data.get("covers_organization_kinds"):
            errors["covers_organization_ids"] = ["Name the organizations (or kinds of organization) the consent covers."]
        if data.get("expires_on") and data.get("given_on") and data["expires_on"] <= data["given_on"]:
            errors["expires_on"] = ["Must be after given_on."]
        if errors:
            raise ma.ValidationError(errors)


class ConsentSchema(ConsentCreateSchema, RecordSchema):
    # stored as JSON text lists
    covers_organization_kinds = ma.fields.List(ma.fields.String(validate=validate.OneOf([k.value for k in OrganizationKind])))  # type: ignore[arg-type]  # the create schema's enums, as text
    purposes = ma.fields.List(ma.fields.String(validate=validate.OneOf([t.value for t in ProgramType])))  # type: ignore[arg-type]  # as text
    subject_id = ma.fields.UUID(dump_only=True)
    organization_id = ma.fields.UUID(dump_only=True)
    version = ma.fields.Integer(dump_only=True)
    status = ma.fields.String(dump_only=True, validate=validate.OneOf(["active", "expired", "revoked", "not_yet_valid"]))
    recorded_by_user_id = ma.fields.UUID(dump_only=True, allow_none=True)
    revoked_at = ma.fields.AwareDateTime(dump_only=True, allow_none=True)
    revoked_by_user_id = ma.fields.UUID(dump_only=True, allow_none=True)
    revocation_reason = ma.fields.String(dump_only=True, allow_none=True)


class ConsentListSchema(Schema):
    items = ma.fields.List(ma.fields.Nested(ConsentSchema), required=True)


class RevocationSchema(Schema):
    reason = ma.fields.String(required=True, validate=REASON)


# --- referrals ---------------------------------------------------------------------------------


class ReferralCreateSchema(Schema):
    subject_id = ma.fields.UUID(required=True, metadata={"description": "A subject your organization recorded"})
    target_program_id = ma.fields.UUID(required=True)
    need_type = ma.fields.Enum(
        ProgramType, by_value=True, load_default=None, allow_none=True, metadata={"description": "Defaults to the program's type"}
    )
    need_description = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=4000),
        metadata={"description": "Encrypted; shown only to the two parties"},
    )
    urgency = ma.fields.Enum(Urgency, by_value=True, load_default=Urgency.routine)
    school_id = ma.fields.UUID(load_default=None, allow_none=True)
    service_due_on = ma.fields.Date(load_default=None, allow_none=True)
    state = ma.fields.Enum(
        ReferralState,
        by_value=True,
        load_default=ReferralState.requested,
        validate=validate.OneOf([ReferralState.draft, ReferralState.requested]),
        metadata={"description": "requested (sent now) or draft (sent later by the requested transition)"},
    )
    consent_id = ma.fields.UUID(load_default=None, allow_none=True)
    emergency_reason = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=REASON,
        metadata={"description": "A health or safety emergency justifying sending without consent; flagged for review"},
    )


class OutcomeServiceSchema(Schema):
    kind = ma.fields.String(required=True, validate=validate.Length(min=1, max=100), metadata={"example": "mentoring session"})
    count = ma.fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=100_000))


class OutcomeSchema(Schema):
    enrollment_status = ma.fields.Enum(EnrollmentStatus, by_value=True, required=True)
    services = ma.fields.List(ma.fields.Nested(OutcomeServiceSchema), load_default=list, validate=validate.Length(max=50))
    recorded_at = ma.fields.AwareDateTime(dump_only=True)


class TransitionCreateSchema(Schema):
    to = ma.fields.Enum(ReferralState, by_value=True, required=True)
    reason = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=REASON,
        metadata={"description": "Required for rejected, cancelled, on-hold and failed"},
    )
    outcome = ma.fields.Nested(
        OutcomeSchema, load_default=None, allow_none=True, metadata={"description": "Required for completed and failed"}
    )
    waitlist_if_full = ma.fields.Boolean(
        load_default=False,
        metadata={
            "description": "accepted: when the program has no slot left, put the referral on its waitlist instead of failing"
        },
    )
    consent_id = ma.fields.UUID(load_default=None, allow_none=True, metadata={"description": "requested: the consent"})
    emergency_reason = ma.fields.String(
        load_default=None, allow_none=True, validate=REASON, metadata={"description": "requested: the emergency exception"}
    )


class TransitionSchema(Schema):
    id = ma.fields.UUID()
    from_state = ma.fields.Enum(ReferralState, by_value=True, allow_none=True)
    to_state = ma.fields.Enum(ReferralState, by_value=True)
    at = ma.fields.AwareDateTime()
    actor_organization_id = ma.fields.UUID(allow_none=True)
    actor_user_id = ma.fields.UUID(allow_none=True)
    actor_client_id = ma.fields.String(allow_none=True)
    reason = ma.fields.String(allow_none=True)


class EmergencySchema(Schema):
    reason = ma.fields.String()
    declared_by_user_id = ma.fields.UUID(allow_none=True)
    declared_at = ma.fields.AwareDateTime()
    review = ma.fields.Enum(EmergencyReview, by_value=True)
    reviewed_by_user_id = ma.fields.UUID(allow_none=True)
    reviewed_at = ma.fields.AwareDateTime(allow_none=True)
    review_note = ma.fields.String(allow_none=True)


class EmergencyReviewSchema(Schema):
    decision = ma.fields.Enum(
        EmergencyReview,
        by_value=True,
        required=True,
        validate=validate.OneOf([EmergencyReview.upheld, EmergencyReview.not_upheld]),
    )
    note = ma.fields.String(required=True, validate=REASON)


@versioned
class ReferralSummarySchema(VersionedRecordSchema):
    """A referral without its personal fields, as lists show it."""

    source_organization_id = ma.fields.UUID()
    source_user_id = ma.fields.UUID(allow_none=True)
    target_program_id = ma.fields.UUID()
    target_organization_id = ma.fields.UUID()
    subject_id = ma.fields.UUID()
    consent_id = ma.fields.UUID(allow_none=True)
    school_id = ma.fields.UUID(allow_none=True)
    need_type = ma.fields.Enum(ProgramType, by_value=True)
    urgency = ma.fields.Enum(Urgency, by_value=True)
    state = ma.fields.Enum(ReferralState, by_value=True)
    requested_at = ma.fields.AwareDateTime(allow_none=True)
    respond_by = ma.fields.AwareDateTime(
        allow_none=True,
        metadata={"description": "When a referral still requested turns overdue (the network's referral_response_hours)"},
    )
    overdue = ma.fields.Boolean()
    service_due_on = ma.fields.Date(allow_none=True)
    capacity_place = ma.fields.String(
        allow_none=True,
        validate=validate.OneOf(["slot", "waitlist"]),
        metadata={"description": "What the referral holds in the program's capacity"},
    )
    emergency = ma.fields.Nested(EmergencySchema, allow_none=True)
    outcome = ma.fields.Nested(OutcomeSchema, allow_none=True)
    allowed_transitions = ma.fields.List(
        ma.fields.String(validate=validate.OneOf([s.value for s in ReferralState])),
        metadata={"description": "The states you may move the referral to now"},
    )


class SubjectDetailsSchema(SubjectPersonalSchema):
    pass


@versioned
class ReferralSchema(ReferralSummarySchema):
    personal_data = ma.fields.Enum(
        PersonalAccess,
        by_value=True,
        metadata={
            "description": (
                "included: `subject` and `need_description` are shown (and this read is recorded as a disclosure); "
                "withheld: the receiver's consent was revoked or has expired, or the emergency exception was not upheld; "
                "not_shared: you have no need to know (not a party, or no subjects:read scope)"
            )
        },
    )
    subject = ma.fields.Nested(SubjectDetailsSchema, allow_none=True)
    need_description = ma.fields.String(allow_none=True)
    history = ma.fields.List(ma.fields.Nested(TransitionSchema))


ReferralPageSchema = page_schema(ReferralSummarySchema)


class ReferralQuerySchema(SyncPageArgsSchema):
    state = ma.fields.List(
        ma.fields.Enum(ReferralState, by_value=True),
        load_default=None,
        metadata={"description": "Any of these states (repeat the parameter)"},
    )
    program_id = ma.fields.UUID(load_default=None)
    school_id = ma.fields.UUID(load_default=None)
    subject_id = ma.fields.UUID(load_default=None)
    urgency = ma.fields.Enum(Urgency, by_value=True, load_default=None)
    overdue = ma.fields.Boolean(load_default=None, metadata={"description": "Requested past the network's response deadline"})
    emergency_review = ma.fields.Enum(EmergencyReview, by_value=True, load_default=None)


# --- notes and disclosures ---------------------------------------------------------------------


class NoteCreateSchema(Schema):
    body = ma.fields.String(required=True, validate=validate.Length(min=1, max=4000))


class NoteSchema(Schema):
    id = ma.fields.UUID()
    referral_id = ma.fields.UUID()
    created_at = ma.fields.AwareDateTime()
    organization_id = ma.fields.UUID()
    author_user_id = ma.fields.UUID(allow_none=True)
    body = ma.fields.String()


class DisclosureSchema(Schema):
    id = ma.fields.UUID()
    created_at = ma.fields.AwareDateTime()
    subject_id = ma.fields.UUID()
    referral_id = ma.fields.UUID(allow_none=True)
    disclosed_to_organization_id = ma.fields.UUID()
    user_id = ma.fields.UUID(allow_none=True)
    client_id = ma.fields.String(allow_none=True)
    fields = ma.fields.List(ma.fields.String(), metadata={"description": "The personal fields the response carried"})  # type: ignore[assignment]  # a field named `fields`: the metaclass takes it off the class
    purpose = ma.fields.String()
    basis = ma.fields.Enum(DisclosureBasis, by_value=True)
    consent_id = ma.fields.UUID(allow_none=True)
    request_id = ma.fields.String(allow_none=True)


class DisclosureQuerySchema(PageArgsSchema):
    format = ma.fields.String(
        load_default="json",
        validate=validate.OneOf(["json", "csv"]),
        metadata={"description": "csv: every record as text/csv (no paging)"},
    )


DisclosurePageSchema = page_schema(DisclosureSchema)
