"""directory

Revision ID: d1ec7000a003
Revises: a1d17c0a0002
Create Date: 2026-11-29 11:28:26.800241
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import cbs_network.core.db

revision = "d1ec7000a003"
down_revision = "a1d17c0a0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "directory_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("verification_interval_days", sa.Integer(), nullable=False),
        sa.Column("created_at", cbs_network.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", cbs_network.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directory_settings")),
    )
    with op.batch_alter_table("directory_settings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_directory_settings_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_directory_settings_updated_at"), ["updated_at"], unique=False)
    # The one settings row; network admins change it through /api/v1/directory/settings.
    now = datetime.now(UTC)
    op.bulk_insert(
        sa.table(
            "directory_settings",
            sa.column("id", sa.Integer),
            sa.column("verification_interval_days", sa.Integer),
            sa.column("created_at", cbs_network.core.db.UTCDateTime(timezone=True)),
            sa.column("updated_at", cbs_network.core.db.UTCDateTime(timezone=True)),
            sa.column("version", sa.Integer),
        ),
        [{"id": 1, "verification_interval_days": 180, "created_at": now, "updated_at": now, "version": 1}],
    )

    op.create_table(
        "locations",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column(
            "location_type",
            sa.Enum("physical", "virtual", name="location_type", native_enum=False, create_constraint=True, length=40),
            nullable=False,
        ),
        sa.Column("url", sa.String(length=500), nullable=True),
        sa.Column("address_1", sa.String(length=200), nullable=True),
        sa.Column("city", sa.String(length=100), nullable=True),
        sa.Column("state", sa.String(length=2), nullable=True),
        sa.Column("postal_code", sa.String(length=10), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("is_confidential", sa.Boolean(), nullable=False),
        sa.Column("front_door_contact", sa.String(length=300), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", cbs_network.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", cbs_network.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"], ["organizations.id"], name=op.f("fk_locations_organization_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_locations")),
    )
    with op.batch_alter_table("locations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_locations_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_locations_latitude"), ["latitude"], unique=False)
        batch_op.create_index(batch_op.f("ix_locations_longitude"), ["longitude"], unique=False)
        batch_op.create_index(batch_op.f("ix_locations_organization_id"), ["organization_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_locations_updated_at"), ["updated_at"], unique=False)

    op.create_table(
        "programs",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("alternate_name", sa.String(length=200), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column(
            "program_type",
            sa.Enum(
                "safe_passage",
                "violence_interruption",
                "gang_prevention",
                "gang_intervention",
                "incident_response",
                "hospital_based_intervention",
                "mentoring",
                "restorative_justice",
                "mental_health",
                "after_school",
                "family_support",
                "crisis_response",
                "reentry",
                "other",
                name="program_type",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "active",
                "inactive",
                "temporarily_closed",
                "defunct",
                name="program_status",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("minimum_age", sa.Integer(), nullable=True),
        sa.Column("maximum_age", sa.Integer(), nullable=True),
        sa.Column("minimum_grade", sa.Integer(), nullable=True),
        sa.Column("maximum_grade", sa.Integer(), nullable=True),
        sa.Column("population_description", sa.Text(), nullable=True),
        sa.Column("eligibility_description", sa.Text(), nullable=True),
        sa.Column("fees_description", sa.Text(), nullable=True),
        sa.Column("is_free", sa.Boolean(), nullable=False),
        sa.Column("application_process", sa.Text(), nullable=True),
        sa.Column(
            "evidence_basis",
            sa.Enum(
                "evidence_based",
                "research_informed",
                "promising_practice",
                "community_defined",
                "not_evaluated",
                name="evidence_basis",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=True,
        ),
        sa.Column("evidence_description", sa.Text(), nullable=True),
        sa.Column("funding_sources", sa.JSON(), nullable=False),
        sa.Column("contacts", sa.JSON(), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("accepts_referrals", sa.Boolean(), nullable=False),
        sa.Column("assured_at", cbs_network.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("assured_by_user_id", sa.Uuid(), nullable=True),
        sa.Column("service_area_geojson", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("service_area_description", sa.Text(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", cbs_network.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", cbs_network.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["assured_by_user_id"], ["users.id"], name=op.f("fk_programs_assured_by_user_id_users")),
        sa.ForeignKeyConstraint(
            ["organization_id"], ["organizations.id"], name=op.f("fk_programs_organization_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programs")),
    )
    with op.batch_alter_table("programs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_programs_accepts_referrals"), ["accepts_referrals"], unique=False)
        batch_op.create_index(batch_op.f("ix_programs_assured_at"), ["assured_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_programs_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_programs_name"), ["name"], unique=False)
        batch_op.create_index(batch_op.f("ix_programs_organization_id"), ["organization_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_programs_program_type"), ["program_type"], unique=False)
        batch_op.create_index(batch_op.f("ix_programs_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_programs_updated_at"), ["updated_at"], unique=False)

    op.create_table(
        "schools",
        sa.Column("cds_code", sa.String(length=14), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("grade_low", sa.Integer(), nullable=True),
        sa.Column("grade_high", sa.Integer(), nullable=True),
        sa.Column("region", sa.String(length=60), nullable=True),
        sa.Column("board_district", sa.Integer(), nullable=True),
        sa.Column("address_1", sa.String(length=200), nullable=True),
        sa.Column("city", sa.String(length=100), nullable=True),
        sa.Column("state", sa.String(length=2), nullable=True),
        sa.Column("postal_code", sa.String(length=10), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("is_bsap", sa.Boolean(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("active", "pending", "closed", name="school_status", native_enum=False, create_constraint=True, length=40),
            nullable=False,
        ),
        sa.Column("organization_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", cbs_network.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", cbs_network.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"], name=op.f("fk_schools_organization_id_organizations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schools")),
        sa.UniqueConstraint("cds_code", name=op.f("uq_schools_cds_code")),
    )
    with op.batch_alter_table("schools", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_schools_board_district"), ["board_district"], unique=False)
        batch_op.create_index(batch_op.f("ix_schools_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_schools_is_bsap"), ["is_bsap"], unique=False)
        batch_op.create_index(batch_op.f("ix_schools_latitude"), ["latitude"], unique=False)
        batch_op.create_index(batch_op.f("ix_schools_longitude"), ["longitude"], unique=False)
        batch_op.create_index(batch_op.f("ix_schools_name"), ["name"], unique=False)
        batch_op.create_index(batch_op.f("ix_schools_organization_id"), ["organization_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_schools_region"), ["region"], unique=False)
        batch_op.create_index(batch_op.f("ix_schools_updated_at"), ["updated_at"], unique=False)

    op.create_table(
        "program_external_codes",
        sa.Column("program_id", sa.Uuid(), nullable=False),
        sa.Column("scheme", sa.String(length=40), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_program_external_codes_program_id_programs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_program_external_codes")),
        sa.UniqueConstraint("program_id", "scheme", "code", name=op.f("uq_program_external_codes_program_id_scheme_code")),
    )
    with op.batch_alter_table("program_external_codes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_program_external_codes_program_id"), ["program_id"], unique=False)

    op.create_table(
        "program_languages",
        sa.Column("program_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=3), nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_program_languages_program_id_programs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("program_id", "code", name=op.f("pk_program_languages")),
    )
    with op.batch_alter_table("program_languages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_program_languages_code"), ["code"], unique=False)

    op.create_table(
        "program_locations",
        sa.Column("program_id", sa.Uuid(), nullable=False),
        sa.Column("location_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["location_id"], ["locations.id"], name=op.f("fk_program_locations_location_id_locations")),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_program_locations_program_id_programs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("program_id", "location_id", name=op.f("pk_program_locations")),
    )
    with op.batch_alter_table("program_locations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_program_locations_location_id"), ["location_id"], unique=False)

    op.create_table(
        "program_regions",
        sa.Column("program_id", sa.Uuid(), nullable=False),
        sa.Column("region", sa.String(length=60), nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_program_regions_program_id_programs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("program_id", "region", name=op.f("pk_program_regions")),
    )
    with op.batch_alter_table("program_regions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_program_regions_region"), ["region"], unique=False)

    op.create_table(
        "program_schedules",
        sa.Column("program_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("byday", sa.JSON(), nullable=False),
        sa.Column("opens_at", sa.String(length=5), nullable=True),
        sa.Column("closes_at", sa.String(length=5), nullable=True),
        sa.Column("minutes_before_arrival", sa.Integer(), nullable=True),
        sa.Column("minutes_after_dismissal", sa.Integer(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_program_schedules_program_id_programs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_program_schedules")),
    )
    with op.batch_alter_table("program_schedules", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_program_schedules_program_id"), ["program_id"], unique=False)

    op.create_table(
        "program_schools",
        sa.Column("program_id", sa.Uuid(), nullable=False),
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_program_schools_program_id_programs"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["school_id"], ["schools.id"], name=op.f("fk_program_schools_school_id_schools")),
        sa.PrimaryKeyConstraint("program_id", "school_id", name=op.f("pk_program_schools")),
    )
    with op.batch_alter_table("program_schools", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_program_schools_school_id"), ["school_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("program_schools", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_program_schools_school_id"))

    op.drop_table("program_schools")
    with op.batch_alter_table("program_schedules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_program_schedules_program_id"))

    op.drop_table("program_schedules")
    with op.batch_alter_table("program_regions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_program_regions_region"))

    op.drop_table("program_regions")
    with op.batch_alter_table("program_locations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_program_locations_location_id"))

    op.drop_table("program_locations")
    with op.batch_alter_table("program_languages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_program_languages_code"))

    op.drop_table("program_languages")
    with op.batch_alter_table("program_external_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_program_external_codes_program_id"))

    op.drop_table("program_external_codes")
    with op.batch_alter_table("schools", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_schools_updated_at"))
        batch_op.drop_index(batch_op.f("ix_schools_region"))
        batch_op.drop_index(batch_op.f("ix_schools_organization_id"))
        batch_op.drop_index(batch_op.f("ix_schools_name"))
        batch_op.drop_index(batch_op.f("ix_schools_longitude"))
        batch_op.drop_index(batch_op.f("ix_schools_latitude"))
        batch_op.drop_index(batch_op.f("ix_schools_is_bsap"))
        batch_op.drop_index(batch_op.f("ix_schools_created_at"))
        batch_op.drop_index(batch_op.f("ix_schools_board_district"))

    op.drop_table("schools")
    with op.batch_alter_table("programs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_programs_updated_at"))
        batch_op.drop_index(batch_op.f("ix_programs_status"))
        batch_op.drop_index(batch_op.f("ix_programs_program_type"))
        batch_op.drop_index(batch_op.f("ix_programs_organization_id"))
        batch_op.drop_index(batch_op.f("ix_programs_name"))
        batch_op.drop_index(batch_op.f("ix_programs_created_at"))
        batch_op.drop_index(batch_op.f("ix_programs_assured_at"))
        batch_op.drop_index(batch_op.f("ix_programs_accepts_referrals"))

    op.drop_table("programs")
    with op.batch_alter_table("locations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_locations_updated_at"))
        batch_op.drop_index(batch_op.f("ix_locations_organization_id"))
        batch_op.drop_index(batch_op.f("ix_locations_longitude"))
        batch_op.drop_index(batch_op.f("ix_locations_latitude"))
        batch_op.drop_index(batch_op.f("ix_locations_created_at"))

    op.drop_table("locations")
    with op.batch_alter_table("directory_settings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_directory_settings_updated_at"))
        batch_op.drop_index(batch_op.f("ix_directory_settings_created_at"))

    op.drop_table("directory_settings")
