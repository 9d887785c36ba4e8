"""Users, memberships and invitations: /api/v1/me, /users, /organizations/{id}/memberships,
/memberships/{id}, and the invitation lifecycle (cbs_network.identity.service)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from cbs_network.audit.models import AuditRecord
from cbs_network.core.db import utcnow
from cbs_network.core.errors import NotFound, ValidationFailed
from cbs_network.identity import service
from cbs_network.identity.models import Membership, User
from cbs_network.identity.passwords import MIN_LENGTH, verify_password
from cbs_network.identity.roles import ROLE_SCOPES, Role
from cbs_network.oauth.models import OAuthToken, token_hash
from cbs_network.organizations.models import OrganizationKind

from . import factories
from .helpers import assert_problem, bearer, if_match

NEW_PASSWORD = "a long and unguessable passphrase"


# --- helpers ------------------------------------------------------------------------------


def _load(db_session, query, *, detach: bool):
    row = db_session.scalars(query.execution_options(populate_existing=True)).one_or_none()
    if row is not None and detach:
        # A snapshot: a later request that fails must not expire it under the test's feet.
        db_session.expunge(row)
    return row


def fresh(db_session, model, object_id, *, detach: bool = True):
    """The row as the database holds it now (not a cached identity)."""
    return _load(db_session, select(model).where(model.id == object_id), detach=detach)


def membership_of(db_session, user, organization) -> Membership | None:
    return _load(
        db_session,
        select(Membership).where(Membership.user_id == user.id, Membership.organization_id == organization.id),
        detach=True,
    )


def token_row(db_session, plaintext: str, *, detach: bool = True) -> OAuthToken:
    row = _load(db_session, select(OAuthToken).where(OAuthToken.access_token_hash == token_hash(plaintext)), detach=detach)
    assert row is not None
    return row


def issue(db_session, **kwargs) -> str:
    """A committed token: a request that fails (and rolls back) must not take it along."""
    token = factories.issue_token(db_session, **kwargs)
    db_session.commit()
    return token


def invite(client, actor, organization, **body):
    return client.post(f"/api/v1/organizations/{organization.id}/memberships", json=body, headers=actor.headers)


def invitation_token(url: str) -> str:
    return parse_qs(urlsplit(url).query)["token"][0]


def audit_records(db_session, **where) -> list[AuditRecord]:
    query = select(AuditRecord).order_by(AuditRecord.created_at, AuditRecord.id)
    for name, value in where.items():
        query = query.where(getattr(AuditRecord, name) == value)
    return list(db_session.scalars(query.execution_options(populate_existing=True)))


# --- /me ----------------------------------------------------------------------------------


def test_me_for_a_user_token(client, network, db_session):
    actor = network["district_coordinator"]
    # The same person also belongs to the city; the token acts for the district only.
    factories.MembershipFactory(user=actor.user, organization=network.city, role=Role.viewer)

    response = client.get("/api/v1/me", headers=actor.headers)

    assert response.status_code == 200
    body = response.get_json()
    assert body["user"]["id"] == str(actor.user.id)
    assert body["user"]["email"] == actor.user.email
    assert body["user"]["is_invited"] is False
    assert "password_hash" not in body["user"]
    assert body["client_id"] == actor.client.client_id
    assert body["organization"] == {
        "id": str(network.district.id),
        "name": network.district.name,
        "kind": "school_district",
    }
    assert body["role"] == "coordinator"
    # The token was granted every scope; the coordinator role drops the write scopes.
    assert body["scopes"] == sorted(ROLE_SCOPES[Role.coordinator])
    assert "users:write" not in body["scopes"]
    assert sorted((m["organization"]["id"], m["role"]) for m in body["memberships"]) == sorted(
        [(str(network.district.id), "coordinator"), (str(network.city.id), "viewer")]
    )


def test_me_for_a_client_credentials_token(client, network, db_session):
    system = factories.OAuthClientFactory(organization=network.cbo, role_ceiling=Role.coordinator)
    token = issue(db_session, client=system, scopes=["organizations:read", "users:write"])

    response = client.get("/api/v1/me", headers=bearer(token))

    assert response.status_code == 200
    body = response.get_json()
    assert body["user"] is None
    assert body["memberships"] == []
    assert body["client_id"] == system.client_id
    assert body["organization"]["id"] == str(network.cbo.id)
    assert body["role"] == "coordinator"  # a client-credentials token acts with the client's ceiling
    assert body["scopes"] == ["organizations:read"]  # users:write is beyond a coordinator


def test_me_with_a_user_role_capped_by_the_client_ceiling(client, network, db_session):
    capped = factories.OAuthClientFactory(organization=network.district, role_ceiling=Role.viewer)
    admin = network["district_admin"]
    token = issue(db_session, client=capped, user=admin.user, organization=network.district)

    body = client.get("/api/v1/me", headers=bearer(token)).get_json()

    assert body["role"] == "viewer"
    assert "users:write" not in body["scopes"]
    assert (
        client.post(
            f"/api/v1/organizations/{network.district.id}/memberships",
            json={"email": "capped@example.org", "name": "Capped", "role": "viewer"},
            headers=bearer(token),
        ).status_code
        == 403
    )


@pytest.mark.parametrize("kind", ["garbage", "expired", "revoked"])
def test_me_with_an_unusable_token_is_401_invalid_token(client, network, db_session, kind):
    actor = network["cbo_caseworker"]
    if kind == "garbage":
        token = "not-a-token-the-hub-issued"
    elif kind == "expired":
        token = issue(db_session, client=actor.client, user=actor.user, expires_in=0)
    else:
        token = actor.token
        token_row(db_session, token, detach=False).access_revoked_at = utcnow()
        db_session.commit()

    response = client.get("/api/v1/me", headers=bearer(token))

    assert_problem(response, 401)
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


# --- users ------------------------------------------------------------------------------


def test_list_users_shows_the_own_organization_only(client, network):
    response = client.get("/api/v1/users?limit=200", headers=network["district_viewer"].headers)

    assert response.status_code == 200
    body = response.get_json()
    ids = {item["id"] for item in body["items"]}
    district_users = {str(network[n].user.id) for n in ("district_admin", "district_coordinator", "district_viewer")}
    assert ids == district_users
    assert body["next_cursor"] is None


def test_network_admin_lists_every_user_and_filters_by_email(client, network):
    admin = network["network_admin"]
    everyone = {item["id"] for item in client.get("/api/v1/users?limit=200", headers=admin.headers).get_json()["items"]}
    assert {str(actor.user.id) for actor in network.actors.values()} <= everyone

    target = network["cbo_caseworker"].user
    response = client.get(f"/api/v1/users?email={target.email.upper()}", headers=admin.headers)
    assert [item["id"] for item in response.get_json()["items"]] == [str(target.id)]


def test_get_user_of_another_organization_is_404(client, network):
    target = network["district_coordinator"].user

    own = client.get(f"/api/v1/users/{target.id}", headers=network["district_viewer"].headers)
    assert own.status_code == 200
    assert own.headers["ETag"] == f'"{target.version}"'

    assert_problem(client.get(f"/api/v1/users/{target.id}", headers=network["city_admin"].headers), 404)


def test_user_renames_themselves_with_if_match(client, network, db_session):
    actor = network["district_admin"]
    url = f"/api/v1/users/{actor.user.id}"
    etag = client.get(url, headers=actor.headers).headers["ETag"]

    assert_problem(client.patch(url, json={"name": "Renamed"}, headers=actor.headers), 428)
    assert_problem(client.patch(url, json={"name": "Renamed"}, headers=if_match(actor.headers, 99)), 412)
    assert fresh(db_session, User, actor.user.id).name != "Renamed"

    response = client.patch(url, json={"name": "Renamed"}, headers={**actor.headers, "If-Match": etag})
    assert response.status_code == 200
    assert response.get_json()["name"] == "Renamed"
    assert response.headers["ETag"] == f'"{actor.user.version + 1}"'
    assert fresh(db_session, User, actor.user.id).name == "Renamed"
    # the old ETag is now stale
    assert_problem(client.patch(url, json={"name": "Again"}, headers={**actor.headers, "If-Match": etag}), 412)


def test_org_admin_cannot_rename_another_user(client, network, db_session):
    target = network["district_coordinator"].user
    response = client.patch(
        f"/api/v1/users/{target.id}",
        json={"name": "Not yours"},
        headers=if_match(network["district_admin"].headers, target.version),
    )
    assert_problem(response, 403)
    assert fresh(db_session, User, target.id).name == target.name


def test_network_admin_deactivation_revokes_the_users_tokens(client, network, db_session):
    target = network["district_coordinator"]
    other_token = issue(db_session, client=target.client, user=target.user)
    assert client.get("/api/v1/me", headers=target.headers).status_code == 200

    response = client.patch(
        f"/api/v1/users/{target.user.id}",
        json={"is_active": False},
        headers=if_match(network["network_admin"].headers, target.user.version),
    )

    assert response.status_code == 200
    assert response.get_json()["is_active"] is False
    assert fresh(db_session, User, target.user.id).is_active is False
    for plaintext in (target.token, other_token):
        row = token_row(db_session, plaintext)
        assert row.access_revoked_at is not None and row.refresh_revoked_at is not None
    assert_problem(client.get("/api/v1/me", headers=target.headers), 401)
    # Other users' tokens are untouched.
    assert token_row(db_session, network["district_viewer"].token).access_revoked_at is None

    # Reactivation does not bring the revoked tokens back.
    version = fresh(db_session, User, target.user.id).version
    reactivated = client.patch(
        f"/api/v1/users/{target.user.id}", json={"is_active": True}, headers=if_match(network["network_admin"].headers, version)
    )
    assert reactivated.status_code == 200
    assert_problem(client.get("/api/v1/me", headers=target.headers), 401)

    record = audit_records(db_session, action="user.updated", object_id=str(target.user.id))[0]
    assert record.changes == {"is_active": {"before": True, "after": False}}
    assert record.actor_user_id == network["network_admin"].user.id


@pytest.mark.parametrize("who", ["district_admin", "city_admin"])
def test_only_network_admins_deactivate_users(client, network, db_session, who):
    target = network["district_coordinator"]
    response = client.patch(
        f"/api/v1/users/{target.user.id}", json={"is_active": False}, headers=if_match(network[who].headers, target.user.version)
    )

    assert_problem(response, 403 if who == "district_admin" else 404)
    user = fresh(db_session, User, target.user.id)
    assert user.is_active is True and user.version == target.user.version
    assert token_row(db_session, target.token).access_revoked_at is None
    assert client.get("/api/v1/me", headers=target.headers).status_code == 200


# --- invitations ----------------------------------------------------------------------------


def test_invite_a_new_email_creates_an_invited_user(client, network, db_session, app):
    admin = network["district_admin"]
    before = utcnow()

    response = invite(client, admin, network.district, email="Ana.Reyes@Example.ORG", name="Ana Reyes", role="coordinator")

    assert response.status_code == 201
    body = response.get_json()
    assert response.headers["Location"].endswith(f"/api/v1/memberships/{body['id']}")
    assert response.headers["ETag"] == '"1"'
    assert body["role"] == "coordinator"
    assert body["organization"]["id"] == str(network.district.id)
    assert body["user"]["email"] == "ana.reyes@example.org"
    assert body["user"]["is_invited"] is True
    public_url = app.config["CBS_SETTINGS"].public_url
    assert body["invitation_url"].startswith(f"{public_url}/account/activate?token=")
    token = invitation_token(body["invitation_url"])
    assert len(token) >= 32
    expires = datetime.fromisoformat(body["invitation_expires_at"])
    assert before + timedelta(days=6, hours=23) < expires <= utcnow() + service.INVITATION_TTL

    user = fresh(db_session, User, uuid.UUID(body["user"]["id"]))
    assert user.password_hash is None and user.is_invited
    assert user.invitation_token_hash == token_hash(token)  # stored hashed, never in clear
    assert membership_of(db_session, user, network.district).role is Role.coordinator

    # The Location works, and the link is not shown again.
    again = client.get(response.headers["Location"], headers=admin.headers)
    assert again.status_code == 200
    assert "invitation_url" not in again.get_json()
    assert token not in again.get_data(as_text=True)


def test_accepting_an_invitation_sets_the_password_once(client, network, db_session):
    body = invite(
        client, network["district_admin"], network.district, email="new.person@example.org", name="New Person", role="viewer"
    ).get_json()
    token = invitation_token(body["invitation_url"])

    user = service.accept_invitation(session=db_session, token=token, password=NEW_PASSWORD)

    assert user.id == uuid.UUID(body["user"]["id"])
    stored = fresh(db_session, User, user.id)
    assert verify_password(stored.password_hash, NEW_PASSWORD)
    assert not stored.is_invited
    assert stored.invitation_token_hash is None and stored.invitation_expires_at is None
    with pytest.raises(NotFound):
        service.accept_invitation(session=db_session, token=token, password="another long passphrase")
    assert verify_password(fresh(db_session, User, user.id).password_hash, NEW_PASSWORD)


def test_a_too_short_password_is_rejected_and_the_link_still_works(client, network, db_session):
    body = invite(
        client, network["district_admin"], network.district, email="short.pw@example.org", name="Short Password", role="viewer"
    ).get_json()
    token = invitation_token(body["invitation_url"])

    with pytest.raises(ValidationFailed) as error:
        service.accept_invitation(session=db_session, token=token, password="x" * (MIN_LENGTH - 1))
    assert "password" in error.value.errors["form"]
    with pytest.raises(ValidationFailed):
        service.accept_invitation(session=db_session, token=token, password="Short.PW@example.org")  # the email
    assert fresh(db_session, User, uuid.UUID(body["user"]["id"])).password_hash is None

    user = service.accept_invitation(session=db_session, token=token, password="x" * MIN_LENGTH)
    assert verify_password(user.password_hash, "x" * MIN_LENGTH)


def test_an_expired_invitation_is_rejected(client, network, db_session):
    body = invite(
        client, network["district_admin"], network.district, email="late@example.org", name="Late Comer", role="viewer"
    ).get_json()
    token = invitation_token(body["invitation_url"])
    user = fresh(db_session, User, uuid.UUID(body["user"]["id"]), detach=False)
    user.invitation_expires_at = utcnow() - timedelta(seconds=1)
    db_session.commit()

    with pytest.raises(NotFound):
        service.accept_invitation(session=db_session, token=token, password=NEW_PASSWORD)
    assert fresh(db_session, User, user.id).password_hash is None


def test_a_deactivated_user_cannot_accept_an_invitation(client, network, db_session):
    body = invite(
        client, network["district_admin"], network.district, email="gone@example.org", name="Gone Person", role="viewer"
    ).get_json()
    user = fresh(db_session, User, uuid.UUID(body["user"]["id"]), detach=False)
    user.is_active = False
    db_session.commit()

    with pytest.raises(NotFound):
        service.accept_invitation(session=db_session, token=invitation_token(body["invitation_url"]), password=NEW_PASSWORD)


def test_inviting_an_existing_user_adds_a_membership(client, network, db_session):
    existing = network["city_admin"].user
    password_hash = existing.password_hash

    response = invite(client, network["district_admin"], network.district, email=existing.email.upper(), role="viewer")

    assert response.status_code == 201
    body = response.get_json()
    assert body["user"]["id"] == str(existing.id)
    assert body["status"] == "pending"
    assert body["invitation_url"] is None and body["invitation_expires_at"] is None
    user = fresh(db_session, User, existing.id)
    assert user.password_hash == password_hash and user.invitation_token_hash is None
    assert set(db_session.scalars(select(Membership.organization_id).where(Membership.user_id == existing.id))) == {
        network.city.id,
        network.district.id,
    }
    assert db_session.scalar(select(func.count()).select_from(User).where(User.email == existing.email)) == 1


def test_inviting_an_existing_member_is_409(client, network, db_session):
    member = network["district_viewer"].user

    assert_problem(invite(client, network["district_admin"], network.district, email=member.email, role="coordinator"), 409)

    assert membership_of(db_session, member, network.district).role is Role.viewer
    assert db_session.scalar(select(func.count()).select_from(Membership).where(Membership.user_id == member.id)) == 1


def test_a_new_email_needs_a_name(client, network, db_session):
    body = assert_problem(
        invite(client, network["district_admin"], network.district, email="nameless@example.org", role="viewer"), 422
    )

    assert "name" in body["errors"]["json"]
    assert db_session.scalar(select(User).where(User.email == "nameless@example.org")) is None


def test_invite_validates_its_body(client, network):
    body = assert_problem(invite(client, network["district_admin"], network.district, email="not-an-email", role="boss"), 422)
    assert {"email", "role"} <= set(body["errors"]["json"])


def test_an_org_admin_cannot_grant_network_admin(client, network, db_session):
    admin = network["district_admin"]
    assert_problem(invite(client, admin, network.district, email="power@example.org", name="Power", role="network_admin"), 403)
    assert db_session.scalar(select(User).where(User.email == "power@example.org")) is None

    target = network["district_coordinator"].user
    membership = membership_of(db_session, target, network.district)
    assert_problem(
        client.patch(
            f"/api/v1/memberships/{membership.id}",
            json={"role": "network_admin"},
            headers=if_match(admin.headers, membership.version),
        ),
        403,
    )
    assert membership_of(db_session, target, network.district).role is Role.coordinator


def test_network_admin_is_a_role_of_the_hub_organization_only(client, network, db_session):
    admin = network["network_admin"]

    body = assert_problem(
        invite(client, admin, network.district, email="power@example.org", name="Power", role="network_admin"), 422
    )
    assert "role" in body["errors"]["json"]
    assert db_session.scalar(select(User).where(User.email == "power@example.org")) is None

    assert network.hub.kind is OrganizationKind.network_hub
    response = invite(client, admin, network.hub, email="power@example.org", name="Power", role="network_admin")
    assert response.status_code == 201
    assert response.get_json()["role"] == "network_admin"


def test_a_coordinator_cannot_invite(client, network, db_session):
    coordinator = network["district_coordinator"]  # its token carries users:write; the role does not

    response = invite(client, coordinator, network.district, email="x@example.org", name="X", role="viewer")

    assert_problem(response, 403)
    assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]
    assert db_session.scalar(select(User).where(User.email == "x@example.org")) is None


def test_an_admin_cannot_invite_into_another_organization(client, network, db_session):
    # The organization is in the public directory (visible), so this is 403, not 404.
    assert_problem(invite(client, network["city_admin"], network.district, email="x@example.org", name="X", role="viewer"), 403)
    assert_problem(
        invite(client, network["city_admin"], network.district, email=network["city_admin"].user.email, role="org_admin"), 403
    )
    assert_problem(
        invite(
            client, network["city_admin"], factories.OrganizationFactory.build(), email="x@example.org", name="X", role="viewer"
        ),
        404,
    )
    assert db_session.scalar(select(User).where(User.email == "x@example.org")) is None
    assert membership_of(db_session, network["city_admin"].user, network.district) is None


# --- memberships ------------------------------------------------------------------------------


def test_list_memberships_of_own_organization(client, network):
    viewer = network["district_viewer"]
    response = client.get(f"/api/v1/organizations/{network.district.id}/memberships", headers=viewer.headers)

    assert response.status_code == 200
    items = response.get_json()["items"]
    assert sorted((i["user"]["id"], i["role"]) for i in items) == sorted(
        (str(network[n].user.id), network[n].role.value) for n in ("district_admin", "district_coordinator", "district_viewer")
    )
    assert all(i["organization"]["id"] == str(network.district.id) for i in items)

    admins = client.get(f"/api/v1/organizations/{network.district.id}/memberships?role=org_admin", headers=viewer.headers)
    assert [i["user"]["id"] for i in admins.get_json()["items"]] == [str(network["district_admin"].user.id)]

    assert_problem(client.get(f"/api/v1/organizations/{network.city.id}/memberships", headers=viewer.headers), 404)
    everyone = client.get(f"/api/v1/organizations/{network.city.id}/memberships", headers=network["network_admin"].headers)
    assert [i["user"]["id"] for i in everyone.get_json()["items"]] == [str(network["city_admin"].user.id)]


def test_change_a_role_with_if_match(client, network, db_session):
    admin = network["district_admin"]
    target = network["district_coordinator"]
    membership = membership_of(db_session, target.user, network.district)
    url = f"/api/v1/memberships/{membership.id}"
    etag = client.get(url, headers=admin.headers).headers["ETag"]
    assert etag == f'"{membership.version}"'

    assert_problem(client.patch(url, json={"role": "viewer"}, headers=admin.headers), 428)
    assert_problem(client.patch(url, json={"role": "viewer"}, headers=if_match(admin.headers, membership.version + 1)), 412)
    assert membership_of(db_session, target.user, network.district).role is Role.coordinator

    response = client.patch(url, json={"role": "viewer"}, headers={**admin.headers, "If-Match": etag})
    assert response.status_code == 200
    assert response.get_json()["role"] == "viewer"
    assert response.headers["ETag"] == f'"{membership.version + 1}"'
    assert membership_of(db_session, target.user, network.district).role is Role.viewer
    # The member's token now acts with the new role.
    assert client.get("/api/v1/me", headers=target.headers).get_json()["role"] == "viewer"
    # The ETag read before the change is stale now.
    assert_problem(client.patch(url, json={"role": "coordinator"}, headers={**admin.headers, "If-Match": etag}), 412)

    record = audit_records(db_session, action="membership.updated", object_id=str(membership.id))[0]
    assert record.changes == {"role": {"before": "coordinator", "after": "viewer"}}


def test_a_coordinator_cannot_change_roles(client, network, db_session):
    membership = membership_of(db_session, network["district_viewer"].user, network.district)
    response = client.patch(
        f"/api/v1/memberships/{membership.id}",
        json={"role": "org_admin"},
        headers=if_match(network["district_coordinator"].headers, membership.version),
    )
    assert_problem(response, 403)
    assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]
    assert membership_of(db_session, network["district_viewer"].user, network.district).role is Role.viewer


def test_the_last_admin_cannot_be_demoted(client, network, db_session):
    admin = network["district_admin"]
    membership = membership_of(db_session, admin.user, network.district)
    url = f"/api/v1/memberships/{membership.id}"

    assert_problem(client.patch(url, json={"role": "coordinator"}, headers=if_match(admin.headers, membership.version)), 409)
    assert_problem(
        client.patch(url, json={"role": "coordinator"}, headers=if_match(network["network_admin"].headers, membership.version)),
        409,
    )
    assert membership_of(db_session, admin.user, network.district).role is Role.org_admin

    # With a second admin appointed, the first may step down.
    second = membership_of(db_session, network["district_coordinator"].user, network.district)
    assert (
        client.patch(
            f"/api/v1/memberships/{second.id}", json={"role": "org_admin"}, headers=if_match(admin.headers, second.version)
        ).status_code
        == 200
    )
    response = client.patch(url, json={"role": "coordinator"}, headers=if_match(admin.headers, membership.version))
    assert response.status_code == 200
    assert membership_of(db_session, admin.user, network.district).role is Role.coordinator


def test_the_last_admin_cannot_be_removed(client, network, db_session):
    admin = network["district_admin"]
    membership = membership_of(db_session, admin.user, network.district)

    assert_problem(
        client.delete(
            f"/api/v1/memberships/{membership.id}", headers=if_match(network["network_admin"].headers, membership.version)
        ),
        409,
    )

    assert membership_of(db_session, admin.user, network.district) is not None
    assert token_row(db_session, admin.token).access_revoked_at is None


def test_removing_a_membership_revokes_the_users_tokens_for_that_organization(client, network, db_session):
    admin = network["district_admin"]
    member = network["district_coordinator"]
    # The member also works for the city, with a token acting there (through a network-wide client).
    factories.MembershipFactory(user=member.user, organization=network.city, role=Role.viewer)
    explorer = factories.OAuthClientFactory(organization=network.hub, network_wide=True)
    city_token = issue(db_session, client=explorer, user=member.user, organization=network.city)
    db_session.expunge_all()
    membership = membership_of(db_session, member.user, network.district)
    url = f"/api/v1/memberships/{membership.id}"

    assert_problem(client.delete(url, headers=admin.headers), 428)
    assert_problem(client.delete(url, headers=if_match(admin.headers, membership.version + 1)), 412)
    assert membership_of(db_session, member.user, network.district) is not None

    response = client.delete(url, headers=if_match(admin.headers, membership.version))

    assert response.status_code == 204
    assert membership_of(db_session, member.user, network.district) is None
    assert token_row(db_session, member.token).access_revoked_at is not None
    assert token_row(db_session, city_token).access_revoked_at is None
    assert_problem(client.get("/api/v1/me", headers=member.headers), 401)
    assert client.get("/api/v1/me", headers=bearer(city_token)).status_code == 200
    assert_problem(client.get(url, headers=admin.headers), 404)

    # Re-adding the member does not revive the token issued before the removal.
    assert invite(client, admin, network.district, email=member.user.email, role="viewer").status_code == 201
    assert_problem(client.get("/api/v1/me", headers=member.headers), 401)

    record = audit_records(db_session, action="membership.deleted", object_id=str(membership.id))[0]
    assert record.changes["role"] == {"before": "coordinator", "after": None}


def test_only_admins_remove_members(client, network, db_session):
    membership = membership_of(db_session, network["district_viewer"].user, network.district)
    response = client.delete(
        f"/api/v1/memberships/{membership.id}", headers=if_match(network["district_coordinator"].headers, membership.version)
    )
    assert_problem(response, 403)
    assert membership_of(db_session, network["district_viewer"].user, network.district) is not None


def test_a_member_sees_their_own_membership_in_another_organization(client, network, db_session):
    member = network["district_coordinator"]
    city_membership = factories.MembershipFactory(user=member.user, organization=network.city, role=Role.viewer)
    db_session.expunge_all()

    assert client.get(f"/api/v1/memberships/{city_membership.id}", headers=member.headers).status_code == 200
    assert_problem(client.get(f"/api/v1/memberships/{city_membership.id}", headers=network["district_viewer"].headers), 404)
    # The district's admin cannot see, let alone change, the member's role at the city.
    assert_problem(
        client.patch(
            f"/api/v1/memberships/{city_membership.id}",
            json={"role": "viewer"},
            headers=if_match(network["district_admin"].headers, city_membership.version),
        ),
        404,
    )
    assert membership_of(db_session, member.user, network.city).role is Role.viewer


# --- invitation reissue -----------------------------------------------------------------------


def test_reissue_an_invitation(client, network, db_session):
    admin = network["district_admin"]
    body = invite(client, admin, network.district, email="slow@example.org", name="Slow Reader", role="viewer").get_json()
    old_token = invitation_token(body["invitation_url"])
    user_id = body["user"]["id"]

    response = client.post(f"/api/v1/users/{user_id}/invitation", headers=admin.headers)

    assert response.status_code == 201
    assert response.headers["Location"].endswith(f"/api/v1/users/{user_id}")
    new_token = invitation_token(response.get_json()["invitation_url"])
    assert new_token != old_token
    assert fresh(db_session, User, uuid.UUID(user_id)).invitation_token_hash == token_hash(new_token)
    with pytest.raises(NotFound):
        service.accept_invitation(session=db_session, token=old_token, password=NEW_PASSWORD)
    service.accept_invitation(session=db_session, token=new_token, password=NEW_PASSWORD)

    # Once the password is set there is nothing to reissue.
    assert_problem(client.post(f"/api/v1/users/{user_id}/invitation", headers=admin.headers), 409)


def test_reissue_is_only_for_invited_users(client, network, db_session):
    target = network["district_viewer"].user
    db_session.get(User, target.id).created_by_organization_id = network.district.id
    db_session.commit()
    assert_problem(client.post(f"/api/v1/users/{target.id}/invitation", headers=network["district_admin"].headers), 409)
    assert fresh(db_session, User, target.id).invitation_token_hash is None
    assert_problem(client.post(f"/api/v1/users/{target.id}/invitation", headers=network["city_admin"].headers), 404)


# --- audit ----------------------------------------------------------------------------------


def test_identity_writes_are_audited_without_secrets(client, network, db_session):
    admin = network["district_admin"]
    created = invite(
        client, admin, network.district, email="audited@example.org", name="Audited Person", role="viewer"
    ).get_json()
    user_id, membership_id = created["user"]["id"], created["id"]
    first_token = invitation_token(created["invitation_url"])
    reissued = client.post(f"/api/v1/users/{user_id}/invitation", headers=admin.headers).get_json()
    second_token = invitation_token(reissued["invitation_url"])
    assert (
        client.patch(
            f"/api/v1/memberships/{membership_id}", json={"role": "coordinator"}, headers=if_match(admin.headers, 1)
        ).status_code
        == 200
    )
    service.accept_invitation(session=db_session, token=second_token, password=NEW_PASSWORD)
    db_session.commit()
    user = fresh(db_session, User, uuid.UUID(user_id))
    assert (
        client.patch(
            f"/api/v1/users/{user_id}",
            json={"is_active": False},
            headers=if_match(network["network_admin"].headers, user.version),
        ).status_code
        == 200
    )
    assert client.delete(f"/api/v1/memberships/{membership_id}", headers=if_match(admin.headers, 2)).status_code == 204

    by_user = audit_records(db_session, object_type="user", object_id=user_id)
    by_membership = audit_records(db_session, object_type="membership", object_id=membership_id)
    assert [r.action for r in by_user] == ["user.invited", "user.reinvited", "user.activated", "user.updated"]
    assert [r.action for r in by_membership] == ["membership.created", "membership.updated", "membership.deleted"]

    invited = by_user[0]
    assert invited.actor_user_id == admin.user.id
    assert invited.actor_client_id == admin.client.client_id
    assert invited.organization_id == network.district.id
    assert invited.changes["email"] == {"before": None, "after": "audited@example.org"}
    assert by_user[2].actor_user_id is None  # the user activated their own account, without a token
    assert by_membership[0].changes["role"] == {"before": None, "after": "viewer"}
    assert by_membership[0].changes["user_id"]["after"] == user_id

    password_hash = user.password_hash
    dumped = json.dumps([r.changes for r in by_user + by_membership])
    for secret in (first_token, second_token, token_hash(first_token), token_hash(second_token), password_hash, NEW_PASSWORD):
        assert secret not in dumped
    assert "password" not in dumped and "invitation" not in dumped and "$argon2" not in dumped


def test_failed_writes_leave_no_audit_records(client, network, db_session):
    before = db_session.scalar(select(func.count()).select_from(AuditRecord))
    assert_problem(invite(client, network["district_admin"], network.district, email="nameless@example.org", role="viewer"), 422)
    membership = membership_of(db_session, network["district_admin"].user, network.district)
    assert_problem(
        client.patch(
            f"/api/v1/memberships/{membership.id}",
            json={"role": "viewer"},
            headers=if_match(network["district_admin"].headers, membership.version),
        ),
        409,
    )
    assert db_session.scalar(select(func.count()).select_from(AuditRecord)) == before


def test_an_admin_elsewhere_cannot_promote_or_remove_their_own_membership(client, network, db_session):
    """The city's admin is also a viewer at the district; acting for the city they see that
    membership (it is theirs) but may neither promote it nor remove it."""
    actor = network["city_admin"]
    own = factories.MembershipFactory(user=actor.user, organization=network.district, role=Role.viewer)
    db_session.expunge_all()
    url = f"/api/v1/memberships/{own.id}"

    assert client.get(url, headers=actor.headers).status_code == 200
    assert_problem(client.patch(url, json={"role": "org_admin"}, headers=if_match(actor.headers, own.version)), 403)
    assert_problem(client.delete(url, headers=if_match(actor.headers, own.version)), 403)

    stored = membership_of(db_session, actor.user, network.district)
    assert stored.role is Role.viewer and stored.version == own.version
    assert token_row(db_session, actor.token).access_revoked_at is None


# --- deactivated users ----------------------------------------------------------------------


def _deactivate(client, network, db_session, user_id):
    version = fresh(db_session, User, user_id).version
    response = client.patch(
        f"/api/v1/users/{user_id}", json={"is_active": False}, headers=if_match(network["network_admin"].headers, version)
    )
    assert response.status_code == 200


def test_a_deactivated_user_is_only_offered_a_membership_and_the_answer_tells_nothing(client, network, db_session):
    target = network["district_viewer"].user
    _deactivate(client, network, db_session, target.id)
    active_target = network["city_admin"].user  # another existing account, still active

    answers = [
        invite(client, network["city_admin"], network.city, email=user.email, role="viewer") for user in (target, active_target)
    ]

    assert [a.status_code for a in answers] == [201, 409]  # the city admin is already a member of the city
    body = answers[0].get_json()
    assert body["status"] == "pending"
    assert body["user"]["is_active"] is None and body["user"]["is_invited"] is None and body["user"]["last_login_at"] is None
    assert membership_of(db_session, target, network.city).status.value == "pending"


def test_no_new_invitation_link_for_a_deactivated_user(client, network, db_session):
    admin = network["district_admin"]
    body = invite(client, admin, network.district, email="gone@example.org", name="Gone Person", role="viewer").get_json()
    user_id = uuid.UUID(body["user"]["id"])
    _deactivate(client, network, db_session, user_id)
    assert_problem(client.post(f"/api/v1/users/{user_id}/invitation", headers=admin.headers), 409)


def test_an_unchanged_name_in_an_admins_patch_is_not_a_rename(client, network, db_session):
    target = fresh(db_session, User, network["district_viewer"].user.id)
    response = client.patch(
        f"/api/v1/users/{target.id}",
        json={"name": target.name},
        headers=if_match(network["district_admin"].headers, target.version),
    )
    assert response.status_code == 200
