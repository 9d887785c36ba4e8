"""Jurisdictions: the composition rules and plan deadlines schools answer to, kept as data."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import func, select

from cbs_network.committees.jurisdictions import service as jurisdictions
from cbs_network.committees.models import Jurisdiction
from cbs_network.directory.models import School

from .helpers import assert_problem, if_match

URL = "/api/v1/jurisdictions"


def by_code(client, actor, code):
    return next(j for j in client.get(URL, headers=actor.headers).json if j["code"] == code)


def add(client, actor, **body):
    return client.post(URL, json={"name": body.pop("name", body["code"]), **body}, headers=actor.headers)


def school(db_session, jurisdiction_id=None, grade_high=12, district_id=None) -> School:
    row = School(
        id=uuid.uuid4(),
        cds_code=f"{uuid.uuid4().int % 10**14:014d}",
        name="Test High",
        grade_low=9,
        grade_high=grade_high,
        jurisdiction_id=jurisdiction_id,
        district_id=district_id,
    )
    db_session.add(row)
    db_session.commit()
    return row


def test_the_network_and_the_state_rules_come_with_the_hub(client, network):
    reader = network["district_viewer"]
    network_rules, california = by_code(client, reader, "CBS-NETWORK"), by_code(client, reader, "CA")
    assert [r["role"] for r in network_rules["composition_rules"]] == ["cbo_representative"]
    assert california["parent_id"] == network_rules["id"] and (california["plan_due_month"], california["plan_due_day"]) == (3, 1)
    assert {r["role"] for r in california["composition_rules"]} == {
        "principal_or_designee",
        "teacher_rep",
        "parent",
        "classified_rep",
    }


def test_a_school_answers_to_its_jurisdiction_and_every_ancestor(client, db_session, network):
    admin = network["network_admin"]
    california = by_code(client, admin, "CA")
    district = add(
        client,
        admin,
        code="LAUSD",
        parent_id=california["id"],
        plan_due_month=10,
        plan_due_day=1,
        composition_rules=[
            {"role": "pupil", "minimum": 1, "min_grade": 9, "source": "District policy"},
            {"role": "parent", "minimum": 2},
        ],
    )
    assert district.status_code == 201, district.json
    high = school(db_session, uuid.UUID(district.json["id"]))
    middle = school(db_session, uuid.UUID(district.json["id"]), grade_high=8)
    state_only = school(db_session, uuid.UUID(california["id"]))

    required = jurisdictions.required_roles(db_session, high)
    assert {role: rule["minimum"] for role, rule in required.items()} == {
        "pupil": 1,
        "parent": 2,
        "principal_or_designee": 1,
        "teacher_rep": 1,
        "classified_rep": 1,
        "cbo_representative": 1,
    }
    assert "pupil" not in jurisdictions.required_roles(db_session, middle)
    assert "pupil" not in jurisdictions.required_roles(db_session, state_only)
    # The nearest deadline wins; it falls in the school year.
    assert jurisdictions.plan_deadline(db_session, high, "2026-27")[0] == date(2026, 10, 1)
    assert jurisdictions.plan_deadline(db_session, state_only, "2026-27")[0] == date(2027, 3, 1)
    # A school with no jurisdiction answers to the roots: the network's rule, no deadline.
    assert set(jurisdictions.required_roles(db_session, school(db_session))) == {"cbo_representative"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"plan_due_month": 2, "plan_due_day": 30}, "plan_due_day"),
        ({"plan_due_month": 2, "plan_due_day": 29}, "plan_due_day"),
        ({"plan_due_month": 3}, "plan_due_day"),
        ({"parent_id": "00000000-0000-4000-8000-000000000000"}, "parent_id"),
        ({"composition_rules": [{"role": "mayor"}]}, "composition_rules"),
        ({"composition_rules": [{"role": "parent"}, {"role": "parent", "minimum": 2}]}, "composition_rules"),
        ({"code": "no spaces"}, "code"),
    ],
)
def test_bad_rules_are_refused(client, db_session, network, body, field):
    admin = network["network_admin"]
    before = db_session.scalar(select(func.count()).select_from(Jurisdiction))
    response = add(client, admin, **{"code": "X-1", **body})
    assert_problem(response, 422)
    assert field in response.json["errors"]["json"], response.json
    assert db_session.scalar(select(func.count()).select_from(Jurisdiction)) == before


def test_only_network_admins_keep_the_rules_with_if_match(client, network):
    admin = network["network_admin"]
    california = by_code(client, admin, "CA")
    for actor in ("district_admin", "cbo_admin"):
        assert_problem(add(client, network[actor], code="MINE"), 403)
        assert_problem(
            client.patch(
                f"{URL}/{california['id']}",
                json={"plan_due_day": 2},
                headers=if_match(network[actor].headers, california["version"]),
            ),
            403,
        )
    assert_problem(add(client, admin, code="CA"), 409)
    changed = client.patch(
        f"{URL}/{california['id']}", json={"plan_due_day": 2}, headers=if_match(admin.headers, california["version"])
    )
    assert changed.status_code == 200 and changed.json["plan_due_day"] == 2
    assert_problem(
        client.patch(
            f"{URL}/{california['id']}", json={"plan_due_day": 3}, headers=if_match(admin.headers, california["version"])
        ),
        412,
    )
    cycle = client.patch(
        f"{URL}/{by_code(client, admin, 'CBS-NETWORK')['id']}",
        json={"parent_id": california["id"]},
        headers=if_match(admin.headers, 1),
    )
    assert_problem(cycle, 422)
    assert_problem(client.get(f"{URL}/{uuid.uuid4()}", headers=admin.headers), 404)
    # A deadline rule for a jurisdiction that does not exist.
    assert_problem(
        client.patch(f"{URL}/{uuid.uuid4()}", json={"plan_due_month": 10, "plan_due_day": 1}, headers=if_match(admin.headers, 1)),
        404,
    )


def test_a_school_is_placed_in_a_known_jurisdiction_only(client, db_session, network):
    admin = network["district_admin"]
    row = school(db_session, district_id=network.district.id)  # the district keeps its own school
    url = f"/api/v1/schools/{row.id}"
    unknown = client.patch(url, json={"jurisdiction_id": str(uuid.uuid4())}, headers=if_match(admin.headers, row.version))
    assert_problem(unknown, 422)
    assert "jurisdiction_id" in unknown.json["errors"]["json"]
    california = by_code(client, admin, "CA")
    placed = client.patch(url, json={"jurisdiction_id": california["id"]}, headers=if_match(admin.headers, row.version))
    assert placed.status_code == 200 and placed.json["jurisdiction_id"] == california["id"]
