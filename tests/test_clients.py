"""OAuth client registration: /api/v1/clients (cbs_network.oauth.clients.service).

Secrets are shown once and stored as SHA-256 hashes; deactivation revokes every token of the
client; another organization's clients are invisible (404)."""

from __future__ import annotations

import base64
import json
import uuid

import pytest
from sqlalchemy import func, select

from cbs_network.audit.models import AuditRecord
from cbs_network.core.errors import Forbidden, ValidationFailed
from cbs_network.identity.principal import Principal
from cbs_network.identity.roles import SCOPES, Role
from cbs_network.oauth.clients import service as clients_service
from cbs_network.oauth.models import OAuthClient, OAuthToken, token_hash

from . import factories
from .helpers import assert_problem, bearer, if_match

CONFIDENTIAL = {
    "name": "County case management system",
    "grant_types": ["client_credentials"],
    "scopes": ["organizations:read", "users:read"],
    "role_ceiling": "coordinator",
}
PUBLIC = {
    "name": "District coordinator app",
    "grant_types": ["authorization_code", "refresh_token"],
    "token_endpoint_auth_method": "none",
    "redirect_uris": ["http://127.0.0.1:8765/callback", "https://app.example.org/callback"],
    "scopes": ["organizations:read"],
}


# --- helpers --------------------------------------------------------------------------------


def fresh(db_session, client_uuid) -> OAuthClient | None:
    row = db_session.scalars(
        select(OAuthClient).where(OAuthClient.id == client_uuid).execution_options(populate_existing=True)
    ).one_or_none()
    if row is not None:
        db_session.expunge(row)
    return row


def tokens_of(db_session, client_id: str) -> list[OAuthToken]:
    rows = list(
        db_session.scalars(select(OAuthToken).where(OAuthToken.client_id == client_id).execution_options(populate_existing=True))
    )
    for row in rows:
        db_session.expunge(row)
    return rows


def client_count(db_session) -> int:
    return db_session.scalar(select(func.count()).select_from(OAuthClient))


def issue(db_session, **kwargs) -> str:
    token = factories.issue_token(db_session, **kwargs)
    db_session.commit()
    return token


def register(client, actor, **body):
    return client.post("/api/v1/clients", json=body, headers=actor.headers)


def principal_of(actor) -> Principal:
    return Principal(
        organization_id=actor.organization.id,
        role=actor.role,
        token_scopes=frozenset(SCOPES),
        client_id=actor.client.client_id,
        user_id=actor.user.id,
    )


def client_credentials_token(client, client_id: str, secret: str):
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
        base_url="https://hub.test",
    )


# --- registration ---------------------------------------------------------------------------


def test_register_a_confidential_client_shows_the_secret_once(client, network, db_session):
    admin = network["district_admin"]

    response = register(client, admin, **CONFIDENTIAL)

    assert response.status_code == 201
    body = response.get_json()
    secret = body["client_secret"]
    assert isinstance(secret, str) and len(secret) >= 32
    assert response.headers["Location"].endswith(f"/api/v1/clients/{body['id']}")
    assert response.headers["ETag"] == '"1"'
    assert body["organization_id"] == str(network.district.id)
    assert body["grant_types"] == ["client_credentials"]
    assert body["scopes"] == ["organizations:read", "users:read"]
    assert body["role_ceiling"] == "coordinator"
    assert body["token_endpoint_auth_method"] == "client_secret_basic"
    assert body["is_active"] is True
    assert body["client_id"].startswith("county-case-management-system-")

    # Stored only as its hash.
    stored = fresh(db_session, uuid.UUID(body["id"]))
    assert stored.client_secret_hash == token_hash(secret)
    assert secret not in json.dumps({c.name: str(getattr(stored, c.key)) for c in OAuthClient.__table__.columns})
    assert stored.check_client_secret(secret) and not stored.check_client_secret(secret + "x")

    # Never shown again.
    again = client.get(response.headers["Location"], headers=admin.headers)
    assert again.status_code == 200
    assert "client_secret" not in again.get_json()
    listed = client.get("/api/v1/clients", headers=admin.headers)
    assert secret not in listed.get_data(as_text=True) and secret not in again.get_data(as_text=True)
    assert all("client_secret" not in item for item in listed.get_json()["items"])

    # Audited without the secret.
    record = db_session.scalars(
        select(AuditRecord).where(AuditRecord.action == "oauth_client.created", AuditRecord.object_id == body["id"])
    ).one()
    assert record.actor_user_id == admin.user.id and record.organization_id == network.district.id
    assert record.changes["role_ceiling"] == {"before": None, "after": "coordinator"}
    dumped = json.dumps(record.changes)
    assert secret not in dumped and token_hash(secret) not in dumped


def test_the_secret_obtains_a_token_that_acts_for_the_clients_organization(client, network):
    body = register(client, network["district_admin"], **CONFIDENTIAL).get_json()

    token_response = client_credentials_token(client, body["client_id"], body["client_secret"])
    assert token_response.status_code == 200, token_response.get_data(as_text=True)
    me = client.get("/api/v1/me", headers=bearer(token_response.get_json()["access_token"])).get_json()

    assert me["user"] is None and me["client_id"] == body["client_id"]
    assert me["organization"]["id"] == str(network.district.id)
    assert me["role"] == "coordinator"
    assert me["scopes"] == ["organizations:read", "users:read"]
    assert client_credentials_token(client, body["client_id"], "wrong-secret").status_code == 401


def test_register_a_public_client_has_no_secret(client, network, db_session):
    response = register(client, network["district_admin"], **PUBLIC)

    assert response.status_code == 201
    body = response.get_json()
    assert body["client_secret"] is None
    assert body["token_endpoint_auth_method"] == "none"
    assert body["redirect_uris"] == PUBLIC["redirect_uris"]
    assert body["role_ceiling"] == "viewer"  # the default ceiling
    stored = fresh(db_session, uuid.UUID(body["id"]))
    assert stored.client_secret_hash is None and stored.is_public


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"token_endpoint_auth_method": "none", "grant_types": ["client_credentials"]}, "grant_types"),
        ({"grant_types": ["authorization_code"], "redirect_uris": []}, "redirect_uris"),
        ({"grant_types": ["refresh_token", "client_credentials"]}, "grant_types"),
        ({"scopes": ["organizations:read", "referrals:everything"]}, "scopes"),
        ({"grant_types": ["password"]}, "grant_types"),
        ({"grant_types": ["implicit"]}, "grant_types"),
        ({"token_endpoint_auth_method": "private_key_jwt"}, "token_endpoint_auth_method"),
        ({"grant_types": ["authorization_code"], "redirect_uris": ["https://app.example.org/cb#frag"]}, "redirect_uris"),
        ({"grant_types": ["authorization_code"], "redirect_uris": ["/relative/callback"]}, "redirect_uris"),
        ({"grant_types": ["authorization_code"], "redirect_uris": ["ftp://app.example.org/cb"]}, "redirect_uris"),
        ({"grant_types": ["authorization_code"], "redirect_uris": ["javascript:alert(1)"]}, "redirect_uris"),
        ({"grant_types": ["authorization_code"], "redirect_uris": ["app.example.org/callback"]}, "redirect_uris"),
        ({"name": ""}, "name"),
        ({"client_secret": "my-own"}, "client_secret"),
    ],
)
def test_unacceptable_registrations_are_422(client, network, db_session, changes, field):
    before = client_count(db_session)

    body = assert_problem(register(client, network["district_admin"], **{**CONFIDENTIAL, **changes}), 422)

    assert field in body["errors"]["json"], body["errors"]
    assert client_count(db_session) == before


def test_a_role_ceiling_above_your_own_role_is_403(client, network, db_session):
    before = client_count(db_session)
    assert_problem(register(client, network["district_admin"], **{**CONFIDENTIAL, "role_ceiling": "network_admin"}), 403)
    assert client_count(db_session) == before
    assert register(client, network["district_admin"], **{**CONFIDENTIAL, "role_ceiling": "org_admin"}).status_code == 201


def test_an_admin_registers_only_for_their_own_organization(client, network, db_session):
    before = client_count(db_session)
    assert_problem(register(client, network["district_admin"], **CONFIDENTIAL, organization_id=str(network.city.id)), 403)
    assert client_count(db_session) == before

    response = register(client, network["network_admin"], **CONFIDENTIAL, organization_id=str(network.city.id))
    assert response.status_code == 201
    assert response.get_json()["organization_id"] == str(network.city.id)


def test_registering_for_an_unknown_organization_is_422(client, network, db_session):
    before = client_count(db_session)
    body = assert_problem(register(client, network["network_admin"], **CONFIDENTIAL, organization_id=str(uuid.uuid4())), 422)
    assert "organization_id" in body["errors"]["json"]
    # An org admin naming any other organization, existing or not, is refused the same way.
    assert_problem(register(client, network["district_admin"], **CONFIDENTIAL, organization_id=str(uuid.uuid4())), 403)
    assert client_count(db_session) == before


def test_a_coordinator_cannot_register_clients(client, network, db_session):
    before = client_count(db_session)
    response = register(client, network["district_coordinator"], **CONFIDENTIAL)
    assert_problem(response, 403)
    assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]
    assert client_count(db_session) == before


# --- redirect URIs: https, or http on a loopback address (production) -------------------------


@pytest.mark.parametrize(
    ("uri", "accepted"),
    [
        ("https://app.example.org/callback", True),
        ("http://127.0.0.1:8765/callback", True),
        ("http://localhost:3000/callback", True),
        ("http://[::1]:8080/callback", True),
        ("http://app.example.org/callback", False),
        ("http://10.0.0.5/callback", False),
        ("http://localhost.evil.example/callback", False),
        # The service checks the shape itself: `flask cbs create-client` does not pass the schema.
        ("https://app.example.org/callback#fragment", False),
        ("app.example.org/callback", False),
        ("javascript:alert(1)", False),
    ],
)
def test_production_redirect_uris_must_be_https_or_loopback(network, db_session, uri, accepted):
    data = {**PUBLIC, "redirect_uris": [uri], "scopes": ["organizations:read"], "role_ceiling": Role.viewer}
    principal = principal_of(network["district_admin"])

    if accepted:
        registered, secret = clients_service.register(
            session=db_session, principal=principal, data=data, allow_insecure_redirects=False
        )
        assert registered.redirect_uris == [uri] and secret is None
    else:
        with pytest.raises(ValidationFailed) as error:
            clients_service.register(session=db_session, principal=principal, data=data, allow_insecure_redirects=False)
        assert "0" in error.value.errors["json"]["redirect_uris"]


def test_production_rule_applies_to_updates_too(network, db_session):
    principal = principal_of(network["district_admin"])
    registered, _ = clients_service.register(
        session=db_session, principal=principal, data=dict(PUBLIC, role_ceiling=Role.viewer), allow_insecure_redirects=False
    )
    with pytest.raises(ValidationFailed):
        clients_service.update_client(
            session=db_session,
            principal=principal,
            client_uuid=registered.id,
            data={"redirect_uris": ["http://app.example.org/cb"]},
            expected_version=registered.version,
            allow_insecure_redirects=False,
        )
    assert registered.redirect_uris == PUBLIC["redirect_uris"]


def test_the_api_enforces_the_rule_in_production_only(client, network, app, monkeypatch):
    insecure = {**PUBLIC, "redirect_uris": ["http://app.example.org/callback"]}
    admin = network["district_admin"]

    # Development: plain http to any host is allowed (local test apps).
    assert register(client, admin, **insecure).status_code == 201

    monkeypatch.setattr(app.config["CBS_SETTINGS"], "environment", "production")
    body = assert_problem(register(client, admin, **insecure), 422)
    assert "redirect_uris" in body["errors"]["json"]
    assert register(client, admin, **PUBLIC).status_code == 201  # https and loopback


def test_service_refuses_a_ceiling_above_the_principal(network, db_session):
    with pytest.raises(Forbidden):
        clients_service.register(
            session=db_session,
            principal=principal_of(network["cbo_admin"]),
            data={**CONFIDENTIAL, "token_endpoint_auth_method": "client_secret_basic", "role_ceiling": Role.network_admin},
        )


# --- rotation -------------------------------------------------------------------------------


def test_rotate_a_secret(client, network, db_session):
    admin = network["district_admin"]
    body = register(client, admin, **CONFIDENTIAL).get_json()
    old_secret = body["client_secret"]

    response = client.post(f"/api/v1/clients/{body['id']}/secret", headers=admin.headers)

    assert response.status_code == 200
    rotated = response.get_json()
    new_secret = rotated["client_secret"]
    assert new_secret and new_secret != old_secret
    assert rotated["secret_rotated_at"] is not None
    assert response.headers["ETag"] == f'"{rotated["version"]}"' and rotated["version"] == 2
    stored = fresh(db_session, uuid.UUID(body["id"]))
    assert stored.client_secret_hash == token_hash(new_secret)
    assert not stored.check_client_secret(old_secret)
    # The old secret no longer obtains tokens; the new one does.
    assert client_credentials_token(client, body["client_id"], old_secret).status_code == 401
    assert client_credentials_token(client, body["client_id"], new_secret).status_code == 200

    record = db_session.scalars(
        select(AuditRecord).where(AuditRecord.action == "oauth_client.secret_rotated", AuditRecord.object_id == body["id"])
    ).one()
    dumped = json.dumps(record.changes)
    for secret in (old_secret, new_secret):
        assert secret not in dumped and token_hash(secret) not in dumped


def test_a_public_client_has_no_secret_to_rotate(client, network, db_session):
    admin = network["district_admin"]
    body = register(client, admin, **PUBLIC).get_json()

    assert_problem(client.post(f"/api/v1/clients/{body['id']}/secret", headers=admin.headers), 422)

    stored = fresh(db_session, uuid.UUID(body["id"]))
    assert stored.client_secret_hash is None and stored.version == body["version"]


def test_a_deactivated_client_cannot_be_rotated(client, network, db_session):
    admin = network["district_admin"]
    body = register(client, admin, **CONFIDENTIAL).get_json()
    assert client.delete(f"/api/v1/clients/{body['id']}", headers=if_match(admin.headers, 1)).status_code == 204

    assert_problem(client.post(f"/api/v1/clients/{body['id']}/secret", headers=admin.headers), 422)
    assert fresh(db_session, uuid.UUID(body["id"])).client_secret_hash == token_hash(body["client_secret"])


# --- deactivation ---------------------------------------------------------------------------


def test_deactivate_a_client_revokes_its_tokens(client, network, db_session):
    admin = network["district_admin"]
    system = factories.OAuthClientFactory(organization=network.district, role_ceiling=Role.viewer)
    machine_token = issue(db_session, client=system)
    user_token = issue(db_session, client=system, user=network["district_viewer"].user, organization=network.district)
    db_session.expunge_all()
    assert client.get("/api/v1/me", headers=bearer(machine_token)).status_code == 200
    url = f"/api/v1/clients/{system.id}"

    assert_problem(client.delete(url, headers=admin.headers), 428)
    assert_problem(client.delete(url, headers=if_match(admin.headers, system.version + 1)), 412)
    assert fresh(db_session, system.id).is_active is True
    assert all(t.access_revoked_at is None for t in tokens_of(db_session, system.client_id))

    response = client.delete(url, headers=if_match(admin.headers, system.version))

    assert response.status_code == 204
    stored = fresh(db_session, system.id)
    assert stored.is_active is False
    assert client.get(url, headers=admin.headers).get_json()["is_active"] is False
    revoked = tokens_of(db_session, system.client_id)
    assert len(revoked) == 2
    assert all(t.access_revoked_at is not None and t.refresh_revoked_at is not None for t in revoked)
    for token in (machine_token, user_token):
        assert_problem(client.get("/api/v1/me", headers=bearer(token)), 401)
    # Tokens of the organization's other clients are untouched.
    assert all(t.access_revoked_at is None for t in tokens_of(db_session, admin.client.client_id))
    assert client.get("/api/v1/me", headers=admin.headers).status_code == 200

    # Even switched back on behind the API's back, the client's old tokens stay revoked.
    row = db_session.get(OAuthClient, system.id)
    row.is_active = True
    db_session.commit()
    db_session.expunge_all()
    assert_problem(client.get("/api/v1/me", headers=bearer(machine_token)), 401)

    record = db_session.scalars(
        select(AuditRecord).where(AuditRecord.action == "oauth_client.deactivated", AuditRecord.object_id == str(system.id))
    ).one()
    assert record.changes == {"is_active": {"before": True, "after": False}}


def test_deactivated_clients_cannot_obtain_tokens(client, network):
    admin = network["district_admin"]
    body = register(client, admin, **CONFIDENTIAL).get_json()
    assert client.delete(f"/api/v1/clients/{body['id']}", headers=if_match(admin.headers, 1)).status_code == 204
    assert client_credentials_token(client, body["client_id"], body["client_secret"]).status_code in (400, 401)


# --- update ---------------------------------------------------------------------------------


def test_update_a_client_with_if_match(client, network, db_session):
    admin = network["district_admin"]
    body = register(client, admin, **PUBLIC).get_json()
    url = f"/api/v1/clients/{body['id']}"
    change = {
        "name": "Renamed app",
        "redirect_uris": ["https://new.example.org/cb"],
        "scopes": ["users:read", "organizations:read"],
    }

    assert_problem(client.patch(url, json=change, headers=admin.headers), 428)
    assert_problem(client.patch(url, json=change, headers=if_match(admin.headers, 7)), 412)
    assert fresh(db_session, uuid.UUID(body["id"])).name == PUBLIC["name"]

    response = client.patch(url, json=change, headers=if_match(admin.headers, body["version"]))

    assert response.status_code == 200
    updated = response.get_json()
    assert updated["name"] == "Renamed app"
    assert updated["redirect_uris"] == ["https://new.example.org/cb"]
    assert updated["scopes"] == ["organizations:read", "users:read"]
    assert updated["version"] == body["version"] + 1
    assert response.headers["ETag"] == f'"{updated["version"]}"'
    stored = fresh(db_session, uuid.UUID(body["id"]))
    assert stored.scope == "organizations:read users:read" and stored.redirect_uris == ["https://new.example.org/cb"]
    # The ETag of the first version is stale now.
    assert_problem(client.patch(url, json={"name": "Again"}, headers=if_match(admin.headers, body["version"])), 412)

    record = db_session.scalars(
        select(AuditRecord).where(AuditRecord.action == "oauth_client.updated", AuditRecord.object_id == body["id"])
    ).one()
    assert record.changes["name"] == {"before": PUBLIC["name"], "after": "Renamed app"}


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"redirect_uris": []}, 422),  # authorization_code needs one
        ({"redirect_uris": ["https://app.example.org/cb#x"]}, 422),
        ({"scopes": ["nope:read"]}, 422),
        ({"role_ceiling": "network_admin"}, 403),
        ({"grant_types": ["client_credentials"]}, 422),  # not changeable after registration
        ({"is_active": True}, 422),  # deactivation is DELETE
        ({"client_secret": "mine"}, 422),
    ],
)
def test_unacceptable_updates(client, network, db_session, change, status):
    admin = network["district_admin"]
    body = register(client, admin, **PUBLIC).get_json()

    assert_problem(
        client.patch(f"/api/v1/clients/{body['id']}", json=change, headers=if_match(admin.headers, body["version"])), status
    )

    stored = fresh(db_session, uuid.UUID(body["id"]))
    assert stored.version == body["version"] and stored.redirect_uris == PUBLIC["redirect_uris"]
    assert stored.role_ceiling is Role.viewer and stored.scope == "organizations:read"


# --- another organization's clients ---------------------------------------------------------


def test_another_organizations_client_is_404_everywhere(client, network, db_session):
    owner = network["district_admin"]
    body = register(client, owner, **CONFIDENTIAL).get_json()
    url = f"/api/v1/clients/{body['id']}"
    intruder = network["city_admin"]

    assert_problem(client.get(url, headers=intruder.headers), 404)
    assert_problem(client.patch(url, json={"name": "Mine now"}, headers=if_match(intruder.headers, body["version"])), 404)
    assert_problem(client.delete(url, headers=if_match(intruder.headers, body["version"])), 404)
    assert_problem(client.post(f"{url}/secret", headers=intruder.headers), 404)
    # Same answer as for a client that does not exist at all.
    missing = client.get(f"/api/v1/clients/{uuid.uuid4()}", headers=intruder.headers)
    assert missing.status_code == 404
    assert client.get(url, headers=intruder.headers).get_json()["detail"] == missing.get_json()["detail"]

    stored = fresh(db_session, uuid.UUID(body["id"]))
    assert stored.version == body["version"] and stored.is_active and stored.name == CONFIDENTIAL["name"]
    assert stored.client_secret_hash == token_hash(body["client_secret"])


def test_a_viewer_reads_but_cannot_change_own_organizations_clients(client, network, db_session):
    viewer = network["district_viewer"]
    target = network["district_admin"].client

    assert client.get(f"/api/v1/clients/{target.id}", headers=viewer.headers).status_code == 200
    response = client.patch(f"/api/v1/clients/{target.id}", json={"name": "x"}, headers=if_match(viewer.headers, target.version))
    assert_problem(response, 403)
    assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]
    assert fresh(db_session, target.id).version == target.version


# --- lists ----------------------------------------------------------------------------------


def _listed(client, actor, query: str = "") -> set[str]:
    response = client.get(f"/api/v1/clients?limit=200{query}", headers=actor.headers)
    assert response.status_code == 200
    body = response.get_json()
    assert body["next_cursor"] is None
    return {item["id"] for item in body["items"]}


def test_list_shows_only_the_own_organizations_clients(client, network, db_session):
    district_clients = {str(network[n].client.id) for n in ("district_admin", "district_coordinator", "district_viewer")}
    city_clients = {str(network["city_admin"].client.id)}

    assert _listed(client, network["district_viewer"]) == district_clients
    assert _listed(client, network["city_admin"]) == city_clients
    # Filtering by another organization does not widen what a non-admin sees.
    assert _listed(client, network["city_admin"], f"&organization_id={network.district.id}") == set()


def test_network_admin_lists_every_client_and_filters(client, network, db_session):
    admin = network["network_admin"]
    every = {str(actor.client.id) for actor in network.actors.values()}
    assert every <= _listed(client, admin)
    assert _listed(client, admin, f"&organization_id={network.district.id}") == {
        str(network[n].client.id) for n in ("district_admin", "district_coordinator", "district_viewer")
    }

    body = register(client, network["cbo_admin"], **CONFIDENTIAL).get_json()
    assert client.delete(f"/api/v1/clients/{body['id']}", headers=if_match(network["cbo_admin"].headers, 1)).status_code == 204
    assert _listed(client, admin, f"&organization_id={network.cbo.id}&is_active=false") == {body["id"]}
    assert body["id"] not in _listed(client, admin, f"&organization_id={network.cbo.id}&is_active=true")


def test_list_pages_with_a_cursor(client, network):
    admin = network["cbo_admin"]
    for n in range(3):
        assert register(client, admin, **{**CONFIDENTIAL, "name": f"System {n}"}).status_code == 201
    seen, cursor = [], None
    while True:
        query = "?limit=2" + (f"&cursor={cursor}" if cursor else "")
        body = client.get(f"/api/v1/clients{query}", headers=admin.headers).get_json()
        seen += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 5  # 3 new + the two actors' clients of the CBO
