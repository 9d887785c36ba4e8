"""An organization's admin cannot take over another organization's user (issue: invitation
takeover). Adding an existing account only offers it a pending membership that its owner
answers; only the organization that created an account (or network admins) manages its
activation; nothing of the account's sign-in facts reaches another organization."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from cbs_network.identity import service
from cbs_network.identity.models import Membership, MembershipStatus, User
from cbs_network.identity.roles import Role
from cbs_network.organizations.models import OrganizationKind

from . import factories
from .helpers import assert_problem, bearer
from .test_identity import NEW_PASSWORD, invitation_token, invite
from .test_oauth_pages import csrf_of, login


@pytest.fixture
def explorer(db_session, network):
    """The one public client every person signs in through: network-wide."""
    return factories.OAuthClientFactory(organization=network.hub, network_wide=True, role_ceiling=Role.network_admin)


def token_for(db_session, explorer, user: User, organization) -> dict[str, str]:
    return bearer(factories.issue_token(db_session, client=explorer, user=user, organization=organization))


def membership(db_session, user_id, organization) -> Membership | None:
    return db_session.scalars(
        select(Membership)
        .where(
            Membership.user_id == user_id,
            Membership.organization_id == organization.id,
        )
        .execution_options(populate_existing=True)
    ).one_or_none()


def test_the_reported_takeover_chain_is_closed(client, network, db_session, explorer):
    """The review's steps 1-3: the district invites a new hire; a CBO admin adds the same email,
    re-issues the activation link and sets the password. Each step now fails or grants nothing."""
    hired = invite(
        client, network["district_admin"], network.district, email="new.hire@lausd.example", name="New Hire", role="coordinator"
    ).get_json()
    user_id = uuid.UUID(hired["user"]["id"])
    district_link = invitation_token(hired["invitation_url"])

    added = invite(client, network["cbo_admin"], network.cbo, email="new.hire@lausd.example", role="viewer")

    assert added.status_code == 201
    body = added.get_json()
    assert body["status"] == "pending" and body["invitation_url"] is None
    # Nothing about the account: not whether it is activated, active, or when it signed in.
    assert body["user"]["is_invited"] is None and body["user"]["is_active"] is None
    assert body["user"]["last_login_at"] is None
    assert "organization" not in body["user"] and "memberships" not in body["user"]
    assert membership(db_session, user_id, network.cbo).status is MembershipStatus.pending

    # The CBO cannot re-issue the activation link of an account the district created ...
    problem = assert_problem(client.post(f"/api/v1/users/{user_id}/invitation", headers=network["cbo_admin"].headers), 403)
    assert "created this account" in problem["detail"]
    assert db_session.get(User, user_id).invitation_token_hash is not None  # the district's link is untouched
    # ... nor read its sign-in facts.
    seen = client.get(f"/api/v1/users/{user_id}", headers=network["cbo_admin"].headers).get_json()
    assert seen["is_invited"] is None and seen["last_login_at"] is None
    listed = client.get("/api/v1/users", headers=network["cbo_admin"].headers).get_json()["items"]
    assert [u["is_invited"] for u in listed if u["id"] == str(user_id)] == [None]

    # The district that created it still manages it, and the person activates through its link.
    assert client.get(f"/api/v1/users/{user_id}", headers=network["district_admin"].headers).get_json()["is_invited"] is True
    service.accept_invitation(session=db_session, token=district_link, password=NEW_PASSWORD)
    db_session.commit()

    # The pending CBO membership grants nothing until its owner accepts it.
    assert_problem(
        client.get("/api/v1/me", headers=token_for(db_session, explorer, db_session.get(User, user_id), network.cbo)), 401
    )


def test_a_pending_network_admin_invitee_cannot_be_taken_over(client, network, db_session):
    invited = invite(
        client, network["network_admin"], network.hub, email="next.admin@hub.example", name="Next Admin", role="network_admin"
    ).get_json()
    user_id = invited["user"]["id"]
    assert invite(client, network["cbo_admin"], network.cbo, email="next.admin@hub.example", role="viewer").status_code == 201

    assert_problem(client.post(f"/api/v1/users/{user_id}/invitation", headers=network["cbo_admin"].headers), 403)
    # Network admins may re-issue it.
    assert client.post(f"/api/v1/users/{user_id}/invitation", headers=network["network_admin"].headers).status_code == 201


def test_an_activation_link_never_resets_an_activated_account(client, network, db_session):
    body = invite(
        client, network["district_admin"], network.district, email="once@example.org", name="Once", role="viewer"
    ).get_json()
    token = invitation_token(body["invitation_url"])
    user = db_session.get(User, uuid.UUID(body["user"]["id"]))
    user.password_hash = "$argon2id$already-set"  # activated some other way; the link was left behind
    db_session.commit()

    with pytest.raises(service.NotFound):
        service.accept_invitation(session=db_session, token=token, password=NEW_PASSWORD)
    assert db_session.get(User, user.id).password_hash == "$argon2id$already-set"


def test_the_owner_accepts_a_pending_membership_through_the_api(client, network, db_session, explorer):
    person = network["city_admin"].user
    offered = invite(client, network["cbo_admin"], network.cbo, email=person.email, role="caseworker").get_json()
    cbo_token = token_for(db_session, explorer, person, network.cbo)
    city_token = token_for(db_session, explorer, person, network.city)
    assert_problem(client.get("/api/v1/me", headers=cbo_token), 401)

    # Only the person answers: not the CBO's admin, not another user.
    for headers in (network["cbo_admin"].headers, network["district_admin"].headers):
        assert_problem(client.post(f"/api/v1/memberships/{offered['id']}/accept", headers=headers), 404)
    me = client.get("/api/v1/me", headers=city_token).get_json()
    assert {(m["id"], m["status"]) for m in me["memberships"]} >= {(offered["id"], "pending")}

    accepted = client.post(f"/api/v1/memberships/{offered['id']}/accept", headers=city_token)

    assert accepted.status_code == 200 and accepted.get_json()["status"] == "active"
    assert client.get("/api/v1/me", headers=cbo_token).get_json()["role"] == "caseworker"
    assert_problem(client.post(f"/api/v1/memberships/{offered['id']}/accept", headers=city_token), 409)


def test_the_owner_declines_a_pending_membership(client, network, db_session, explorer):
    person = network["city_admin"].user
    offered = invite(client, network["cbo_admin"], network.cbo, email=person.email, role="viewer").get_json()
    city_token = token_for(db_session, explorer, person, network.city)

    assert client.post(f"/api/v1/memberships/{offered['id']}/decline", headers=city_token).status_code == 204

    assert membership(db_session, person.id, network.cbo) is None
    # An active membership cannot be "declined" that way.
    own = membership(db_session, person.id, network.city)
    assert_problem(client.post(f"/api/v1/memberships/{own.id}/decline", headers=city_token), 409)


def test_the_owner_answers_on_the_signed_in_page(client, network, db_session):
    person = factories.MembershipFactory(organization=network.city, role=Role.viewer).user
    offered = invite(client, network["cbo_admin"], network.cbo, email=person.email, role="viewer").get_json()
    declined = invite(client, network["district_admin"], network.district, email=person.email, role="viewer").get_json()
    login(client, person.email)

    page = client.get("/oauth/login")
    assert b"Invitations" in page.data and network.cbo.name.encode() in page.data
    csrf = csrf_of(page.data)

    assert client.post(f"/account/memberships/{offered['id']}", data={"decision": "accept"}).status_code == 400  # no CSRF
    assert (
        client.post(f"/account/memberships/{offered['id']}", data={"decision": "accept", "csrf_token": csrf}).status_code == 303
    )
    assert (
        client.post(f"/account/memberships/{declined['id']}", data={"decision": "decline", "csrf_token": csrf}).status_code == 303
    )

    assert membership(db_session, person.id, network.cbo).status is MembershipStatus.active
    assert membership(db_session, person.id, network.district) is None
    assert b"Invitations" not in client.get("/oauth/login").data


def test_someone_elses_offer_cannot_be_answered_on_the_page(client, network, db_session):
    offered = invite(client, network["cbo_admin"], network.cbo, email=network["city_admin"].user.email, role="viewer").get_json()
    intruder = factories.MembershipFactory(organization=network.city, role=Role.viewer).user
    login(client, intruder.email)
    csrf = csrf_of(client.get("/oauth/login").data)

    response = client.post(f"/account/memberships/{offered['id']}", data={"decision": "accept", "csrf_token": csrf})

    assert response.status_code == 404
    assert membership(db_session, network["city_admin"].user.id, network.cbo).status is MembershipStatus.pending


def test_an_account_the_organization_created_shows_its_sign_in_facts_to_it_only(client, network, db_session):
    body = invite(
        client, network["district_admin"], network.district, email="mine@example.org", name="Mine", role="viewer"
    ).get_json()
    user_id = body["user"]["id"]
    assert db_session.get(User, uuid.UUID(user_id)).created_by_organization_id == network.district.id

    ours = client.get(f"/api/v1/users/{user_id}", headers=network["district_admin"].headers).get_json()
    assert ours["is_invited"] is True and ours["is_active"] is True
    # A coordinator of the same organization reads the user but does not manage the account.
    theirs = client.get(f"/api/v1/users/{user_id}", headers=network["district_coordinator"].headers).get_json()
    assert theirs["email"] == "mine@example.org" and theirs["is_invited"] is None
    members = client.get(
        f"/api/v1/organizations/{network.district.id}/memberships", headers=network["district_coordinator"].headers
    ).get_json()["items"]
    others = [m["user"] for m in members if m["user"]["id"] != str(network["district_coordinator"].user.id)]
    assert others and all(u["last_login_at"] is None and u["is_invited"] is None for u in others)
    own = [m["user"] for m in members if m["user"]["id"] == str(network["district_coordinator"].user.id)]
    assert own[0]["is_invited"] is False  # a person sees their own account's facts


def test_pending_members_are_listed_by_status(client, network, db_session):
    invite(client, network["cbo_admin"], network.cbo, email=network["city_admin"].user.email, role="viewer")
    url = f"/api/v1/organizations/{network.cbo.id}/memberships"

    pending = client.get(url, query_string={"status": "pending"}, headers=network["cbo_admin"].headers).get_json()["items"]
    active = client.get(url, query_string={"status": "active"}, headers=network["cbo_admin"].headers).get_json()["items"]

    assert [m["user"]["id"] for m in pending] == [str(network["city_admin"].user.id)]
    assert network["city_admin"].user.id not in {uuid.UUID(m["user"]["id"]) for m in active}


def test_a_hub_network_admin_role_is_still_refused_outside_the_hub(client, network):
    assert network.hub.kind is OrganizationKind.network_hub
    assert_problem(
        invite(client, network["network_admin"], network.cbo, email="x@example.org", name="X", role="network_admin"), 422
    )


def test_the_migration_keeps_existing_accounts_and_clients_working(tmp_path):
    """Upgrading a hub that has data: single-organization accounts belong to that organization,
    memberships stay active, only the explorer stays network-wide, old replay keys are dropped."""
    from sqlalchemy import text

    from cbs_network.core.db import make_engine
    from cbs_network.core.migrate import upgrade

    from .test_migrations import _empty_database

    url, drop = _empty_database(tmp_path)
    engine = make_engine(url)
    ids = {name: uuid.uuid4() for name in ("org", "other", "solo", "shared", "m1", "m2", "m3", "c1", "c2", "k")}
    hexed = {k: (v.hex if url.startswith("sqlite") else v) for k, v in ids.items()}  # as each stores a uuid
    try:
        upgrade(url, "c0cc17ee0006")
        now = "2026-11-30 10:00:00"
        with engine.begin() as db:
            for org in ("org", "other"):
                db.execute(
                    text(
                        "INSERT INTO organizations (id, kind, name, status, created_at, updated_at, version) "
                        "VALUES (:id, 'cbo', :name, 'active', :now, :now, 1)"
                    ),
                    {"id": hexed[org], "name": org, "now": now},
                )
            for user in ("solo", "shared"):
                db.execute(
                    text(
                        "INSERT INTO users (id, email, name, is_active, created_at, updated_at, version) "
                        "VALUES (:id, :email, 'U', true, :now, :now, 1)"
                    ),
                    {"id": hexed[user], "email": f"{user}@x.org", "now": now},
                )
            for membership, user, org in (("m1", "solo", "org"), ("m2", "shared", "org"), ("m3", "shared", "other")):
                db.execute(
                    text(
                        "INSERT INTO memberships (id, user_id, organization_id, role, created_at, updated_at, version) "
                        "VALUES (:id, :user, :org, 'viewer', :now, :now, 1)"
                    ),
                    {"id": hexed[membership], "user": hexed[user], "org": hexed[org], "now": now},
                )
            for client, client_id in (("c1", "cbs-explorer"), ("c2", "partner-1")):
                db.execute(
                    text(
                        "INSERT INTO oauth_clients (id, client_id, organization_id, name, redirect_uris, grant_types, scope, "
                        "token_endpoint_auth_method, role_ceiling, is_active, created_at, updated_at, version) VALUES "
                        "(:id, :cid, :org, 'C', '[]', '[]', '', 'none', 'viewer', true, :now, :now, 1)"
                    ),
                    {"id": hexed[client], "cid": client_id, "org": hexed["org"], "now": now},
                )
            db.execute(
                text(
                    "INSERT INTO idempotency_keys (id, client_id, key, method, path, fingerprint, response_status, "
                    "response_headers, response_body, replayable, created_at) VALUES "
                    "(:id, 'partner-1', '1', 'POST', '/x', 'f', 201, '{}', :body, true, :now)"
                ),
                {"id": hexed["k"], "body": b"", "now": now},
            )

        upgrade(url)

        with engine.connect() as db:
            owners = dict(db.execute(text("SELECT email, created_by_organization_id FROM users")).all())
            statuses = set(db.execute(text("SELECT status FROM memberships")).scalars())
            wide = dict(db.execute(text("SELECT client_id, network_wide FROM oauth_clients")).all())
            keys = db.execute(text("SELECT COUNT(*) FROM idempotency_keys")).scalar()
        assert str(owners["solo@x.org"]).replace("-", "") == ids["org"].hex and owners["shared@x.org"] is None
        assert statuses == {"active"}
        assert bool(wide["cbs-explorer"]) is True and bool(wide["partner-1"]) is False
        assert keys == 0
    finally:
        engine.dispose()
        drop()
