"""Capacity profiles: read, update in one call (the first update creates the profile), history,
freshness and the pre-referral check."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from cbs_network.audit import service as audit
from cbs_network.capacity import policy
from cbs_network.capacity.models import CapacityHistory, CapacityProfile
from cbs_network.core.db import utcnow
from cbs_network.core.errors import NotFound, PreconditionFailed, PreconditionRequired
from cbs_network.directory.models import Program
from cbs_network.directory.programs import policy as programs_policy
from cbs_network.directory.programs import service as programs
from cbs_network.events.service import record_event
from cbs_network.http.etag import check_version, etag
from cbs_network.http.schemas import WithFields
from cbs_network.identity.principal import Principal
from cbs_network.settings import service as settings_service

# Whether the program takes referrals is not a capacity value: it is the program's own
# accepts_referrals (one record, so the listing, the send check and matching never disagree);
# present() shows it on the profile, read-only, as accepting_referrals.
VALUE_FIELDS = (
    "total_slots",
    "available_slots",
    "slot_unit",
    "waitlist_length",
    "waitlist_open",
    "assessment_required",
    "staff_count",
    "certified_interventionists",
    "languages_staffed",
    "hours",
    "notes",
)
# Events carry ids and numbers only (no notes, hours or other free text).
EVENT_FIELDS = ("total_slots", "available_slots", "waitlist_length", "waitlist_open", "assessment_required")


def stale_after(session: Session) -> timedelta:
    return timedelta(days=settings_service.get(session).capacity_stale_after_days)


def stale_cutoff(session: Session, now: datetime | None = None) -> datetime:
    """Profiles updated at or before this instant are stale."""
    return (now or utcnow()) - stale_after(session)


def present(session: Session, profile: CapacityProfile) -> WithFields:
    fresh_until = profile.updated_at + stale_after(session)
    accepting = session.scalar(select(Program.accepts_referrals).where(Program.id == profile.program_id))
    return WithFields(profile, stale=fresh_until <= utcnow(), fresh_until=fresh_until, accepting_referrals=accepting)


def _find(session: Session, program_id: uuid.UUID) -> CapacityProfile | None:
    return session.scalar(select(CapacityProfile).where(CapacityProfile.program_id == program_id))


def _require_visible(session: Session, principal: Principal | None, program_id: uuid.UUID) -> None:
    """404 unless `principal` may see the program (the programs' own policy), without loading
    the program's child rows."""
    if session.scalar(select(Program.id).where(Program.id == program_id, programs_policy.visible(principal))) is None:
        raise NotFound("No program with this id.")


def get(*, session: Session, principal: Principal | None, program_id: uuid.UUID) -> CapacityProfile:
    _require_visible(session, principal, program_id)
    profile = _find(session, program_id)
    if profile is None:
        raise NotFound("This program has no capacity profile yet.")
    return profile


def update(
    *, session: Session, principal: Principal, program_id: uuid.UUID, data: dict[str, Any], expected_version: int | None
) -> tuple[CapacityProfile, bool]:
    """Replace the profile's values (creating the profile on the first update); (profile, created).

    Every update, even one that repeats the values, counts as a confirmation: it refreshes
    `updated_at` (so the profile is fresh again) and appends a history row.
    """
    program = programs.get(session=session, principal=principal, program_id=program_id, lists=False)
    policy.require_update(principal, program)
    profile = _find(session, program_id)
    created = profile is None
    if profile is None:
        if expected_version is not None:
            raise PreconditionFailed("This program has no capacity profile yet; create it without If-Match.")
        profile = CapacityProfile(id=uuid.uuid4(), program_id=program_id)
        session.add(profile)
        before: dict[str, Any] = {}
    else:
        if expected_version is None:
            raise PreconditionRequired(f"Send If-Match with the capacity profile's ETag ({etag(profile.version)}).")
        check_version(profile, expected_version)
        before = audit.snapshot(profile, VALUE_FIELDS)
    for name in VALUE_FIELDS:
        setattr(profile, name, data[name])
    profile.updated_at = utcnow()  # a confirmation with the same values is fresh again
    profile.updated_by_user_id = principal.user_id
    session.flush()
    after = audit.snapshot(profile, VALUE_FIELDS)
    session.add(
        CapacityHistory(
            id=uuid.uuid4(),
            program_id=program_id,
            version=profile.version,
            changed_at=profile.updated_at,
            changed_by_user_id=principal.user_id,
            snapshot=after,
        )
    )
    audit.record(
        session,
        principal=principal,
        action="capacity.updated",
        object_type="capacity_profile",
        object_id=profile.id,
        changes=audit.diff(before, after),
    )
    record_event(
        session,
        type="capacity.updated",
        object_type="capacity_profile",
        object_id=profile.id,
        principal=principal,
        payload={
            "program_id": program_id,
            "organization_id": program.organization_id,
            "version": profile.version,
            **{name: after[name] for name in EVENT_FIELDS},
        },
        audience=[program.organization_id],
    )
    return profile, created


def history_query(
    *,
    session: Session,
    principal: Principal | None,
    program_id: uuid.UUID,
    since: datetime | None = None,
    until: datetime | None = None,
    **_page: Any,
) -> Select:
    """The changes of a visible program's profile in [since, until)."""
    _require_visible(session, principal, program_id)
    query = select(CapacityHistory).where(CapacityHistory.program_id == program_id)
    if since is not None:
        query = query.where(CapacityHistory.changed_at >= since)
    if until is not None:
        query = query.where(CapacityHistory.changed_at < until)
    return query


def check(*, session: Session, principal: Principal | None, program_id: uuid.UUID) -> dict[str, Any]:
    """Whether a referral to the program could be taken now, and why."""
    program: Program = programs.get(session=session, principal=principal, program_id=program_id, lists=False)
    profile = _find(session, program_id)
    status, reason = status_of(profile, program_accepts_referrals=program.accepts_referrals)
    if profile is None:
        return {"program_id": program_id, "status": status, "stale": True, "reasons": [reason + "."]}
    shown = present(session, profile)
    reasons = []
    if shown.stale:
        reasons.append(f"The capacity profile was last updated {profile.updated_at.date().isoformat()} and may be out of date.")
    reasons.append(reason + ".")
    return {"program_id": program_id, "status": status, "stale": shown.stale, "reasons": reasons}


def status_of(profile: CapacityProfile | None, *, program_accepts_referrals: bool = True) -> tuple[str, str]:
    """(status, reason) of the pre-referral check: first whether the program takes referrals at
    all (its accepts_referrals, which the send check enforces, so the two always agree), then
    the profile: an assessment, a free slot, an open waitlist."""
    if not program_accepts_referrals:
        return "no_capacity", "The program is not accepting referrals"
    if profile is None:
        return "unknown", "The program has not published a capacity profile"
    if profile.assessment_required:
        return "assessment_required", "The program requires an intake assessment before it takes a referral"
    if profile.available_slots > 0:
        return "has_capacity", f"{profile.available_slots} of {profile.total_slots} {profile.slot_unit} slots are available"
    if profile.waitlist_open:
        return "waitlist", f"No slot is available; the waitlist is open ({profile.waitlist_length} waiting)"
    return "no_capacity", "No slot is available and the waitlist is closed"
