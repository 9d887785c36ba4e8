from __future__ import annotations

import enum
import uuid

from sqlalchemy import Enum, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cbs_network.core.db import Base, IdMixin, TimestampMixin, VersionedMixin


class OrganizationKind(enum.StrEnum):
    school_district = "school_district"
    district_office = "district_office"
    school = "school"
    city_agency = "city_agency"
    county_agency = "county_agency"
    state_agency = "state_agency"
    cbo = "cbo"
    funder = "funder"
    coalition = "coalition"
    hospital = "hospital"
    network_hub = "network_hub"


class OrganizationStatus(enum.StrEnum):
    prospective = "prospective"
    active = "active"
    suspended = "suspended"
    inactive = "inactive"


def enum_column(enum_cls: type[enum.Enum], name: str) -> Enum:
    # Stored as strings with a CHECK constraint: portable, and new members need no type migration.
    return Enum(
        enum_cls, name=name, native_enum=False, create_constraint=True, length=40, values_callable=lambda e: [m.value for m in e]
    )


class Organization(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "organizations"

    kind: Mapped[OrganizationKind] = mapped_column(enum_column(OrganizationKind, "organization_kind"), index=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    alternate_name: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    jurisdiction: Mapped[str | None] = mapped_column(String(200))
    governing_authority: Mapped[str | None] = mapped_column(Text)
    website: Mapped[str | None] = mapped_column(String(500))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[OrganizationStatus] = mapped_column(
        enum_column(OrganizationStatus, "organization_status"), default=OrganizationStatus.prospective, index=True
    )
    parent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organizations.id"), index=True)

    parent: Mapped[Organization | None] = relationship(remote_side="Organization.id")
    identifiers: Mapped[list[OrganizationIdentifier]] = relationship(
        back_populates="organization",
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="OrganizationIdentifier.scheme",
    )
    contacts: Mapped[list[OrganizationContact]] = relationship(
        back_populates="organization",
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="OrganizationContact.position",
    )


class OrganizationIdentifier(IdMixin, Base):
    """EIN, CDS and NCES codes, vendor numbers: unique per scheme across the network."""

    __tablename__ = "organization_identifiers"
    __table_args__ = (UniqueConstraint("scheme", "value"),)

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    scheme: Mapped[str] = mapped_column(String(40))
    value: Mapped[str] = mapped_column(String(100))
    organization: Mapped[Organization] = relationship(back_populates="identifiers")


class OrganizationContact(IdMixin, Base):
    __tablename__ = "organization_contacts"

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(String(200))
    title: Mapped[str | None] = mapped_column(String(200))
    department: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(40))
    organization: Mapped[Organization] = relationship(back_populates="contacts")
