"""Referrals: sending one (with consent or an emergency exception), moving it through the
state machine with its capacity effects, its notes, the overdue flag, and how it is shown."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, func, select, update
from sqlalchemy.orm import Session, joinedload, lazyload

from cbs_network.audit import service as audit
from cbs_network.capacity import slots
from cbs_network.core.crypto import keyring
from cbs_network.core.db import rowcount, utcnow
from cbs_network.core.errors import Conflict, NotFound, field_error
from cbs_network.core.jsonable import jsonable
from cbs_network.core.workflow import allowed_for, invalid_transition
from cbs_network.directory.models import Program, ProgramStatus, School
from cbs_network.directory.programs import policy as programs_policy
from cbs_network.events.service import record_event
from cbs_network.http.idempotency import IdempotencyKey, body_context
from cbs_network.http.schemas import WithFields
from cbs_network.identity.principal import Principal
from cbs_network.organizations.models import Organization
from cbs_network.referrals import policy
from cbs_network.referrals.models import (
    Consent,
    DisclosureBasis,
    EmergencyReview,
    Referral,
    ReferralNote,
    ReferralState,
    ReferralTransition,
    Subject,
)
from cbs_network.referrals.policy import PersonalAccess
from cbs_network.referrals.referrals.transitions import OUTCOME_REQUIRED, REASON_REQUIRED, RELEASES_PLACE, TRANSITIONS
from cbs_network.referrals.subjects import disclosures
from cbs_network.referrals.subjects import service as subjects
from cbs_network.settings import service as settings_service

S = ReferralState
AUDITED = (
    "state",
    "urgency",
    "need_type",
    "target_program_id",
    "consent_id",
    "school_id",
    "service_due_on",
    "holds_slot",
    "on_waitlist",
    "outcome_enrollment_status",
    "emergency_review",
)


# --- deadlines ---------------------------------------------------------------------------------


def response_window(session: Session) -> timedelta:
    return timedelta(hours=settings_service.get(session).referral_response_hours)


def overdue_clause(session: Session, now: datetime | None = None):
    return and_(Referral.state == S.requested, Referral.requested_at <= (now or utcnow()) - response_window(session))


# --- showing a referral ------------------------------------------------------------------------


def _need_description(referral: Referral) -> str | None:
    if referral.personal_data is None:
        return None
    return keyring().decrypt(referral.personal_data, context=f"referrals.personal_data:{referral.id}")


def present(session: Session, principal: Principal, referral: Referral) -> WithFields:
    """The referral as `principal` may see it in a list: never with personal fields."""
    return _present(session, principal, referral, detail=False)


def present_and_record_disclosure(*, session: Session, principal: Principal, referral: Referral) -> WithFields:
    """The referral with its history and, where policy allows, its personal fields. A read that
    writes: a response carrying personal fields is recorded as a disclosure."""
    return _present(session, principal, referral, detail=True)


def _present(session: Session, principal: Principal, referral: Referral, *, detail: bool) -> WithFields:
    respond_by = referral.requested_at + response_window(session) if referral.requested_at else None
    fields: dict[str, Any] = {
        "respond_by": respond_by,
        "overdue": referral.state is S.requested and respond_by is not None and respond_by <= utcnow(),
        "capacity_place": "slot" if referral.holds_slot else "waitlist" if referral.on_waitlist else None,
        "outcome": {
            "enrollment_status": referral.outcome_enrollment_status,
            "services": referral.outcome_services,
            "recorded_at": referral.outcome_recorded_at,
        }
        if referral.outcome_recorded_at
        else None,
        "emergency": {
            "reason": referral.emergency_reason,
            "declared_by_user_id": referral.emergency_declared_by_user_id,
            "declared_at": referral.emergency_declared_at,
            "review": referral.emergency_review,
            "reviewed_by_user_id": referral.emergency_reviewed_by_user_id,
            "reviewed_at": referral.emergency_reviewed_at,
            "review_note": referral.emergency_review_note,
        }
        if referral.emergency_reason
        else None,
        "allowed_transitions": allowed_for(TRANSITIONS, referral.state, policy.parties(principal, referral))
        if principal.has_scope("referrals:write")
        else [],
    }
    if not detail:
        return WithFields(referral, **fields)
    consent = referral.consent_record if referral.consent_id else None
    access, basis = policy.personal_basis(principal, referral, consent, subjects.today())
    fields.update(personal_data=access, subject=None, need_description=None, history=referral.transitions)
    if access is PersonalAccess.included:
        assert basis is not None  # personal_basis gives one with every inclusion
        subject = referral.subject_record
        shown = {k: v for k, v in subjects.personal(subject).items() if v is not None}
        fields.update(subject=shown, need_description=_need_description(referral))
        disclosed = [*shown, *(["need_description"] if fields["need_description"] else [])]
        disclosures.record(
            session,
            principal=principal,
            subject=subject,
            referral=referral,
            fields=disclosed,
            purpose=f"referral: {referral.need_type.value}",
            basis=basis,
            consent=consent if basis is DisclosureBasis.consent else None,
        )
    return WithFields(referral, **fields)


def get(*, session: Session, principal: Principal, referral_id: uuid.UUID, lock: bool = False) -> Referral:
    query = select(Referral).where(Referral.id == referral_id)
    return policy.require_visible(principal, session.scalar(query.with_for_update() if lock else query))


# --- lists -------------------------------------------------------------------------------------


def list_query(
    *,
    session: Session,
    principal: Principal,
    box: str,
    state: list[S] | None = None,
    program_id: uuid.UUID | None = None,
    school_id: uuid.UUID | None = None,
    urgency: Any = None,
    overdue: bool | None = None,
    subject_id: uuid.UUID | None = None,
    emergency_review: Any = None,
    **_page: Any,
) -> list[Select]:
    """`box`: "sent" (by the caller's organization), "received", or "all" the caller may see; as
    disjoint queries whose rows together are the list (policy.visible_in_box)."""
    query = select(Referral)
    filters = {
        Referral.target_program_id: program_id,
        Referral.school_id: school_id,
        Referral.urgency: urgency,
        Referral.subject_id: subject_id,
        Referral.emergency_review: emergency_review,
    }
    query = query.where(*(column == value for column, value in filters.items() if value is not None))
    if state:
        query = query.where(Referral.state.in_(state))
    if overdue is not None:
        clause = overdue_clause(session)
        query = query.where(clause if overdue else ~clause)
    return [query.where(condition) for condition in policy.visible_in_box(principal, box)]


# --- sending -----------------------------------------------------------------------------------


# Sending reads the program's own columns and its organization's kind: one statement, without the
# child collections both load by default.
_FOR_SENDING = (joinedload(Program.organization).lazyload("*"), lazyload("*"))


def _target_program(session: Session, principal: Principal, program_id: uuid.UUID) -> Program:
    program = session.scalar(
        select(Program).where(Program.id == program_id, programs_policy.visible(principal)).options(*_FOR_SENDING)
    )
    if program is None:
        raise field_error("target_program_id", "No program with this id.")
    return program


def _check_accepting(program: Program) -> None:
    if program.status is not ProgramStatus.active:
        raise Conflict(f"The program is {program.status.value}, not active: it takes no referrals.")
    # The program's own record is the one answer; its capacity profile shows the same value.
    if not program.accepts_referrals:
        raise Conflict("The program is not accepting referrals.")


def _check_consent(session: Session, referral: Referral, target: Organization, consent_id: uuid.UUID) -> Consent:
    consent = session.get(Consent, consent_id)
    if consent is None or consent.subject_id != referral.subject_id:
        raise field_error("consent_id", "No consent with this id for this subject.")
    status = subjects.consent_status(consent, subjects.today())
    if status != "active":
        raise field_error("consent_id", f"The consent is {status.replace('_', ' ')}; it cannot be used to send a referral.")
    if str(target.id) not in consent.covers_organization_ids and target.kind.value not in consent.covers_organization_kinds:
        raise field_error("consent_id", "The consent does not cover the receiving organization.")
    if referral.need_type.value not in consent.purposes:
        raise field_error("consent_id", f"The consent does not cover the purpose {referral.need_type.value}.")
    return consent


def _send(
    session: Session,
    principal: Principal,
    referral: Referral,
    *,
    consent_id: uuid.UUID | None,
    emergency_reason: str | None,
) -> None:
    """Checks and effects of draft -> requested: a program that takes referrals and a lawful basis."""
    program = session.get_one(Program, referral.target_program_id, options=_FOR_SENDING)
    _check_accepting(program)
    if consent_id is not None and emergency_reason:
        raise field_error("emergency_reason", "Send either a consent or an emergency exception, not both.")
    if consent_id is not None:
        referral.consent_record = _check_consent(session, referral, program.organization, consent_id)
        referral.consent_id = referral.consent_record.id
    elif emergency_reason:
        referral.emergency_reason = emergency_reason
        referral.emergency_declared_by_user_id = principal.user_id
        referral.emergency_declared_at = utcnow()
        referral.emergency_review = EmergencyReview.pending
    else:
        raise field_error(
            "consent_id",
            "A referral is sent with a consent covering the receiver and purpose, "
            "or with an emergency exception (emergency_reason).",
        )
    referral.requested_at = utcnow()


def create(*, session: Session, principal: Principal, data: dict[str, Any]) -> Referral:
    try:
        subject = subjects.get(session=session, principal=principal, subject_id=data["subject_id"])
    except NotFound:
        raise field_error("subject_id", "Your organization records no subject with this id.") from None
    program = _target_program(session, principal, data["target_program_id"])
    if data.get("school_id") and session.get(School, data["school_id"]) is None:
        raise field_error("school_id", "No school with this id.")
    referral = Referral(
        id=uuid.uuid4(),
        source_organization_id=principal.organization_id,
        source_user_id=principal.user_id,
        target_program_id=program.id,
        target_organization_id=program.organization_id,
        subject_id=subject.id,
        school_id=data.get("school_id"),
        need_type=data.get("need_type") or program.program_type,
        urgency=data["urgency"],
        service_due_on=data.get("service_due_on"),
        state=S.draft,
        outcome_services=[],
        subject_record=subject,
    )
    if data.get("need_description"):
        referral.personal_data = keyring().encrypt(data["need_description"], context=f"referrals.personal_data:{referral.id}")
    sending = data["state"] is S.requested
    if sending:
        referral.state = S.requested
        _send(session, principal, referral, consent_id=data.get("consent_id"), emergency_reason=data.get("emergency_reason"))
    elif data.get("consent_id") or data.get("emergency_reason"):
        raise field_error("state", "A draft carries no consent or emergency exception yet: give them when sending it.")
    session.add(referral)
    # Through the relationship, so the new referral's history is known without reading it back.
    referral.transitions = [ReferralTransition(id=uuid.uuid4(), from_state=None, to_state=referral.state, **_actor(principal))]
    session.flush()
    audit.record(
        session,
        principal=principal,
        action="referral.created",
        object_type="referral",
        object_id=referral.id,
        changes=audit.diff(
            {},
            {**audit.snapshot(referral, AUDITED), "need_description": "set" if referral.personal_data else None},
            masked=["need_description"],
        ),
    )
    _event(session, principal, referral, "referral.created", to=referral.state)
    return referral


def _actor(principal: Principal) -> dict[str, Any]:
    return {
        "actor_organization_id": principal.organization_id,
        "actor_user_id": principal.user_id,
        "actor_client_id": principal.client_id,
        "at": utcnow(),
    }


def _event(session: Session, principal: Principal | None, referral: Referral, type: str, **payload: Any) -> None:
    """Events carry ids, states and kinds only: never a personal field or free text."""
    record_event(
        session,
        type=type,
        object_type="referral",
        object_id=referral.id,
        principal=principal,
        payload={
            "referral_id": referral.id,
            "state": referral.state,
            "program_id": referral.target_program_id,
            "source_organization_id": referral.source_organization_id,
            "target_organization_id": referral.target_organization_id,
            "urgency": referral.urgency,
            "need_type": referral.need_type,
            **payload,
        },
        audience=[referral.source_organization_id, referral.target_organization_id],
    )


# --- the state machine -------------------------------------------------------------------------


def _check_body(to: S, data: dict[str, Any]) -> None:
    if to in REASON_REQUIRED and not data.get("reason"):
        raise field_error("reason", f"A reason is required to move a referral to {to.value}.")
    if to in OUTCOME_REQUIRED and not data.get("outcome"):
        raise field_error("outcome", f"The outcome (enrollment status, services delivered) is required for {to.value}.")
    if data.get("outcome") and to not in OUTCOME_REQUIRED:
        raise field_error("outcome", "An outcome is recorded only when the referral is completed or failed.")
    if data.get("waitlist_if_full") and to is not S.accepted:
        raise field_error("waitlist_if_full", "Only an acceptance can go to the waitlist.")
    if (data.get("consent_id") or data.get("emergency_reason")) and to is not S.requested:
        raise field_error("consent_id", "A consent or emergency exception is given only when sending a draft.")


def _take_place(session: Session, principal: Principal, referral: Referral, *, waitlist_if_full: bool) -> None:
    """Acceptance takes a slot of a program that counts them, or a waitlist place when asked to."""
    profile = slots.tracks_slots(session, referral.target_program_id)
    if profile is None:
        return
    if slots.take_slot(session, principal, referral.target_program_id):
        referral.holds_slot = True
    elif waitlist_if_full and slots.join_waitlist(session, principal, referral.target_program_id):
        referral.on_waitlist = True
    elif waitlist_if_full:
        raise Conflict("The program has no slot left and its waitlist is closed.")
    else:
        raise Conflict(
            "The program has no slot left. Accept with waitlist_if_full to put the referral on its waitlist.",
            waitlist_open=profile.waitlist_open,
        )


def _start_from_waitlist(session: Session, principal: Principal, referral: Referral) -> None:
    if not slots.take_slot(session, principal, referral.target_program_id):
        raise Conflict("The referral is on the waitlist and the program still has no slot left.")
    slots.leave_waitlist(session, principal, referral.target_program_id)
    referral.on_waitlist, referral.holds_slot = False, True


def _release_place(session: Session, principal: Principal, referral: Referral) -> None:
    if referral.holds_slot:
        slots.release_slot(session, principal, referral.target_program_id)
    if referral.on_waitlist:
        slots.leave_waitlist(session, principal, referral.target_program_id)
    referral.holds_slot = referral.on_waitlist = False


def transition(*, session: Session, principal: Principal, referral_id: uuid.UUID, data: dict[str, Any]) -> Referral:
    referral = get(session=session, principal=principal, referral_id=referral_id, lock=True)
    start, to = referral.state, data["to"]
    if (start, to) not in TRANSITIONS:
        raise invalid_transition("A referral", TRANSITIONS, start, to)
    policy.require_party(principal, referral, to)
    _check_body(to, data)
    before = audit.snapshot(referral, AUDITED)
    if to is S.requested:
        _send(session, principal, referral, consent_id=data.get("consent_id"), emergency_reason=data.get("emergency_reason"))
    elif to is S.accepted:
        _take_place(session, principal, referral, waitlist_if_full=data.get("waitlist_if_full", False))
    elif to is S.in_progress and referral.on_waitlist:
        _start_from_waitlist(session, principal, referral)
    elif to in RELEASES_PLACE:
        _release_place(session, principal, referral)
    if to in OUTCOME_REQUIRED:
        outcome = data["outcome"]
        referral.outcome_enrollment_status = outcome["enrollment_status"]
        referral.outcome_services = jsonable(outcome.get("services", []))
        referral.outcome_recorded_at = utcnow()
    referral.state = to
    session.add(
        ReferralTransition(
            id=uuid.uuid4(),
            referral_id=referral.id,
            from_state=start,
            to_state=to,
            reason=data.get("reason"),
            **_actor(principal),
        )
    )
    session.flush()
    session.refresh(referral, ["transitions"])
    audit.record(
        session,
        principal=principal,
        action="referral.transitioned",
        object_type="referral",
        object_id=referral.id,
        changes={
            **audit.diff(before, audit.snapshot(referral, AUDITED)),
            **({"reason": {"before": None, "after": data["reason"]}} if data.get("reason") else {}),
        },
    )
    _event(session, principal, referral, "referral.transitioned", from_state=start, to=to)
    return referral


def review_emergency(
    *, session: Session, principal: Principal, referral_id: uuid.UUID, decision: EmergencyReview, note: str
) -> Referral:
    """The referring organization's admins judge an emergency exception after the fact; one
    found not justified stops the receiver seeing the personal fields."""
    referral = get(session=session, principal=principal, referral_id=referral_id, lock=True)
    policy.require_emergency_reviewer(principal, referral)
    if referral.emergency_review is not EmergencyReview.pending:
        raise Conflict("This referral has no emergency exception waiting for review.")
    before = audit.snapshot(referral, AUDITED)
    referral.emergency_review = decision
    referral.emergency_reviewed_by_user_id = principal.user_id
    referral.emergency_reviewed_at = utcnow()
    referral.emergency_review_note = note
    session.flush()
    audit.record(
        session,
        principal=principal,
        action="referral.emergency_reviewed",
        object_type="referral",
        object_id=referral.id,
        changes=audit.diff(before, audit.snapshot(referral, AUDITED)),
    )
    _event(session, principal, referral, "referral.emergency_reviewed", review=decision)
    return referral


# --- notes -------------------------------------------------------------------------------------


def _note_context(note: ReferralNote) -> str:
    return f"referral_notes.body:{note.id}"


def note_body(note: ReferralNote) -> str:
    return keyring().decrypt(note.body, context=_note_context(note))


def _require_notes_access(session: Session, principal: Principal, referral_id: uuid.UUID) -> Referral:
    referral = get(session=session, principal=principal, referral_id=referral_id)
    consent = session.get(Consent, referral.consent_id) if referral.consent_id else None
    policy.require_notes_access(principal, referral, consent, subjects.today())
    return referral


def notes_query(*, session: Session, principal: Principal, referral_id: uuid.UUID) -> Select:
    _require_notes_access(session, principal, referral_id)
    return select(ReferralNote).where(ReferralNote.referral_id == referral_id)


def add_note(*, session: Session, principal: Principal, referral_id: uuid.UUID, body: str) -> ReferralNote:
    referral = _require_notes_access(session, principal, referral_id)
    note = ReferralNote(
        id=uuid.uuid4(),
        referral_id=referral.id,
        organization_id=principal.organization_id,
        author_user_id=principal.user_id,
        created_at=utcnow(),
    )
    note.body = keyring().encrypt(body, context=_note_context(note))
    session.add(note)
    session.flush()
    _event(session, principal, referral, "referral.note_added", note_id=note.id)
    return note


# --- keys and deadlines, for the CLI and the worker --------------------------------------------


def reseal_all(session: Session, *, batch: int = 500, counts: dict[str, int] | None = None) -> dict[str, int]:
    """Re-encrypt everything still under an old key, committed batch by batch; returns how many values
    were rewritten. `counts` is filled as it goes, so a caller keeps them when a value fails to decrypt.

    Each value is swapped only if it is still the one read, so a write made meanwhile is never undone
    (nor counted; the next pass picks it up if it is under an old key), and the swap leaves the
    record's version and updated_at alone: its content did not change.
    """
    counts = {} if counts is None else counts

    def current() -> str:  # asked again each batch: instance/field_keys may gain a newer key meanwhile
        return f"{keyring().current_key_id}:"

    for name, attribute, context in (
        ("subjects", Subject.personal_data, "subjects.personal_data"),
        ("referrals", Referral.personal_data, "referrals.personal_data"),
        ("notes", ReferralNote.body, "referral_notes.body"),
    ):
        table, column = attribute.class_.__table__, attribute.expression
        counts[name] = 0
        # substr, not LIKE: SQLite's LIKE ignores case, and key ids are case-sensitive.
        while rows := session.execute(
            select(table.c.id, column)
            .where(column.is_not(None), func.substr(column, 1, len(current())) != current())
            .limit(batch)
        ).all():
            # End the read first: on SQLite a transaction that read and then writes fails at once
            # ("database is locked") if the serving hub committed in between.
            session.commit()
            for ident, value in rows:
                sealed = keyring().encrypt(keyring().decrypt(value, context=f"{context}:{ident}"), context=f"{context}:{ident}")
                counts[name] += rowcount(
                    session.execute(update(table).where(table.c.id == ident, column == value).values({column: sealed}))
                )
            session.commit()
    # Stored responses live a day at most: few enough to read through (bytes do not LIKE alike everywhere).
    responses = IdempotencyKey.__table__
    counts["stored responses"] = 0
    stored = session.execute(select(responses.c.id, responses.c.response_body).where(responses.c.replayable)).all()
    session.commit()
    for ident, body in stored:
        if not body.startswith(current().encode()):
            plain = keyring().decrypt(body.decode(), context=body_context(ident))
            counts["stored responses"] += rowcount(
                session.execute(
                    update(responses)
                    .where(responses.c.id == ident, responses.c.response_body == body)
                    .values(response_body=keyring().encrypt(plain, context=body_context(ident)).encode())
                )
            )
    session.commit()
    return counts


def flag_overdue(session: Session, principal: Principal) -> int:
    """Raise `referral.overdue` once for each referral left in requested past the deadline."""
    late = session.scalars(
        select(Referral).where(overdue_clause(session), Referral.overdue_notified_at.is_(None)).with_for_update(skip_locked=True)
    ).all()  # two runs at once flag each referral once
    for referral in late:
        referral.overdue_notified_at = utcnow()
        _event(session, principal, referral, "referral.overdue")
    session.flush()
    return len(late)
