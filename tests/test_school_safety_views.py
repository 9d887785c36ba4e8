"""The network's school-safety views: committee gaps, overdue plans, safe-passage coverage gaps."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import date

import pytest
from sqlalchemy import select

from cbs_network.committees.models import (
    Committee,
    CommitteeMember,
    Jurisdiction,
    PlanNeed,
    PlanState,
    SafetyPlan,
)
from cbs_network.directory.models import Program, ProgramSchool, School

from .helpers import assert_problem

YEAR = "2026-27"
STATE_ROLES = ("principal_or_designee", "teacher_rep", "parent", "classified_rep")


def california(db_session) -> Jurisdiction:
    return db_session.scalars(select(Jurisdiction).where(Jurisdiction.code == "CA")).one()


def make_school(db_session, name, *, region="South", board_district=7, grade_high=12, jurisdiction=None) -> School:
    school = School(
        id=uuid.uuid4(),
        cds_code=f"{uuid.uuid4().int % 10**14:014d}",
        name=name,
        grade_low=9,
        grade_high=grade_high,
        region=region,
        board_district=board_district,
        jurisdiction_id=(jurisdiction or california(db_session)).id,
    )
    db_session.add(school)
    db_session.commit()
    return school


def make_committee(db_session, school, roles, **member_fields) -> Committee:
    committee = Committee(id=uuid.uuid4(), school_id=school.id, school_year=YEAR)
    db_session.add(committee)
    db_session.flush()
    for role in roles:
        db_session.add(
            CommitteeMember(
                id=uuid.uuid4(),
                committee_id=committee.id,
                role=role,
                name=f"{role} member",
                status=member_fields.get("status", "active"),
                term_start=member_fields.get("term_start"),
                term_end=member_fields.get("term_end"),
            )
        )
    db_session.commit()
    return committee


def make_plan(db_session, school, state="drafting", due_on=date(2027, 3, 1), needs=()) -> SafetyPlan:
    plan = SafetyPlan(
        id=uuid.uuid4(),
        school_id=school.id,
        school_year=YEAR,
        state=state,
        due_on=due_on,
        due_rule="CA (State of California): due March 1",
    )
    db_session.add(plan)
    db_session.flush()
    for need_type, status in needs:
        db_session.add(
            PlanNeed(
                id=uuid.uuid4(),
                plan_id=plan.id,
                need_type=need_type,
                status=status,
                priority="high",
                description="Unsafe walk",
                location_description="Vermont Ave and 84th St",
            )
        )
    db_session.commit()
    return plan


def items(client, actor, view, **query):
    response = client.get(f"/api/v1/school-safety/{view}", query_string=query, headers=actor.headers)
    assert response.status_code == 200, response.json
    return {row["school_name"]: row for row in response.json["items"]}


def test_committee_gaps_name_the_missing_roles(client, db_session, network):
    reader = network["district_viewer"]
    make_committee(db_session, make_school(db_session, "Full High"), [*STATE_ROLES, "cbo_representative"])
    make_committee(db_session, make_school(db_session, "No CBO High"), STATE_ROLES)
    make_committee(
        db_session,
        make_school(db_session, "No Parent High"),
        ["principal_or_designee", "teacher_rep", "classified_rep", "cbo_representative"],
    )
    nominated = make_committee(db_session, make_school(db_session, "Nominated Only High"), STATE_ROLES)
    db_session.add(
        CommitteeMember(id=uuid.uuid4(), committee_id=nominated.id, role="cbo_representative", name="Pending", status="nominated")
    )
    make_committee(
        db_session, make_school(db_session, "Expired Term High"), [*STATE_ROLES, "cbo_representative"], term_end=date(2026, 9, 1)
    )
    make_school(db_session, "No Committee High")
    db_session.commit()

    gaps = items(client, reader, "committee-gaps", school_year=YEAR, as_of="2026-11-29")
    assert "Full High" not in gaps
    assert gaps["No CBO High"]["missing_roles"] == ["cbo_representative"] and gaps["No CBO High"]["lacks_cbo_representative"]
    assert gaps["No Parent High"]["missing_roles"] == ["parent"] and not gaps["No Parent High"]["lacks_cbo_representative"]
    assert gaps["Nominated Only High"]["missing_roles"] == ["cbo_representative"]  # a nomination is not a seat
    assert len(gaps["Expired Term High"]["missing_roles"]) == 5
    assert gaps["No Committee High"]["committee_id"] is None
    # Before the terms ended, that committee was complete.
    assert "Expired Term High" not in items(client, reader, "committee-gaps", school_year=YEAR, as_of="2026-08-15")


def test_a_jurisdiction_requiring_a_pupil_counts_it_for_high_schools_only(client, db_session, network):
    reader = network["district_viewer"]
    pupils = Jurisdiction(
        id=uuid.uuid4(),
        code="PUPILS",
        name="Pupil district",
        parent_id=california(db_session).id,
        composition_rules=[{"role": "pupil", "minimum": 1, "min_grade": 9}],
    )
    db_session.add(pupils)
    db_session.commit()
    roles = [*STATE_ROLES, "cbo_representative"]
    make_committee(db_session, make_school(db_session, "Pupil High", jurisdiction=pupils), roles)
    make_committee(db_session, make_school(db_session, "Pupil Middle", jurisdiction=pupils, grade_high=8), roles)
    make_committee(db_session, make_school(db_session, "State High"), roles)
    gaps = items(client, reader, "committee-gaps", school_year=YEAR, as_of="2026-11-29")
    assert set(gaps) == {"Pupil High"} and gaps["Pupil High"]["missing_roles"] == ["pupil"]


def test_overdue_plans_on_either_side_of_the_deadline(client, db_session, network):
    reader = network["district_viewer"]
    make_plan(db_session, make_school(db_session, "Drafting High"))
    make_plan(db_session, make_school(db_session, "Approved High"), state=PlanState.approved)
    make_school(db_session, "No Plan High")
    october = Jurisdiction(
        id=uuid.uuid4(),
        code="OCT",
        name="October district",
        parent_id=california(db_session).id,
        plan_due_month=10,
        plan_due_day=1,
    )
    db_session.add(october)
    db_session.commit()
    make_school(db_session, "October No Plan High", jurisdiction=october)

    assert set(items(client, reader, "overdue-plans", school_year=YEAR, as_of="2026-10-01")) == set()
    assert set(items(client, reader, "overdue-plans", school_year=YEAR, as_of="2026-10-02")) == {"October No Plan High"}
    assert set(items(client, reader, "overdue-plans", school_year=YEAR, as_of="2027-03-01")) == {"October No Plan High"}
    late = items(client, reader, "overdue-plans", school_year=YEAR, as_of="2027-03-02")
    assert set(late) == {"Drafting High", "No Plan High", "October No Plan High"}
    assert late["Drafting High"]["plan_state"] == "drafting" and late["Drafting High"]["days_overdue"] == 1
    assert late["No Plan High"]["plan_id"] is None and late["No Plan High"]["due_on"] == "2027-03-01"


def test_safe_passage_gaps_are_open_needs_without_a_program(client, db_session, network):
    reader = network["district_viewer"]
    unserved = make_school(db_session, "Unserved High")
    served = make_school(db_session, "Served High")
    met = make_school(db_session, "Met Need High")
    other_need = make_school(db_session, "Mental Health Need High")
    make_plan(db_session, unserved, needs=[("safe_passage", "open")])
    make_plan(db_session, served, needs=[("safe_passage", "in_progress")])
    make_plan(db_session, met, needs=[("safe_passage", "met")])
    make_plan(db_session, other_need, needs=[("mental_health", "open")])
    program = Program(
        id=uuid.uuid4(), organization_id=network.cbo.id, name="Safe Passage", program_type="safe_passage", status="active"
    )
    db_session.add(program)
    db_session.flush()
    db_session.add(ProgramSchool(program_id=program.id, school_id=served.id))
    db_session.commit()

    gaps = items(client, reader, "safe-passage-gaps")
    assert set(gaps) == {"Unserved High"}
    assert gaps["Unserved High"]["locations"] == ["Vermont Ave and 84th St"]
    program.status = "inactive"  # an inactive program serves no one
    db_session.commit()
    assert set(items(client, reader, "safe-passage-gaps", school_year=YEAR)) == {"Unserved High", "Served High"}


def test_views_filter_by_region_and_board_district_and_export_csv(client, db_session, network):
    reader = network["district_viewer"]
    make_school(db_session, "South High", region="South", board_district=7)
    make_school(db_session, "East High", region="East", board_district=2)
    assert set(items(client, reader, "committee-gaps", school_year=YEAR, region="East")) == {"East High"}
    assert set(items(client, reader, "committee-gaps", school_year=YEAR, board_district=7)) == {"South High"}
    response = client.get(
        "/api/v1/school-safety/committee-gaps",
        headers=reader.headers,
        query_string={"school_year": YEAR, "region": "South", "format": "csv"},
    )
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["school_name"] for r in rows] == ["South High"] and rows[0]["lacks_cbo_representative"] == "True"
    assert "missing_roles" in rows[0] and "cbo_representative" in rows[0]["missing_roles"]


@pytest.mark.parametrize(
    "query", [{"school_year": "2026-28"}, {"school_year": YEAR, "format": "xml"}, {"school_year": YEAR, "as_of": "yesterday"}]
)
def test_bad_view_arguments_are_problems(client, network, query):
    assert_problem(
        client.get("/api/v1/school-safety/committee-gaps", query_string=query, headers=network["district_viewer"].headers), 422
    )
