"""Slots and waitlist places taken and given back by referrals.

Each change is one conditional UPDATE (`... WHERE available_slots > 0`): PostgreSQL locks the
row and re-checks the condition after a concurrent writer commits, so simultaneous accepts
take at most the slots there are; the CHECK constraint on the table is the last line. These
are bookkeeping, not a confirmation by the program: `updated_at` (freshness) is kept.
"""

from __future__ import annotations

import uuid

from sqlalchemy import case, select, update
from sqlalchemy.orm import Session

from cbs_network.audit import service as audit
from cbs_network.capacity.models import CapacityHistory, CapacityProfile
from cbs_network.capacity.service import VALUE_FIELDS
from cbs_network.core.db import rowcount
from cbs_network.identity.principal import Principal

P = CapacityProfile


def tracks_slots(session: Session, program_id: uuid.UUID) -> CapacityProfile | None:
    """The program's profile; a program without one does not count slots."""
    return session.scalar(select(P).where(P.program_id == program_id))


def _change(session: Session, principal: Principal, program_id: uuid.UUID, condition, **values) -> bool:
    statement = (
        update(P)
        .where(P.program_id == program_id, *condition)
        .values(version=P.version + 1, updated_at=P.updated_at, **values)
        .execution_options(synchronize_session=False)
    )
    if rowcount(session.execute(statement)) != 1:
        return False
    profile = session.execute(select(P).where(P.program_id == program_id).execution_options(populate_existing=True)).scalar_one()
    session.add(
        CapacityHistory(
            id=uuid.uuid4(),
            program_id=program_id,
            version=profile.version,
            changed_by_user_id=principal.user_id,
            snapshot=audit.snapshot(profile, VALUE_FIELDS),
        )
    )
    return True


def take_slot(session: Session, principal: Principal, program_id: uuid.UUID) -> bool:
    return _change(session, principal, program_id, [P.available_slots > 0], available_slots=P.available_slots - 1)


def release_slot(session: Session, principal: Principal, program_id: uuid.UUID) -> None:
    # Capped at the total: the program may have lowered it while the slot was held.
    _change(
        session,
        principal,
        program_id,
        [],
        available_slots=case((P.available_slots < P.total_slots, P.available_slots + 1), else_=P.available_slots),
    )


def join_waitlist(session: Session, principal: Principal, program_id: uuid.UUID) -> bool:
    return _change(session, principal, program_id, [P.waitlist_open.is_(True)], waitlist_length=P.waitlist_length + 1)


def leave_waitlist(session: Session, principal: Principal, program_id: uuid.UUID) -> None:
    _change(
        session,
        principal,
        program_id,
        [],
        waitlist_length=case((P.waitlist_length > 0, P.waitlist_length - 1), else_=P.waitlist_length),
    )
