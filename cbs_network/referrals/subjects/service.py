"""Subjects (the students an organization refers) and their consents.

A subject belongs to the organization that recorded it; no one else reads it directly (the
target of a referral sees its personal fields through the referral, when it may). Its
identifying fields are one AES-GCM ciphertext; the district student id is also kept as a keyed
hash, unique within the organization, so the same student is found again without the id being
stored in clear.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from cbs_network.audit import service as audit
from cbs_network.core import clock
from cbs_network.core.crypto import keyring
from cbs_network.core.db import utcnow
from cbs_network.core.errors import Conflict, NotFound, ValidationFailed
from cbs_network.core.jsonable import jsonable
from cbs_network.http.etag import check_version
from cbs_network.http.schemas import WithFields
from cbs_network.identity.principal import Principal
from cbs_network.organizations.models import Organization
from cbs_network.referrals import policy
from cbs_network.referrals.models import Consent, ConsentGiver, DisclosureBasis, Referral, Subject
from cbs_network.referrals.subjects import disclosures

PERSONAL_FIELDS = ("given_name", "family_name", "date_of_birth", "district_student_id", "contact", "guardian")
PLAIN_FIELDS = ("grade", "preferred_language")
CONSENT_FIELDS = (
    "given_by",
    "method",
    "given_on",
    "expires_on",
    "covers_organization_ids",
    "covers_organization_kinds",
    "purposes",
)


today = clock.today  # the date consents are judged by


def _context(subject_id: uuid.UUID) -> str:
    return f"subjects.personal_data:{subject_id}"


def personal(subject: Subject) -> dict[str, Any]:
    values = keyring().decrypt(subject.personal_data, context=_context(subject.id))
    return {**values, "date_of_birth": date.fromisoformat(values["date_of_birth"])}


def seal(subject: Subject, values: dict[str, Any]) -> None:
    subject.personal_data = keyring().encrypt(jsonable(values), context=_context(subject.id))
    student_id = values.get("district_student_id")
    subject.student_id_hash = keyring().student_id_hash(student_id) if student_id else None


def _refuse_duplicate(session: Session, subject: Subject) -> None:
    if subject.student_id_hash is None:
        return
    existing = session.scalar(
        select(Subject.id).where(
            Subject.organization_id == subject.organization_id,
            Subject.student_id_hash == subject.student_id_hash,
            Subject.id != subject.id,
        )
    )
    if existing is not None:
        raise Conflict(
            "Your organization already records a subject with this district student id.", existing_subject_id=str(existing)
        )


def get(*, session: Session, principal: Principal, subject_id: uuid.UUID) -> Subject:
    """The organization's own subject; 404 for everyone else, network admins included."""
    return policy.require_visible_subject(principal, session.get(Subject, subject_id))


def present_and_record_disclosure(*, session: Session, principal: Principal, subject: Subject) -> WithFields:
    """The subject with its personal fields: a read that writes, for it is recorded as a disclosure."""
    values = personal(subject)
    disclosures.record(
        session,
        principal=principal,
        subject=subject,
        purpose="case record",
        fields=[name for name, value in values.items() if value is not None],
        basis=DisclosureBasis.own_record,
    )
    return WithFields(subject, **values)


def list_query(*, principal: Principal, grade: int | None = None, preferred_language: str | None = None, **_page: Any) -> Select:
    """The organization's own subjects, like `get`: network admins see only their own too."""
    query = select(Subject).where(policy.subjects_visible(principal))
    filters = {Subject.grade: grade, Subject.preferred_language: preferred_language}
    return query.where(*(column == value for column, value in filters.items() if value is not None))


def referral_counts(session: Session, subject_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    """One statement for a whole page, so a list stays a constant number of queries."""
    if not subject_ids:
        return {}
    return dict(
        session.execute(
            select(Referral.subject_id, func.count()).where(Referral.subject_id.in_(subject_ids)).group_by(Referral.subject_id)
        ).all()
    )


def create(*, session: Session, principal: Principal, data: dict[str, Any]) -> Subject:
    subject = Subject(
        id=uuid.uuid4(),
        organization_id=principal.organization_id,
        created_by_user_id=principal.user_id,
        **{name: data.get(name) for name in PLAIN_FIELDS},
    )
    values = {name: data.get(name) for name in PERSONAL_FIELDS}
    seal(subject, values)
    _refuse_duplicate(session, subject)
    session.add(subject)
    session.flush()
    after = {**jsonable(values), **audit.snapshot(subject, PLAIN_FIELDS)}
    audit.record(
        session,
        principal=principal,
        action="subject.created",
        object_type="subject",
        object_id=subject.id,
        changes=audit.diff({}, after, masked=PERSONAL_FIELDS),
    )
    return subject


def update(
    *, session: Session, principal: Principal, subject_id: uuid.UUID, data: dict[str, Any], expected_version: int
) -> Subject:
    subject = get(session=session, principal=principal, subject_id=subject_id)
    check_version(subject, expected_version)
    old = personal(subject)
    before = {**old, **audit.snapshot(subject, PLAIN_FIELDS)}
    new = {**old, **{k: jsonable(v) for k, v in data.items() if k in PERSONAL_FIELDS}}
    for name in PLAIN_FIELDS:
        if name in data:
            setattr(subject, name, data[name])
    seal(subject, new)
    with session.no_autoflush:  # one UPDATE, one version step
        _refuse_duplicate(session, subject)
    session.flush()
    changes = audit.diff(before, {**new, **audit.snapshot(subject, PLAIN_FIELDS)}, masked=PERSONAL_FIELDS)
    audit.record(
        session, principal=principal, action="subject.updated", object_type="subject", object_id=subject.id, changes=changes
    )
    return subject


def lookup(*, session: Session, principal: Principal, district_student_id: str) -> Subject:
    found = session.scalar(
        select(Subject).where(
            policy.subjects_visible(principal),
            Subject.student_id_hash == keyring().student_id_hash(district_student_id),
        )
    )
    if found is None:
        raise NotFound("Your organization records no subject with this district student id.")
    return found


# --- consents ---------------------------------------------------------------------------------


def consent_status(consent: Consent, on: date) -> str:
    if consent.revoked_at is not None:
        return "revoked"
    if consent.given_on > on:
        return "not_yet_valid"
    if consent.expires_on is not None and consent.expires_on < on:
        return "expired"
    return "active"


def _age_on(date_of_birth: date, on: date) -> int:
    return on.year - date_of_birth.year - ((on.month, on.day) < (date_of_birth.month, date_of_birth.day))


def _check_consent(session: Session, subject: Subject, data: dict[str, Any]) -> None:
    errors: dict[str, list[str]] = {}
    age = _age_on(personal(subject)["date_of_birth"], data["given_on"])
    if data["given_by"] is ConsentGiver.eligible_student and age < 18:
        errors["given_by"] = [f"The student was {age} on that date: a guardian gives consent until 18."]
    if data["given_by"] is ConsentGiver.guardian and age >= 18:
        errors["given_by"] = [f"The student was {age} on that date: an eligible student consents for themselves."]
    wanted = {str(i) for i in data["covers_organization_ids"]}
    known = (
        {str(i) for i in session.scalars(select(Organization.id).where(Organization.id.in_([uuid.UUID(i) for i in wanted])))}
        if wanted
        else set()
    )
    if wanted - known:
        errors["covers_organization_ids"] = [f"Unknown organization {i}." for i in sorted(wanted - known)]
    if errors:
        raise ValidationFailed("The consent cannot be recorded as given.", errors={"json": errors})


def get_consent(*, session: Session, principal: Principal, subject_id: uuid.UUID, consent_id: uuid.UUID) -> Consent:
    get(session=session, principal=principal, subject_id=subject_id)
    consent = session.get(Consent, consent_id)
    if consent is None or consent.subject_id != subject_id:
        raise NotFound("No consent with this id for this subject.")
    return consent


def list_consents(*, session: Session, principal: Principal, subject_id: uuid.UUID) -> list[Consent]:
    get(session=session, principal=principal, subject_id=subject_id)
    return list(
        session.scalars(select(Consent).where(Consent.subject_id == subject_id).order_by(Consent.given_on.desc(), Consent.id))
    )


def create_consent(*, session: Session, principal: Principal, subject_id: uuid.UUID, data: dict[str, Any]) -> Consent:
    subject = get(session=session, principal=principal, subject_id=subject_id)
    _check_consent(session, subject, data)
    consent = Consent(
        id=uuid.uuid4(),
        subject_id=subject.id,
        organization_id=subject.organization_id,
        recorded_by_user_id=principal.user_id,
        **{name: jsonable(data[name]) if name.startswith(("covers", "purposes")) else data[name] for name in CONSENT_FIELDS},
    )
    session.add(consent)
    session.flush()
    audit.record(
        session,
        principal=principal,
        action="consent.recorded",
        object_type="consent",
        object_id=consent.id,
        changes=audit.diff({}, audit.snapshot(consent, CONSENT_FIELDS)),
    )
    return consent


def revoke_consent(
    *, session: Session, principal: Principal, subject_id: uuid.UUID, consent_id: uuid.UUID, reason: str
) -> Consent:
    """From now on, no referral resting on this consent discloses the subject's personal fields."""
    consent = get_consent(session=session, principal=principal, subject_id=subject_id, consent_id=consent_id)
    if consent.revoked_at is not None:
        raise Conflict("This consent was already revoked.")
    consent.revoked_at = utcnow()
    consent.revoked_by_user_id = principal.user_id
    consent.revocation_reason = reason
    session.flush()
    audit.record(
        session,
        principal=principal,
        action="consent.revoked",
        object_type="consent",
        object_id=consent.id,
        changes={
            "revoked_at": {"before": None, "after": jsonable(consent.revoked_at)},
            "revocation_reason": {"before": None, "after": reason},
        },
    )
    return consent
