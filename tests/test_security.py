"""Effective permission = token scopes ∩ role (capped by the client's ceiling); outbox atomicity."""

from __future__ import annotations

from cbs_network.events import service as events
from cbs_network.events.models import Event
from cbs_network.identity.roles import Role
from cbs_network.organizations.models import Organization

from .factories import MembershipFactory, OAuthClientFactory, issue_token
from .helpers import assert_problem


def test_client_role_ceiling_caps_the_users_role(client, network, db_session):
    membership = MembershipFactory(organization=network.district, role=Role.org_admin)
    capped_client = OAuthClientFactory(organization=network.district, role_ceiling=Role.viewer)
    token = issue_token(db_session, client=capped_client, user=membership.user, organization=network.district)
    headers = {"Authorization": f"Bearer {token}"}
    me = client.get("/api/v1/me", headers=headers).json
    assert me["role"] == "viewer"
    assert "organizations:write" not in me["scopes"] and "organizations:read" in me["scopes"]
    response = client.patch(
        f"/api/v1/organizations/{network.district.id}", json={"phone": "213-555-0100"}, headers={**headers, "If-Match": '"1"'}
    )
    assert_problem(response, 403)


def test_client_credentials_token_acts_with_the_ceiling(client, network, db_session):
    machine = OAuthClientFactory(organization=network.city, role_ceiling=Role.org_admin)
    token = issue_token(db_session, client=machine)
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).json
    assert me["user"] is None and me["role"] == "org_admin"
    assert me["organization"]["id"] == str(network.city.id)


def test_missing_scope_is_403_with_insufficient_scope(client, network, db_session):
    reader = network.actor(db_session, network.hub, Role.network_admin, scopes=["organizations:read"])
    response = client.post("/api/v1/organizations", json={"kind": "cbo", "name": "Nope"}, headers=reader.headers)
    body = assert_problem(response, 403)
    assert "organizations:write" in body["detail"]
    header = response.headers["WWW-Authenticate"]
    assert 'error="insufficient_scope"' in header and 'scope="organizations:write"' in header


def test_expired_and_revoked_tokens_are_401(client, network, db_session):
    actor = network["district_viewer"]
    expired = issue_token(db_session, client=actor.client, user=actor.user, organization=actor.organization, expires_in=-1)
    assert_problem(client.get("/api/v1/organizations", headers={"Authorization": f"Bearer {expired}"}), 401)

    from cbs_network.core.db import utcnow
    from cbs_network.oauth.models import OAuthToken, token_hash

    row = db_session.query(OAuthToken).filter_by(access_token_hash=token_hash(actor.token)).one()
    row.access_revoked_at = utcnow()
    db_session.commit()
    response = client.get("/api/v1/organizations", headers=actor.headers)
    assert_problem(response, 401)
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_removed_membership_stops_the_token(client, network, db_session):
    actor = network["district_coordinator"]
    assert client.get("/api/v1/organizations", headers=actor.headers).status_code == 200
    from cbs_network.identity.models import Membership

    db_session.query(Membership).filter_by(user_id=actor.user.id).delete()
    db_session.commit()
    assert_problem(client.get("/api/v1/organizations", headers=actor.headers), 401)


def test_event_and_change_commit_or_roll_back_together(client, network, db_session, monkeypatch):
    real = events.record_event

    def record_then_fail(*args, **kwargs):
        real(*args, **kwargs)
        raise RuntimeError("crash after the event was written")

    from cbs_network.organizations import service

    monkeypatch.setattr(service, "record_event", record_then_fail)
    response = client.post(
        "/api/v1/organizations", json={"kind": "cbo", "name": "Half-written"}, headers=network["network_admin"].headers
    )
    assert_problem(response, 500)
    assert db_session.query(Organization).filter_by(name="Half-written").count() == 0
    assert db_session.query(Event).filter(Event.type == "organization.created").count() == 0


def test_event_payload_carries_ids_and_states_only(client, network, db_session):
    created = client.post(
        "/api/v1/organizations",
        json={"kind": "cbo", "name": "Evented", "email": "x@evented.example.org"},
        headers=network["network_admin"].headers,
    ).json
    event = db_session.query(Event).filter_by(object_id=created["id"]).one()
    assert event.payload == {"organization_id": created["id"], "kind": "cbo", "status": "prospective"}
    assert str(network.hub.id) in event.audience_organization_ids
