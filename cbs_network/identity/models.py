from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cbs_network.core.db import Base, IdMixin, TimestampMixin, VersionedMixin
from cbs_network.identity.roles import Role
from cbs_network.organizations.models import Organization, enum_column


class User(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(320), unique=True)  # stored lower-case
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    invitation_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    invitation_expires_at: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    # The organization whose admin created the account: only it (or network admins) manages the
    # account's activation. None for accounts the operator created (seed, CLI).
    created_by_organization_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organizations.id"), index=True)

    memberships: Mapped[list[Membership]] = relationship(back_populates="user", cascade="all, delete-orphan")

    @property
    def is_invited(self) -> bool:
        return self.password_hash is None


class MembershipStatus(enum.StrEnum):
    pending = "pending"  # offered to an existing account; grants nothing until its owner accepts
    active = "active"


class Membership(IdMixin, TimestampMixin, VersionedMixin, Base):
    """A user's role in one organization; a token acts for exactly one of these."""

    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("user_id", "organization_id"),
        # An organization's members in keyset order.
        Index("ix_memberships_organization_id_created_at_id", "organization_id", "created_at", "id"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    role: Mapped[Role] = mapped_column(enum_column(Role, "membership_role"))
    status: Mapped[MembershipStatus] = mapped_column(
        enum_column(MembershipStatus, "membership_status"),
        default=MembershipStatus.active,
        server_default=MembershipStatus.active.value,
        index=True,
    )

    user: Mapped[User] = relationship(back_populates="memberships", lazy="joined")
    organization: Mapped[Organization] = relationship(lazy="joined")
