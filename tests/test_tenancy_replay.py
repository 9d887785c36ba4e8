"""Idempotency-Key belongs to its caller (client, user, acting organization), and responses that
carry a secret are never stored for replay."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from cbs_network.http.idempotency import IdempotencyKey
from cbs_network.identity.roles import Role

from . import factories
from .helpers import assert_problem, bearer


@pytest.fixture
def explorer(db_session, network):
    return factories.OAuthClientFactory(organization=network.hub, network_wide=True, role_ceiling=Role.network_admin)


def through(db_session, explorer, actor) -> dict[str, str]:
    """The actor's person, signed in through the one shared explorer client."""
    return bearer(factories.issue_token(db_session, client=explorer, user=actor.user, organization=actor.organization))


def test_another_tenant_with_the_same_key_never_gets_the_stored_response(client, network, db_session, explorer):
    district = through(db_session, explorer, network["district_admin"])
    cbo = through(db_session, explorer, network["cbo_admin"])
    url = f"/api/v1/organizations/{network.district.id}/memberships"
    body = {"email": "ana@example.org", "name": "Ana", "role": "viewer"}

    first = client.post(url, json=body, headers={**district, "Idempotency-Key": "1"})
    again = client.post(url, json=body, headers={**cbo, "Idempotency-Key": "1"})

    assert first.status_code == 201
    assert_problem(again, 403)  # the object check ran: no replay, no hint that the key was used
    assert "Idempotent-Replayed" not in again.headers


def test_the_same_person_acting_for_another_organization_has_other_keys(client, network, db_session, explorer):
    person = network["city_admin"].user
    factories.MembershipFactory(user=person, organization=network.cbo, role=Role.org_admin)
    as_city = bearer(factories.issue_token(db_session, client=explorer, user=person, organization=network.city))
    as_cbo = bearer(factories.issue_token(db_session, client=explorer, user=person, organization=network.cbo))
    body = {"name": "Same key, other organization", "grant_types": ["client_credentials"], "scopes": ["organizations:read"]}

    first = client.post("/api/v1/clients", json=body, headers={**as_city, "Idempotency-Key": "k"})
    second = client.post("/api/v1/clients", json=body, headers={**as_cbo, "Idempotency-Key": "k"})

    assert first.status_code == second.status_code == 201
    assert first.get_json()["organization_id"] == str(network.city.id)
    assert second.get_json()["organization_id"] == str(network.cbo.id)


@pytest.mark.parametrize("case", ["client", "secret", "invitation", "reissue"])
def test_responses_carrying_a_secret_are_not_kept_for_replay(client, network, db_session, case):
    admin = network["district_admin"]
    if case == "client":
        url, body, secret_field = (
            "/api/v1/clients",
            {"name": "Secret keeper", "grant_types": ["client_credentials"], "scopes": ["organizations:read"]},
            "client_secret",
        )
    elif case == "secret":
        registered = client.post(
            "/api/v1/clients",
            json={"name": "Rotated", "grant_types": ["client_credentials"], "scopes": ["organizations:read"]},
            headers=admin.headers,
        ).get_json()
        url, body, secret_field = f"/api/v1/clients/{registered['id']}/secret", None, "client_secret"
    else:
        invited = client.post(
            f"/api/v1/organizations/{network.district.id}/memberships",
            json={"email": "link@example.org", "name": "Link", "role": "viewer"},
            headers=admin.headers,
        )
        url, body, secret_field = (
            f"/api/v1/organizations/{network.district.id}/memberships",
            {"email": "other@example.org", "name": "Other", "role": "viewer"},
            "invitation_url",
        )
        if case == "reissue":
            url, body = f"/api/v1/users/{invited.get_json()['user']['id']}/invitation", None
    headers = {**admin.headers, "Idempotency-Key": f"secret-{case}"}

    first = client.post(url, json=body, headers=headers)
    secret = first.get_json()[secret_field]
    retry = client.post(url, json=body, headers=headers)

    assert first.status_code in (200, 201) and secret
    problem = assert_problem(retry, 409)
    assert "secret" in problem["detail"] and secret not in retry.get_data(as_text=True)
    stored = db_session.scalars(select(IdempotencyKey).where(IdempotencyKey.key == f"secret-{case}")).one()
    assert stored.replayable is False and stored.response_body == b""
