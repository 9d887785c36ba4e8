"""Committees, their members, compliance with the jurisdictions' rules, and CBO nominations."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from cbs_network.audit.models import AuditRecord
from cbs_network.committees.models import Committee, CommitteeMember, Jurisdiction
from cbs_network.directory.models import School
from cbs_network.events.models import Event
from cbs_network.identity.roles import Role
from cbs_network.organizations.models import OrganizationKind

from .factories import MembershipFactory, OrganizationFactory
from .helpers import assert_problem, if_match

URL = "/api/v1/committees"
AS_OF = "2026-09-15"  # every compliance answer here is judged on this fixed day
STATE_ROLES = ["principal_or_designee", "teacher_rep", "parent", "classified_rep"]
NETWORK_ROLES = ["cbo_representative"]
_codes = iter(range(7 * 10**13, 8 * 10**13))


# --- setup -------------------------------------------------------------------------------------


def _jurisdiction(db_session, code: str) -> Jurisdiction:
    return db_session.scalar(select(Jurisdiction).where(Jurisdiction.code == code))


@pytest.fixture
def pupil_jurisdiction(db_session) -> Jurisdiction:
    """A district within California whose rule asks for a pupil on high schools' committees."""
    jurisdiction = Jurisdiction(
        id=uuid.uuid4(),
        code="TEST-PUPIL",
        name="Pupil District",
        parent_id=_jurisdiction(db_session, "CA").id,
        composition_rules=[{"role": "pupil", "minimum": 1, "min_grade": 9, "source": "District rule for grades 9-12"}],
    )
    db_session.add(jurisdiction)
    db_session.commit()
    return jurisdiction


def make_school(
    db_session,
    network,
    *,
    jurisdiction_code: str | None = "CA",
    grade_high: int = 12,
    jurisdiction: Jurisdiction | None = None,
    region: str | None = None,
    board_district: int | None = None,
) -> School:
    """A school of the network's district, with its own organization under the district."""
    organization = OrganizationFactory(
        kind=OrganizationKind.school, name=f"School org {uuid.uuid4().hex[:6]}", parent_id=network.district.id
    )
    if jurisdiction is None and jurisdiction_code is not None:
        jurisdiction = _jurisdiction(db_session, jurisdiction_code)
    school = School(
        id=uuid.uuid4(),
        cds_code=str(next(_codes)),
        name="Test High",
        grade_low=9 if grade_high >= 12 else 6,
        grade_high=grade_high,
        organization_id=organization.id,
        district_id=network.district.id,
        region=region,
        board_district=board_district,
        jurisdiction_id=jurisdiction.id if jurisdiction else None,
    )
    db_session.add(school)
    db_session.commit()
    return school


def make_committee(client, network, school, *, year: str = "2026-27", actor: str = "district_coordinator") -> dict:
    response = client.post(
        URL,
        json={"school_id": str(school.id), "school_year": year, "meeting_schedule": "Second Tuesday, 3:30pm"},
        headers=network[actor].headers,
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.json


def seat(client, network, committee_id, role: str, **fields) -> dict:
    body = {"role": role, "name": f"{role} person", "email": f"{role}@example.org", **fields}
    response = client.post(f"{URL}/{committee_id}/members", json=body, headers=network["district_coordinator"].headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.json


def compliance(client, network, committee_id, **query) -> dict:
    params = {"as_of": AS_OF, **query}
    response = client.get(f"{URL}/{committee_id}/compliance", query_string=params, headers=network["district_viewer"].headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json


def counts(db_session) -> tuple[int, int, int, int]:
    """Rows a refused request must not add to."""
    db_session.expire_all()
    return tuple(
        db_session.scalar(select(func.count()).select_from(model)) for model in (Committee, CommitteeMember, AuditRecord, Event)
    )


def staff(db_session, organization, role=Role.caseworker):
    return MembershipFactory(organization=organization, role=role).user


# --- committees --------------------------------------------------------------------------------


def test_school_side_creates_a_committee_and_a_second_for_the_year_is_409(client, network, db_session):
    school = make_school(db_session, network)
    committee = make_committee(client, network, school)
    assert committee["school_year"] == "2026-27" and committee["members"] == [] and committee["version"] == 1
    before = counts(db_session)
    again = client.post(
        URL, json={"school_id": str(school.id), "school_year": "2026-27"}, headers=network["district_admin"].headers
    )
    assert "2026-27" in assert_problem(again, 409)["detail"]
    assert counts(db_session) == before
    # Another year is another committee.
    make_committee(client, network, school, year="2027-28")


def test_committee_school_year_and_school_are_checked(client, network, db_session):
    school = make_school(db_session, network)
    headers = network["district_coordinator"].headers
    before = counts(db_session)
    bad_year = client.post(URL, json={"school_id": str(school.id), "school_year": "2026-28"}, headers=headers)
    assert "school_year" in assert_problem(bad_year, 422)["errors"]["json"]
    no_school = client.post(URL, json={"school_id": str(uuid.uuid4()), "school_year": "2026-27"}, headers=headers)
    assert "school_id" in assert_problem(no_school, 422)["errors"]["json"]
    assert counts(db_session) == before


def test_only_the_school_side_creates_or_changes_a_committee(client, network, db_session):
    school = make_school(db_session, network)
    before = counts(db_session)
    for actor in ("city_admin", "cbo_admin"):
        response = client.post(URL, json={"school_id": str(school.id), "school_year": "2026-27"}, headers=network[actor].headers)
        assert_problem(response, 403)
    assert_problem(
        client.post(
            URL, json={"school_id": str(school.id), "school_year": "2026-27"}, headers=network["district_viewer"].headers
        ),
        403,
    )  # no committees:write
    assert counts(db_session) == before

    committee = make_committee(client, network, school)
    before = counts(db_session)
    for actor in ("city_admin", "cbo_admin"):
        response = client.patch(
            f"{URL}/{committee['id']}", json={"notes": "mine now"}, headers=if_match(network[actor].headers, 1)
        )
        assert_problem(response, 403)
        member = client.post(
            f"{URL}/{committee['id']}/members", json={"role": "parent", "name": "X"}, headers=network[actor].headers
        )
        assert_problem(member, 403)
    assert counts(db_session) == before
    shown = client.get(f"{URL}/{committee['id']}", headers=network["city_admin"].headers).json
    assert shown["version"] == 1 and shown["notes"] is None and shown["members"] == []

    # The school's own organization is the school side too.
    school_org = db_session.get(type(network.cbo), school.organization_id)
    principal = network.actor(db_session, school_org, Role.coordinator)
    response = client.patch(
        f"{URL}/{committee['id']}", json={"notes": "Agenda posted 72h ahead."}, headers=if_match(principal.headers, 1)
    )
    assert response.status_code == 200 and response.json["version"] == 2


def test_stale_if_match_on_committee_patch_is_412(client, network, db_session):
    committee = make_committee(client, network, make_school(db_session, network))
    headers = network["district_coordinator"].headers
    first = client.patch(f"{URL}/{committee['id']}", json={"meeting_schedule": "Mondays"}, headers=if_match(headers, 1))
    assert first.status_code == 200 and first.headers["ETag"] == '"2"'
    before = counts(db_session)
    stale = client.patch(f"{URL}/{committee['id']}", json={"meeting_schedule": "Fridays"}, headers=if_match(headers, 1))
    assert_problem(stale, 412)
    assert_problem(client.patch(f"{URL}/{committee['id']}", json={"notes": "x"}, headers=headers), 428)
    assert counts(db_session) == before
    assert client.get(f"{URL}/{committee['id']}", headers=headers).json["meeting_schedule"] == "Mondays"


def test_everyone_with_committees_read_reads_and_lists(client, network, db_session):
    east = make_school(db_session, network, region="East", board_district=2)
    west = make_school(db_session, network, region="West", board_district=4)
    east_committee = make_committee(client, network, east)
    west_committee = make_committee(client, network, west)
    make_committee(client, network, west, year="2027-28")
    for actor in ("district_viewer", "city_admin", "cbo_caseworker"):
        headers = network[actor].headers
        assert client.get(f"{URL}/{east_committee['id']}", headers=headers).status_code == 200

    def ids(query: str) -> set[str]:
        response = client.get(f"{URL}?{query}", headers=network["cbo_caseworker"].headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        return {item["id"] for item in response.json["items"]}

    assert ids("region=East") == {east_committee["id"]}
    assert ids("board_district=4&school_year=2026-27") == {west_committee["id"]}
    assert ids(f"school_id={east.id}") == {east_committee["id"]}
    first = client.get(f"{URL}?limit=2", headers=network["city_admin"].headers)
    second = client.get(f"{URL}?limit=2&cursor={first.json['next_cursor']}", headers=network["city_admin"].headers)
    assert len(first.json["items"]) == 2 and 'rel="next"' in first.headers["Link"]
    assert {i["id"] for i in first.json["items"]}.isdisjoint({i["id"] for i in second.json["items"]})
    assert_problem(client.get(f"{URL}/{uuid.uuid4()}", headers=network["city_admin"].headers), 404)


# --- members -----------------------------------------------------------------------------------


def test_member_term_ending_before_it_starts_is_422(client, network, db_session):
    committee = make_committee(client, network, make_school(db_session, network))
    headers = network["district_coordinator"].headers
    before = counts(db_session)
    response = client.post(
        f"{URL}/{committee['id']}/members",
        headers=headers,
        json={"role": "parent", "name": "Rosa Example", "term_start": "2026-09-01", "term_end": "2026-08-31"},
    )
    assert "term_end" in assert_problem(response, 422)["errors"]["json"]
    unknown_org = client.post(
        f"{URL}/{committee['id']}/members",
        headers=headers,
        json={"role": "parent", "name": "Rosa Example", "organization_id": str(uuid.uuid4())},
    )
    assert "organization_id" in assert_problem(unknown_org, 422)["errors"]["json"]
    assert counts(db_session) == before

    member = seat(client, network, committee["id"], "parent", term_start="2026-09-01", organization_id=str(network.city.id))
    assert member["status"] == "active" and member["organization_id"] == str(network.city.id)
    member_url = f"{URL}/{committee['id']}/members/{member['id']}"
    before = counts(db_session)
    patched = client.patch(member_url, json={"term_end": "2026-01-01"}, headers=if_match(headers, 1))
    assert "term_end" in assert_problem(patched, 422)["errors"]["json"]
    assert_problem(client.patch(member_url, json={"status": "ended"}, headers=if_match(headers, 1)), 422)  # not a free field
    assert counts(db_session) == before
    good = client.patch(member_url, json={"term_end": "2027-06-30", "name": "Rosa M. Example"}, headers=if_match(headers, 1))
    assert good.status_code == 200 and good.json["term_end"] == "2027-06-30" and good.json["version"] == 2
    assert_problem(client.patch(member_url, json={"name": "Again"}, headers=if_match(headers, 1)), 412)


def test_email_is_shown_only_to_the_school_side_and_the_represented_organization(client, network, db_session):
    committee = make_committee(client, network, make_school(db_session, network))
    seat(client, network, committee["id"], "parent", email="parent@example.org")
    seat(client, network, committee["id"], "cbo_representative", email="rep@cbo.example.org", organization_id=str(network.cbo.id))

    def emails(actor: str) -> dict[str, str | None]:
        body = client.get(f"{URL}/{committee['id']}", headers=network[actor].headers).json
        return {m["role"]: m["email"] for m in body["members"]}

    # Reading is not keeping: the school side is who keeps the committee (committees:write).
    assert emails("district_viewer") == {"parent": None, "cbo_representative": None}
    assert emails("district_coordinator") == {"parent": "parent@example.org", "cbo_representative": "rep@cbo.example.org"}
    assert emails("cbo_caseworker") == {"parent": None, "cbo_representative": "rep@cbo.example.org"}
    assert emails("city_admin") == {"parent": None, "cbo_representative": None}
    names = {m["name"] for m in client.get(f"{URL}/{committee['id']}", headers=network["city_admin"].headers).json["members"]}
    assert names == {"parent person", "cbo_representative person"}


def test_ending_a_member_goes_through_the_transition_table(client, network, db_session):
    committee = make_committee(client, network, make_school(db_session, network))
    parent = seat(client, network, committee["id"], "parent", term_start="2026-08-01")
    rep = seat(client, network, committee["id"], "cbo_representative", organization_id=str(network.cbo.id))
    before = counts(db_session)
    # An unrelated organization may not; a reason is required; a term cannot end before it starts.
    assert_problem(
        client.post(
            f"{URL}/{committee['id']}/members/{parent['id']}/end", json={"reason": "x"}, headers=network["city_admin"].headers
        ),
        403,
    )
    assert_problem(
        client.post(
            f"{URL}/{committee['id']}/members/{parent['id']}/end", json={}, headers=network["district_coordinator"].headers
        ),
        422,
    )
    early = client.post(
        f"{URL}/{committee['id']}/members/{parent['id']}/end",
        json={"reason": "x", "term_end": "2026-07-01"},
        headers=network["district_coordinator"].headers,
    )
    assert "term_end" in assert_problem(early, 422)["errors"]["json"]
    assert counts(db_session) == before

    ended = client.post(
        f"{URL}/{committee['id']}/members/{parent['id']}/end",
        json={"reason": "Child moved schools.", "term_end": "2026-12-31"},
        headers=network["district_coordinator"].headers,
    )
    assert ended.status_code == 200 and ended.json["status"] == "ended" and ended.json["term_end"] == "2026-12-31"
    assert ended.json["allowed_transitions"] == []
    again = client.post(
        f"{URL}/{committee['id']}/members/{parent['id']}/end",
        json={"reason": "again"},
        headers=network["district_coordinator"].headers,
    )
    assert assert_problem(again, 409)["current_state"] == "ended"
    # The organization a member represents may take its representative off (staff leave).
    by_cbo = client.post(
        f"{URL}/{committee['id']}/members/{rep['id']}/end",
        json={"reason": "Left the organization."},
        headers=network["cbo_admin"].headers,
    )
    assert by_cbo.status_code == 200 and by_cbo.json["status"] == "ended"
    audit = db_session.scalars(select(AuditRecord).where(AuditRecord.action == "committee_member.ended")).all()
    assert {a.object_id for a in audit} == {parent["id"], rep["id"]}
    assert any(a.changes.get("reason", {}).get("after") == "Child moved schools." for a in audit)


# --- compliance --------------------------------------------------------------------------------


REQUIRED_FOR = {
    "pupil_high": STATE_ROLES + ["pupil"] + NETWORK_ROLES,
    "ca_high": STATE_ROLES + NETWORK_ROLES,
    "pupil_middle": STATE_ROLES + NETWORK_ROLES,
}
CASES = [(setup, missing) for setup, roles in REQUIRED_FOR.items() for missing in roles]


def _school_for(setup: str, db_session, network, pupil_jurisdiction) -> School:
    if setup == "ca_high":
        return make_school(db_session, network, jurisdiction_code="CA", grade_high=12)
    return make_school(db_session, network, jurisdiction=pupil_jurisdiction, grade_high=12 if setup == "pupil_high" else 8)


@pytest.mark.parametrize(("setup", "missing"), CASES)
def test_compliance_with_each_required_role_missing(client, network, db_session, pupil_jurisdiction, setup, missing):
    committee = make_committee(client, network, _school_for(setup, db_session, network, pupil_jurisdiction))
    for role in REQUIRED_FOR[setup]:
        if role != missing:
            seat(client, network, committee["id"], role)
    answer = compliance(client, network, committee["id"])
    assert answer["compliant"] is False
    assert answer["missing_roles"] == [missing]
    assert {r["role"] for r in answer["required"]} == set(REQUIRED_FOR[setup])
    gap = next(r for r in answer["required"] if r["role"] == missing)
    assert (gap["filled"], gap["missing"], gap["minimum"]) == (0, 1, 1) and gap["sources"]

    seat(client, network, committee["id"], missing)
    answer = compliance(client, network, committee["id"])
    assert answer["compliant"] is True and answer["missing_roles"] == []
    assert answer["as_of"] == AS_OF


def test_pupil_rule_follows_the_grade_and_the_jurisdiction(client, network, db_session, pupil_jurisdiction):
    def required(school: School) -> set[str]:
        committee = make_committee(client, network, school)
        return {r["role"] for r in compliance(client, network, committee["id"])["required"]}

    assert "pupil" in required(make_school(db_session, network, jurisdiction=pupil_jurisdiction, grade_high=12))
    assert "pupil" in required(make_school(db_session, network, jurisdiction=pupil_jurisdiction, grade_high=9))
    assert "pupil" not in required(make_school(db_session, network, jurisdiction=pupil_jurisdiction, grade_high=8))
    assert "pupil" not in required(make_school(db_session, network, jurisdiction_code="CA", grade_high=12))


def test_only_active_members_whose_term_covers_the_day_count(client, network, db_session):
    committee = make_committee(client, network, make_school(db_session, network))
    cid = committee["id"]
    for role in STATE_ROLES:
        seat(client, network, cid, role)
    seat(client, network, cid, "cbo_representative", term_start="2026-10-01")  # not started yet
    seat(client, network, cid, "cbo_representative", term_end="2026-09-14")  # already over
    cbo_user = staff(db_session, network.cbo)
    client.post(f"{URL}/{cid}/nominations", json={"user_id": str(cbo_user.id)}, headers=network["cbo_admin"].headers)
    assert compliance(client, network, cid)["missing_roles"] == ["cbo_representative"]
    assert compliance(client, network, cid, as_of="2026-10-01")["compliant"] is True
    ended = seat(client, network, cid, "cbo_representative")
    assert compliance(client, network, cid)["compliant"] is True
    client.post(
        f"{URL}/{cid}/members/{ended['id']}/end", json={"reason": "Left."}, headers=network["district_coordinator"].headers
    )
    assert compliance(client, network, cid)["missing_roles"] == ["cbo_representative"]


def test_terms_ending_within_n_days(client, network, db_session):
    committee = make_committee(client, network, make_school(db_session, network))
    cid = committee["id"]
    soon = seat(client, network, cid, "parent", term_end="2026-10-31")
    edge = seat(client, network, cid, "teacher_rep", term_end="2026-11-14")  # exactly 60 days after as_of
    past = seat(client, network, cid, "classified_rep", term_end="2026-09-01")
    seat(client, network, cid, "principal_or_designee", term_end="2027-06-30")
    seat(client, network, cid, "community_member")  # no end date
    user = staff(db_session, network.cbo)
    client.post(
        f"{URL}/{cid}/nominations", json={"user_id": str(user.id), "term_end": "2026-10-01"}, headers=network["cbo_admin"].headers
    )  # a nomination is not a seat yet
    answer = compliance(client, network, cid, within_days=60)
    assert [t["member_id"] for t in answer["terms_ending"]] == [past["id"], soon["id"], edge["id"]]
    assert answer["terms_ending"][1] == {
        "member_id": soon["id"],
        "role": "parent",
        "name": "parent person",
        "term_end": "2026-10-31",
    }
    assert [t["member_id"] for t in compliance(client, network, cid, within_days=30)["terms_ending"]] == [past["id"]]
    # The classified rep's term is over, so the seat no longer counts.
    assert "classified_rep" in answer["missing_roles"]


def test_compliant_filter_on_the_list_agrees_with_compliance(client, network, db_session, pupil_jurisdiction):
    full_high = make_committee(client, network, make_school(db_session, network, jurisdiction=pupil_jurisdiction))
    no_pupil = make_committee(client, network, make_school(db_session, network, jurisdiction=pupil_jurisdiction))
    middle = make_committee(client, network, make_school(db_session, network, jurisdiction=pupil_jurisdiction, grade_high=8))
    ca_high = make_committee(client, network, make_school(db_session, network, jurisdiction_code="CA"))
    no_jurisdiction = make_committee(client, network, make_school(db_session, network, jurisdiction_code=None))
    empty = make_committee(client, network, make_school(db_session, network))
    for committee in (full_high, no_pupil, middle, ca_high):
        for role in STATE_ROLES + NETWORK_ROLES:
            seat(client, network, committee["id"], role)
    seat(client, network, full_high["id"], "pupil")
    seat(client, network, no_jurisdiction["id"], "cbo_representative")  # only the network's own rule applies

    def ids(compliant: str) -> set[str]:
        response = client.get(
            URL, query_string={"compliant": compliant, "as_of": AS_OF, "limit": 200}, headers=network["city_admin"].headers
        )
        assert response.status_code == 200, response.get_data(as_text=True)
        return {item["id"] for item in response.json["items"]}

    everything = [full_high, no_pupil, middle, ca_high, no_jurisdiction, empty]
    expected = {c["id"] for c in everything if compliance(client, network, c["id"])["compliant"]}
    assert expected == {full_high["id"], middle["id"], ca_high["id"], no_jurisdiction["id"]}
    assert ids("true") & {c["id"] for c in everything} == expected
    assert ids("false") & {c["id"] for c in everything} == {no_pupil["id"], empty["id"]}


# --- nominations -------------------------------------------------------------------------------


def _nominate(client, network, committee_id, user, actor="cbo_admin", **body):
    return client.post(
        f"{URL}/{committee_id}/nominations", json={"user_id": str(user.id), **body}, headers=network[actor].headers
    )


def _decide(client, network, committee_id, member_id, actor, **body):
    return client.post(f"{URL}/{committee_id}/members/{member_id}/decision", json=body, headers=network[actor].headers)


def test_a_cbo_nominates_its_own_staff_and_the_school_side_approves(client, network, db_session):
    school = make_school(db_session, network)
    committee = make_committee(client, network, school)
    cid = committee["id"]
    nominee = staff(db_session, network.cbo)
    response = _nominate(client, network, cid, nominee, term_start="2026-09-01", term_end="2027-06-30")
    assert response.status_code == 201, response.get_data(as_text=True)
    member = response.json
    assert response.headers["Location"].endswith(f"/api/v1/committees/{cid}/members/{member['id']}")
    assert member["status"] == "nominated" and member["role"] == "cbo_representative"
    assert (member["name"], member["email"], member["user_id"]) == (nominee.name, nominee.email, str(nominee.id))
    assert member["organization_id"] == member["nominated_by_organization_id"] == str(network.cbo.id)
    assert member["nominated_by_user_id"] == str(network["cbo_admin"].user.id)
    assert "cbo_representative" in compliance(client, network, cid)["missing_roles"]  # a nomination is not a seat

    # The nominating CBO cannot approve its own nomination.
    before = counts(db_session)
    assert_problem(_decide(client, network, cid, member["id"], "cbo_admin", decision="approve"), 403)
    assert_problem(_decide(client, network, cid, member["id"], "city_admin", decision="approve"), 403)
    assert counts(db_session) == before
    approved = _decide(client, network, cid, member["id"], "district_coordinator", decision="approve")
    assert approved.status_code == 200, approved.get_data(as_text=True)
    assert approved.json["status"] == "active" and approved.json["decided_by_user_id"] == str(
        network["district_coordinator"].user.id
    )
    assert "cbo_representative" not in compliance(client, network, cid)["missing_roles"]

    before = counts(db_session)
    twice = _decide(client, network, cid, member["id"], "district_admin", decision="approve")
    body = assert_problem(twice, 409)
    assert body["current_state"] == "active" and "active" in body["detail"]
    assert_problem(_decide(client, network, cid, member["id"], "district_admin", decision="decline", reason="No."), 409)
    assert counts(db_session) == before

    events = db_session.scalars(select(Event).where(Event.object_id == member["id"]).order_by(Event.created_at)).all()
    assert [e.type for e in events] == ["committee_member.nominated", "committee_member.approved"]
    for event in events:
        assert {str(school.organization_id), str(network.cbo.id)} <= set(event.audience_organization_ids)
        assert nominee.email not in str(event.payload) and nominee.name not in str(event.payload)
        assert event.payload["member_id"] == member["id"] and event.payload["role"] == "cbo_representative"
    assert events[1].payload["status"] == "active" and events[1].payload["from_status"] == "nominated"
    actions = db_session.scalars(select(AuditRecord.action).where(AuditRecord.object_id == member["id"])).all()
    assert sorted(actions) == ["committee_member.approved", "committee_member.nominated"]


def test_decline_needs_a_reason_and_is_final(client, network, db_session):
    committee = make_committee(client, network, make_school(db_session, network))
    cid = committee["id"]
    member = _nominate(client, network, cid, staff(db_session, network.cbo)).json
    before = counts(db_session)
    no_reason = _decide(client, network, cid, member["id"], "district_coordinator", decision="decline")
    assert "reason" in assert_problem(no_reason, 422)["errors"]["json"]
    assert_problem(_decide(client, network, cid, member["id"], "district_coordinator", decision="maybe"), 422)
    assert counts(db_session) == before
    declined = _decide(
        client,
        network,
        cid,
        member["id"],
        "district_coordinator",
        decision="decline",
        reason="The committee already has two CBO representatives.",
    )
    assert declined.status_code == 200 and declined.json["status"] == "declined"
    # The reason is for the parties: the nominating CBO sees it, an unrelated organization does not.
    shown = {
        actor: client.get(f"{URL}/{cid}/members/{member['id']}", headers=network[actor].headers).json["decision_reason"]
        for actor in ("cbo_caseworker", "city_admin")
    }
    assert shown == {"cbo_caseworker": "The committee already has two CBO representatives.", "city_admin": None}
    assert (
        assert_problem(_decide(client, network, cid, member["id"], "district_coordinator", decision="approve"), 409)[
            "current_state"
        ]
        == "declined"
    )
    event = db_session.scalar(select(Event).where(Event.object_id == member["id"], Event.type == "committee_member.declined"))
    assert "two CBO" not in str(event.payload)


def test_a_cbo_may_nominate_only_its_own_staff(client, network, db_session):
    committee = make_committee(client, network, make_school(db_session, network))
    cid = committee["id"]
    before = counts(db_session)
    other = _nominate(client, network, cid, network["city_admin"].user)
    assert "own staff" in assert_problem(other, 422)["errors"]["json"]["user_id"][0]
    unknown = client.post(f"{URL}/{cid}/nominations", json={"user_id": str(uuid.uuid4())}, headers=network["cbo_admin"].headers)
    assert "user_id" in assert_problem(unknown, 422)["errors"]["json"]
    school_seat = _nominate(client, network, cid, network["cbo_caseworker"].user, role="principal_or_designee")
    assert "role" in assert_problem(school_seat, 422)["errors"]["json"]
    assert counts(db_session) == before


def test_only_cbos_nominate(client, network, db_session):
    committee = make_committee(client, network, make_school(db_session, network))
    cid = committee["id"]
    before = counts(db_session)
    # The school side seats members directly; it does not nominate (even its own staff).
    assert_problem(_nominate(client, network, cid, network["district_viewer"].user, actor="district_coordinator"), 403)
    assert_problem(_nominate(client, network, cid, network["city_admin"].user, actor="city_admin"), 403)
    # A CBO caseworker has no committees:write.
    assert_problem(_nominate(client, network, cid, network["cbo_caseworker"].user, actor="cbo_caseworker"), 403)
    assert counts(db_session) == before


def test_a_person_holds_one_seat_per_committee(client, network, db_session):
    committee = make_committee(client, network, make_school(db_session, network))
    cid = committee["id"]
    nominee = staff(db_session, network.cbo)
    first = _nominate(client, network, cid, nominee).json
    before = counts(db_session)
    again = _nominate(client, network, cid, nominee)
    assert assert_problem(again, 409)["member_id"] == first["id"]
    assert counts(db_session) == before
    # Once declined, the CBO may put the person forward again.
    _decide(client, network, cid, first["id"], "district_coordinator", decision="decline", reason="Term already full.")
    assert _nominate(client, network, cid, nominee).status_code == 201


def test_nomination_for_an_unknown_committee_or_member_is_404(client, network, db_session):
    committee = make_committee(client, network, make_school(db_session, network))
    other = make_committee(client, network, make_school(db_session, network))
    member = _nominate(client, network, committee["id"], network["cbo_caseworker"].user).json
    assert_problem(_nominate(client, network, uuid.uuid4(), network["cbo_caseworker"].user), 404)
    # A member is reached only through its own committee.
    assert_problem(_decide(client, network, other["id"], member["id"], "district_coordinator", decision="approve"), 404)
    assert (
        client.get(f"{URL}/{committee['id']}/members/{member['id']}", headers=network["district_viewer"].headers).json["status"]
        == "nominated"
    )
