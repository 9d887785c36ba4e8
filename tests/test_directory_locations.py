"""Locations: CRUD, validation, access, the confidentiality policy on every way out, and
proximity search on both databases."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from cbs_network.audit.models import AuditRecord
from cbs_network.directory.geo import haversine_m
from cbs_network.directory.models import Location, ProgramType
from cbs_network.events.models import Event

from .factories import LocationFactory, ProgramFactory
from .helpers import assert_problem, counted_get, if_match

# Boyle Heights; the offsets below are north of it, on one meridian.
ORIGIN = (34.0447, -118.2125)
PER_KM = 1 / 111.195  # degrees of latitude per kilometre
NEW = {
    "name": "Boyle Heights Youth Center",
    "address_1": "2130 E 1st St",
    "city": "Los Angeles",
    "state": "CA",
    "postal_code": "90033",
    "latitude": ORIGIN[0],
    "longitude": ORIGIN[1],
}
ADDRESS_FIELDS = {"address_1", "city", "state", "postal_code", "latitude", "longitude", "distance_m", "description", "url"}
FRONT_DOOR = {"id", "name", "organization_id", "location_type", "is_confidential", "front_door_contact"}


class SiteFactory(LocationFactory):
    """A site at ORIGIN, where this module measures distances from."""

    latitude, longitude = ORIGIN


def north(km: float) -> tuple[float, float]:
    return ORIGIN[0] + km * PER_KM, ORIGIN[1]


@pytest.fixture
def safe_house(db_session, network):
    lat, lon = north(2)
    return SiteFactory(
        organization=network.cbo,
        name="Safe house",
        address_1="123 Hidden Ave",
        postal_code="90033",
        latitude=lat,
        longitude=lon,
        is_confidential=True,
        front_door_contact="Call (213) 555-0142",
    )


# --- CRUD -----------------------------------------------------------------------------------------


def test_create_read_update_delete(client, network, db_session):
    cbo = network["cbo_admin"]
    response = client.post("/api/v1/locations", json=NEW, headers=cbo.headers)
    assert response.status_code == 201, response.json
    body = response.json
    assert response.headers["Location"].endswith(f"/api/v1/locations/{body['id']}")
    assert body["organization_id"] == str(network.cbo.id)  # defaults to the caller's organization
    assert body["location_type"] == "physical" and body["is_confidential"] is False and body["version"] == 1
    assert response.headers["ETag"] == '"1"'
    fetched = client.get(response.headers["Location"], headers=network["district_viewer"].headers)
    assert fetched.status_code == 200 and fetched.json == body

    url = response.headers["Location"]
    assert_problem(client.patch(url, json={"name": "Renamed"}, headers=if_match(cbo.headers, 7)), 412)
    updated = client.patch(url, json={"name": "Renamed", "postal_code": "90033-1234"}, headers=if_match(cbo.headers, 1))
    assert updated.status_code == 200 and updated.json["name"] == "Renamed" and updated.json["version"] == 2

    actions = db_session.scalars(
        select(AuditRecord.action).where(AuditRecord.object_id == body["id"]).order_by(AuditRecord.created_at, AuditRecord.id)
    ).all()
    assert actions == ["location.created", "location.updated"]
    change = db_session.scalars(select(AuditRecord).where(AuditRecord.action == "location.updated")).one().changes
    assert change["name"] == {"before": NEW["name"], "after": "Renamed"}

    assert_problem(client.delete(url, headers=if_match(cbo.headers, 1)), 412)
    assert client.delete(url, headers=if_match(cbo.headers, 2)).status_code == 204
    assert_problem(client.get(url, headers=cbo.headers), 404)
    events = db_session.scalars(select(Event.type).where(Event.object_id == body["id"]).order_by(Event.created_at)).all()
    assert sorted(events) == ["location.created", "location.deleted", "location.updated"]
    assert "location.deleted" in db_session.scalars(select(AuditRecord.action).where(AuditRecord.object_id == body["id"])).all()


def test_virtual_location_and_network_admin_creates_for_another_organization(client, network):
    admin = network["network_admin"]
    body = {
        "name": "Online counseling",
        "location_type": "virtual",
        "url": "https://meet.example.org/counsel",
        "organization_id": str(network.city.id),
    }
    response = client.post("/api/v1/locations", json=body, headers=admin.headers)
    assert response.status_code == 201, response.json
    assert response.json["organization_id"] == str(network.city.id) and response.json["latitude"] is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"latitude": 91}, "latitude"),
        ({"longitude": -180.5}, "longitude"),
        ({"latitude": None}, "latitude"),  # latitude and longitude go together: the missing one is named
        ({"address_1": None, "latitude": None, "longitude": None}, "address_1"),
        ({"location_type": "virtual"}, "url"),
        ({"is_confidential": True}, "front_door_contact"),
        ({"postal_code": "9003"}, "postal_code"),
        ({"state": "California"}, "state"),
        ({"name": ""}, "name"),
        ({"organization_id": str(uuid.UUID(int=7))}, "organization_id"),
    ],
)
def test_bad_input_is_a_422_naming_the_field_and_writes_nothing(client, network, db_session, change, field):
    before = db_session.scalar(select(func.count()).select_from(Location))
    response = client.post("/api/v1/locations", json={**NEW, **change}, headers=network["network_admin"].headers)
    body = assert_problem(response, 422)
    assert field in body["errors"]["json"], body
    assert db_session.scalar(select(func.count()).select_from(Location)) == before


def test_an_update_is_checked_as_the_location_it_would_leave(client, network, db_session):
    location = SiteFactory(organization=network.cbo)
    url = f"/api/v1/locations/{location.id}"
    headers = if_match(network["cbo_admin"].headers, 1)
    body = assert_problem(client.patch(url, json={"location_type": "virtual"}, headers=headers), 422)
    assert "url" in body["errors"]["json"]
    body = assert_problem(client.patch(url, json={"address_1": None, "latitude": None, "longitude": None}, headers=headers), 422)
    assert "address_1" in body["errors"]["json"]
    db_session.expire_all()
    assert db_session.get(Location, location.id).version == 1


# --- access ---------------------------------------------------------------------------------------


def test_only_the_owner_or_network_admins_change_a_location(client, network, db_session):
    location = SiteFactory(organization=network.cbo)
    url = f"/api/v1/locations/{location.id}"
    for outsider in ("district_admin", "district_coordinator", "city_admin"):
        headers = if_match(network[outsider].headers, 1)
        assert_problem(client.patch(url, json={"name": "Taken over"}, headers=headers), 403)
        assert_problem(client.delete(url, headers=headers), 403)
    assert_problem(client.patch(url, json={"name": "x"}, headers=if_match(network["cbo_caseworker"].headers, 1)), 403)
    assert_problem(
        client.post(
            "/api/v1/locations", json={**NEW, "organization_id": str(network.cbo.id)}, headers=network["district_admin"].headers
        ),
        403,
    )
    db_session.expire_all()
    assert db_session.get(Location, location.id).name == "Site"
    admin = client.patch(url, json={"name": "Fixed by the hub"}, headers=if_match(network["network_admin"].headers, 1))
    assert admin.status_code == 200


def test_a_location_a_program_uses_cannot_be_deleted(client, network, db_session):
    location = SiteFactory(organization=network.cbo)
    ProgramFactory(organization=network.cbo, program_type=ProgramType.safe_passage, locations=[location])
    response = client.delete(f"/api/v1/locations/{location.id}", headers=if_match(network["cbo_admin"].headers, 1))
    assert_problem(response, 409)
    db_session.expire_all()
    assert db_session.get(Location, location.id) is not None


# --- the confidentiality policy -------------------------------------------------------------------


OUTSIDERS = ["district_viewer", "city_admin", "district_admin"]
INSIDERS = ["cbo_caseworker", "cbo_admin", "network_admin"]


@pytest.mark.parametrize("actor", OUTSIDERS + INSIDERS)
def test_confidential_detail_and_list(client, network, safe_house, actor):
    headers = network[actor].headers
    detail = client.get(f"/api/v1/locations/{safe_house.id}", headers=headers)
    assert detail.status_code == 200
    listed = [
        i for i in client.get("/api/v1/locations?limit=200", headers=headers).json["items"] if i["id"] == str(safe_house.id)
    ]
    assert len(listed) == 1
    for seen in (detail.json, listed[0]):
        if actor in OUTSIDERS:
            assert set(seen) == FRONT_DOOR
            assert seen["front_door_contact"] == "Call (213) 555-0142"
            assert "Hidden" not in detail.get_data(as_text=True) and "90033" not in detail.get_data(as_text=True)
        else:
            assert seen["address_1"] == "123 Hidden Ave" and seen["latitude"] == safe_house.latitude


@pytest.mark.parametrize("actor", OUTSIDERS + INSIDERS)
def test_geojson_never_shows_a_confidential_location(client, network, db_session, safe_house, actor):
    public = SiteFactory(organization=network.cbo, name="Youth center")
    virtual = SiteFactory(
        organization=network.cbo,
        name="Online",
        location_type="virtual",
        url="https://x.example.org",
        address_1=None,
        latitude=None,
        longitude=None,
    )
    program = ProgramFactory(organization=network.cbo, program_type=ProgramType.safe_passage, locations=[public, safe_house])
    response = client.get("/api/v1/locations.geojson", headers=network[actor].headers)
    assert response.status_code == 200 and response.mimetype == "application/geo+json"
    body = response.get_json()
    assert body["type"] == "FeatureCollection"
    ids = [f["id"] for f in body["features"]]
    assert str(public.id) in ids and str(safe_house.id) not in ids and str(virtual.id) not in ids
    feature = next(f for f in body["features"] if f["id"] == str(public.id))
    assert feature["geometry"] == {"type": "Point", "coordinates": [public.longitude, public.latitude]}
    assert feature["properties"] == {
        "id": str(public.id),
        "name": "Youth center",
        "organization_id": str(network.cbo.id),
        "program_ids": [str(program.id)],
    }
    assert "Hidden" not in response.get_data(as_text=True)


def _near(client, headers, km: float, **extra) -> list[dict]:
    params = "&".join(f"{k}={v}" for k, v in extra.items())
    response = client.get(
        f"/api/v1/locations?near_lat={ORIGIN[0]}&near_lon={ORIGIN[1]}&radius_m={km * 1000}&{params}", headers=headers
    )
    assert response.status_code == 200, response.json
    return response.json["items"]


@pytest.mark.parametrize("actor", OUTSIDERS + INSIDERS)
def test_proximity_search_reveals_a_confidential_location_to_insiders_only(client, network, db_session, safe_house, actor):
    near = SiteFactory(organization=network.city, name="Near", latitude=north(1)[0])
    far = SiteFactory(organization=network.city, name="Far", latitude=north(3)[0])
    headers = network[actor].headers
    items = _near(client, headers, 5)
    expected = ["Near", "Safe house", "Far"] if actor in INSIDERS else ["Near", "Far"]
    assert [i["name"] for i in items] == expected
    assert [i["id"] for i in items if i["name"] != "Safe house"] == [str(near.id), str(far.id)]
    if actor in INSIDERS:
        house = next(i for i in items if i["name"] == "Safe house")
        assert house["distance_m"] == pytest.approx(2000, abs=5) and house["address_1"] == "123 Hidden Ave"
    else:
        # Page by page the outsider's view is the same as if the safe house did not exist.
        first = client.get(
            f"/api/v1/locations?near_lat={ORIGIN[0]}&near_lon={ORIGIN[1]}&radius_m=5000&limit=1", headers=headers
        ).json
        second = client.get(
            f"/api/v1/locations?near_lat={ORIGIN[0]}&near_lon={ORIGIN[1]}&radius_m=5000&limit=1&cursor={first['next_cursor']}",
            headers=headers,
        ).json
        assert [first["items"][0]["name"], second["items"][0]["name"], second["next_cursor"]] == ["Near", "Far", None]
        assert "Hidden" not in str(items) and all("Safe" not in i["name"] for i in items)


# --- proximity search -----------------------------------------------------------------------------


def test_a_location_2_km_away_is_inside_3_km_and_outside_1_km(client, network, db_session):
    lat, lon = north(2)
    location = SiteFactory(organization=network.cbo, name="Two km", latitude=lat, longitude=lon)
    expected = haversine_m(ORIGIN[0], ORIGIN[1], lat, lon)
    assert 1990 < expected < 2010
    headers = network["district_viewer"].headers
    inside = _near(client, headers, 3)
    assert [i["id"] for i in inside] == [str(location.id)]
    assert inside[0]["distance_m"] == pytest.approx(expected, abs=0.5)
    assert _near(client, headers, 1) == []


def test_near_search_pages_by_distance_and_combines_with_filters(client, network, db_session):
    locations = [
        SiteFactory(organization=network.cbo if n % 2 else network.city, name=f"At {n} km", latitude=north(n)[0])
        for n in (4, 1, 3, 2, 5)
    ]
    SiteFactory(organization=network.cbo, name="Too far", latitude=north(30)[0])
    headers = network["district_viewer"].headers
    names, cursor = [], None
    while True:
        url = f"/api/v1/locations?near_lat={ORIGIN[0]}&near_lon={ORIGIN[1]}&radius_m=10000&limit=2" + (
            f"&cursor={cursor}" if cursor else ""
        )
        response = client.get(url, headers=headers)
        names += [i["name"] for i in response.json["items"]]
        cursor = response.json["next_cursor"]
        assert ("Link" in response.headers) == bool(cursor)
        if not cursor:
            break
    assert names == [f"At {n} km" for n in (1, 2, 3, 4, 5)]
    cbo_only = _near(client, headers, 10, organization_id=network.cbo.id)
    assert [i["name"] for i in cbo_only] == ["At 1 km", "At 3 km", "At 5 km"]
    assert {loc.name for loc in locations} == set(names)


def test_near_search_rejects_bad_arguments(client, network):
    headers = network["district_viewer"].headers
    body = assert_problem(
        client.get(f"/api/v1/locations?near_lat={ORIGIN[0]}&near_lon={ORIGIN[1]}&radius_m=50001", headers=headers), 422
    )
    assert "radius_m" in body["errors"]["query"]
    body = assert_problem(client.get(f"/api/v1/locations?near_lat={ORIGIN[0]}", headers=headers), 422)
    assert "near_lon" in body["errors"]["query"]
    body = assert_problem(client.get("/api/v1/locations?radius_m=100", headers=headers), 422)
    assert "radius_m" in body["errors"]["query"]
    body = assert_problem(client.get("/api/v1/locations?near_lat=95&near_lon=0", headers=headers), 422)
    assert "near_lat" in body["errors"]["query"]
    assert_problem(client.get("/api/v1/locations?near_lat=1&near_lon=1&cursor=garbage", headers=headers), 400)


# --- list filters and query count ------------------------------------------------------------------


def test_list_filters(client, network, db_session):
    a = SiteFactory(organization=network.cbo, name="A")
    b = SiteFactory(
        organization=network.cbo,
        name="B",
        location_type="virtual",
        url="https://b.example.org",
        address_1=None,
        latitude=None,
        longitude=None,
    )
    c = SiteFactory(organization=network.city, name="C")
    program = ProgramFactory(organization=network.cbo, program_type=ProgramType.safe_passage, locations=[a, b])
    headers = network["district_viewer"].headers
    names = lambda query: sorted(i["name"] for i in client.get(f"/api/v1/locations?{query}", headers=headers).json["items"])  # noqa: E731
    assert names(f"organization_id={network.cbo.id}") == ["A", "B"]
    assert names(f"organization_id={network.cbo.id}&location_type=virtual") == ["B"]
    assert names(f"program_id={program.id}") == ["A", "B"]
    assert names(f"program_id={program.id}&location_type=physical") == ["A"]
    stamp = client.get(f"/api/v1/locations/{c.id}", headers=headers).json["updated_at"]
    assert "C" in names(f"updated_since={stamp.replace('+00:00', 'Z')}")


def test_list_issues_a_constant_number_of_queries(app, client, network, db_session):
    for n in range(12):
        SiteFactory(
            organization=network.cbo if n % 3 else network.city,
            name=f"Counted {n}",
            is_confidential=n % 4 == 0,
            front_door_contact="Call us",
        )
    counts = []
    for query in (
        "limit=2",
        "limit=50",
        f"limit=2&near_lat={ORIGIN[0]}&near_lon={ORIGIN[1]}",
        f"limit=50&near_lat={ORIGIN[0]}&near_lon={ORIGIN[1]}",
    ):
        count, response = counted_get(app, client, f"/api/v1/locations?{query}", network["district_viewer"].headers)
        assert response.status_code == 200
        counts.append(count)
    assert counts[0] == counts[1] <= 2 and counts[2] == counts[3] <= 2  # token + page
