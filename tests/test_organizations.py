from __future__ import annotations

import uuid

from cbs_network.audit.models import AuditRecord
from cbs_network.events.models import Event
from cbs_network.organizations.models import Organization

from .factories import MembershipFactory, OrganizationFactory
from .helpers import assert_problem, counted_get

NEW = {
    "kind": "cbo",
    "name": "Harbor Youth Safety Network",
    "jurisdiction": "City of Los Angeles",
    "governing_authority": "501(c)(3) board of directors",
    "website": "https://harbor-youth.example.org",
    "identifiers": [{"scheme": "ein", "value": "95-7654321"}, {"scheme": "lausd_vendor", "value": "V-1001"}],
    "contacts": [{"name": "Rosa Example", "title": "Director", "email": "rosa@harbor-youth.example.org"}],
}


def test_network_admin_creates_and_everyone_reads(client, network, db_session):
    response = client.post("/api/v1/organizations", json=NEW, headers=network["network_admin"].headers)
    assert response.status_code == 201
    body = response.json
    assert response.headers["Location"].endswith(f"/api/v1/organizations/{body['id']}")
    assert body["status"] == "prospective" and body["version"] == 1
    assert [i["scheme"] for i in body["identifiers"]] == ["ein", "lausd_vendor"]
    fetched = client.get(response.headers["Location"], headers=network["cbo_caseworker"].headers)
    assert fetched.status_code == 200 and fetched.json == body

    record = db_session.query(AuditRecord).filter_by(object_id=body["id"]).one()
    assert record.action == "organization.created"
    assert record.changes["name"] == {"before": None, "after": NEW["name"]}
    assert record.actor_user_id == network["network_admin"].user.id
    event = db_session.query(Event).filter_by(object_id=body["id"]).one()
    assert event.type == "organization.created" and event.payload["status"] == "prospective"


def test_only_network_admins_create(client, network, db_session):
    response = client.post("/api/v1/organizations", json=NEW, headers=network["district_admin"].headers)
    assert_problem(response, 403)
    assert db_session.query(Organization).filter_by(name=NEW["name"]).count() == 0


def test_filters_combine(client, network):
    parent = OrganizationFactory(kind="district_office", name="Region Test")
    OrganizationFactory(kind="school", name="Alpha Elementary", parent_id=parent.id)
    OrganizationFactory(kind="school", name="Beta Middle", parent_id=parent.id, status="inactive")
    OrganizationFactory(kind="cbo", name="Alpha Outreach")
    headers = network["district_viewer"].headers
    names = lambda url: sorted(i["name"] for i in client.get(url, headers=headers).json["items"])  # noqa: E731
    assert names(f"/api/v1/organizations?parent_id={parent.id}") == ["Alpha Elementary", "Beta Middle"]
    assert names(f"/api/v1/organizations?parent_id={parent.id}&status=active") == ["Alpha Elementary"]
    assert names("/api/v1/organizations?q=ALPHA&kind=school") == ["Alpha Elementary"]


def test_filter_by_identifier(client, network):
    created = client.post("/api/v1/organizations", json=NEW, headers=network["network_admin"].headers).json
    items = client.get(
        "/api/v1/organizations?identifier_scheme=ein&identifier_value=95-7654321", headers=network["cbo_admin"].headers
    ).json["items"]
    assert [i["id"] for i in items] == [created["id"]]


def test_org_admin_updates_own_profile_but_not_status(client, network):
    admin = network["district_admin"]
    url = f"/api/v1/organizations/{network.district.id}"
    etag = client.get(url, headers=admin.headers).headers["ETag"]
    response = client.patch(url, json={"description": "Serving 400,000 students"}, headers={**admin.headers, "If-Match": etag})
    assert response.status_code == 200 and response.json["description"] == "Serving 400,000 students"
    denied = client.patch(url, json={"status": "suspended"}, headers={**admin.headers, "If-Match": response.headers["ETag"]})
    assert_problem(denied, 403)
    assert client.get(url, headers=admin.headers).json["status"] == "active"


def test_coordinator_lacks_write_role(client, network):
    coordinator = network["district_coordinator"]
    url = f"/api/v1/organizations/{network.district.id}"
    response = client.patch(url, json={"phone": "213-555-0100"}, headers={**coordinator.headers, "If-Match": '"1"'})
    body = assert_problem(response, 403)
    assert "role" in body["detail"]
    assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]


def test_another_organization_cannot_change_it(client, network, db_session):
    url = f"/api/v1/organizations/{network.district.id}"
    version = client.get(url, headers=network["city_admin"].headers).json["version"]
    response = client.patch(url, json={"name": "Hijacked"}, headers={**network["city_admin"].headers, "If-Match": f'"{version}"'})
    assert_problem(response, 403)
    db_session.expire_all()
    assert db_session.get(Organization, network.district.id).name == "Test Unified School District"


def test_identifiers_and_contacts_are_replaced_and_bump_the_version(client, network):
    admin = network["network_admin"]
    created = client.post("/api/v1/organizations", json=NEW, headers=admin.headers).json
    url = f"/api/v1/organizations/{created['id']}"
    response = client.patch(
        url, json={"identifiers": [{"scheme": "ein", "value": "95-7654321"}]}, headers={**admin.headers, "If-Match": '"1"'}
    )
    assert response.status_code == 200
    assert response.json["identifiers"] == [{"scheme": "ein", "value": "95-7654321"}]
    assert [c["name"] for c in response.json["contacts"]] == ["Rosa Example"]
    assert response.json["version"] == 2


def test_identifier_taken_by_another_organization_is_409(client, network):
    admin = network["network_admin"]
    client.post("/api/v1/organizations", json=NEW, headers=admin.headers)
    other = {**NEW, "name": "Copycat", "identifiers": [{"scheme": "ein", "value": "95-7654321"}]}
    assert_problem(client.post("/api/v1/organizations", json=other, headers=admin.headers), 409)


def test_parent_must_exist_and_not_form_a_cycle(client, network):
    admin = network["network_admin"]
    missing = client.post("/api/v1/organizations", json={**NEW, "parent_id": str(uuid.uuid4())}, headers=admin.headers)
    assert "parent_id" in assert_problem(missing, 422)["errors"]["json"]
    parent = client.post(
        "/api/v1/organizations", json={"kind": "district_office", "name": "Region P"}, headers=admin.headers
    ).json
    child = client.post(
        "/api/v1/organizations", json={"kind": "school", "name": "School C", "parent_id": parent["id"]}, headers=admin.headers
    ).json
    cycle = client.patch(
        f"/api/v1/organizations/{parent['id']}", json={"parent_id": child["id"]}, headers={**admin.headers, "If-Match": '"1"'}
    )
    assert_problem(cycle, 422)


def test_delete_only_without_dependents(client, network, db_session):
    admin = network["network_admin"]
    created = client.post("/api/v1/organizations", json=NEW, headers=admin.headers).json
    MembershipFactory(organization=db_session.get(Organization, uuid.UUID(created["id"])))
    url = f"/api/v1/organizations/{created['id']}"
    assert_problem(client.delete(url, headers={**admin.headers, "If-Match": '"1"'}), 409)
    empty = client.post("/api/v1/organizations", json={"kind": "funder", "name": "Short-lived"}, headers=admin.headers).json
    response = client.delete(f"/api/v1/organizations/{empty['id']}", headers={**admin.headers, "If-Match": '"1"'})
    assert response.status_code == 204
    assert_problem(client.get(f"/api/v1/organizations/{empty['id']}", headers=admin.headers), 404)


def test_suspended_organizations_tokens_stop_working(client, network, db_session):
    cbo = network["cbo_admin"]
    assert client.get("/api/v1/organizations", headers=cbo.headers).status_code == 200
    admin = network["network_admin"]
    url = f"/api/v1/organizations/{network.cbo.id}"
    version = client.get(url, headers=admin.headers).json["version"]
    assert (
        client.patch(url, json={"status": "suspended"}, headers={**admin.headers, "If-Match": f'"{version}"'}).status_code == 200
    )
    assert_problem(client.get("/api/v1/organizations", headers=cbo.headers), 401)


def test_list_issues_a_constant_number_of_queries(app, client, network):
    for n in range(12):
        OrganizationFactory(name=f"Counted {n}", identifiers=[], contacts=[])
    counts = []
    for limit in (2, 50):
        count, response = counted_get(app, client, f"/api/v1/organizations?limit={limit}", network["district_viewer"].headers)
        assert response.status_code == 200
        counts.append(count)
    assert counts[0] == counts[1] <= 4  # token + page + identifiers + contacts
