"""A newcomer's first hour: the lists and views the README names answer without parameters, the
names say what they stand for, and `flask cbs migrate` says what it did."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from cbs_network import create_app
from cbs_network.committees.schemas import school_year_on
from cbs_network.core import clock
from cbs_network.core.migrate import alembic_config, current_revision, downgrade
from cbs_network.referrals.models import Disclosure

from . import factories
from .conftest import make_settings
from .referral_setup import PERSON, SECRETS, new_case
from .test_migrations import _empty_database

# --- the subject list ----------------------------------------------------------------------------


@pytest.fixture
def two_orgs(db_session):
    return factories.Network.build(second_tenants=True)


def _subject(client, actor, **changes):
    body = {**PERSON, "district_student_id": None, **changes}
    response = client.post("/api/v1/subjects", json=body, headers=actor.headers)
    assert response.status_code == 201, response.json
    return response.json


def test_subject_list_shows_own_subjects_without_personal_fields_and_discloses_nothing(client, db_session, two_orgs):
    case = new_case(client, db_session, two_orgs)
    assert case.send(client, two_orgs["district_coordinator"]).status_code == 201
    other = _subject(client, two_orgs["district2_coordinator"])
    before = db_session.scalar(select(func.count()).select_from(Disclosure))

    response = client.get("/api/v1/subjects", headers=two_orgs["district_admin"].headers)

    assert response.status_code == 200, response.json
    assert [item["id"] for item in response.json["items"]] == [case.subject["id"]]
    item = response.json["items"][0]
    assert set(item) == {
        "id",
        "organization_id",
        "grade",
        "preferred_language",
        "referral_count",
        "version",
        "created_at",
        "updated_at",
    }
    assert (item["grade"], item["preferred_language"], item["referral_count"]) == ("9", "es", 1)
    assert not any(secret in response.get_data(as_text=True) for secret in SECRETS)
    assert db_session.scalar(select(func.count()).select_from(Disclosure)) == before
    theirs = client.get("/api/v1/subjects", headers=two_orgs["district2_coordinator"].headers).json["items"]
    assert [item["id"] for item in theirs] == [other["id"]]
    assert client.get("/api/v1/subjects", headers=two_orgs["network_admin"].headers).json["items"] == []


def test_subject_list_filters_combine_and_pages(client, two_orgs):
    actor = two_orgs["district_coordinator"]
    nine_es = [_subject(client, actor)["id"] for _ in range(3)]
    _subject(client, actor, grade="10")
    _subject(client, actor, preferred_language="en")

    first = client.get("/api/v1/subjects?grade=9&preferred_language=es&limit=2", headers=actor.headers)
    assert first.status_code == 200 and 'rel="next"' in first.headers["Link"]
    rest = client.get(
        f"/api/v1/subjects?grade=9&preferred_language=es&limit=2&cursor={first.json['next_cursor']}", headers=actor.headers
    )
    assert [i["id"] for i in first.json["items"] + rest.json["items"]] == nine_es
    assert rest.json["next_cursor"] is None
    since = client.get("/api/v1/subjects", query_string={"updated_since": "2999-01-01T00:00:00Z"}, headers=actor.headers)
    assert since.status_code == 200 and since.json["items"] == []


def test_subject_list_needs_subjects_read(client, db_session, two_orgs):
    actor = factories.Network.actor(db_session, two_orgs.district, factories.Role.coordinator, scopes=["referrals:read"])
    assert client.get("/api/v1/subjects", headers=actor.headers).status_code == 403


# --- views that work bare ------------------------------------------------------------------------

BARE = (
    "/api/v1/schools",
    "/api/v1/schools.geojson",
    "/api/v1/programs",
    "/api/v1/locations",
    "/api/v1/locations.geojson",
    "/api/v1/directory/settings",
    "/api/v1/subjects",
    "/api/v1/referrals",
    "/api/v1/referrals/sent",
    "/api/v1/referrals/received",
    "/api/v1/committees",
    "/api/v1/jurisdictions",
    "/api/v1/safety-plans",
    "/api/v1/school-safety/committee-gaps",
    "/api/v1/school-safety/overdue-plans",
    "/api/v1/school-safety/safe-passage-gaps",
)


@pytest.mark.parametrize("path", BARE)
def test_every_list_and_view_the_readme_names_answers_without_parameters(client, network, path):
    response = client.get(path, headers=network["network_admin"].headers)
    assert response.status_code == 200, response.json


@pytest.mark.parametrize(
    ("day", "year"),
    [
        (date(2026, 12, 1), "2026-27"),
        (date(2026, 7, 1), "2026-27"),
        (date(2026, 6, 30), "2025-26"),
        (date(2000, 1, 15), "1999-00"),
    ],
)
def test_school_year_runs_july_to_june(day, year):
    assert school_year_on(day) == year


@pytest.mark.parametrize(("today", "expected"), [(date(2026, 12, 1), "this year's"), (date(2026, 6, 30), "none")])
def test_year_views_default_to_the_current_school_year_in_los_angeles(client, db_session, network, monkeypatch, today, expected):
    from .test_school_safety_views import make_committee, make_school

    school = make_school(db_session, "Bare High")
    committee = make_committee(db_session, school, ["principal_or_designee"])  # of 2026-27
    monkeypatch.setattr(clock, "today", lambda: today)

    gaps = client.get("/api/v1/school-safety/committee-gaps", headers=network["district_viewer"].headers)
    overdue = client.get("/api/v1/school-safety/overdue-plans", headers=network["district_viewer"].headers)

    assert gaps.status_code == 200 and overdue.status_code == 200, (gaps.json, overdue.json)
    row = next(row for row in gaps.json["items"] if row["school_id"] == str(school.id))
    assert row["committee_id"] == (str(committee.id) if expected == "this year's" else None)


# --- `flask cbs migrate` says what it did --------------------------------------------------------


def _migrate(url: str) -> str:
    app = create_app(make_settings(url), TESTING=True)
    try:
        result = app.test_cli_runner().invoke(args=["cbs", "migrate"])
    finally:
        app.extensions["cbs_db"].engine.dispose()
    assert result.exit_code == 0, result.output
    return result.output.strip()


def test_migrate_says_it_created_upgraded_or_found_the_database_current(tmp_path):
    url, drop = _empty_database(tmp_path)
    try:
        assert _migrate(url) == f"created a new database at {_where(url)}"
        assert _migrate(url) == "the database is at the latest revision"
        script = ScriptDirectory.from_config(alembic_config(url))
        head = script.get_revision(script.get_current_head())
        downgrade(url, "-1")
        assert _migrate(url) == f"upgraded the database from {head.down_revision} to {head.revision}"
        assert current_revision(url) == head.revision
    finally:
        drop()


def _where(url: str) -> str:
    parsed = make_url(url)
    return parsed.database if parsed.get_backend_name() == "sqlite" else parsed.render_as_string(hide_password=True)


# --- names ---------------------------------------------------------------------------------------


def _descriptions(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "description" and isinstance(value, str):
                yield value
            else:
                yield from _descriptions(value)
    elif isinstance(node, list):
        for value in node:
            yield from _descriptions(value)


def test_bsap_is_named_the_black_student_achievement_plan_wherever_it_is_described(app):
    spec = app.test_client().get("/api/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    for name in ("School", "SchoolCreate", "SchoolUpdate", "SchoolFeatureProperties"):
        assert "Black Student Achievement Plan" in schemas[name]["properties"]["is_bsap"]["description"], name
    filters = [p for p in spec["paths"]["/api/v1/schools"]["get"]["parameters"] if p["name"] == "is_bsap"]
    assert "Black Student Achievement Plan" in filters[0]["description"]
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    for text in [*_descriptions(spec), readme]:
        assert "Blueprint for Student Achievement" not in text
    assert "Black Student Achievement Plan (BSAP" in readme


def test_the_problem_types_page_is_ordered_by_status_and_renders_code(client):
    import re

    page = client.get("/problems").get_data(as_text=True)

    statuses = [int(s) for s in re.findall(r"<tr><td>(\d{3})</td>", page)]
    assert statuses and statuses == sorted(statuses)
    assert "`" not in page and "<code>errors</code>" in page
    detail = client.get("/problems/unauthorized").get_data(as_text=True)
    assert "`" not in detail and "<code>Authorization: Bearer &lt;token&gt;</code>" in detail


@pytest.mark.parametrize(
    "kind, expected",
    [
        (
            "schools",
            [
                "cds_code: required",
                "status: optional; one of active, pending, closed",
                "board_district: optional; from 1 to 7",
                "grade_low: optional; one of TK, K, 1,",
            ],
        ),
        (
            "organizations",
            ["kind: required; one of school_district,", "name: required", "parent_identifier: optional; an identifier"],
        ),
        (
            "programs",
            [
                "program_type: required; one of safe_passage,",
                "organization_identifier: required",
                "languages: optional; ISO 639 codes",
                "accepts_referrals: optional; one of true, false",
            ],
        ),
    ],
)
def test_each_import_lists_its_columns_whether_required_and_their_allowed_values(app, kind, expected):
    result = app.test_cli_runner().invoke(args=["cbs", "import", kind, "--help"])

    assert result.exit_code == 0, result.output
    lines = [line.strip() for line in result.output.splitlines()]
    for wanted in expected:
        assert any(line.startswith(wanted) for line in lines), (wanted, result.output)
    assert "None" not in result.output
