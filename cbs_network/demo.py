"""The demo network: a small, clearly fictional-but-plausible Los Angeles network.

Agencies carry their real public names; every person and every CBO is invented. Running the seed
again updates the same records (matched by their `demo` identifier) and issues fresh demo
passwords and client secrets, which are printed and written to instance/demo-credentials.json.
"""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .identity.models import Membership, User
from .identity.passwords import hash_password
from .identity.roles import SCOPES, Role
from .oauth.models import OAuthClient, token_hash
from .organizations.models import (
    Organization,
    OrganizationIdentifier,
    OrganizationKind as K,
    OrganizationStatus,
)

EXPLORER_CLIENT_ID = "cbs-explorer"
DEMO_SCHEME = "demo"

REGIONS = ("North", "East", "South", "West")
SCHOOLS = {
    "North": ["Sepulveda Middle School", "Van Nuys High School", "Panorama High School", "Arleta High School", "Pacoima Middle School", "Sun Valley Magnet"],
    "East": ["Roosevelt High School", "Hollenbeck Middle School", "Garfield High School", "Stevenson Middle School", "Boyle Heights STEM High", "Belvedere Middle School"],
    "South": ["Jefferson High School", "Fremont High School", "Locke High School", "Markham Middle School", "Gompers Middle School", "Jordan High School"],
    "West": ["Crenshaw High School", "Dorsey High School", "Audubon Middle School", "Hamilton High School", "Palms Middle School", "Venice High School"],
}
AGENCIES = [
    ("lausd", K.school_district, "Los Angeles Unified School District", "LAUSD", "Los Angeles Unified School District", "California Education Code; LAUSD Board of Education policies"),
    ("gryd", K.city_agency, "Mayor's Office of Gang Reduction and Youth Development", "GRYD", "City of Los Angeles", "Los Angeles City Charter; Mayor's executive directives"),
    ("lapd-csp", K.city_agency, "LAPD Community Safety Partnership Bureau", "LAPD CSP", "City of Los Angeles", "Los Angeles City Charter; Board of Police Commissioners"),
    ("rap", K.city_agency, "Los Angeles Department of Recreation and Parks", "RAP", "City of Los Angeles", "Los Angeles City Charter; Board of Recreation and Park Commissioners"),
    ("dph-ovp", K.county_agency, "LA County Department of Public Health, Office of Violence Prevention", "OVP", "County of Los Angeles", "LA County Code; Board of Supervisors motions"),
    ("dhs", K.county_agency, "LA County Department of Health Services", "DHS", "County of Los Angeles", "LA County Code; Board of Supervisors"),
    ("parks-after-dark", K.county_agency, "LA County Parks After Dark", "PAD", "County of Los Angeles", "LA County Department of Parks and Recreation"),
    ("dmh", K.county_agency, "LA County Department of Mental Health", "DMH", "County of Los Angeles", "Welfare and Institutions Code; Board of Supervisors"),
    ("bscc", K.state_agency, "Board of State and Community Corrections (CalVIP)", "BSCC", "State of California", "California Penal Code §13800 et seq.; CalVIP grant terms"),
]
CBOS = [
    ("Eastside Peacekeepers Collective", "Safe passages and community intervention around Boyle Heights schools"),
    ("South LA Youth Bridge", "Mentoring and violence interruption for middle-school students"),
    ("Valley Safe Routes Alliance", "Safe passage walkers for North Valley campuses"),
    ("Crenshaw Healing Circle", "Restorative justice and trauma-informed groups"),
    ("Harbor Family Resource Network", "Family case management and basic-needs referrals"),
    ("Westside Street Outreach Partners", "Street outreach and incident response"),
    ("Watts Community Mentors", "Credible-messenger mentoring for high-school students"),
    ("Pacoima Youth Arts Project", "After-school arts and Summer Night Lights programming"),
    ("Boyle Heights Parent Alliance", "Parent safety committees and school-site walks"),
    ("LA Restorative Schools Institute", "Training school staff in restorative practices"),
    ("Central City Wellness Clinic", "School-linked mental-health counseling"),
    ("Angeleno Workforce Youth", "Paid internships and job readiness for teens"),
]
PEOPLE = {  # invented people, one per demo role
    "network_admin": ("Dana Whitfield", "hub"),
    "org_admin": ("Marisol Quintero", "lausd"),
    "coordinator": ("Terrence Oyelaran", "lausd"),
    "caseworker": ("Priya Castellanos", "cbo:0"),
    "viewer": ("Samuel Nakashima", "gryd"),
    "cbo_admin": ("Lena Abernathy", "cbo:0"),
}


def _organization(session: Session, key: str, **fields: Any) -> Organization:
    identifier = session.scalar(
        select(OrganizationIdentifier).where(OrganizationIdentifier.scheme == DEMO_SCHEME, OrganizationIdentifier.value == key)
    )
    organization = identifier.organization if identifier else Organization(id=uuid.uuid4())
    for name, value in fields.items():
        setattr(organization, name, value)
    organization.status = fields.get("status", OrganizationStatus.active)
    if identifier is None:
        organization.identifiers = [OrganizationIdentifier(scheme=DEMO_SCHEME, value=key)]
        session.add(organization)
    session.flush()
    return organization


def _user(session: Session, email: str, name: str, organization: Organization, role: Role) -> str:
    password = secrets.token_urlsafe(12)
    user = session.scalar(select(User).where(User.email == email))
    if user is None:
        user = User(id=uuid.uuid4(), email=email, name=name)
        session.add(user)
    user.password_hash = hash_password(password)
    user.is_active = True
    session.flush()
    membership = session.scalar(select(Membership).where(Membership.user_id == user.id, Membership.organization_id == organization.id))
    if membership is None:
        session.add(Membership(id=uuid.uuid4(), user=user, organization=organization, role=role))
    else:
        membership.role = role
    session.flush()
    return password


def _client(session: Session, client_id: str, organization: Organization, *, name: str, role: Role,
            public_url: str | None = None) -> str | None:
    client = session.scalar(select(OAuthClient).where(OAuthClient.client_id == client_id))
    if client is None:
        client = OAuthClient(id=uuid.uuid4(), client_id=client_id)
        session.add(client)
    client.organization_id = organization.id
    client.name = name
    client.scope = " ".join(sorted(SCOPES))
    client.is_active = True
    client.role_ceiling = role
    secret = None
    if public_url is not None:  # the explorer: a public client, PKCE only
        client.token_endpoint_auth_method = "none"
        client.client_secret_hash = None
        client.grant_types = ["authorization_code", "refresh_token"]
        client.redirect_uris = [f"{public_url}/docs/oauth2-redirect.html"]
        client.description = "Swagger UI at /docs: sign in with the authorization-code flow and PKCE."
    else:
        secret = secrets.token_urlsafe(32)
        client.token_endpoint_auth_method = "client_secret_basic"
        client.client_secret_hash = token_hash(secret)
        client.grant_types = ["client_credentials"]
        client.redirect_uris = []
    session.flush()
    return secret


def seed_demo(*, session: Session, public_url: str) -> dict[str, Any]:
    """Load (or refresh) the demo network; returns the demo credentials."""
    hub = _organization(session, "hub", kind=K.network_hub, name="CBS Network Hub", alternate_name="CBS Network",
                        description="The multi-agency network organization that coordinates community-based safety around Los Angeles schools.",
                        jurisdiction="Los Angeles region", governing_authority="Network charter adopted by member agencies")
    orgs: dict[str, Organization] = {"hub": hub}
    for key, kind, name, short, jurisdiction, authority in AGENCIES:
        orgs[key] = _organization(session, key, kind=kind, name=name, alternate_name=short, jurisdiction=jurisdiction,
                                  governing_authority=authority)
    lausd = orgs["lausd"]
    for region in REGIONS:
        office = _organization(session, f"region-{region.lower()}", kind=K.district_office, name=f"LAUSD Region {region}",
                               parent_id=lausd.id, jurisdiction="Los Angeles Unified School District")
        for n, school in enumerate(SCHOOLS[region]):
            _organization(session, f"school-{region.lower()}-{n}", kind=K.school, name=school, parent_id=office.id,
                          jurisdiction="Los Angeles Unified School District")
    for n, (name, description) in enumerate(CBOS):
        orgs[f"cbo:{n}"] = _organization(session, f"cbo-{n}", kind=K.cbo, name=name, description=description,
                                         jurisdiction="Los Angeles County",
                                         status=OrganizationStatus.prospective if n == len(CBOS) - 1 else OrganizationStatus.active)
    _organization(session, "funder", kind=K.funder, name="Golden State Youth Safety Fund", description="A fictional private funder of CBS grants.")
    _organization(session, "coalition", kind=K.coalition, name="LA Safe Passages Coalition", description="A fictional coalition of safe-passage providers.")

    users = []
    for role_key, (person, org_key) in PEOPLE.items():
        role = Role.org_admin if role_key == "cbo_admin" else Role(role_key)
        email = f"{person.split()[0].lower()}.{person.split()[1].lower()}@demo.cbs-network.example"
        password = _user(session, email, person, orgs[org_key], role)
        users.append({"email": email, "password": password, "name": person, "role": role.value,
                      "organization": orgs[org_key].name})

    clients = []
    for key, *_rest in AGENCIES:
        secret = _client(session, f"demo-{key}", orgs[key], name=f"{orgs[key].alternate_name} integration (demo)", role=Role.coordinator)
        clients.append({"client_id": f"demo-{key}", "client_secret": secret, "organization": orgs[key].name,
                        "role_ceiling": Role.coordinator.value, "scopes": sorted(SCOPES)})
    _client(session, EXPLORER_CLIENT_ID, hub, name="API explorer (Swagger UI)", role=Role.network_admin, public_url=public_url)
    session.flush()
    return {"public_url": public_url, "users": users, "clients": clients, "explorer_client_id": EXPLORER_CLIENT_ID}
