"""The directory: schools, programs (HSDS "service"), locations and service areas."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cbs_network.core.db import Base, IdMixin, TimestampMixin, VersionedMixin
from cbs_network.organizations.models import Organization, enum_column

# Grades as ordinals so ranges compare: TK=-1, K=0, then 1..12.
GRADES = {"TK": -1, "K": 0, **{str(n): n for n in range(1, 13)}}
GRADE_NAMES = {v: k for k, v in GRADES.items()}


class SchoolStatus(enum.StrEnum):
    active = "active"
    pending = "pending"
    closed = "closed"


class ProgramType(enum.StrEnum):
    safe_passage = "safe_passage"
    violence_interruption = "violence_interruption"
    gang_prevention = "gang_prevention"
    gang_intervention = "gang_intervention"
    incident_response = "incident_response"
    hospital_based_intervention = "hospital_based_intervention"
    mentoring = "mentoring"
    restorative_justice = "restorative_justice"
    mental_health = "mental_health"
    after_school = "after_school"
    family_support = "family_support"
    crisis_response = "crisis_response"
    reentry = "reentry"
    other = "other"


class ProgramStatus(enum.StrEnum):
    draft = "draft"
    active = "active"
    inactive = "inactive"
    temporarily_closed = "temporarily_closed"
    defunct = "defunct"


class EvidenceBasis(enum.StrEnum):
    evidence_based = "evidence_based"
    research_informed = "research_informed"
    promising_practice = "promising_practice"
    community_defined = "community_defined"
    not_evaluated = "not_evaluated"


class LocationType(enum.StrEnum):
    physical = "physical"
    virtual = "virtual"


class School(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "schools"
    # Proximity search: a latitude range read from the index, longitude checked in it (geo.bounding_box).
    __table_args__ = (Index("ix_schools_latitude_longitude", "latitude", "longitude"),)

    cds_code: Mapped[str] = mapped_column(String(14), unique=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    grade_low: Mapped[int | None] = mapped_column(Integer)
    grade_high: Mapped[int | None] = mapped_column(Integer)
    region: Mapped[str | None] = mapped_column(String(60), index=True)
    board_district: Mapped[int | None] = mapped_column(Integer, index=True)
    address_1: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[str | None] = mapped_column(String(2))
    postal_code: Mapped[str | None] = mapped_column(String(10))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    is_bsap: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    status: Mapped[SchoolStatus] = mapped_column(enum_column(SchoolStatus, "school_status"), default=SchoolStatus.active)
    # The school as a network member (its own organization record), when it has one.
    organization_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    # The school_district organization the school answers to (its roster entry, committee and
    # plan); none: only network admins (and the school's own organization) keep them.
    district_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    # Whose committee and plan rules apply (committees.models.Jurisdiction); none: the root rules.
    jurisdiction_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("jurisdictions.id"), index=True)


class Program(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "programs"
    # Searches by type and an organization's programs, each one index range in keyset order.
    __table_args__ = (
        Index("ix_programs_program_type_created_at_id", "program_type", "created_at", "id"),
        Index("ix_programs_organization_id_created_at_id", "organization_id", "created_at", "id"),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    name: Mapped[str] = mapped_column(String(200), index=True)
    alternate_name: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    program_type: Mapped[ProgramType] = mapped_column(enum_column(ProgramType, "program_type"))
    status: Mapped[ProgramStatus] = mapped_column(
        enum_column(ProgramStatus, "program_status"), default=ProgramStatus.draft, index=True
    )
    minimum_age: Mapped[int | None] = mapped_column(Integer)
    maximum_age: Mapped[int | None] = mapped_column(Integer)
    minimum_grade: Mapped[int | None] = mapped_column(Integer)
    maximum_grade: Mapped[int | None] = mapped_column(Integer)
    population_description: Mapped[str | None] = mapped_column(Text)
    eligibility_description: Mapped[str | None] = mapped_column(Text)
    fees_description: Mapped[str | None] = mapped_column(Text)
    is_free: Mapped[bool] = mapped_column(Boolean, default=True)
    application_process: Mapped[str | None] = mapped_column(Text)
    evidence_basis: Mapped[EvidenceBasis | None] = mapped_column(enum_column(EvidenceBasis, "evidence_basis"))
    evidence_description: Mapped[str | None] = mapped_column(Text)
    funding_sources: Mapped[list[str]] = mapped_column(JSON, default=list)
    contacts: Mapped[list[dict]] = mapped_column(JSON, default=list)
    url: Mapped[str | None] = mapped_column(String(500))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(40))
    accepts_referrals: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    # Verification (HSDS assured_date): when and by whom the listing was last confirmed.
    assured_at: Mapped[datetime | None] = mapped_column(index=True)
    assured_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    # Service area: a GeoJSON Polygon/MultiPolygon besides the listed schools and regions.
    service_area_geojson: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))  # SQL NULL, not JSON null
    service_area_description: Mapped[str | None] = mapped_column(Text)

    organization: Mapped[Organization] = relationship()
    languages: Mapped[list[ProgramLanguage]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ProgramLanguage.code"
    )
    external_codes: Mapped[list[ProgramExternalCode]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ProgramExternalCode.scheme"
    )
    schedules: Mapped[list[ProgramSchedule]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ProgramSchedule.position"
    )
    served_schools: Mapped[list[ProgramSchool]] = relationship(cascade="all, delete-orphan", lazy="selectin")
    served_regions: Mapped[list[ProgramRegion]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ProgramRegion.region"
    )
    program_locations: Mapped[list[ProgramLocation]] = relationship(cascade="all, delete-orphan", lazy="selectin")


class ProgramLanguage(Base):
    __tablename__ = "program_languages"

    program_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"), primary_key=True)
    code: Mapped[str] = mapped_column(String(3), primary_key=True, index=True)  # ISO 639-1/-3


class ProgramExternalCode(IdMixin, Base):
    """A code in an outside taxonomy (scheme + code); licensed term text is never stored."""

    __tablename__ = "program_external_codes"
    __table_args__ = (UniqueConstraint("program_id", "scheme", "code"),)

    program_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"), index=True)
    scheme: Mapped[str] = mapped_column(String(40))
    code: Mapped[str] = mapped_column(String(60))


class ProgramSchedule(IdMixin, Base):
    """When a program runs: weekdays and hours, or for safe passages minutes around the bell."""

    __tablename__ = "program_schedules"

    program_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    byday: Mapped[list[str]] = mapped_column(JSON, default=list)  # RFC 5545 day codes: MO, TU, ...
    opens_at: Mapped[str | None] = mapped_column(String(5))  # HH:MM, local time
    closes_at: Mapped[str | None] = mapped_column(String(5))
    minutes_before_arrival: Mapped[int | None] = mapped_column(Integer)
    minutes_after_dismissal: Mapped[int | None] = mapped_column(Integer)
    description: Mapped[str | None] = mapped_column(Text)


class ProgramSchool(Base):
    __tablename__ = "program_schools"

    program_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"), primary_key=True)
    school_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("schools.id"), primary_key=True, index=True)


class ProgramRegion(Base):
    __tablename__ = "program_regions"

    program_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"), primary_key=True)
    region: Mapped[str] = mapped_column(String(60), primary_key=True, index=True)


class Location(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "locations"
    __table_args__ = (
        Index("ix_locations_organization_id_created_at_id", "organization_id", "created_at", "id"),
        # Proximity search: a latitude range read from the index, longitude checked in it (geo.bounding_box).
        Index("ix_locations_latitude_longitude", "latitude", "longitude"),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    location_type: Mapped[LocationType] = mapped_column(enum_column(LocationType, "location_type"), default=LocationType.physical)
    url: Mapped[str | None] = mapped_column(String(500))
    address_1: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[str | None] = mapped_column(String(2))
    postal_code: Mapped[str | None] = mapped_column(String(10))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    # Shelters and safe houses: address and coordinates are withheld from everyone but the
    # owning organization and network admins, who see them; others get the front door only.
    is_confidential: Mapped[bool] = mapped_column(Boolean, default=False)
    front_door_contact: Mapped[str | None] = mapped_column(String(300))


class ProgramLocation(Base):
    """A program offered at a location (HSDS service_at_location)."""

    __tablename__ = "program_locations"

    program_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"), primary_key=True)
    location_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("locations.id"), primary_key=True, index=True)
    # Loaded only when asked for: a program page needs the location ids, which this row holds.
    location: Mapped[Location] = relationship()


class DirectorySettings(TimestampMixin, VersionedMixin, Base):
    """The network's directory rules, one row (id 1), changed by network admins through the API."""

    __tablename__ = "directory_settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    verification_interval_days: Mapped[int] = mapped_column(Integer, default=180)
    # Capacity profiles not updated within this many days are stale.
    capacity_stale_after_days: Mapped[int] = mapped_column(Integer, default=30, server_default="30")
    # Referrals left `requested` longer than this are overdue.
    referral_response_hours: Mapped[int] = mapped_column(Integer, default=72, server_default="72")
