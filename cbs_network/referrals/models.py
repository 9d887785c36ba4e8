"""Referrals and what they rest on: the subjects (students) an organization refers, their
consents, the referral state machine's history, the parties' notes and the disclosure records.

Identifying data is never stored in clear: `personal_data` columns hold AES-GCM ciphertext
(crypto.py) and the district student id is kept only as a keyed hash.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cbs_network.core.db import Base, IdMixin, TimestampMixin, VersionedMixin, utcnow
from cbs_network.directory.models import ProgramType
from cbs_network.organizations.models import enum_column


class ConsentGiver(enum.StrEnum):
    guardian = "guardian"
    eligible_student = "eligible_student"  # 18 or older: FERPA rights are the student's (34 CFR 99.5)


class ConsentMethod(enum.StrEnum):
    # FERPA consent is signed and dated (34 CFR 99.30); an electronic signature counts (99.30(d)).
    written = "written"
    electronic_signature = "electronic_signature"


class Urgency(enum.StrEnum):
    routine = "routine"
    urgent = "urgent"
    emergency = "emergency"


class ReferralState(enum.StrEnum):
    """The HL7 Gravity SDOH referral Task states."""

    draft = "draft"
    requested = "requested"
    accepted = "accepted"
    rejected = "rejected"
    in_progress = "in-progress"
    on_hold = "on-hold"
    completed = "completed"
    failed = "failed"
    cancelled = "cancelled"
    entered_in_error = "entered-in-error"


class EnrollmentStatus(enum.StrEnum):
    enrolled = "enrolled"
    not_enrolled = "not-enrolled"
    not_enrolled_on_waitlist = "not-enrolled-on-waitlist"


class EmergencyReview(enum.StrEnum):
    pending = "pending"
    upheld = "upheld"
    not_upheld = "not_upheld"


class DisclosureBasis(enum.StrEnum):
    own_record = "own_record"  # the organization that keeps the student's record
    consent = "consent"
    emergency = "emergency"  # health or safety emergency (34 CFR 99.36)


class Subject(IdMixin, TimestampMixin, VersionedMixin, Base):
    """A person (usually a student) an organization refers; the organization keeps the record."""

    __tablename__ = "subjects"
    __table_args__ = (
        UniqueConstraint("organization_id", "student_id_hash"),
        # An organization's subjects in keyset order (the list); also serves lookups by organization.
        Index("ix_subjects_organization_id_created_at_id", "organization_id", "created_at", "id"),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    personal_data: Mapped[str] = mapped_column(Text)  # ciphertext of the identifying fields
    student_id_hash: Mapped[str | None] = mapped_column(String(64))
    grade: Mapped[int | None] = mapped_column()  # directory GRADES ordinal
    preferred_language: Mapped[str | None] = mapped_column(String(3))
    created_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))


class Consent(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "consents"

    subject_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("subjects.id"), index=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"), index=True)
    given_by: Mapped[ConsentGiver] = mapped_column(enum_column(ConsentGiver, "consent_giver"))
    method: Mapped[ConsentMethod] = mapped_column(enum_column(ConsentMethod, "consent_method"))
    given_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date | None] = mapped_column(Date)
    covers_organization_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    covers_organization_kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    purposes: Mapped[list[str]] = mapped_column(JSON, default=list)  # program types
    recorded_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    revoked_at: Mapped[datetime | None] = mapped_column()
    revoked_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    revocation_reason: Mapped[str | None] = mapped_column(Text)


class Referral(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "referrals"
    __table_args__ = (
        CheckConstraint("NOT (holds_slot AND on_waitlist)", name="one_place"),
        Index("ix_referrals_state_requested_at", "state", "requested_at"),
        # "Sent by us" and "received by us" in keyset order: each box is one index range, so a
        # page never walks the whole table's creation order discarding other organizations' rows.
        Index("ix_referrals_source_organization_id_created_at_id", "source_organization_id", "created_at", "id"),
        Index("ix_referrals_target_organization_id_created_at_id", "target_organization_id", "created_at", "id"),
    )

    source_organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    source_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    target_program_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("programs.id"), index=True)
    target_organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    subject_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("subjects.id"), index=True)
    consent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("consents.id"), index=True)
    school_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("schools.id"), index=True)
    need_type: Mapped[ProgramType] = mapped_column(enum_column(ProgramType, "need_type"))
    personal_data: Mapped[str | None] = mapped_column(Text)  # ciphertext: the need's description
    urgency: Mapped[Urgency] = mapped_column(enum_column(Urgency, "urgency"), index=True)
    state: Mapped[ReferralState] = mapped_column(enum_column(ReferralState, "referral_state"), index=True)
    requested_at: Mapped[datetime | None] = mapped_column()
    service_due_on: Mapped[date | None] = mapped_column(Date)
    # A health or safety emergency sent without consent: who declared it, why, and its review.
    emergency_reason: Mapped[str | None] = mapped_column(Text)
    emergency_declared_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    emergency_declared_at: Mapped[datetime | None] = mapped_column()
    emergency_review: Mapped[EmergencyReview | None] = mapped_column(enum_column(EmergencyReview, "emergency_review"), index=True)
    emergency_reviewed_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    emergency_reviewed_at: Mapped[datetime | None] = mapped_column()
    emergency_review_note: Mapped[str | None] = mapped_column(Text)
    # Where the referral sits in the program's capacity: one slot, or one waitlist place.
    holds_slot: Mapped[bool] = mapped_column(Boolean, default=False)
    on_waitlist: Mapped[bool] = mapped_column(Boolean, default=False)
    outcome_enrollment_status: Mapped[EnrollmentStatus | None] = mapped_column(enum_column(EnrollmentStatus, "enrollment_status"))
    outcome_services: Mapped[list[dict]] = mapped_column(JSON, default=list)
    outcome_recorded_at: Mapped[datetime | None] = mapped_column()
    overdue_notified_at: Mapped[datetime | None] = mapped_column()

    transitions: Mapped[list[ReferralTransition]] = relationship(
        order_by="ReferralTransition.at, ReferralTransition.id", cascade="all, delete-orphan"
    )
    # Read-only: the ids above are what is written. Sending sets these to the rows it checked, so
    # showing the new referral reuses them instead of loading them again. Not named `subject`:
    # that is the response's decrypted view, which only the service builds.
    subject_record: Mapped[Subject] = relationship(viewonly=True)
    consent_record: Mapped[Consent | None] = relationship(viewonly=True)


class ReferralTransition(IdMixin, Base):
    __tablename__ = "referral_transitions"

    referral_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("referrals.id"), index=True)
    from_state: Mapped[ReferralState | None] = mapped_column(enum_column(ReferralState, "transition_from_state"))
    to_state: Mapped[ReferralState] = mapped_column(enum_column(ReferralState, "transition_to_state"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_organization_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organizations.id"))
    actor_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    actor_client_id: Mapped[str | None] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(Text)


class ReferralNote(IdMixin, Base):
    """The thread between the two parties; bodies are encrypted like personal fields."""

    __tablename__ = "referral_notes"

    referral_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("referrals.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    author_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)  # ciphertext


class Disclosure(IdMixin, Base):
    """One response that carried a subject's personal fields (FERPA record of disclosure, 34 CFR 99.32)."""

    __tablename__ = "disclosures"

    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    subject_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("subjects.id"), index=True)
    referral_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("referrals.id"), index=True)
    record_organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"), index=True)
    disclosed_to_organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    client_id: Mapped[str | None] = mapped_column(String(100))
    fields: Mapped[list[str]] = mapped_column(JSON, default=list)
    purpose: Mapped[str] = mapped_column(String(200))
    basis: Mapped[DisclosureBasis] = mapped_column(enum_column(DisclosureBasis, "disclosure_basis"))
    consent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("consents.id"))
    request_id: Mapped[str | None] = mapped_column(String(100))
