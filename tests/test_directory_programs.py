from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from cbs_network.audit.models import AuditRecord
from cbs_network.core.db import utcnow
from cbs_network.directory.geo import haversine_m
from cbs_network.directory.models import (
    Location,
    LocationType,
    Program,
    ProgramLanguage,
    ProgramLocation,
    ProgramRegion,
    ProgramSchedule,
    ProgramSchool,
    School,
)
from cbs_network.events.models import Event
from cbs_network.identity.roles import Role

from .helpers import CITY_HALL, SQUARE, assert_problem, counted_get, if_match, north_of

URL = "/api/v1/programs"


def add(db_session, *objects):
    db_session.add_all(objects)
    db_session.commit()
    return objects[0]


def make_school(db_session, name="Test Elementary", region="South", point=CITY_HALL) -> School:
    return add(
        db_session,
        School(
            id=uuid.uuid4(),
            cds_code=uuid.uuid4().hex[:14],
            name=name,
            region=region,
            latitude=point[0] if point else None,
            longitude=point[1] if point else None,
        ),
    )


def make_location(db_session, organization, point, *, confidential=False, kind=LocationType.physical) -> Location:
    return add(
        db_session,
        Location(
            id=uuid.uuid4(),
            organization_id=organization.id,
            name="Site",
            location_type=kind,
            address_1="100 Main St",
            city="Los Angeles",
            state="CA",
            latitude=point[0],
            longitude=point[1],
            is_confidential=confidential,
            front_door_contact="Call 213-555-0100" if confidential else None,
        ),
    )


def make_program(
    db_session, organization, name="Program", *, languages=(), schools=(), regions=(), locations=(), schedules=0, **fields
) -> Program:
    fields.setdefault("program_type", "mentoring")
    fields.setdefault("status", "active")
    program = Program(id=uuid.uuid4(), organization_id=organization.id, name=name, **fields)
    program.languages = [ProgramLanguage(code=c) for c in languages]
    program.served_schools = [ProgramSchool(school_id=s.id) for s in schools]
    program.served_regions = [ProgramRegion(region=r) for r in regions]
    program.program_locations = [ProgramLocation(location_id=loc.id) for loc in locations]
    program.schedules = [ProgramSchedule(position=n, byday=["MO"], opens_at="15:00") for n in range(schedules)]
    return add(db_session, program)


def names(client, actor, query: str = "") -> list[str]:
    response = client.get(f"{URL}?limit=200&{query}", headers=actor.headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return sorted(item["name"] for item in response.json["items"])


def count(db_session, model) -> int:
    db_session.expire_all()
    return db_session.scalar(select(func.count()).select_from(model))


# --- create, read, update, delete -------------------------------------------------------------


def test_create_read_update_and_audit(client, network, db_session):
    school = make_school(db_session)
    site = make_location(db_session, network.cbo, CITY_HALL)
    admin = network["cbo_admin"]
    body = {
        "name": "Safe Passages: Watts",
        "program_type": "safe_passage",
        "status": "active",
        "minimum_age": 10,
        "maximum_age": 18,
        "minimum_grade": "K",
        "maximum_grade": "8",
        "languages": ["eng", "es"],
        "external_codes": [{"scheme": "airs", "code": "FN-1500"}],
        "schedules": [{"byday": ["MO", "FR"], "minutes_before_arrival": 60, "minutes_after_dismissal": 90}],
        "funding_sources": ["City of Los Angeles GRYD"],
        "contacts": [{"name": "Ana Example", "phone": "213-555-0101"}],
        "accepts_referrals": True,
        "served_school_ids": [str(school.id)],
        "served_regions": ["South"],
        "service_area_geojson": SQUARE,
        "location_ids": [str(site.id)],
        "application_process": "Call the site lead",
    }
    response = client.post(URL, json=body, headers=admin.headers)
    assert response.status_code == 201, response.json
    created = response.json
    assert response.headers["Location"].endswith(f"{URL}/{created['id']}")
    assert created["organization_id"] == str(network.cbo.id)
    assert created["languages"] == ["en", "es"]  # 639-3 "eng" is stored as its 639-1 code
    assert (created["minimum_grade"], created["maximum_grade"]) == ("K", "8")
    assert created["served_school_ids"] == [str(school.id)] and created["location_ids"] == [str(site.id)]
    assert created["schedules"][0]["minutes_after_dismissal"] == 90
    assert created["stale"] is True and created["verification_due_at"] is None
    assert db_session.get(Program, uuid.UUID(created["id"])).minimum_grade == 0

    fetched = client.get(response.headers["Location"], headers=network["district_viewer"].headers)
    assert fetched.status_code == 200 and fetched.json == created and fetched.headers["ETag"] == '"1"'

    patched = client.patch(
        f"{URL}/{created['id']}", json={"languages": ["ko"], "served_regions": []}, headers=if_match(admin.headers, 1)
    )
    assert patched.status_code == 200, patched.json
    assert patched.json["languages"] == ["ko"] and patched.json["served_regions"] == [] and patched.json["version"] == 2
    assert patched.json["served_school_ids"] == [str(school.id)]  # lists not in the body stay
    stale = client.patch(f"{URL}/{created['id']}", json={"name": "X"}, headers=if_match(admin.headers, 1))
    assert_problem(stale, 412)

    actions = db_session.scalars(
        select(AuditRecord.action).where(AuditRecord.object_id == created["id"]).order_by(AuditRecord.created_at, AuditRecord.id)
    ).all()
    assert actions == ["program.created", "program.updated"]
    types = db_session.scalars(select(Event.type).where(Event.object_id == created["id"])).all()
    assert sorted(types) == ["program.created", "program.updated"]


def test_organization_defaults_to_the_caller_and_only_network_admins_name_another(client, network, db_session):
    body = {"name": "Mentors", "program_type": "mentoring"}
    denied = client.post(URL, json={**body, "organization_id": str(network.city.id)}, headers=network["cbo_admin"].headers)
    assert_problem(denied, 403)
    assert count(db_session, Program) == 0
    done = client.post(URL, json={**body, "organization_id": str(network.city.id)}, headers=network["network_admin"].headers)
    assert done.status_code == 201 and done.json["organization_id"] == str(network.city.id)
    assert done.json["status"] == "draft"


def test_only_drafts_are_deleted(client, network, db_session):
    admin = network["cbo_admin"]
    draft = make_program(db_session, network.cbo, "Draft", status="draft", languages=["en"], schedules=1)
    active = make_program(db_session, network.cbo, "Active")
    conflict = client.delete(f"{URL}/{active.id}", headers=if_match(admin.headers, active.version))
    assert_problem(conflict, 409)
    assert client.delete(f"{URL}/{draft.id}", headers=if_match(admin.headers, 2)).status_code == 412
    assert client.delete(f"{URL}/{draft.id}", headers=if_match(admin.headers, draft.version)).status_code == 204
    assert [p.name for p in db_session.scalars(select(Program))] == ["Active"]
    assert count(db_session, ProgramLanguage) == 0 and count(db_session, ProgramSchedule) == 0


def test_other_organizations_read_but_do_not_edit(client, network, db_session):
    program = make_program(db_session, network.cbo, "Mentors")
    draft = make_program(db_session, network.cbo, "Unpublished", status="draft")
    outsider = network["district_coordinator"]
    assert client.get(f"{URL}/{program.id}", headers=outsider.headers).status_code == 200
    for method, path in (("PATCH", f"{URL}/{program.id}"), ("POST", f"{URL}/{program.id}/verification")):
        response = client.open(
            path,
            method=method,
            json={"name": "Taken"} if method == "PATCH" else None,
            headers=if_match(outsider.headers, program.version),
        )
        assert_problem(response, 403)
    # A draft is the owner's work in progress: invisible to others (404), listed for the owner.
    assert_problem(client.get(f"{URL}/{draft.id}", headers=outsider.headers), 404)
    assert names(client, outsider) == ["Mentors"]
    assert names(client, network["cbo_caseworker"]) == ["Mentors", "Unpublished"]
    assert names(client, network["network_admin"]) == ["Mentors", "Unpublished"]
    db_session.expire_all()
    assert db_session.get(Program, program.id).name == "Mentors" and db_session.get(Program, program.id).assured_at is None


# --- bad input: 422 naming the field, nothing written -------------------------------------------


BAD_BODIES = [
    ({"program_type": "karate"}, ("program_type",)),
    ({"languages": ["en", "xx"]}, ("languages", "1")),
    ({"minimum_age": 18, "maximum_age": 10}, ("minimum_age",)),
    ({"minimum_age": 121}, ("minimum_age",)),
    ({"minimum_grade": "5", "maximum_grade": "K"}, ("minimum_grade",)),
    ({"minimum_grade": "13"}, ("minimum_grade",)),
    (
        {"service_area_geojson": {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}},
        ("service_area_geojson",),
    ),
    ({"service_area_geojson": {"type": "Point", "coordinates": [0, 0]}}, ("service_area_geojson",)),
    ({"served_school_ids": ["SCHOOL", str(uuid.uuid4())]}, ("served_school_ids", "1")),
    ({"location_ids": ["OTHER_ORG_LOCATION"]}, ("location_ids", "0")),
    ({"external_codes": [{"scheme": "211 Term Label", "code": "X"}]}, ("external_codes", "0", "scheme")),
    ({"schedules": [{"byday": ["XX"], "opens_at": "25:00"}]}, ("schedules", "0")),
]


@pytest.mark.parametrize(("change", "path"), BAD_BODIES, ids=lambda v: str(v)[:40])
def test_bad_input_is_422_naming_the_field_and_writes_nothing(client, network, db_session, change, path):
    school = make_school(db_session)
    elsewhere = make_location(db_session, network.city, CITY_HALL)
    replace = {"SCHOOL": str(school.id), "OTHER_ORG_LOCATION": str(elsewhere.id)}
    change = {
        k: [replace.get(v, v) if isinstance(v, str) else v for v in value] if isinstance(value, list) else value
        for k, value in change.items()
    }
    audit_before = count(db_session, AuditRecord)
    response = client.post(URL, json={"name": "Bad", "program_type": "mentoring", **change}, headers=network["cbo_admin"].headers)
    errors = assert_problem(response, 422)["errors"]["json"]
    for key in path:
        errors = errors[key]
    assert errors
    assert count(db_session, Program) == 0 and count(db_session, AuditRecord) == audit_before

    program = make_program(db_session, network.cbo, "Existing")
    patched = client.patch(f"{URL}/{program.id}", json=change, headers=if_match(network["cbo_admin"].headers, program.version))
    assert_problem(patched, 422)
    db_session.expire_all()
    assert db_session.get(Program, program.id).version == program.version


def test_patch_checks_ages_against_the_stored_ones(client, network, db_session):
    program = make_program(db_session, network.cbo, "Teens", minimum_age=13, maximum_age=18)
    response = client.patch(
        f"{URL}/{program.id}", json={"maximum_age": 12}, headers=if_match(network["cbo_admin"].headers, program.version)
    )
    assert "minimum_age" in assert_problem(response, 422)["errors"]["json"]


def test_bad_query_arguments(client, network, db_session):
    headers = network["district_viewer"].headers
    for query, field, location in (
        ("near_lat=34&near_lon=-118&radius_m=50001", "radius_m", "query"),
        ("program_type=karate", "program_type", "query"),
        ("language=xx", "language", "query"),
        ("near_lat=34&radius_m=10", "near_lon", "query"),
        ("near_lat=34&near_lon=-118", "radius_m", "query"),
        (f"school_id={uuid.uuid4()}", "school_id", "query"),
        (f"near_school={uuid.uuid4()}&radius_m=100", "near_school", "query"),
        ("grade=14", "grade", "query"),
    ):
        body = assert_problem(client.get(f"{URL}?{query}", headers=headers), 422)
        assert field in body["errors"][location], (query, body)


# --- verification ----------------------------------------------------------------------------


def test_verification_due_stale_overdue_and_reverify(client, network, db_session):
    now = utcnow()
    make_program(db_session, network.cbo, "Never verified")
    old = make_program(db_session, network.cbo, "Verified long ago", assured_at=now - timedelta(days=181))
    make_program(db_session, network.cbo, "Verified recently", assured_at=now - timedelta(days=10))
    viewer = network["district_viewer"]
    items = {i["name"]: i for i in client.get(URL, headers=viewer.headers).json["items"]}
    assert items["Never verified"]["stale"] is True and items["Never verified"]["verification_due_at"] is None
    assert items["Verified long ago"]["stale"] is True
    assert items["Verified recently"]["stale"] is False
    due = items["Verified recently"]["verification_due_at"]
    assert due.startswith((now + timedelta(days=170)).date().isoformat())
    assert names(client, viewer, "verification_overdue=true") == ["Never verified", "Verified long ago"]
    assert names(client, viewer, "verification_overdue=false") == ["Verified recently"]

    coordinator = network.actor(db_session, network.cbo, Role.coordinator)
    response = client.post(f"{URL}/{old.id}/verification", headers=coordinator.headers)
    assert response.status_code == 200, response.json
    assert response.json["stale"] is False and response.json["version"] == old.version + 1
    assert response.json["assured_by_user_id"] == str(coordinator.user.id)
    assert names(client, viewer, "verification_overdue=true") == ["Never verified"]
    assert db_session.scalar(select(AuditRecord.action).where(AuditRecord.object_id == str(old.id))) == "program.verified"
    assert db_session.scalar(select(Event.type).where(Event.object_id == str(old.id))) == "program.verified"


def test_verification_interval_is_set_by_the_network(client, network, db_session):
    make_program(db_session, network.cbo, "Thirty days", assured_at=utcnow() - timedelta(days=30))
    assert names(client, network["cbo_admin"], "verification_overdue=true") == []
    settings = client.get("/api/v1/directory/settings", headers=network["cbo_caseworker"].headers)
    assert settings.status_code == 200 and settings.json["verification_interval_days"] == 180
    etag = settings.headers["ETag"]

    body = {"verification_interval_days": 20}
    assert_problem(
        client.patch("/api/v1/directory/settings", json=body, headers={**network["cbo_admin"].headers, "If-Match": etag}), 403
    )
    assert_problem(
        client.patch(
            "/api/v1/directory/settings",
            json={"verification_interval_days": 2},
            headers={**network["network_admin"].headers, "If-Match": etag},
        ),
        422,
    )
    changed = client.patch(
        "/api/v1/directory/settings", json=body, headers={**network["network_admin"].headers, "If-Match": etag}
    )
    assert changed.status_code == 200 and changed.json["verification_interval_days"] == 20
    assert names(client, network["cbo_admin"], "verification_overdue=true") == ["Thirty days"]
    assert_problem(
        client.patch(
            "/api/v1/directory/settings",
            json={"verification_interval_days": 30},
            headers={**network["network_admin"].headers, "If-Match": etag},
        ),
        412,
    )
    audit = db_session.scalar(select(AuditRecord).where(AuditRecord.action == "directory_settings.updated"))
    assert audit.changes == {"verification_interval_days": {"before": 180, "after": 20}}


# --- search filters ----------------------------------------------------------------------------


@pytest.fixture
def catalog(db_session, network):
    south = make_school(db_session, "South High", region="South", point=(34.01, -118.25))
    east = make_school(db_session, "East Middle", region="East", point=(34.05, -118.18))
    far = make_school(db_session, "Valley Elementary", region="North", point=(34.25, -118.45))
    make_program(
        db_session,
        network.cbo,
        "Safe Walk",
        program_type="safe_passage",
        languages=["en", "es"],
        minimum_age=11,
        maximum_age=14,
        minimum_grade=6,
        maximum_grade=8,
        accepts_referrals=True,
        schools=[east],
        description="Adults on the corners before and after school",
    )
    make_program(
        db_session,
        network.cbo,
        "Peace Circle",
        program_type="restorative_justice",
        languages=["en"],
        minimum_age=14,
        regions=["South"],
        status="temporarily_closed",
    )
    make_program(
        db_session,
        network.city,
        "Summer Night Lights",
        program_type="after_school",
        languages=["es", "ko"],
        maximum_age=24,
        accepts_referrals=True,
        service_area_geojson=SQUARE,
        description="Parks open late 100%",
    )
    make_program(db_session, network.city, "Therapy Now", program_type="mental_health", minimum_grade=-1, maximum_grade=0)
    return {"south": south, "east": east, "far": far}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["Peace Circle", "Safe Walk", "Summer Night Lights", "Therapy Now"]),
        ("program_type=safe_passage", ["Safe Walk"]),
        ("program_type=safe_passage&program_type=mental_health", ["Safe Walk", "Therapy Now"]),
        ("status=temporarily_closed", ["Peace Circle"]),
        ("status=active&status=temporarily_closed&program_type=restorative_justice", ["Peace Circle"]),
        ("organization_id=CITY", ["Summer Night Lights", "Therapy Now"]),
        ("region=South", ["Peace Circle"]),
        ("language=es", ["Safe Walk", "Summer Night Lights"]),
        ("language=spa", ["Safe Walk", "Summer Night Lights"]),
        ("language=es&organization_id=CBO", ["Safe Walk"]),
        ("age=12", ["Safe Walk", "Summer Night Lights", "Therapy Now"]),
        ("age=30", ["Peace Circle", "Therapy Now"]),
        ("age=14&language=en", ["Peace Circle", "Safe Walk"]),
        ("grade=7", ["Peace Circle", "Safe Walk", "Summer Night Lights"]),
        ("grade=TK", ["Peace Circle", "Summer Night Lights", "Therapy Now"]),
        ("accepts_referrals=true", ["Safe Walk", "Summer Night Lights"]),
        ("accepts_referrals=false", ["Peace Circle", "Therapy Now"]),
        ("q=CORNERS", ["Safe Walk"]),
        ("q=peace", ["Peace Circle"]),
        ("q=100%25", ["Summer Night Lights"]),
        ("q=_", []),
        ("school_id=SOUTH", ["Peace Circle", "Summer Night Lights"]),  # by region; inside the polygon
        ("school_id=EAST", ["Safe Walk"]),  # listed; outside the polygon
        ("school_id=FAR", []),
        ("school_id=SOUTH&accepts_referrals=true", ["Summer Night Lights"]),
        ("school_id=EAST&program_type=mental_health", []),
    ],
)
def test_search_filters(client, network, catalog, query, expected):
    for name, ident in (
        ("CITY", network.city.id),
        ("CBO", network.cbo.id),
        ("SOUTH", catalog["south"].id),
        ("EAST", catalog["east"].id),
        ("FAR", catalog["far"].id),
    ):
        query = query.replace(name, str(ident))
    assert names(client, network["district_viewer"], query) == expected


def test_updated_since_and_keyset_pages(client, network, db_session):
    for n in range(5):
        make_program(db_session, network.cbo, f"P{n}")
    headers = network["district_viewer"].headers
    seen, cursor = [], None
    while True:
        response = client.get(f"{URL}?limit=2" + (f"&cursor={cursor}" if cursor else ""), headers=headers)
        seen += [i["name"] for i in response.json["items"]]
        cursor = response.json["next_cursor"]
        if not cursor:
            break
        assert 'rel="next"' in response.headers["Link"]
    assert sorted(seen) == [f"P{n}" for n in range(5)]
    late = utcnow()
    program = db_session.scalar(select(Program).where(Program.name == "P3"))
    client.patch(
        f"{URL}/{program.id}", json={"description": "changed"}, headers=if_match(network["cbo_admin"].headers, program.version)
    )
    assert names(client, network["district_viewer"], f"updated_since={late.isoformat().replace('+00:00', 'Z')}") == ["P3"]


# --- geography ---------------------------------------------------------------------------------


def test_near_a_point_and_a_school(client, network, db_session):
    two_km = make_location(db_session, network.cbo, north_of(CITY_HALL, 2000))
    half_km = make_location(db_session, network.city, north_of(CITY_HALL, 500))
    also_far = make_location(db_session, network.cbo, north_of(CITY_HALL, 2500))
    virtual = make_location(db_session, network.cbo, CITY_HALL, kind=LocationType.virtual)
    make_program(db_session, network.cbo, "Two km", locations=[two_km, also_far])
    make_program(db_session, network.city, "Half km", locations=[half_km], program_type="after_school")
    make_program(db_session, network.cbo, "Online", locations=[virtual])
    school = make_school(db_session, point=CITY_HALL)
    viewer = network["district_viewer"]
    lat, lon = CITY_HALL
    assert abs(haversine_m(lat, lon, *north_of(CITY_HALL, 2000)) - 2000) < 1

    inside = client.get(f"{URL}?near_lat={lat}&near_lon={lon}&radius_m=3000", headers=viewer.headers).json["items"]
    assert [i["name"] for i in inside] == ["Half km", "Two km"]  # nearest first
    assert abs(inside[1]["distance_m"] - 2000) < 5 and abs(inside[0]["distance_m"] - 500) < 5
    outside = client.get(f"{URL}?near_lat={lat}&near_lon={lon}&radius_m=1000", headers=viewer.headers).json["items"]
    assert [i["name"] for i in outside] == ["Half km"]
    by_school = client.get(f"{URL}?near_school={school.id}&radius_m=3000&program_type=mentoring", headers=viewer.headers).json[
        "items"
    ]
    assert [i["name"] for i in by_school] == ["Two km"]
    assert "distance_m" not in client.get(URL, headers=viewer.headers).json["items"][0]

    first = client.get(
        f"{URL}?near_lat={lat}&near_lon={lon}&radius_m=3000&limit=1&program_type=mentoring&program_type=after_school",
        headers=viewer.headers,
    )
    assert [i["name"] for i in first.json["items"]] == ["Half km"]
    assert "program_type=mentoring&program_type=after_school" in first.headers["Link"]
    second = client.get(
        f"{URL}?near_lat={lat}&near_lon={lon}&radius_m=3000&limit=1&cursor={first.json['next_cursor']}", headers=viewer.headers
    )
    assert [i["name"] for i in second.json["items"]] == ["Two km"] and second.json["next_cursor"] is None
    wrong = client.get(f"{URL}?limit=1&cursor={first.json['next_cursor']}", headers=viewer.headers)
    assert_problem(wrong, 400)


def test_a_confidential_location_never_matches_nor_leaks_for_others(client, network, db_session):
    shelter_point = north_of(CITY_HALL, 800)
    shelter = make_location(db_session, network.cbo, shelter_point, confidential=True)
    office = make_location(db_session, network.cbo, north_of(CITY_HALL, 2000))
    make_program(db_session, network.cbo, "Shelter", locations=[shelter])
    make_program(db_session, network.cbo, "Shelter and office", locations=[shelter, office])
    lat, lon = CITY_HALL
    query = f"{URL}?near_lat={lat}&near_lon={lon}&radius_m=3000"

    for outsider in ("district_viewer", "city_admin"):
        response = client.get(query, headers=network[outsider].headers)
        items = response.json["items"]
        assert [i["name"] for i in items] == ["Shelter and office"]
        assert abs(items[0]["distance_m"] - 2000) < 5  # the office's distance, never the shelter's
        text = response.get_data(as_text=True)
        assert f"{shelter_point[0]:.4f}"[:7] not in text and "100 Main St" not in text
        assert names(client, network[outsider], f"near_lat={lat}&near_lon={lon}&radius_m=1000") == []

    for insider in ("cbo_caseworker", "network_admin"):
        items = client.get(query, headers=network[insider].headers).json["items"]
        assert sorted(i["name"] for i in items) == ["Shelter", "Shelter and office"]  # same distance: by id
        assert all(abs(i["distance_m"] - 800) < 5 for i in items)


# --- the list's SQL does not grow with the page --------------------------------------------------


def test_the_list_issues_a_constant_number_of_queries(app, client, network, db_session):
    schools = [make_school(db_session, f"School {n}") for n in range(3)]
    sites = [make_location(db_session, network.cbo, north_of(CITY_HALL, 100 * n)) for n in range(3)]
    for n in range(30):
        make_program(
            db_session,
            network.cbo,
            f"Program {n}",
            languages=["en", "es"],
            schools=schools,
            regions=["South", "East"],
            locations=sites,
            schedules=2,
            external_codes=[],
            contacts=[{"name": "A"}],
            assured_at=utcnow(),
        )
    headers = network["district_viewer"].headers
    lat, lon = CITY_HALL

    def queries(url: str) -> tuple[int, int]:
        count, response = counted_get(app, client, url, headers)
        assert response.status_code == 200
        return count, len(response.json["items"])

    for query in ("", "&language=es&age=10", f"&near_lat={lat}&near_lon={lon}&radius_m=5000", f"&school_id={schools[0].id}"):
        small, small_items = queries(f"{URL}?limit=2{query}")
        large, large_items = queries(f"{URL}?limit=50{query}")
        assert (small_items, large_items) == (2, 30)
        assert small == large, query


def test_clearing_a_polygon_stores_sql_null_and_coverage_queries_still_work(client, network, db_session):
    admin = network["cbo_admin"]
    created = client.post(
        URL,
        json={"name": "Polygon only", "program_type": "safe_passage", "status": "active", "service_area_geojson": SQUARE},
        headers=admin.headers,
    ).json
    cleared = client.patch(f"{URL}/{created['id']}", json={"service_area_geojson": None}, headers=if_match(admin.headers, 1))
    assert cleared.status_code == 200 and cleared.json["service_area_geojson"] is None
    assert (
        db_session.scalar(
            select(func.count())
            .select_from(Program)
            .where(Program.id == uuid.UUID(created["id"]), Program.service_area_geojson.is_(None))
        )
        == 1
    )
    make_school(db_session)
    gaps = client.get("/api/v1/schools?lacks_program_type=safe_passage", headers=network["district_viewer"].headers)
    assert gaps.status_code == 200
