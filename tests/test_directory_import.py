"""`flask cbs import organizations|programs FILE [--dry-run]`: all or nothing, errors by line and
column, duplicates reported instead of created, writes through the audited services."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from cbs_network.audit.models import AuditRecord
from cbs_network.directory.importer import normalized_address, normalized_name
from cbs_network.directory.models import Location, Program, ProgramType
from cbs_network.events.models import Event
from cbs_network.organizations.models import Organization, OrganizationIdentifier

from .factories import OrganizationFactory

ORG_HEADER = "kind,name,alternate_name,jurisdiction,website,email,phone,parent_identifier,identifier_scheme,identifier_value,address_1,city,state,postal_code,latitude,longitude\n"
ORG_ROWS = (
    "cbo,Harbor Youth Safety Network,HYSN,City of Los Angeles,https://hysn.example.org,info@hysn.example.org,(310) 555-0100,,ein,95-1110001,1200 S Pacific Ave,San Pedro,CA,90731,33.7325,-118.2870\n"
    "cbo,Harbor Youth Safety Network - Wilmington,,City of Los Angeles,,,,ein:95-1110001,ein,95-1110002,,,,,,\n"
)
PROGRAM_HEADER = "organization_identifier,name,program_type,status,minimum_age,maximum_age,minimum_grade,maximum_grade,languages,accepts_referrals,description,address_1,city,state,postal_code,latitude,longitude\n"


def _run(app, tmp_path, what: str, body: str, *extra: str):
    path = tmp_path / f"{what}-{uuid.uuid4().hex[:6]}.csv"
    path.write_text(body)
    return app.test_cli_runner().invoke(args=["cbs", "import", what, str(path), *extra])


def _counts(db_session) -> dict[str, int]:
    db_session.expire_all()
    return {
        model.__name__: db_session.scalar(select(func.count()).select_from(model))
        for model in (Organization, OrganizationIdentifier, Location, Program, AuditRecord, Event)
    }


def test_names_and_addresses_are_compared_normalized():
    assert normalized_name("The Eastside Peacekeepers Collective, Inc.") == normalized_name("eastside peacekeepers collective")
    assert normalized_name("Boys & Girls Club") == normalized_name("Boys and Girls Club")
    assert normalized_name("Eastside Peacekeepers") != normalized_name("Westside Peacekeepers")
    assert normalized_address("2130 E. 1st Street", "90033-1234") == normalized_address("2130 East 1st St", "90033")
    assert normalized_address("2130 E 1st St", "90033") != normalized_address("2132 E 1st St", "90033")


def test_a_real_import_writes_through_the_audited_services(app, db_session, network, tmp_path):
    before = _counts(db_session)
    result = _run(app, tmp_path, "organizations", ORG_HEADER + ORG_ROWS)
    assert result.exit_code == 0, result.output
    assert "imported: 2 created, 0 updated, 0 unchanged, 0 probable duplicates." in result.stdout
    assert "writing" in result.stderr  # the progress bar goes to stderr

    db_session.expire_all()
    main = db_session.scalars(select(Organization).where(Organization.name == "Harbor Youth Safety Network")).one()
    branch = db_session.scalars(select(Organization).where(Organization.name.like("%Wilmington"))).one()
    assert (main.kind, main.status, main.alternate_name, main.phone) == ("cbo", "prospective", "HYSN", "(310) 555-0100")
    assert [(i.scheme, i.value) for i in main.identifiers] == [("ein", "95-1110001")]
    assert branch.parent_id == main.id  # a parent created earlier in the same file
    office = db_session.scalars(select(Location).where(Location.organization_id == main.id)).one()
    assert (office.address_1, office.postal_code, office.latitude) == ("1200 S Pacific Ave", "90731", 33.7325)

    after = _counts(db_session)
    assert after["Organization"] - before["Organization"] == 2 and after["Location"] - before["Location"] == 1
    actions = db_session.scalars(
        select(AuditRecord.action).where(AuditRecord.object_id.in_([str(main.id), str(branch.id), str(office.id)]))
    ).all()
    assert sorted(actions) == ["location.created", "organization.created", "organization.created"]
    record = db_session.scalars(select(AuditRecord).where(AuditRecord.object_id == str(main.id))).one()
    assert record.actor_client_id == "cli" and record.organization_id == network.hub.id


def test_dry_run_reports_and_writes_nothing(app, db_session, network, tmp_path):
    OrganizationFactory(name="Old Harbor Name", identifiers=[OrganizationIdentifier(scheme="ein", value="95-1110001")])
    before = _counts(db_session)
    result = _run(app, tmp_path, "organizations", ORG_HEADER + ORG_ROWS, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "line 2: would update 'Harbor Youth Safety Network' (ein 95-1110001 is 'Old Harbor Name'" in result.stdout
    assert "line 3: would create 'Harbor Youth Safety Network - Wilmington'" in result.stdout
    assert "dry run: 1 to create, 1 to update, 0 unchanged, 0 probable duplicates; nothing was written." in result.stdout
    assert _counts(db_session) == before
    assert (
        db_session.scalars(
            select(Organization.name).join(Organization.identifiers).where(OrganizationIdentifier.value == "95-1110001")
        ).one()
        == "Old Harbor Name"
    )


def test_one_bad_row_writes_nothing_and_every_error_names_line_and_column(app, db_session, network, tmp_path):
    bad = (
        "agency,Bad Kind Org,,,,,,,,,,,,,,\n"
        "cbo,Bad Coordinates Org,,,not-a-url,,,ein:00-0000000,ein,95-2220002,1 Main St,Los Angeles,CA,90012,95,-118.2\n"
        "cbo,Harbor Youth Safety Network Copy,,,,,,,ein,95-1110001,,,,,,\n"  # the identifier of line 2 again
    )
    before = _counts(db_session)
    result = _run(app, tmp_path, "organizations", ORG_HEADER + ORG_ROWS + bad)
    assert result.exit_code != 0
    for expected in (
        "line 4: kind:",
        "line 5: website:",
        "line 5: latitude:",
        "line 5: parent_identifier:",
        "line 6: identifier_value: The same identifier as line 2.",
    ):
        assert expected in result.stderr, result.stderr
    assert "nothing was written" in result.stderr
    assert _counts(db_session) == before


def test_an_unknown_column_is_refused(app, db_session, network, tmp_path):
    result = _run(app, tmp_path, "organizations", "kind,name,nmae\ncbo,X,Y\n")
    assert result.exit_code != 0 and "line 1: nmae: Unknown column." in result.stderr


def test_duplicates_are_reported_not_created(app, db_session, network, tmp_path):
    twin = OrganizationFactory(name="The Eastside Peacekeepers Collective, Inc.")
    db_session.add(
        Location(
            id=uuid.uuid4(),
            organization_id=twin.id,
            name="Office",
            address_1="2130 E. First Street",
            city="Los Angeles",
            state="CA",
            postal_code="90033",
        )
    )
    known = OrganizationFactory(
        name="Watts Community Mentors",
        jurisdiction="City of Los Angeles",
        identifiers=[OrganizationIdentifier(scheme="ein", value="95-3330003")],
    )
    db_session.commit()
    rows = (
        "kind,name,jurisdiction,identifier_scheme,identifier_value,address_1,postal_code\n"
        "cbo,eastside peacekeepers collective,,,,2130 East First St,90033\n"  # same name, same address
        "cbo,Eastside Peacekeepers Collective,,,,900 Other Ave,90033\n"  # same name, another address: a branch
        "cbo,Watts Community Mentors,City of Los Angeles,ein,95-3330003,,\n"  # same identifier, nothing new
        "cbo,Brand New Org,,,,5 Elm St,90001\n"
        "cbo,Brand New Org Inc,,,,5 Elm Street,90001\n"  # a twin of the previous line
    )
    before = _counts(db_session)
    result = _run(app, tmp_path, "organizations", rows)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert (
        f"line 2: probable duplicate 'eastside peacekeepers collective' (probably 'The Eastside Peacekeepers Collective, Inc.' ({twin.id}); not created)"
        in out
    )
    assert "line 3: create 'Eastside Peacekeepers Collective'" in out
    assert "line 4: unchanged 'Watts Community Mentors' (ein 95-3330003 is 'Watts Community Mentors')" in out
    assert "line 6: probable duplicate 'Brand New Org Inc' (probably the same as line 5; not created)" in out
    after = _counts(db_session)
    assert after["Organization"] - before["Organization"] == 2  # line 3 and line 5 only

    renamed_rows = (
        "kind,name,identifier_scheme,identifier_value,address_1,postal_code\n"
        "cbo,Watts Community Mentors Renamed,ein,95-3330003,10322 Compton Ave,90002\n"
    )
    renamed = _run(app, tmp_path, "organizations", renamed_rows)
    assert renamed.exit_code == 0, renamed.output
    assert (
        "line 2: update 'Watts Community Mentors Renamed' (ein 95-3330003 is 'Watts Community Mentors'; changes name)"
        in renamed.stdout
    )
    assert _counts(db_session)["Organization"] == after["Organization"]
    assert db_session.scalars(select(Location.address_1).where(Location.organization_id == known.id)).all() == [
        "10322 Compton Ave"
    ]
    again = _run(app, tmp_path, "organizations", renamed_rows)
    assert "line 2: unchanged 'Watts Community Mentors Renamed'" in again.stdout
    assert _counts(db_session)["Location"] == after["Location"] + 1
    db_session.expire_all()
    assert db_session.get(Organization, known.id).name == "Watts Community Mentors Renamed"
    assert db_session.get(Organization, known.id).status == "active"  # a defaulted status does not overwrite
    assert db_session.scalar(select(func.count()).select_from(Organization).where(Organization.name.like("%eacekeepers%"))) == 2


def test_programs_import_through_the_program_service(app, db_session, network, tmp_path):
    owner = OrganizationFactory(
        name="Eastside Peacekeepers Collective", identifiers=[OrganizationIdentifier(scheme="ein", value="95-4440004")]
    )
    rows = PROGRAM_HEADER + (
        "ein:95-4440004,Roosevelt Safe Passage,safe_passage,active,11,18,6,12,en;es;ko,yes,Walkers before and after school,"
        "456 S Mathews St,Los Angeles,CA,90033,34.0412,-118.2130\n"
        "ein:95-4440004,Family Circle,family_support,draft,,,,,spa,no,,,,,,,\n"
    )
    before = _counts(db_session)
    result = _run(app, tmp_path, "programs", rows)
    assert result.exit_code == 0, result.output
    assert "imported: 2 created" in result.stdout
    db_session.expire_all()
    passage = db_session.scalars(select(Program).where(Program.name == "Roosevelt Safe Passage")).one()
    assert (passage.organization_id, passage.program_type, passage.status, passage.accepts_referrals) == (
        owner.id,
        ProgramType.safe_passage,
        "active",
        True,
    )
    assert (passage.minimum_age, passage.maximum_age, passage.minimum_grade, passage.maximum_grade) == (11, 18, 6, 12)
    assert [language.code for language in passage.languages] == ["en", "es", "ko"]
    site = passage.program_locations[0].location
    assert (site.organization_id, site.address_1, site.latitude) == (owner.id, "456 S Mathews St", 34.0412)
    family = db_session.scalars(select(Program).where(Program.name == "Family Circle")).one()
    assert [language.code for language in family.languages] == ["es"] and family.program_locations == []
    actions = db_session.scalars(select(AuditRecord.action).where(AuditRecord.object_type.in_(["program", "location"]))).all()
    assert sorted(actions) == ["location.created", "program.created", "program.created"]
    assert _counts(db_session)["Program"] - before["Program"] == 2

    # The same file again: both are now probable duplicates; nothing new.
    again = _run(app, tmp_path, "programs", rows)
    assert again.exit_code == 0 and "0 created" in again.stdout and "2 probable duplicates" in again.stdout
    assert _counts(db_session)["Program"] - before["Program"] == 2


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (
            "ein:95-0000000,X,safe_passage,,,,,,,,,,,,,,",
            "line 2: organization_identifier: No organization in the hub has this identifier.",
        ),
        ("ein:95-4440004,X,space_patrol,,,,,,,,,,,,,,", "line 2: program_type:"),
        ("ein:95-4440004,X,mentoring,,18,11,,,,,,,,,,,", "line 2: minimum_age: The minimum age is above the maximum age."),
        ("ein:95-4440004,X,mentoring,,,,9,6,,,,,,,,,", "line 2: minimum_grade: The minimum grade is above the maximum grade."),
        ("ein:95-4440004,X,mentoring,,,,,,en;xx,,,,,,,,", "line 2: languages:"),
        ("ein:95-4440004,X,mentoring,,,,,,,,,1 Main St,,,,91,-118", "line 2: latitude:"),
        ("ein:95-4440004,X,mentoring,,,,,,,,,,,,,34.1,", "line 2: longitude: Give latitude and longitude together."),
    ],
)
def test_program_rows_are_checked_like_the_api(app, db_session, network, tmp_path, row, expected):
    OrganizationFactory(name="Owner", identifiers=[OrganizationIdentifier(scheme="ein", value="95-4440004")])
    good = "ein:95-4440004,Good Program,mentoring,,,,,,,,,,,,,,\n"
    before = _counts(db_session)
    result = _run(app, tmp_path, "programs", PROGRAM_HEADER + row + "\n" + good, "--dry-run")
    assert result.exit_code != 0
    assert expected in result.stderr, result.stderr
    result = _run(app, tmp_path, "programs", PROGRAM_HEADER + row + "\n" + good)
    assert result.exit_code != 0 and expected in result.stderr
    assert _counts(db_session) == before
