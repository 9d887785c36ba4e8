"""Committees, their members and nominations, the jurisdictions whose rules they answer to, and
safety plans with their needs.

Who must sit on a committee and when a plan is due are data (jurisdictions and their rules),
not code: the state's rule, a district's deadline and the network's own rule (a CBO
representative on every committee) are rows that network admins keep current.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cbs_network.core.db import Base, IdMixin, TimestampMixin, VersionedMixin
from cbs_network.directory.models import ProgramType
from cbs_network.organizations.models import enum_column


class MemberRole(enum.StrEnum):
    principal_or_designee = "principal_or_designee"
    teacher_rep = "teacher_rep"
    parent = "parent"
    classified_rep = "classified_rep"
    pupil = "pupil"
    law_enforcement = "law_enforcement"
    fire = "fire"
    other_first_responder = "other_first_responder"
    cbo_representative = "cbo_representative"
    community_member = "community_member"
    other = "other"


class MemberStatus(enum.StrEnum):
    nominated = "nominated"
    active = "active"
    declined = "declined"
    ended = "ended"


class PlanState(enum.StrEnum):
    not_started = "not_started"
    drafting = "drafting"
    public_meeting_held = "public_meeting_held"
    submitted = "submitted"
    approved = "approved"
    amended = "amended"


class NeedPriority(enum.StrEnum):
    high = "high"
    medium = "medium"
    low = "low"


class NeedStatus(enum.StrEnum):
    open = "open"
    in_progress = "in_progress"
    met = "met"


class Jurisdiction(IdMixin, TimestampMixin, VersionedMixin, Base):
    """A body whose rules a school answers to. A school's jurisdiction and its ancestors all
    apply: e.g. LAUSD (ISSP due October 1) within California (Ed Code 32281 composition, plan due
    March 1) within the network (a CBO representative on every committee)."""

    __tablename__ = "jurisdictions"

    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("jurisdictions.id"), index=True)
    # The annual plan deadline (month, day); the nearest jurisdiction that sets one wins.
    plan_due_month: Mapped[int | None] = mapped_column(Integer)
    plan_due_day: Mapped[int | None] = mapped_column(Integer)
    # [{"role": MemberRole, "minimum": n, "min_grade": g | null, "source": "Ed Code 32281(b)(2)"}]:
    # `min_grade` limits a rule to schools teaching that grade or above (a pupil for grades 9-12).
    composition_rules: Mapped[list[dict]] = mapped_column(JSON, default=list)
    description: Mapped[str | None] = mapped_column(Text)


class Committee(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "committees"
    __table_args__ = (UniqueConstraint("school_id", "school_year"),)

    school_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("schools.id"), index=True)
    school_year: Mapped[str] = mapped_column(String(7), index=True)  # "2026-27"
    meeting_schedule: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)

    members: Mapped[list[CommitteeMember]] = relationship(
        lazy="selectin", order_by="CommitteeMember.created_at, CommitteeMember.id", viewonly=True
    )


class CommitteeMember(IdMixin, TimestampMixin, VersionedMixin, Base):
    """A seat on a committee; a CBO's nomination is a member in `nominated` until the school side decides."""

    __tablename__ = "committee_members"
    __table_args__ = (CheckConstraint("term_end IS NULL OR term_start IS NULL OR term_end >= term_start", name="term_order"),)

    committee_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("committees.id"), index=True)
    role: Mapped[MemberRole] = mapped_column(enum_column(MemberRole, "member_role"))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    organization_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    term_start: Mapped[date | None] = mapped_column(Date)
    term_end: Mapped[date | None] = mapped_column(Date)
    status: Mapped[MemberStatus] = mapped_column(enum_column(MemberStatus, "member_status"), index=True)
    nominated_by_organization_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organizations.id"))
    nominated_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    decided_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column()
    decision_reason: Mapped[str | None] = mapped_column(Text)


class SafetyPlan(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "safety_plans"
    __table_args__ = (UniqueConstraint("school_id", "school_year"),)

    school_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("schools.id"), index=True)
    school_year: Mapped[str] = mapped_column(String(7), index=True)
    state: Mapped[PlanState] = mapped_column(enum_column(PlanState, "plan_state"), index=True)
    # Fixed when the plan is opened, from the school's jurisdictions, so a later rule change
    # does not move a deadline already running.
    due_on: Mapped[date] = mapped_column(Date, index=True)
    due_rule: Mapped[str] = mapped_column(String(200))  # which jurisdiction set it, for people
    public_meeting_on: Mapped[date | None] = mapped_column(Date)
    approved_at: Mapped[datetime | None] = mapped_column()
    approved_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    summary: Mapped[str | None] = mapped_column(Text)


class PlanTransition(IdMixin, Base):
    __tablename__ = "safety_plan_transitions"

    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("safety_plans.id"), index=True)
    from_state: Mapped[PlanState] = mapped_column(enum_column(PlanState, "plan_from_state"))
    to_state: Mapped[PlanState] = mapped_column(enum_column(PlanState, "plan_to_state"))
    at: Mapped[datetime] = mapped_column()
    actor_organization_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organizations.id"))
    actor_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(Text)


class PlanNeed(IdMixin, TimestampMixin, VersionedMixin, Base):
    """A need the plan's assessment found: its kind is a program type, so it links to programs."""

    __tablename__ = "safety_plan_needs"

    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("safety_plans.id"), index=True)
    need_type: Mapped[ProgramType] = mapped_column(enum_column(ProgramType, "plan_need_type"), index=True)
    description: Mapped[str] = mapped_column(Text)
    location_description: Mapped[str | None] = mapped_column(Text)  # e.g. "Vermont Ave between 80th and 84th; Metro stop"
    priority: Mapped[NeedPriority] = mapped_column(enum_column(NeedPriority, "need_priority"))
    status: Mapped[NeedStatus] = mapped_column(enum_column(NeedStatus, "need_status"), index=True)

    programs: Mapped[list[PlanNeedProgram]] = relationship(lazy="selectin", cascade="all, delete-orphan")


class PlanNeedProgram(Base):
    """A program that meets (or will meet) a need."""

    __tablename__ = "safety_plan_need_programs"

    need_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("safety_plan_needs.id", ondelete="CASCADE"), primary_key=True)
    program_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("programs.id"), primary_key=True, index=True)
