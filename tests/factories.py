"""factory_boy factories and a ready-made small network for tests."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field

import factory
from factory.alchemy import SQLAlchemyModelFactory

from cbs_network.capacity.models import CapacityProfile, SlotUnit
from cbs_network.directory.models import Location, LocationType, Program, ProgramLocation, ProgramStatus, ProgramType, School
from cbs_network.identity.models import Membership, User
from cbs_network.identity.passwords import hash_password
from cbs_network.identity.roles import SCOPES, Role
from cbs_network.oauth.models import OAuthClient, OAuthToken, token_hash
from cbs_network.organizations.models import Organization, OrganizationKind, OrganizationStatus

PASSWORD = "correct horse battery staple"
_FACTORIES: list[type[SQLAlchemyModelFactory]] = []


def bind(session) -> None:
    for f in _FACTORIES:
        f._meta.sqlalchemy_session = session


class _Base(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_persistence = "commit"  # past the savepoint a failed request rolls back

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        _FACTORIES.append(cls)


class OrganizationFactory(_Base):
    class Meta:
        model = Organization

    id = factory.LazyFunction(uuid.uuid4)
    kind = OrganizationKind.cbo
    name = factory.Sequence(lambda n: f"Test Organization {n}")
    status = OrganizationStatus.active


class SchoolFactory(_Base):
    """A school of the roster; give `district_id` (and an `organization_id` under it) as the test needs."""

    class Meta:
        model = School

    id = factory.LazyFunction(uuid.uuid4)
    cds_code = factory.LazyFunction(lambda: f"{uuid.uuid4().int % 10**14:014d}")
    name = factory.Sequence(lambda n: f"Test School {n}")


class LocationFactory(_Base):
    """A physical site of `organization`, by default at Los Angeles City Hall."""

    class Meta:
        model = Location

    class Params:
        organization = factory.SubFactory(OrganizationFactory)

    id = factory.LazyFunction(uuid.uuid4)
    organization_id = factory.SelfAttribute("organization.id")
    name = "Site"
    location_type = LocationType.physical
    address_1 = "100 Main St"
    city = "Los Angeles"
    state = "CA"
    postal_code = "90012"
    latitude = 34.0537
    longitude = -118.2428


class ProgramFactory(_Base):
    """An active program; `locations` are its sites, written in the same insert as the program."""

    class Meta:
        model = Program

    class Params:
        locations = ()

    id = factory.LazyFunction(uuid.uuid4)
    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Test Program {n}")
    program_type = ProgramType.mentoring
    status = ProgramStatus.active
    program_locations = factory.LazyAttribute(lambda o: [ProgramLocation(location_id=location.id) for location in o.locations])


class CapacityProfileFactory(_Base):
    """The capacity of `program`, all slots free."""

    class Meta:
        model = CapacityProfile

    class Params:
        program = factory.SubFactory(ProgramFactory)

    id = factory.LazyFunction(uuid.uuid4)
    program_id = factory.SelfAttribute("program.id")
    total_slots = 5
    available_slots = factory.SelfAttribute("total_slots")
    slot_unit = SlotUnit.youth


class UserFactory(_Base):
    class Meta:
        model = User

    id = factory.LazyFunction(uuid.uuid4)
    email = factory.Sequence(lambda n: f"user{n}@example.org")
    name = factory.Faker("name")
    password_hash = factory.LazyFunction(lambda: _PASSWORD_HASH)
    is_active = True


_PASSWORD_HASH = hash_password(PASSWORD)


class MembershipFactory(_Base):
    class Meta:
        model = Membership

    id = factory.LazyFunction(uuid.uuid4)
    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory)
    role = Role.coordinator


class OAuthClientFactory(_Base):
    class Meta:
        model = OAuthClient

    id = factory.LazyFunction(uuid.uuid4)
    client_id = factory.Sequence(lambda n: f"test-client-{n}")
    client_secret_hash = factory.LazyFunction(lambda: token_hash("secret"))
    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Test client {n}")
    redirect_uris = factory.LazyFunction(lambda: ["http://hub.test/callback"])
    grant_types = factory.LazyFunction(lambda: ["client_credentials", "authorization_code", "refresh_token"])
    scope = " ".join(SCOPES)
    token_endpoint_auth_method = "client_secret_basic"
    role_ceiling = Role.network_admin


def issue_token(
    session,
    *,
    client: OAuthClient,
    scopes=None,
    user: User | None = None,
    organization: Organization | None = None,
    expires_in: int = 3600,
) -> str:
    """An access token (its plaintext) as the token endpoint would have issued it."""
    plaintext = secrets.token_urlsafe(32)
    session.add(
        OAuthToken(
            id=uuid.uuid4(),
            client_id=client.client_id,
            user_id=user.id if user else None,
            organization_id=(organization or client.organization).id,
            scope=" ".join(SCOPES if scopes is None else scopes),
            access_token_hash=token_hash(plaintext),
            expires_in=expires_in,
        )
    )
    session.commit()
    return plaintext


@dataclass
class Actor:
    """A user acting for one organization through a client, with a token in hand."""

    organization: Organization
    user: User | None
    client: OAuthClient
    token: str
    role: Role

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Network:
    hub: Organization
    district: Organization
    city: Organization
    cbo: Organization
    # A second tenant of each kind that has one (Network.build(second_tenants=True)): another
    # district and another CBO, so tests can check one cannot act on the other's objects.
    district2: Organization | None = None
    cbo2: Organization | None = None
    actors: dict[str, Actor] = field(default_factory=dict)

    @classmethod
    def build(cls, *, second_tenants: bool = False) -> Network:
        session = OrganizationFactory._meta.sqlalchemy_session
        net = cls(
            hub=OrganizationFactory(kind=OrganizationKind.network_hub, name="CBS Network Hub"),
            district=OrganizationFactory(kind=OrganizationKind.school_district, name="Test Unified School District"),
            city=OrganizationFactory(kind=OrganizationKind.city_agency, name="Test City Youth Development"),
            cbo=OrganizationFactory(kind=OrganizationKind.cbo, name="Test Safe Passages CBO"),
        )
        for name, org, role in (
            ("network_admin", net.hub, Role.network_admin),
            ("district_admin", net.district, Role.org_admin),
            ("district_coordinator", net.district, Role.coordinator),
            ("district_viewer", net.district, Role.viewer),
            ("city_admin", net.city, Role.org_admin),
            ("cbo_admin", net.cbo, Role.org_admin),
            ("cbo_caseworker", net.cbo, Role.caseworker),
        ):
            net.actors[name] = net.actor(session, org, role)
        if second_tenants:
            net.district2 = OrganizationFactory(kind=OrganizationKind.school_district, name="Second Test Unified School District")
            net.cbo2 = OrganizationFactory(kind=OrganizationKind.cbo, name="Second Test Mentoring CBO")
            for name, org, role in (
                ("district2_admin", net.district2, Role.org_admin),
                ("district2_coordinator", net.district2, Role.coordinator),
                ("cbo2_admin", net.cbo2, Role.org_admin),
                ("cbo2_caseworker", net.cbo2, Role.caseworker),
            ):
                net.actors[name] = net.actor(session, org, role)
        return net

    def school(self, district: Organization | None = None, **fields) -> School:
        """A school of `district` (default: the first) with its own school organization under the district."""
        district = district or self.district
        organization = OrganizationFactory(
            kind=OrganizationKind.school, name=fields.get("name", "Test School"), parent_id=district.id
        )
        return SchoolFactory(district_id=district.id, organization_id=organization.id, **fields)

    @staticmethod
    def actor(session, organization: Organization, role: Role, scopes=None) -> Actor:
        membership = MembershipFactory(organization=organization, role=role)
        client = OAuthClientFactory(organization=organization)
        token = issue_token(session, client=client, user=membership.user, organization=organization, scopes=scopes)
        return Actor(organization, membership.user, client, token, role)

    def __getitem__(self, name: str) -> Actor:
        return self.actors[name]
