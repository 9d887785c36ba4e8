from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from cbs_network.capacity.models import CapacityProfile
from cbs_network.core.db import utcnow
from cbs_network.directory.models import (
    GRADES,
    Location,
    LocationType,
    Program,
    ProgramLanguage,
    ProgramLocation,
    ProgramRegion,
    ProgramSchool,
    School,
)
from cbs_network.identity.roles import Role

from .helpers import CITY_HALL, SQUARE, assert_problem, counted_get, if_match, north_of

URL = "/api/v1/referrals/matches"


def add(db_session, obj):
    db_session.add(obj)
    db_session.commit()
    return obj


def make_school(db_session, name="Jordan High", region="South", point=CITY_HALL) -> School:
    return add(
        db_session,
        School(id=uuid.uuid4(), cds_code=uuid.uuid4().hex[:14], name=name, region=region, latitude=point[0], longitude=point[1]),
    )


def make_site(db_session, organization, point, *, confidential=False) -> Location:
    return add(
        db_session,
        Location(
            id=uuid.uuid4(),
            organization_id=organization.id,
            name="Site",
            location_type=LocationType.physical,
            address_1="100 Main St",
            latitude=point[0],
            longitude=point[1],
            is_confidential=confidential,
        ),
    )


def make_program(db_session, organization, name, *, languages=(), schools=(), regions=(), sites=(), **fields) -> Program:
    fields.setdefault("program_type", "mentoring")
    fields.setdefault("status", "active")
    fields.setdefault("accepts_referrals", True)
    program = Program(id=uuid.uuid4(), organization_id=organization.id, name=name, **fields)
    program.languages = [ProgramLanguage(code=c) for c in languages]
    program.served_schools = [ProgramSchool(school_id=s.id) for s in schools]
    program.served_regions = [ProgramRegion(region=r) for r in regions]
    program.program_locations = [ProgramLocation(location_id=site.id) for site in sites]
    return add(db_session, program)


def make_profile(
    db_session, program, *, available=5, waitlist_open=False, assessment=False, days_old=1, staffed=()
) -> CapacityProfile:
    return add(
        db_session,
        CapacityProfile(
            id=uuid.uuid4(),
            program_id=program.id,
            total_slots=20,
            available_slots=available,
            slot_unit="youth",
            waitlist_length=3 if waitlist_open else 0,
            waitlist_open=waitlist_open,
            assessment_required=assessment,
            languages_staffed=list(staffed),
            updated_at=utcnow() - timedelta(days=days_old),
        ),
    )


def match(client, actor, query: str) -> list[dict]:
    response = client.get(f"{URL}?{query}", headers=actor.headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    items = response.json["items"]
    assert [item["rank"] for item in items] == list(range(1, len(items) + 1))
    return items


def names(items: list[dict]) -> list[str]:
    return [item["program_name"] for item in items]


def test_a_closer_fresher_language_matching_program_ranks_first(client, network, db_session):
    school = make_school(db_session)
    far = make_program(
        db_session,
        network.city,
        "A: far, stale, English only",
        languages=["en"],
        regions=["South"],
        sites=[make_site(db_session, network.city, north_of(CITY_HALL, 15_000))],
    )
    near = make_program(
        db_session,
        network.cbo,
        "B: near, fresh, Spanish",
        languages=["es"],
        regions=["South"],
        sites=[make_site(db_session, network.cbo, north_of(CITY_HALL, 1_000))],
    )
    make_profile(db_session, far, days_old=90)
    make_profile(db_session, near, days_old=2)

    items = match(client, network["district_coordinator"], f"program_type=mentoring&school_id={school.id}&language=spa")
    assert names(items) == ["B: near, fresh, Spanish", "A: far, stale, English only"]
    best, other = items
    assert best["program_id"] == str(near.id) and best["organization_id"] == str(network.cbo.id)
    assert best["organization_name"] == network.cbo.name
    assert best["capacity_status"] == other["capacity_status"] == "has_capacity"
    assert (best["stale"], other["stale"]) == (False, True)
    assert abs(best["distance_m"] - 1000) < 5 and abs(other["distance_m"] - 15_000) < 10
    assert best["score"] > other["score"]
    text = " | ".join(best["reasons"])
    for words in (
        "Serves Jordan High (lists its region, South)",
        "5 of 20 youth slots are available",
        "Capacity data is fresh",
        "Offers services in es",
        "Nearest site 1.0 km away",
    ):
        assert words in text, text
    assert any("stale" in r for r in other["reasons"]) and any("Does not list es" in r for r in other["reasons"])
    # The score is the sum of the points each reason names.
    for item in items:
        points = sum(float(r.rsplit("(", 1)[1].rstrip(")")) for r in item["reasons"])
        assert abs(points - item["score"]) < 0.2, item


# Each case: the loser ("A", first by name, so a tie would rank it first) and the winner ("B") differ
# in one component only; neither has a site, so distance cannot decide.
COMPONENTS = {
    "fresh beats stale": ({"profile": {"days_old": 60}}, {"profile": {"days_old": 1}}),
    "capacity beats none": ({"profile": {"available": 0}}, {"profile": {"available": 3}}),
    "a waitlist beats no profile": ({}, {"profile": {"available": 0, "waitlist_open": True}}),
    "program language": ({"languages": ["en"]}, {"languages": ["es"]}),
    "staff language": ({"profile": {"staffed": ["en"]}}, {"profile": {"staffed": ["es"]}}),
    "serves the school": ({}, {"serves": True}),
}


@pytest.mark.parametrize("case", list(COMPONENTS))
def test_each_component_changes_the_ranking(client, network, db_session, case):
    school = make_school(db_session)
    programs = {}
    for name, spec in zip(("A", "B"), COMPONENTS[case], strict=True):
        program = make_program(
            db_session, network.cbo, name, languages=spec.get("languages", ()), schools=[school] if spec.get("serves") else ()
        )
        if "profile" in spec:
            make_profile(db_session, program, **spec["profile"])
        programs[name] = program
    items = match(client, network["district_viewer"], f"program_type=mentoring&school_id={school.id}&language=es")
    assert names(items) == ["B", "A"], (case, items)
    assert items[0]["score"] > items[1]["score"]


def test_distance_earns_points_and_the_polygon_or_a_nearby_site_serves_a_point(client, network, db_session):
    make_program(db_session, network.cbo, "A: 12 km", sites=[make_site(db_session, network.cbo, north_of(CITY_HALL, 12_000))])
    make_program(db_session, network.cbo, "B: 3 km", sites=[make_site(db_session, network.cbo, north_of(CITY_HALL, 3_000))])
    make_program(db_session, network.cbo, "C: polygon", service_area_geojson=SQUARE)
    items = {
        i["program_name"]: i
        for i in match(
            client, network["district_viewer"], f"program_type=mentoring&latitude={CITY_HALL[0]}&longitude={CITY_HALL[1]}"
        )
    }
    assert names(sorted(items.values(), key=lambda i: i["rank"])) == ["B: 3 km", "C: polygon", "A: 12 km"]
    assert "Serves the area (a site within 5 km) (+30)" in items["B: 3 km"]["reasons"]
    assert "Serves the area (its service area covers the point) (+30)" in items["C: polygon"]["reasons"]
    assert items["C: polygon"]["distance_m"] is None
    assert any(r.startswith("Nearest site 12.0 km away (+8") for r in items["A: 12 km"]["reasons"])


def test_a_school_inside_a_polygon_is_served(client, network, db_session):
    school = make_school(db_session, region=None)
    make_program(db_session, network.cbo, "A: elsewhere")
    make_program(db_session, network.cbo, "B: polygon", service_area_geojson=SQUARE)
    items = match(client, network["district_viewer"], f"program_type=mentoring&school_id={school.id}")
    assert names(items) == ["B: polygon", "A: elsewhere"]
    assert "Serves Jordan High (its service area covers the school) (+30)" in items[0]["reasons"]


def test_the_programs_accepts_referrals_alone_decides_whether_it_is_offered(client, network, db_session):
    school = make_school(db_session)
    site = make_site(db_session, network.cbo, CITY_HALL)
    best = make_program(db_session, network.cbo, "A: best", languages=["es"], schools=[school], sites=[site])
    make_profile(db_session, best, available=5)
    make_program(db_session, network.cbo, "B: nothing known")
    query = f"program_type=mentoring&school_id={school.id}&language=es&urgency=emergency"
    viewer, admin = network["district_viewer"], network["cbo_admin"]
    assert names(match(client, viewer, query)) == ["A: best", "B: nothing known"]

    def set_accepting(value: bool) -> None:
        version = client.get(f"/api/v1/programs/{best.id}", headers=admin.headers).json["version"]
        changed = client.patch(
            f"/api/v1/programs/{best.id}", json={"accepts_referrals": value}, headers=if_match(admin.headers, version)
        )
        assert changed.status_code == 200, changed.json

    # A free slot and a fresh profile do not bring back a program that takes no referrals.
    set_accepting(False)
    assert names(match(client, viewer, query)) == ["B: nothing known"]
    set_accepting(True)
    assert names(match(client, viewer, query)) == ["A: best", "B: nothing known"]


def test_an_emergency_weighs_a_free_slot_now_more_heavily(client, network, db_session):
    school = make_school(db_session)
    slot_now = make_program(db_session, network.cbo, "A: free slot, stale, elsewhere")
    make_profile(db_session, slot_now, available=2, days_old=60)
    waitlist = make_program(db_session, network.cbo, "B: waitlist, fresh, serves the school", schools=[school])
    make_profile(db_session, waitlist, available=0, waitlist_open=True)
    base = f"program_type=mentoring&school_id={school.id}"
    viewer = network["district_viewer"]
    assert names(match(client, viewer, base))[0] == "B: waitlist, fresh, serves the school"
    assert names(match(client, viewer, base + "&urgency=routine"))[0] == "B: waitlist, fresh, serves the school"
    emergency = match(client, viewer, base + "&urgency=emergency")
    assert names(emergency)[0] == "A: free slot, stale, elsewhere"
    assert any("weighted for an emergency need" in r for r in emergency[0]["reasons"])


def test_eligibility_excludes_out_of_range_ages_and_grades(client, network, db_session):
    school = make_school(db_session)
    make_program(db_session, network.cbo, "Any age")
    make_program(db_session, network.cbo, "Teens", minimum_age=13, maximum_age=18)
    make_program(db_session, network.cbo, "Middle school", minimum_grade=GRADES["6"], maximum_grade=GRADES["8"])
    make_program(db_session, network.cbo, "Up to 12", maximum_age=12)
    viewer = network["district_viewer"]
    base = f"program_type=mentoring&school_id={school.id}"

    def eligible(query: str) -> list[str]:
        return sorted(names(match(client, viewer, base + query)))

    assert eligible("") == ["Any age", "Middle school", "Teens", "Up to 12"]
    assert eligible("&age=10") == ["Any age", "Middle school", "Up to 12"]
    assert eligible("&age=15") == ["Any age", "Middle school", "Teens"]
    assert eligible("&grade=K") == ["Any age", "Teens", "Up to 12"]
    assert eligible("&grade=7") == ["Any age", "Middle school", "Teens", "Up to 12"]
    assert eligible("&age=14&grade=9") == ["Any age", "Teens"]


def test_only_active_visible_referral_taking_programs_of_the_type_are_candidates(client, network, db_session):
    school = make_school(db_session)
    make_program(db_session, network.cbo, "Candidate")
    make_program(db_session, network.cbo, "Inactive", status="inactive")
    make_program(db_session, network.cbo, "Temporarily closed", status="temporarily_closed")
    make_program(db_session, network.cbo, "No referrals", accepts_referrals=False)
    make_program(db_session, network.cbo, "Other type", program_type="after_school")
    make_program(db_session, network.city, "City draft", status="draft")
    query = f"program_type=mentoring&school_id={school.id}&limit=50"
    for actor in ("district_viewer", "city_admin", "network_admin"):
        assert names(match(client, network[actor], query)) == ["Candidate"], actor


def test_limit_keeps_the_best(client, network, db_session):
    school = make_school(db_session)
    for n in range(5):
        make_program(db_session, network.cbo, f"P{n}", schools=[school] if n == 3 else ())
    items = match(client, network["district_viewer"], f"program_type=mentoring&school_id={school.id}&limit=2")
    assert names(items) == ["P3", "P0"]


def test_a_confidential_site_never_leaks_its_distance_to_outsiders(client, network, db_session):
    shelter_point = north_of(CITY_HALL, 800)
    shelter = make_site(db_session, network.cbo, shelter_point, confidential=True)
    office = make_site(db_session, network.cbo, north_of(CITY_HALL, 9_000))
    make_program(db_session, network.cbo, "Shelter", sites=[shelter])
    make_program(db_session, network.cbo, "Shelter and office", sites=[shelter, office])
    school = make_school(db_session, region=None)
    for query in (f"school_id={school.id}", f"latitude={CITY_HALL[0]}&longitude={CITY_HALL[1]}"):
        url = f"{URL}?program_type=mentoring&{query}"
        for outsider in ("district_viewer", "city_admin"):
            response = client.get(url, headers=network[outsider].headers)
            items = {i["program_name"]: i for i in response.json["items"]}
            assert items["Shelter"]["distance_m"] is None
            assert abs(items["Shelter and office"]["distance_m"] - 9_000) < 10  # the office, never the shelter
            text = response.get_data(as_text=True)
            assert "0.8 km" not in text and "(a site within 5 km)" not in text and f"{shelter_point[0]:.4f}" not in text
            # Ranked as if the shelter were not there: the office earns the distance points.
            assert names(response.json["items"]) == ["Shelter and office", "Shelter"]
        for insider in ("cbo_caseworker", "network_admin"):
            items = match(client, network[insider], f"program_type=mentoring&{query}")
            assert all(abs(i["distance_m"] - 800) < 5 for i in items), insider


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("school_id={school}", "program_type"),
        ("program_type=karate&school_id={school}", "program_type"),
        ("program_type=mentoring", "school_id"),
        ("program_type=mentoring&school_id={school}&latitude=34&longitude=-118", "school_id"),
        ("program_type=mentoring&latitude=34", "longitude"),
        ("program_type=mentoring&latitude=91&longitude=-118", "latitude"),
        (f"program_type=mentoring&school_id={uuid.uuid4()}", "school_id"),
        ("program_type=mentoring&school_id={school}&language=xx", "language"),
        ("program_type=mentoring&school_id={school}&grade=13", "grade"),
        ("program_type=mentoring&school_id={school}&age=121", "age"),
        ("program_type=mentoring&school_id={school}&urgency=asap", "urgency"),
        ("program_type=mentoring&school_id={school}&limit=51", "limit"),
    ],
)
def test_bad_input_is_a_422_naming_the_argument(client, network, db_session, query, field):
    school = make_school(db_session)
    response = client.get(f"{URL}?{query.format(school=school.id)}", headers=network["district_viewer"].headers)
    assert field in assert_problem(response, 422)["errors"]["query"], query


def test_needs_referrals_read(client, network, db_session):
    school = make_school(db_session)
    url = f"{URL}?program_type=mentoring&school_id={school.id}"
    assert client.get(url, headers=network["district_viewer"].headers).status_code == 200
    directory_only = network.actor(db_session, network.district, Role.viewer, scopes=["directory:read", "capacity:read"])
    assert_problem(client.get(url, headers=directory_only.headers), 403)
    assert_problem(client.get(url), 401)


def test_the_number_of_queries_does_not_grow_with_the_candidates(app, client, network, db_session):
    school = make_school(db_session)
    headers = network["district_viewer"].headers
    queries = (
        f"school_id={school.id}&language=es&age=12&grade=7",
        f"latitude={CITY_HALL[0]}&longitude={CITY_HALL[1]}&language=es&urgency=emergency",
    )

    def counts() -> list[int]:
        result = []
        for query in queries:
            count, response = counted_get(app, client, f"{URL}?program_type=mentoring&limit=50&{query}", headers)
            assert response.status_code == 200
            result.append((count, len(response.json["items"])))
        return result

    def add_programs(start: int, stop: int) -> None:
        for n in range(start, stop):
            program = make_program(
                db_session,
                network.cbo,
                f"P{n:02}",
                languages=["en", "es"],
                schools=[school],
                regions=["South"],
                sites=[make_site(db_session, network.cbo, north_of(CITY_HALL, 100 * n))],
                service_area_geojson=SQUARE if n % 2 else None,
            )
            make_profile(db_session, program, days_old=n)

    add_programs(0, 2)
    few = counts()
    add_programs(2, 25)
    many = counts()
    assert [items for _, items in few] == [2, 2] and [items for _, items in many] == [25, 25]
    assert [count for count, _ in few] == [count for count, _ in many], (few, many)
