"""The demo's people and systems: users with their memberships (one per role, the staff on both
sides of the referrals, the second district's), a pending membership offer, one OAuth client per
agency and one CBO's, and the public Swagger UI client; and the credentials file's content.

The only random data are the demo passwords and client secrets, printed and written to
instance/demo-credentials.json; given that file's previous content, a reseed keeps every one that
still verifies (so a newcomer's saved setup survives `make run`) and never undoes a password or
secret changed since (the file then says so). Without that file a reseed issues new ones: deleting
it is how to ask for them."""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cbs_network.demo.common import demo_id
from cbs_network.demo.organizations import AGENCIES, HARBOR_KEY
from cbs_network.identity.models import Membership, MembershipStatus, User
from cbs_network.identity.passwords import hash_password, verify_password
from cbs_network.identity.roles import SCOPES, Role
from cbs_network.oauth.models import OAuthClient, token_hash
from cbs_network.organizations.models import Organization

EXPLORER_CLIENT_ID = "cbs-explorer"
CBO_CLIENT_ID = "demo-eastside-peacekeepers"

# Written in the credentials file instead of a password or secret changed after the demo issued it:
# the demo no longer knows it, and a reseed leaves it alone.
PASSWORD_CHANGED = "(changed by its user)"
SECRET_ROTATED = "(rotated by its organization)"

PEOPLE = {  # invented people, one per demo role
    "network_admin": ("Dana Whitfield", "hub"),
    "org_admin": ("Marisol Quintero", "lausd"),
    "coordinator": ("Terrence Oyelaran", "lausd"),
    "caseworker": ("Priya Castellanos", "cbo:0"),
    "viewer": ("Samuel Nakashima", "gryd"),
    "cbo_admin": ("Lena Abernathy", "cbo:0"),
}
# Invented staff of the schools and CBOs that send and answer the demo's referrals, so both sides
# of every referral can sign in and try its transitions. Keyed by their organization.
STAFF = {
    "school:Roosevelt High School": ("Inez Marchetti", Role.coordinator),
    "school:Markham Middle School": ("Rafael Okonkwo", Role.coordinator),
    "cbo:1": ("Bernadette Lowery", Role.coordinator),
    "cbo:3": ("Tamsin Greer", Role.coordinator),
    "cbo:4": ("Orlando Featherstone", Role.coordinator),
    "cbo:6": ("Curtis Mbeki-Hale", Role.caseworker),
    "cbo:10": ("Kenji Albarran", Role.caseworker),
}
# The second district's staff.
HARBOR_PEOPLE = [("Rosalind Marchbanks", Role.org_admin), ("Ezequiel Tanaka-Brandt", Role.coordinator)]


def email_of(person: str) -> str:
    first, last = person.lower().split(maxsplit=1)
    return f"{first}.{last}@demo.cbs-network.example"


def _user(
    session: Session, email: str, name: str, organization: Organization, role: Role, previous: str | None = None
) -> tuple[str, bool]:
    """Creates a missing demo user with its membership; returns its password as the credentials
    file should show it, and whether the user was created. An existing user's name, memberships
    and active flag are theirs and left alone; only its password is the demo's business."""
    user = session.scalar(select(User).where(User.email == email))
    created = user is None
    if user is None:
        user = User(id=demo_id("user", email), email=email, name=name, is_active=True)
        session.add(user)
        session.add(
            Membership(id=demo_id("membership", f"{email}:{organization.id}"), user=user, organization=organization, role=role)
        )
    if user.password_hash is None or not isinstance(previous, str):
        # No file saying which password it has (a first seed, or the file deleted to ask for new ones).
        password = secrets.token_urlsafe(12)
        user.password_hash = hash_password(password)
    elif verify_password(user.password_hash, previous):
        password = previous
    else:
        password = PASSWORD_CHANGED
    session.flush()
    return password, created


def _offer(session: Session, email: str, organization: Organization, role: Role) -> None:
    """A membership an organization offered an existing account: it waits, granting nothing, until
    the person answers it on the signed-in page. Made only when the account is made (declining
    deletes the offer, and a reseed must not offer it again)."""
    user = session.scalar(select(User).where(User.email == email))
    session.add(
        Membership(
            id=demo_id("membership", f"{email}:{organization.id}"),
            user=user,
            organization=organization,
            role=role,
            status=MembershipStatus.pending,
        )
    )
    session.flush()


def _client(
    session: Session,
    client_id: str,
    organization: Organization,
    *,
    name: str,
    role: Role,
    public_url: str | None = None,
    previous: str | None = None,
) -> str | None:
    """Creates a missing demo client; returns its secret as the credentials file should show it.
    An existing client's settings are its organization's and left alone."""
    client = session.scalar(select(OAuthClient).where(OAuthClient.client_id == client_id))
    if client is None:
        client = OAuthClient(
            id=demo_id("client", client_id),
            client_id=client_id,
            organization_id=organization.id,
            name=name,
            scope=" ".join(sorted(SCOPES)),
            is_active=True,
            role_ceiling=role,
            network_wide=public_url is not None,
            redirect_uris=[],
        )
        session.add(client)
        if public_url is not None:  # the explorer: a public client, PKCE only, for every member organization
            client.token_endpoint_auth_method = "none"
            client.grant_types = ["authorization_code", "refresh_token"]
            client.description = "Swagger UI at /docs: sign in with the authorization-code flow and PKCE."
        else:
            client.token_endpoint_auth_method = "client_secret_basic"
            client.grant_types = ["client_credentials"]
    if public_url is not None:
        # The explorer redirects to the address the hub is served at now (`PORT=8080 make run`
        # after a first `make run`): add it when missing, keep every URI it has.
        redirect = f"{public_url}/docs/oauth2-redirect.html"
        if redirect not in client.redirect_uris:
            client.redirect_uris = [*client.redirect_uris, redirect]
        session.flush()
        return None
    if client.client_secret_hash is None or not isinstance(previous, str):
        secret = secrets.token_urlsafe(32)
        client.client_secret_hash = token_hash(secret)
    elif hmac.compare_digest(client.client_secret_hash, token_hash(previous)):
        secret = previous
    else:
        secret = SECRET_ROTATED
    session.flush()
    return secret


def seed_users(session: Session, members: dict[str, Organization], previous: dict[str, Any]) -> list[dict[str, Any]]:
    """The missing demo users with their memberships; returns the credentials file's users, each
    with the password `previous` (an earlier seed's file) gives it where that still verifies."""
    passwords = {u.get("email"): u.get("password") for u in previous.get("users", [])}
    people = [
        (person, org_key, Role.org_admin if role_key == "cbo_admin" else Role(role_key))
        for role_key, (person, org_key) in PEOPLE.items()
    ]
    users, created = [], set()
    for person, org_key, role in [
        *people,
        *((person, org_key, role) for org_key, (person, role) in STAFF.items()),
        *((person, HARBOR_KEY, role) for person, role in HARBOR_PEOPLE),
    ]:
        email = email_of(person)
        password, new = _user(session, email, person, members[org_key], role, passwords.get(email))
        if new:
            created.add(email)
        users.append(
            {"email": email, "password": password, "name": person, "role": role.value, "organization": members[org_key].name}
        )
    if email_of(PEOPLE["coordinator"][0]) in created:
        _offer(session, email_of(PEOPLE["coordinator"][0]), members["cbo:0"], Role.viewer)
    return users


def seed_clients(
    session: Session, orgs: dict[str, Organization], *, public_url: str, previous: dict[str, Any]
) -> list[dict[str, Any]]:
    """The missing demo clients and the explorer's redirect URI for `public_url`; returns the
    credentials file's clients, each with the secret `previous` gives it where that still verifies."""
    client_secrets = {c.get("client_id"): c.get("client_secret") for c in previous.get("clients", [])}
    clients = []
    # Every agency's system, and one CBO's: CBO staff keep their capacity current through the API.
    for client_id, organization in [*((f"demo-{key}", orgs[key]) for key, *_rest in AGENCIES), (CBO_CLIENT_ID, orgs["cbo:0"])]:
        name = f"{organization.alternate_name or organization.name} integration (demo)"
        secret = _client(
            session, client_id, organization, name=name, role=Role.coordinator, previous=client_secrets.get(client_id)
        )
        clients.append(
            {
                "client_id": client_id,
                "client_secret": secret,
                "organization": organization.name,
                "role_ceiling": Role.coordinator.value,
                "scopes": sorted(SCOPES),
            }
        )
    _client(
        session, EXPLORER_CLIENT_ID, orgs["hub"], name="API explorer (Swagger UI)", role=Role.network_admin, public_url=public_url
    )
    session.flush()
    return clients
