from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from cbs_network.audit.models import AuditRecord
from cbs_network.directory.geo import EARTH_RADIUS_M, haversine_m
from cbs_network.directory.models import GRADES, Program, ProgramRegion, ProgramSchool, ProgramStatus, ProgramType, School
from cbs_network.events.models import Event
from cbs_network.identity.roles import Role
from cbs_network.organizations.models import OrganizationKind

from .factories import Network, OrganizationFactory
from .helpers import assert_problem, counted_get, if_match

LAT, LON = 34.0522, -118.2437  # downtown Los Angeles
URL = "/api/v1/schools"
_codes = iter(range(10**13, 10**14))

NEW = {
    "cds_code": "19647331930247",
    "name": "Garfield Senior High",
    "grade_low": "9",
    "grade_high": "12",
    "region": "East",
    "board_district": 2,
    "address_1": "5101 E 6th St",
    "city": "Los Angeles",
    "state": "CA",
    "postal_code": "90022",
    "latitude": 34.0268,
    "longitude": -118.1608,
    "is_bsap": True,
}


def north_of(lat: float, meters: float) -> float:
    return lat + math.degrees(meters / EARTH_RADIUS_M)


def make_school(db_session, **fields) -> School:
    values = {"cds_code": str(next(_codes)), "name": "School", "latitude": None, "longitude": None, **fields}
    school = School(id=uuid.uuid4(), **values)
    db_session.add(school)
    db_session.commit()
    return school


def make_program(
    db_session,
    organization,
    *,
    program_type=ProgramType.safe_passage,
    status=ProgramStatus.active,
    schools=(),
    regions=(),
    polygon=None,
) -> Program:
    program = Program(
        id=uuid.uuid4(),
        organization_id=organization.id,
        name=f"{program_type} program",
        program_type=program_type,
        status=status,
        **({"service_area_geojson": polygon} if polygon else {}),  # None would be stored as JSON null
    )
    program.served_schools = [ProgramSchool(school_id=s.id) for s in schools]
    program.served_regions = [ProgramRegion(region=r) for r in regions]
    db_session.add(program)
    db_session.commit()
    return program


def names(client, headers, query: str) -> list[str]:
    response = client.get(f"{URL}?{query}", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return [item["name"] for item in response.json["items"]]


def school_count(db_session) -> int:
    return db_session.scalar(select(func.count()).select_from(School))


# --- create, read, update -------------------------------------------------------------------------


def test_network_admin_creates_and_every_member_reads(client, network, db_session):
    response = client.post(URL, json=NEW, headers=network["network_admin"].headers)
    assert response.status_code == 201, response.json
    body = response.json
    assert response.headers["Location"].endswith(f"{URL}/{body['id']}")
    assert body["grade_low"] == "9" and body["grade_high"] == "12"
    assert body["status"] == "active" and body["version"] == 1 and "distance_m" not in body
    fetched = client.get(response.headers["Location"], headers=network["cbo_caseworker"].headers)
    assert fetched.status_code == 200 and fetched.json == body and fetched.headers["ETag"] == '"1"'
    record = db_session.scalars(select(AuditRecord).where(AuditRecord.object_id == body["id"])).one()
    assert record.action == "school.created" and record.changes["grade_low"] == {"before": None, "after": 9}
    event_row = db_session.scalars(select(Event).where(Event.object_id == body["id"])).one()
    assert event_row.type == "school.created" and event_row.payload["cds_code"] == NEW["cds_code"]


def test_grades_are_strings_tk_and_k_included(client, network):
    body = client.post(URL, json={**NEW, "grade_low": "TK", "grade_high": "K"}, headers=network["network_admin"].headers).json
    assert (body["grade_low"], body["grade_high"]) == ("TK", "K")
    response = client.post(
        URL, json={**NEW, "cds_code": "19647331930248", "grade_high": "k"}, headers=network["network_admin"].headers
    )
    assert "grade_high" in assert_problem(response, 422)["errors"]["json"]


def test_district_coordinator_and_admin_edit(client, network):
    created = client.post(URL, json=NEW, headers=network["district_coordinator"].headers)
    assert created.status_code == 201
    assert created.json["district_id"] == str(network.district.id)  # the school joins its creator's district
    url = created.headers["Location"]
    response = client.patch(url, json={"board_district": 5}, headers=if_match(network["district_admin"].headers, 1))
    assert response.status_code == 200 and response.json["board_district"] == 5 and response.json["version"] == 2


@pytest.mark.parametrize("actor", ["cbo_admin", "city_admin", "cbo_caseworker", "district_viewer"])
def test_others_cannot_create_or_edit_schools(client, network, db_session, actor):
    school = make_school(db_session, name="Untouched", district_id=network.district.id)
    before = school_count(db_session)
    headers = network[actor].headers
    assert_problem(client.post(URL, json=NEW, headers=headers), 403)
    assert_problem(client.patch(f"{URL}/{school.id}", json={"name": "Renamed"}, headers=if_match(headers, 1)), 403)
    db_session.expire_all()
    assert school_count(db_session) == before and db_session.get(School, school.id).name == "Untouched"


def test_a_coordinator_of_a_cbo_cannot_edit(client, network, db_session):
    coordinator = Network.actor(db_session, network.cbo, Role.coordinator)
    school = make_school(db_session, district_id=network.district.id)
    assert_problem(client.patch(f"{URL}/{school.id}", json={"name": "X"}, headers=if_match(coordinator.headers, 1)), 403)


def test_duplicate_cds_code_is_409(client, network, db_session):
    admin = network["network_admin"].headers
    assert client.post(URL, json=NEW, headers=admin).status_code == 201
    assert_problem(client.post(URL, json={**NEW, "name": "Twin"}, headers=admin), 409)
    other = make_school(db_session)
    assert_problem(client.patch(f"{URL}/{other.id}", json={"cds_code": NEW["cds_code"]}, headers=if_match(admin, 1)), 409)
    assert school_count(db_session) == 2


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"cds_code": "1964733193024"}, "cds_code"),
        ({"cds_code": "1964733193024X"}, "cds_code"),
        ({"grade_low": "12", "grade_high": "9"}, "grade_low"),
        ({"grade_high": "13"}, "grade_high"),
        ({"grade_low": "PK"}, "grade_low"),
        ({"latitude": 90.5}, "latitude"),
        ({"longitude": -180.01}, "longitude"),
        ({"latitude": None}, "latitude"),
        ({"longitude": None}, "longitude"),
        ({"board_district": 8}, "board_district"),
        ({"board_district": 0}, "board_district"),
        ({"status": "demolished"}, "status"),
        ({"state": "California"}, "state"),
        ({"organization_id": str(uuid.uuid4())}, "organization_id"),
        ({"district_id": str(uuid.uuid4())}, "district_id"),
        ({"district_id": "not-a-uuid"}, "district_id"),
    ],
)
def test_bad_input_is_422_naming_the_field(client, network, db_session, change, field):
    response = client.post(URL, json={**NEW, **change}, headers=network["network_admin"].headers)
    assert field in assert_problem(response, 422)["errors"]["json"]
    assert school_count(db_session) == 0


def test_patch_is_checked_against_the_stored_values(client, network, db_session):
    school = make_school(
        db_session, grade_low=GRADES["K"], grade_high=GRADES["5"], latitude=LAT, longitude=LON, district_id=network.district.id
    )
    headers = if_match(network["district_admin"].headers, 1)
    url = f"{URL}/{school.id}"
    assert "grade_low" in assert_problem(client.patch(url, json={"grade_low": "6"}, headers=headers), 422)["errors"]["json"]
    assert "longitude" in assert_problem(client.patch(url, json={"longitude": None}, headers=headers), 422)["errors"]["json"]
    db_session.expire_all()
    assert (db_session.get(School, school.id).grade_low, db_session.get(School, school.id).version) == (0, 1)


def test_patch_needs_the_current_version_and_closing_replaces_delete(client, network, db_session):
    school = make_school(db_session, district_id=network.district.id)
    url, headers = f"{URL}/{school.id}", network["district_admin"].headers
    assert_problem(client.patch(url, json={"status": "closed"}, headers=headers), 428)
    assert_problem(client.patch(url, json={"status": "closed"}, headers=if_match(headers, 7)), 412)
    closed = client.patch(url, json={"status": "closed"}, headers=if_match(headers, 1))
    assert closed.status_code == 200 and closed.json["status"] == "closed"
    assert_problem(client.delete(url, headers=if_match(headers, 2)), 405)
    assert_problem(client.get(f"{URL}/{uuid.uuid4()}", headers=headers), 404)


# --- the school's district -----------------------------------------------------------------------


@pytest.fixture
def districts(db_session):
    return Network.build(second_tenants=True)


def test_a_district_keeps_its_own_schools_only(client, districts, db_session):
    mine, theirs = districts.school(name="Mine"), districts.school(districts.district2, name="Theirs")
    admin, other = districts["district_admin"], districts["district2_coordinator"]
    refused = client.patch(f"{URL}/{mine.id}", json={"name": "Taken over"}, headers=if_match(other.headers, 1))
    assert "own district" in assert_problem(refused, 403)["detail"]
    assert client.get(f"{URL}/{mine.id}", headers=other.headers).json["name"] == "Mine"  # reading is for everyone
    assert client.patch(f"{URL}/{mine.id}", json={"name": "Still mine"}, headers=if_match(admin.headers, 1)).status_code == 200
    assert client.patch(f"{URL}/{theirs.id}", json={"name": "X"}, headers=if_match(admin.headers, 1)).status_code == 403
    assert client.patch(f"{URL}/{theirs.id}", json={"name": "Theirs too"}, headers=if_match(other.headers, 1)).status_code == 200
    listed = client.get(f"{URL}?district_id={districts.district2.id}", headers=admin.headers).json["items"]
    assert [item["name"] for item in listed] == ["Theirs too"]


def test_a_district_adds_schools_to_itself_only(client, districts, db_session):
    coordinator = districts["district2_coordinator"]
    before = school_count(db_session)
    other = client.post(URL, json={**NEW, "district_id": str(districts.district.id)}, headers=coordinator.headers)
    assert "district_id" in assert_problem(other, 403)["detail"]
    assert school_count(db_session) == before
    own = client.post(URL, json={**NEW, "district_id": str(districts.district2.id)}, headers=coordinator.headers)
    assert own.status_code == 201 and own.json["district_id"] == str(districts.district2.id)


def test_only_network_admins_move_a_school_to_another_district(client, districts, db_session):
    school = districts.school(name="Moving")
    body = {"district_id": str(districts.district2.id), "organization_id": None}
    for actor in ("district_admin", "district2_admin"):
        assert_problem(client.patch(f"{URL}/{school.id}", json=body, headers=if_match(districts[actor].headers, 1)), 403)
    # Giving the current district again is no move.
    same = client.patch(
        f"{URL}/{school.id}",
        json={"district_id": str(districts.district.id), "name": "Same"},
        headers=if_match(districts["district_admin"].headers, 1),
    )
    assert same.status_code == 200 and same.json["version"] == 2
    moved = client.patch(f"{URL}/{school.id}", json=body, headers=if_match(districts["network_admin"].headers, 2))
    assert moved.status_code == 200 and moved.json["district_id"] == str(districts.district2.id)
    changes = db_session.scalars(select(AuditRecord.changes).where(AuditRecord.object_id == str(school.id))).all()
    assert {"before": str(districts.district.id), "after": str(districts.district2.id)} in [c.get("district_id") for c in changes]


def test_a_school_without_a_district_is_kept_by_network_admins_only(client, districts, db_session):
    school = make_school(db_session, name="Unassigned")
    for actor in ("district_admin", "district2_coordinator"):
        assert_problem(client.patch(f"{URL}/{school.id}", json={"name": "X"}, headers=if_match(districts[actor].headers, 1)), 403)
    created = client.post(URL, json=NEW, headers=districts["network_admin"].headers)
    assert created.status_code == 201 and created.json["district_id"] is None
    placed = client.patch(
        f"{URL}/{school.id}",
        json={"district_id": str(districts.district.id)},
        headers=if_match(districts["network_admin"].headers, 1),
    )
    assert placed.status_code == 200 and placed.json["district_id"] == str(districts.district.id)


def test_the_district_must_be_a_school_district_above_the_schools_organization(client, districts, db_session):
    admin = if_match(districts["network_admin"].headers, 1)
    school = districts.school(name="Tree")
    url = f"{URL}/{school.id}"
    before = school_count(db_session)
    not_a_district = client.post(URL, json={**NEW, "district_id": str(districts.cbo.id)}, headers=admin)
    assert "school_district" in assert_problem(not_a_district, 422)["errors"]["json"]["district_id"][0]
    assert school_count(db_session) == before
    # The school's organization sits under the first district, not the second.
    elsewhere = client.patch(url, json={"district_id": str(districts.district2.id)}, headers=admin)
    assert "organization tree" in assert_problem(elsewhere, 422)["errors"]["json"]["district_id"][0]
    stray = OrganizationFactory(kind=OrganizationKind.school, name="Stray school org")
    wrong_org = client.patch(
        url, json={"organization_id": str(stray.id)}, headers=if_match(districts["district_admin"].headers, 1)
    )
    assert "organization_id" in assert_problem(wrong_org, 422)["errors"]["json"]
    # A loop in the tree is refused, not followed forever.
    looped_a = OrganizationFactory(kind=OrganizationKind.district_office, name="Loop A")
    looped_b = OrganizationFactory(kind=OrganizationKind.district_office, name="Loop B", parent_id=looped_a.id)
    looped_a.parent_id = looped_b.id
    in_loop = OrganizationFactory(kind=OrganizationKind.school, name="In the loop", parent_id=looped_a.id)
    assert_problem(client.patch(url, json={"organization_id": str(in_loop.id)}, headers=admin), 422)
    db_session.expire_all()
    assert db_session.get(School, school.id).version == 1
    # Deeper trees are fine: a region office between the school and its district.
    office = OrganizationFactory(kind=OrganizationKind.district_office, name="Region", parent_id=districts.district.id)
    nested = OrganizationFactory(kind=OrganizationKind.school, name="Nested", parent_id=office.id)
    assert client.patch(url, json={"organization_id": str(nested.id)}, headers=admin).status_code == 200


# --- filters --------------------------------------------------------------------------------------


@pytest.fixture
def roster(db_session):
    make_school(db_session, name="Alpha Elementary", cds_code="19647330000001", region="East", board_district=2, is_bsap=True)
    make_school(db_session, name="Beta Middle", cds_code="19647330000002", region="East", board_district=5)
    make_school(db_session, name="Gamma High", cds_code="19734370000003", region="West", board_district=2, is_bsap=True)
    make_school(db_session, name="Delta Academy", cds_code="19734370000004", region="West", board_district=4, status="closed")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("region=East", ["Alpha Elementary", "Beta Middle"]),
        ("board_district=2", ["Alpha Elementary", "Gamma High"]),
        ("is_bsap=true", ["Alpha Elementary", "Gamma High"]),
        ("is_bsap=false", ["Beta Middle", "Delta Academy"]),
        ("status=closed", ["Delta Academy"]),
        ("q=ALPHA", ["Alpha Elementary"]),
        ("q=1973437", ["Delta Academy", "Gamma High"]),
        ("q=%25", []),  # a literal %, not a wildcard
        ("region=West&board_district=2", ["Gamma High"]),
        ("region=East&is_bsap=true&board_district=2", ["Alpha Elementary"]),
        ("region=West&status=active&q=a", ["Gamma High"]),
        ("region=East&board_district=4", []),
    ],
)
def test_filters_combine_with_and(client, network, roster, query, expected):
    assert sorted(names(client, network["cbo_caseworker"].headers, query)) == expected


def test_updated_since(client, network, db_session, roster):
    headers = network["district_viewer"].headers
    later = datetime.now(UTC) + timedelta(hours=1)
    school = db_session.scalars(select(School).where(School.name == "Beta Middle")).one()
    school.updated_at = later + timedelta(minutes=1)
    db_session.commit()
    assert names(client, headers, f"updated_since={later.isoformat().replace('+00:00', 'Z')}") == ["Beta Middle"]
    assert names(client, headers, f"updated_since={later.isoformat().replace('+00:00', 'Z')}&region=West") == []


def test_lacks_program_type_finds_coverage_gaps(client, network, db_session):
    listed = make_school(db_session, name="Listed", region="North")
    by_region = make_school(db_session, name="By region", region="South")
    in_polygon = make_school(db_session, name="In polygon", region="Harbor", latitude=LAT, longitude=LON)
    only_inactive = make_school(db_session, name="Only inactive", region="Harbor")
    other_type = make_school(db_session, name="Other type", region="Harbor")
    make_school(db_session, name="Nothing", region="Harbor", latitude=LAT + 1, longitude=LON)
    square = {
        "type": "Polygon",
        "coordinates": [
            [
                [LON - 0.01, LAT - 0.01],
                [LON + 0.01, LAT - 0.01],
                [LON + 0.01, LAT + 0.01],
                [LON - 0.01, LAT + 0.01],
                [LON - 0.01, LAT - 0.01],
            ]
        ],
    }
    make_program(db_session, network.cbo, schools=[listed])
    make_program(db_session, network.cbo, regions=["South"])
    make_program(db_session, network.cbo, polygon=square)
    make_program(db_session, network.cbo, status=ProgramStatus.inactive, schools=[only_inactive])
    make_program(db_session, network.cbo, program_type=ProgramType.mentoring, schools=[other_type])
    headers = network["district_viewer"].headers
    assert sorted(names(client, headers, "lacks_program_type=safe_passage&limit=200")) == [
        "Nothing",
        "Only inactive",
        "Other type",
    ]
    assert sorted(names(client, headers, "lacks_program_type=safe_passage&region=Harbor")) == [
        "Nothing",
        "Only inactive",
        "Other type",
    ]
    assert names(client, headers, "lacks_program_type=mentoring&region=North") == ["Listed"]
    assert {by_region.name, in_polygon.name}.isdisjoint(names(client, headers, "lacks_program_type=safe_passage"))
    assert (
        "lacks_program_type"
        in assert_problem(client.get(f"{URL}?lacks_program_type=juggling", headers=headers), 422)["errors"]["query"]
    )


# --- geography ------------------------------------------------------------------------------------


def test_a_school_2_km_away_is_inside_3_km_and_outside_1_km(client, network, db_session):
    school = make_school(db_session, name="Two km north", latitude=north_of(LAT, 2000), longitude=LON)
    make_school(db_session, name="Far away", latitude=north_of(LAT, 20000), longitude=LON)
    make_school(db_session, name="Unlocated")
    # 1.27 km away but inside the 1 km bounding box the query prefilters with
    make_school(
        db_session,
        name="Box corner",
        latitude=north_of(LAT, 900),
        longitude=LON + math.degrees(900 / (EARTH_RADIUS_M * math.cos(math.radians(LAT)))),
    )
    headers = network["cbo_caseworker"].headers
    inside = client.get(f"{URL}?near_lat={LAT}&near_lon={LON}&radius_m=3000", headers=headers).json["items"]
    assert [i["name"] for i in inside] == ["Box corner", "Two km north"]
    inside = inside[1:]
    assert inside[0]["distance_m"] == pytest.approx(2000, abs=1)
    assert inside[0]["distance_m"] == pytest.approx(haversine_m(LAT, LON, school.latitude, school.longitude), rel=1e-9)
    assert names(client, headers, f"near_lat={LAT}&near_lon={LON}&radius_m=1000") == []


def test_near_sorts_by_distance_and_near_school_leaves_itself_out(client, network, db_session):
    origin = make_school(db_session, name="Origin", latitude=LAT, longitude=LON, region="East")
    for km in (5, 1, 3):
        make_school(db_session, name=f"{km} km", latitude=north_of(LAT, km * 1000), longitude=LON, region="East")
    make_school(db_session, name="4 km west region", latitude=north_of(LAT, 4000), longitude=LON, region="West")
    headers = network["district_viewer"].headers
    assert names(client, headers, f"near_school={origin.id}&radius_m=10000") == ["1 km", "3 km", "4 km west region", "5 km"]
    assert names(client, headers, f"near_school={origin.id}&radius_m=10000&region=East") == ["1 km", "3 km", "5 km"]
    assert names(client, headers, f"near_lat={LAT}&near_lon={LON}&radius_m=3500") == ["Origin", "1 km", "3 km"]
    assert names(client, headers, f"near_school={origin.id}") == ["1 km", "3 km", "4 km west region", "5 km"]  # default radius


def test_near_pages_are_stable_over_distance_and_id(client, network, db_session):
    for n in range(7):
        # three at each point: ties in distance, broken by id, straddle the pages
        make_school(db_session, name=f"S{n}", latitude=north_of(LAT, 500 * (n // 3)), longitude=LON)
    headers = network["district_viewer"].headers
    seen, cursor, pages = [], None, 0
    while True:
        query = f"near_lat={LAT}&near_lon={LON}&radius_m=5000&limit=2" + (f"&cursor={cursor}" if cursor else "")
        response = client.get(f"{URL}?{query}", headers=headers)
        assert response.status_code == 200
        seen += [(item["distance_m"], item["id"]) for item in response.json["items"]]
        cursor, pages = response.json["next_cursor"], pages + 1
        assert ("Link" in response.headers) == (cursor is not None)
        if cursor is None:
            break
    assert pages == 4 and len(seen) == 7 and len({i for _, i in seen}) == 7
    assert seen == sorted(seen)
    everything = client.get(f"{URL}?near_lat={LAT}&near_lon={LON}&radius_m=5000", headers=headers).json["items"]
    assert [(i["distance_m"], i["id"]) for i in everything] == seen
    assert_problem(client.get(f"{URL}?near_lat={LAT}&near_lon={LON}&cursor=bm9wZQ", headers=headers), 400)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("near_lat=34&near_lon=-118&radius_m=50001", "radius_m"),
        ("near_lat=34&radius_m=100", "near_lon"),
        ("near_lon=-118", "near_lat"),
        ("radius_m=100", "radius_m"),
        ("near_lat=91&near_lon=-118", "near_lat"),
        ("near_lat=34&near_lon=-181", "near_lon"),
        ("near_lat=34&near_lon=-118&radius_m=0", "radius_m"),
        (f"near_school={uuid.uuid4()}", "near_school"),
        (f"near_school={uuid.uuid4()}&near_lat=34&near_lon=-118", "near_school"),
    ],
)
def test_bad_proximity_searches_are_422_naming_the_field(client, network, query, field):
    response = client.get(f"{URL}?{query}", headers=network["district_viewer"].headers)
    assert field in assert_problem(response, 422)["errors"]["query"]
    geojson = client.get(f"{URL}.geojson?{query}", headers=network["district_viewer"].headers)
    assert field in assert_problem(geojson, 422)["errors"]["query"]


def test_the_radius_is_at_most_the_documented_maximum(client, network):
    response = client.get(f"{URL}?near_lat=34&near_lon=-118&radius_m=50001", headers=network["district_viewer"].headers)
    assert "radius_m" in assert_problem(response, 422)["errors"]["query"]
    assert (
        client.get(f"{URL}?near_lat=34&near_lon=-118&radius_m=50000", headers=network["district_viewer"].headers).status_code
        == 200
    )


def test_a_school_without_coordinates_cannot_be_the_center(client, network, db_session):
    school = make_school(db_session)
    response = client.get(f"{URL}?near_school={school.id}", headers=network["district_viewer"].headers)
    assert "near_school" in assert_problem(response, 422)["errors"]["query"]


# --- GeoJSON --------------------------------------------------------------------------------------


def test_geojson_is_a_feature_collection_of_located_schools(client, network, db_session, app):
    located = make_school(
        db_session,
        name="Located",
        region="East",
        board_district=2,
        is_bsap=True,
        grade_low=GRADES["TK"],
        grade_high=GRADES["5"],
        latitude=LAT,
        longitude=LON,
    )
    make_school(db_session, name="Other region", region="West", latitude=north_of(LAT, -100), longitude=LON)
    make_school(db_session, name="Unlocated", region="East")
    response = client.get(f"{URL}.geojson?region=East", headers=network["cbo_caseworker"].headers)
    assert response.status_code == 200 and response.mimetype == "application/geo+json"
    body = response.get_json(force=True)
    assert body["type"] == "FeatureCollection" and body["truncated"] is False
    assert body["features"] == [
        {
            "type": "Feature",
            "id": str(located.id),
            "geometry": {"type": "Point", "coordinates": [LON, LAT]},
            "properties": {
                "id": str(located.id),
                "cds_code": located.cds_code,
                "name": "Located",
                "region": "East",
                "board_district": 2,
                "is_bsap": True,
                "status": "active",
                "grade_low": "TK",
                "grade_high": "5",
            },
        }
    ]
    near = client.get(
        f"{URL}.geojson?near_lat={north_of(LAT, 2000)}&near_lon={LON}&radius_m=3000", headers=network["cbo_caseworker"].headers
    ).get_json(force=True)
    assert [f["properties"]["name"] for f in near["features"]] == ["Located", "Other region"]
    assert near["features"][0]["properties"]["distance_m"] == pytest.approx(2000, abs=1)
    spec = client.get("/api/openapi.json").json
    assert list(spec["paths"][f"{URL}.geojson"]["get"]["responses"]["200"]["content"]) == ["application/geo+json"]


# --- query count ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query", ["", "&region=East&lacks_program_type=safe_passage", f"&near_lat={LAT}&near_lon={LON}&radius_m=50000"]
)
def test_the_list_issues_a_constant_number_of_queries(app, client, network, db_session, query):
    for n in range(12):
        make_school(db_session, name=f"Counted {n}", region="East", latitude=north_of(LAT, 100 * n), longitude=LON)
    make_program(db_session, network.cbo, regions=["West"])
    counts = []
    for limit in (2, 50):
        count, response = counted_get(app, client, f"{URL}?limit={limit}{query}", network["district_viewer"].headers)
        assert response.status_code == 200 and len(response.json["items"]) == min(limit, 12)
        counts.append(count)
    assert counts[0] == counts[1] <= 6


# --- CSV bulk load --------------------------------------------------------------------------------

HEADER = "cds_code,name,grade_low,grade_high,region,board_district,address_1,city,state,postal_code,latitude,longitude,is_bsap,status\n"
GOOD_ROWS = (
    "19647330000101,Aurora Elementary,TK,5,East,2,1 Main St,Los Angeles,CA,90001,34.05,-118.25,true,active\n"
    "19647330000102,Boyle Heights Middle,6,8,East,2,,Los Angeles,CA,,,,no,\n"
)


def _run(app, path, *extra):
    return app.test_cli_runner().invoke(args=["cbs", "import", "schools", str(path), *extra])


def _csv(tmp_path, body: str):
    path = tmp_path / "schools.csv"
    path.write_text(HEADER + body)
    return path


def _audit_count(db_session) -> int:
    return db_session.scalar(select(func.count()).select_from(AuditRecord))


def test_csv_load_creates_and_updates_with_audit(app, db_session, network, tmp_path):
    existing = make_school(db_session, cds_code="19647330000102", name="Old name", is_bsap=True, region="West")
    result = _run(app, _csv(tmp_path, GOOD_ROWS))
    assert result.exit_code == 0, result.output
    assert "imported: 1 created, 1 updated, 0 unchanged, 0 probable duplicates not created." in result.stdout
    db_session.expire_all()
    aurora = db_session.scalars(select(School).where(School.cds_code == "19647330000101")).one()
    assert (aurora.grade_low, aurora.grade_high, aurora.is_bsap, aurora.latitude) == (-1, 5, True, 34.05)
    updated = db_session.get(School, existing.id)
    assert (updated.name, updated.region, updated.is_bsap, updated.version) == ("Boyle Heights Middle", "East", False, 2)
    actions = db_session.scalars(select(AuditRecord.action).where(AuditRecord.object_type == "school")).all()
    assert sorted(actions) == ["school.created", "school.updated"]
    again = _run(app, _csv(tmp_path, GOOD_ROWS))
    assert "imported: 0 created, 0 updated, 2 unchanged, 0 probable duplicates not created." in again.stdout


def test_csv_empty_is_bsap_and_status_keep_the_current_values(app, db_session, network, tmp_path):
    existing = make_school(db_session, cds_code="19647330000101", name="Aurora Elementary", is_bsap=True, status="pending")
    row = "19647330000101,Aurora Elementary,,,,,,,,,,,,\n"
    assert _run(app, _csv(tmp_path, row)).exit_code == 0
    db_session.expire_all()
    assert (db_session.get(School, existing.id).is_bsap, db_session.get(School, existing.id).status) == (True, "pending")


def test_csv_dry_run_writes_nothing(app, db_session, network, tmp_path):
    make_school(db_session, cds_code="19647330000102", name="Old name")
    schools, audits = school_count(db_session), _audit_count(db_session)
    result = _run(app, _csv(tmp_path, GOOD_ROWS), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "line 2: create 19647330000101 Aurora Elementary" in result.stdout
    assert "line 3: update 19647330000102 (board_district, city, grade_high, grade_low, name, region, state)" in result.stdout
    assert "dry run: 1 to create, 1 to update, 0 unchanged, 0 probable duplicates; nothing was written." in result.stdout
    db_session.expire_all()
    assert school_count(db_session) == schools and _audit_count(db_session) == audits
    assert db_session.scalars(select(School.name).where(School.cds_code == "19647330000102")).one() == "Old name"


def test_csv_one_bad_row_writes_nothing_and_every_error_is_reported(app, db_session, network, tmp_path):
    bad = (
        GOOD_ROWS
        + "1964733000010X,Bad Code,K,5,East,2,,,,,,,,\n"
        + "19647330000104,Upside Down,8,6,East,9,,,,,91,-118.2,maybe,\n"
        + "19647330000101,Repeated,K,5,East,2,,,,,,,,\n"
    )
    schools, audits = school_count(db_session), _audit_count(db_session)
    result = _run(app, _csv(tmp_path, bad))
    assert result.exit_code == 1
    for expected in (
        "line 4: cds_code",
        "line 5: grade_low",
        "line 5: board_district",
        "line 5: latitude",
        "line 5: is_bsap",
        "line 6: cds_code: Duplicate of line 2",
    ):
        assert expected in result.stderr, result.stderr
    assert "nothing was written" in result.stderr
    db_session.expire_all()
    assert school_count(db_session) == schools and _audit_count(db_session) == audits


def test_csv_columns_must_match(app, db_session, network, tmp_path):
    path = tmp_path / "schools.csv"
    path.write_text("cds_code,name,colour\n19647330000101,Aurora,red\n")
    result = _run(app, path)
    assert result.exit_code == 1
    assert "line 1: grade_low: Missing column." in result.stderr and "line 1: colour: Unknown column." in result.stderr
    assert "district_id" not in result.stderr  # an optional column
    assert school_count(db_session) == 0


def test_csv_district_id_column_is_optional_and_checked(app, db_session, network, tmp_path):
    header = HEADER.rstrip("\n") + ",district_id\n"
    existing = make_school(db_session, cds_code="19647330000102", name="Boyle Heights Middle", district_id=network.district.id)
    path = tmp_path / "districts.csv"
    path.write_text(
        header + f"19647330000101,Aurora Elementary,TK,5,East,2,,,,,,,,,{network.district.id}\n"
        "19647330000102,Boyle Heights Middle,,,,,,,,,,,,,\n"
    )  # empty: keeps its district
    result = _run(app, path)
    assert result.exit_code == 0, result.output
    assert "imported: 1 created, 0 updated, 1 unchanged, 0 probable duplicates not created." in result.stdout
    db_session.expire_all()
    assert db_session.scalars(select(School.district_id).where(School.cds_code == "19647330000101")).one() == network.district.id
    assert db_session.get(School, existing.id).district_id == network.district.id

    schools, audits = school_count(db_session), _audit_count(db_session)
    path.write_text(
        header + f"19647330000103,Not A District,K,5,,,,,,,,,,,{network.cbo.id}\n"
        f"19647330000104,Nowhere,K,5,,,,,,,,,,,{uuid.uuid4()}\n"
        "19647330000105,Garbled,K,5,,,,,,,,,,,district-9\n"
    )
    bad = _run(app, path)
    assert bad.exit_code == 1
    for line in (2, 3, 4):
        assert f"line {line}: district_id" in bad.stderr, bad.stderr
    db_session.expire_all()
    assert school_count(db_session) == schools and _audit_count(db_session) == audits


def test_csv_district_id_must_sit_above_the_schools_organization(app, db_session, network, tmp_path):
    other = OrganizationFactory(kind=OrganizationKind.school_district, name="Other district")
    organization = OrganizationFactory(kind=OrganizationKind.school, name="Under the first", parent_id=network.district.id)
    make_school(
        db_session,
        cds_code="19647330000102",
        name="Boyle Heights Middle",
        organization_id=organization.id,
        district_id=network.district.id,
    )
    path = tmp_path / "moved.csv"
    path.write_text(HEADER.rstrip("\n") + f",district_id\n19647330000102,Boyle Heights Middle,,,,,,,,,,,,,{other.id}\n")
    result = _run(app, path)
    assert result.exit_code == 1 and "line 2: district_id: The school's organization does not sit under" in result.stderr


def test_csv_a_school_listed_under_another_cds_code_is_a_probable_duplicate(app, db_session, network, tmp_path):
    """The same name (normalized) at the same address as a listed school, or as an earlier row, under a
    new CDS code is reported and not created, as the organization and program imports do."""
    make_school(
        db_session, cds_code="19647330000199", name="The Aurora Elementary", address_1="1 Main Street", postal_code="90001"
    )
    rows = (
        "19647330000101,Aurora Elementary,TK,5,East,2,1 Main St,Los Angeles,CA,90001,34.05,-118.25,true,active\n"
        "19647330000103,Crestview High,9,12,East,2,9 Hill Ave,Los Angeles,CA,90002,,,false,active\n"
        "19647330000104,CRESTVIEW HIGH,9,12,East,2,9 Hill Avenue,Los Angeles,CA,90002,,,false,active\n"
        "19647330000105,Aurora Elementary,TK,5,East,2,77 Other Rd,Los Angeles,CA,90003,,,false,active\n"
    )
    schools = school_count(db_session)

    dry = _run(app, _csv(tmp_path, rows), "--dry-run")
    result = _run(app, _csv(tmp_path, rows))

    for output in (dry.stdout, result.stdout):
        assert "line 2: probable duplicate 19647330000101 Aurora Elementary (same name and address as 19647330000199 " in output
        assert "line 4: probable duplicate 19647330000104 CRESTVIEW HIGH (same name and address as line 3); not created" in output
    assert "dry run: 2 to create, 0 to update, 0 unchanged, 2 probable duplicates; nothing was written." in dry.stdout
    assert "imported: 2 created, 0 updated, 0 unchanged, 2 probable duplicates not created." in result.stdout
    db_session.expire_all()
    assert school_count(db_session) == schools + 2  # Crestview once, and the Aurora at another address
    assert set(db_session.scalars(select(School.cds_code).where(School.cds_code.like("1964733000010%")))) == {
        "19647330000103",
        "19647330000105",
    }
