"""A program's capacity profile (one row per program, created on its first update) and the
append-only history of every change to it."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from cbs_network.core.db import Base, IdMixin, TimestampMixin, VersionedMixin, utcnow
from cbs_network.organizations.models import enum_column


class SlotUnit(enum.StrEnum):
    participants = "participants"
    youth = "youth"
    families = "families"
    shifts = "shifts"


class CapacityProfile(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "capacity_profiles"
    # The database, not the code, is what keeps concurrent accepts from oversubscribing.
    __table_args__ = (CheckConstraint("available_slots >= 0 AND waitlist_length >= 0", name="counts_not_negative"),)

    # A draft program may be deleted; its capacity goes with it (the audit log keeps the record).
    program_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"), unique=True)
    total_slots: Mapped[int] = mapped_column(Integer)
    available_slots: Mapped[int] = mapped_column(Integer)
    slot_unit: Mapped[SlotUnit] = mapped_column(enum_column(SlotUnit, "slot_unit"))
    waitlist_length: Mapped[int] = mapped_column(Integer, default=0)
    waitlist_open: Mapped[bool] = mapped_column(Boolean, default=False)
    assessment_required: Mapped[bool] = mapped_column(Boolean, default=False)
    staff_count: Mapped[int | None] = mapped_column(Integer)
    certified_interventionists: Mapped[int | None] = mapped_column(Integer)
    languages_staffed: Mapped[list[str]] = mapped_column(JSON, default=list)
    hours: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    updated_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))


class CapacityHistory(IdMixin, Base):
    """One row per change: the profile as it became, who changed it and when."""

    __tablename__ = "capacity_history"

    program_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    changed_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    snapshot: Mapped[dict] = mapped_column(JSON)
