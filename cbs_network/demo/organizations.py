"""The network's members: the hub, the agencies (with their real public names), the districts'
offices and schools, and invented CBOs, funder and coalition."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cbs_network.demo.common import demo_id
from cbs_network.demo.directory import HARBOR_SCHOOLS, REGIONS, SCHOOLS
from cbs_network.organizations.models import Organization, OrganizationIdentifier, OrganizationStatus
from cbs_network.organizations.models import OrganizationKind as K

DEMO_SCHEME = "demo"
AGENCIES = [
    (
        "lausd",
        K.school_district,
        "Los Angeles Unified School District",
        "LAUSD",
        "Los Angeles Unified School District",
        "California Education Code; LAUSD Board of Education policies",
    ),
    (
        "gryd",
        K.city_agency,
        "Mayor's Office of Gang Reduction and Youth Development",
        "GRYD",
        "City of Los Angeles",
        "Los Angeles City Charter; Mayor's executive directives",
    ),
    (
        "lapd-csp",
        K.city_agency,
        "LAPD Community Safety Partnership Bureau",
        "LAPD CSP",
        "City of Los Angeles",
        "Los Angeles City Charter; Board of Police Commissioners",
    ),
    (
        "rap",
        K.city_agency,
        "Los Angeles Department of Recreation and Parks",
        "RAP",
        "City of Los Angeles",
        "Los Angeles City Charter; Board of Recreation and Park Commissioners",
    ),
    (
        "dph-ovp",
        K.county_agency,
        "LA County Department of Public Health, Office of Violence Prevention",
        "OVP",
        "County of Los Angeles",
        "LA County Code; Board of Supervisors motions",
    ),
    (
        "dhs",
        K.county_agency,
        "LA County Department of Health Services",
        "DHS",
        "County of Los Angeles",
        "LA County Code; Board of Supervisors",
    ),
    (
        "parks-after-dark",
        K.county_agency,
        "LA County Parks After Dark",
        "PAD",
        "County of Los Angeles",
        "LA County Department of Parks and Recreation",
    ),
    (
        "dmh",
        K.county_agency,
        "LA County Department of Mental Health",
        "DMH",
        "County of Los Angeles",
        "Welfare and Institutions Code; Board of Supervisors",
    ),
    (
        "bscc",
        K.state_agency,
        "Board of State and Community Corrections (CalVIP)",
        "BSCC",
        "State of California",
        "California Penal Code §13800 et seq.; CalVIP grant terms",
    ),
    # Not a real agency: the demo's second district (see HARBOR_SCHOOLS).
    (
        "hgusd",
        K.school_district,
        "Harbor Gateway Unified School District",
        "HGUSD",
        "Harbor Gateway Unified School District (fictional)",
        "A fictional board of trustees (demo only)",
    ),
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
# Harbor Gateway Unified is invented (no such district exists; Harbor Gateway is a Los Angeles
# neighborhood), and so are its schools, trustee areas, addresses and rules. Its schools' own
# organizations sit directly under it; its plans are due November 15 and its committees seat a
# neighborhood resident.
HARBOR_KEY = "hgusd"
HARBOR_DESCRIPTION = "A fictional school district, the demo's second district: it keeps its own schools and only reads LAUSD's."


def ensure_organization(session: Session, key: str, **fields: Any) -> Organization:
    """The demo organization `key` as it is, or created with these fields when missing."""
    identifier = session.scalar(
        select(OrganizationIdentifier).where(OrganizationIdentifier.scheme == DEMO_SCHEME, OrganizationIdentifier.value == key)
    )
    if identifier is not None:
        return identifier.organization
    existing = session.get(Organization, demo_id("organization", key))  # its demo identifier removed since
    if existing is not None:
        return existing
    organization = Organization(id=demo_id("organization", key), **{"status": OrganizationStatus.active, **fields})
    organization.identifiers = [OrganizationIdentifier(id=demo_id("identifier", key), scheme=DEMO_SCHEME, value=key)]
    session.add(organization)
    session.flush()
    return organization


def seed_organizations(session: Session) -> tuple[dict[str, Organization], dict[str, Organization]]:
    """The member organizations by demo key ("hub", an agency's key, "cbo:<n>"), and the schools'
    own organizations by school name."""
    hub = ensure_organization(
        session,
        "hub",
        kind=K.network_hub,
        name="CBS Network Hub",
        alternate_name="CBS Network",
        description="The multi-agency network organization that coordinates community-based safety around Los Angeles schools.",
        jurisdiction="Los Angeles region",
        governing_authority="Network charter adopted by member agencies",
    )
    orgs: dict[str, Organization] = {"hub": hub}
    for key, kind, name, short, jurisdiction, authority in AGENCIES:
        orgs[key] = ensure_organization(
            session,
            key,
            kind=kind,
            name=name,
            alternate_name=short,
            jurisdiction=jurisdiction,
            governing_authority=authority,
            description=HARBOR_DESCRIPTION if key == HARBOR_KEY else None,
        )
    lausd = orgs["lausd"]
    school_orgs: dict[str, Organization] = {}
    for region in REGIONS:
        office = ensure_organization(
            session,
            f"region-{region.lower()}",
            kind=K.district_office,
            name=f"LAUSD Region {region}",
            parent_id=lausd.id,
            jurisdiction="Los Angeles Unified School District",
        )
        for n, school in enumerate(SCHOOLS[region]):
            school_orgs[school] = ensure_organization(
                session,
                f"school-{region.lower()}-{n}",
                kind=K.school,
                name=school,
                parent_id=office.id,
                jurisdiction="Los Angeles Unified School District",
            )
    harbor = orgs[HARBOR_KEY]
    for n, school in enumerate(HARBOR_SCHOOLS):
        school_orgs[school] = ensure_organization(
            session, f"{HARBOR_KEY}-school-{n}", kind=K.school, name=school, parent_id=harbor.id, jurisdiction=harbor.name
        )
    for n, (name, description) in enumerate(CBOS):
        orgs[f"cbo:{n}"] = ensure_organization(
            session,
            f"cbo-{n}",
            kind=K.cbo,
            name=name,
            description=description,
            jurisdiction="Los Angeles County",
            status=OrganizationStatus.prospective if n == len(CBOS) - 1 else OrganizationStatus.active,
        )
    ensure_organization(
        session,
        "funder",
        kind=K.funder,
        name="Golden State Youth Safety Fund",
        description="A fictional private funder of CBS grants.",
    )
    ensure_organization(
        session,
        "coalition",
        kind=K.coalition,
        name="LA Safe Passages Coalition",
        description="A fictional coalition of safe-passage providers.",
    )
    return orgs, school_orgs
