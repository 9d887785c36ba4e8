"""The demo network: a small, clearly fictional-but-plausible Los Angeles network.

Agencies carry their real public names; every person and every CBO is invented, and so are the
schools' CDS codes, street numbers and coordinates (plausible, in the right part of the city).
Beside LAUSD sits a second, small and wholly fictional district, Harbor Gateway Unified (HGUSD),
with its own schools, rules, committees, plans, staff and client: each district keeps its own
schools and only reads the other's.
Deterministic and idempotent, and it only adds what is missing: every id is a uuid5 of a stable
key (organizations are still matched by their `demo` identifier, so databases seeded before ids
were deterministic keep theirs), and a later run creates only the rows that do not exist yet. A
row that exists belongs to the people using the demo and is left alone entirely, with what hangs
off it: a program's lists, schedules and verification date, a committee's members, a plan's steps
and needs, a user's name, memberships and active flag, a client's scopes and redirect URIs. So a
program renamed, a description edited, a capacity changed or a membership removed stays as it
is; a row deleted since is created again (a membership, an offered one included, only with its
user). One addition to an existing row: the explorer client gets the redirect URI of the current
public address when it lacks it (`PORT=8080 make run` after a first `make run`), so signing in
through /docs keeps working; the URIs it has are kept.

The only random data are the demo passwords and client secrets, printed and written to
instance/demo-credentials.json; given that file's previous content, a reseed keeps every one that
still verifies (so a newcomer's saved setup survives `make run`) and never undoes a password or
secret changed since (the file then says so). Without that file a reseed issues new ones: deleting
it is how to ask for them.

The demo's students, consents, referrals and notes are made once, by the demo users through the
referral services (see _referrals): their ids are the services' own, and a later run leaves them
alone. Their dates are relative to the first seed (ages, consent periods, the overdue referral).
"""

from __future__ import annotations

import hmac
import secrets
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cbs_network.capacity.models import CapacityHistory, CapacityProfile, SlotUnit
from cbs_network.core import clock
from cbs_network.core.db import utcnow
from cbs_network.directory.models import GRADES, EvidenceBasis, Location, LocationType, Program, ProgramExternalCode, ProgramLanguage, ProgramLocation, ProgramRegion, ProgramSchedule, ProgramSchool, ProgramStatus, ProgramType as T, School, SchoolStatus
from cbs_network.identity.models import Membership, MembershipStatus, User
from cbs_network.identity.passwords import hash_password, verify_password
from cbs_network.identity.principal import Principal
from cbs_network.identity.roles import SCOPES, Role
from cbs_network.oauth.models import OAuthClient, token_hash
from cbs_network.organizations.models import Organization, OrganizationIdentifier, OrganizationKind as K, OrganizationStatus
from cbs_network.referrals.referrals import service as referrals
from cbs_network.referrals.subjects import service as subjects
from cbs_network.committees.jurisdictions import service as jurisdictions
from cbs_network.committees.models import Committee, CommitteeMember, Jurisdiction, MemberStatus, PlanNeed, PlanNeedProgram, PlanTransition, SafetyPlan
from cbs_network.core.crypto import keyring
from cbs_network.referrals.models import ReferralState, ReferralTransition, Subject
from cbs_network.referrals.referrals.schemas import ConsentCreateSchema, ReferralCreateSchema, SubjectCreateSchema, TransitionCreateSchema
from cbs_network.referrals.referrals.transitions import TRANSITIONS, Party

EXPLORER_CLIENT_ID = "cbs-explorer"
CBO_CLIENT_ID = "demo-eastside-peacekeepers"
DEMO_SCHEME = "demo"
# Every demo id is uuid5(DEMO_NAMESPACE, "<kind>:<stable key>"): the same on every database.
DEMO_NAMESPACE = uuid.UUID("5c0f3b2e-7d1a-4e8b-9a64-0c1b5d2e3f47")


# Written in the credentials file instead of a password or secret changed after the demo issued it:
# the demo no longer knows it, and a reseed leaves it alone.
PASSWORD_CHANGED = "(changed by its user)"
SECRET_ROTATED = "(rotated by its organization)"


def demo_id(kind: str, key: str) -> uuid.UUID:
    return uuid.uuid5(DEMO_NAMESPACE, f"{kind}:{key}")

REGIONS = ("North", "East", "South", "West")
SCHOOLS = {
    "North": ["Sepulveda Middle School", "Van Nuys High School", "Panorama High School", "Arleta High School", "Pacoima Middle School", "Sun Valley Magnet"],
    "East": ["Roosevelt High School", "Hollenbeck Middle School", "Garfield High School", "Stevenson Middle School", "Boyle Heights STEM High", "Belvedere Middle School"],
    "South": ["Jefferson High School", "Fremont High School", "Locke High School", "Markham Middle School", "Gompers Middle School", "Jordan High School"],
    "West": ["Crenshaw High School", "Dorsey High School", "Audubon Middle School", "Hamilton High School", "Palms Middle School", "Venice High School"],
}
# Per school: grades, board district, an invented street number on a street of its neighborhood,
# ZIP, approximate coordinates, BSAP flag. CDS codes: LAUSD's county-district part (1964733) and
# an invented school part (9RRNNNN).
SCHOOL_DETAILS = {
    "Sepulveda Middle School": ("6", "8", 3, "15330 Plummer St", "North Hills", "91343", 34.2428, -118.4685, False),
    "Van Nuys High School": ("9", "12", 3, "6541 Cedros Ave", "Van Nuys", "91411", 34.1895, -118.4523, False),
    "Panorama High School": ("9", "12", 6, "8011 Tobias Ave", "Panorama City", "91402", 34.2238, -118.4412, False),
    "Arleta High School": ("9", "12", 6, "14307 Branford St", "Arleta", "91331", 34.2394, -118.4359, False),
    "Pacoima Middle School": ("6", "8", 6, "9941 Sharp Ave", "Pacoima", "91331", 34.2577, -118.4150, True),
    "Sun Valley Magnet": ("6", "12", 6, "7333 Bakman Ave", "Sun Valley", "91352", 34.2061, -118.3729, False),
    "Roosevelt High School": ("9", "12", 2, "468 S Mathews St", "Los Angeles", "90033", 34.0396, -118.2117, True),
    "Hollenbeck Middle School": ("6", "8", 2, "2540 E 4th St", "Los Angeles", "90033", 34.0382, -118.2089, True),
    "Garfield High School": ("9", "12", 2, "5105 E 6th St", "East Los Angeles", "90022", 34.0239, -118.1603, True),
    "Stevenson Middle School": ("6", "8", 2, "735 S Indiana St", "Los Angeles", "90023", 34.0259, -118.1927, False),
    "Boyle Heights STEM High": ("9", "12", 2, "2811 E Olympic Blvd", "Los Angeles", "90023", 34.0205, -118.2156, False),
    "Belvedere Middle School": ("6", "8", 2, "390 S Hicks Ave", "Los Angeles", "90063", 34.0365, -118.1798, False),
    "Jefferson High School": ("9", "12", 7, "1344 E 41st St", "Los Angeles", "90011", 34.0077, -118.2531, True),
    "Fremont High School": ("9", "12", 7, "7717 S San Pedro St", "Los Angeles", "90003", 33.9688, -118.2695, True),
    "Locke High School": ("9", "12", 7, "355 E 111th St", "Los Angeles", "90061", 33.9355, -118.2688, True),
    "Markham Middle School": ("6", "8", 7, "1660 E 104th St", "Los Angeles", "90002", 33.9425, -118.2453, True),
    "Gompers Middle School": ("6", "8", 7, "238 E 112th St", "Los Angeles", "90061", 33.9335, -118.2705, False),
    "Jordan High School": ("9", "12", 7, "2211 E 103rd St", "Los Angeles", "90002", 33.9418, -118.2335, True),
    "Crenshaw High School": ("9", "12", 1, "5044 11th Ave", "Los Angeles", "90043", 33.9998, -118.3288, True),
    "Dorsey High School": ("9", "12", 1, "3541 Farmdale Ave", "Los Angeles", "90016", 34.0227, -118.3566, True),
    "Audubon Middle School": ("6", "8", 1, "4117 2nd Ave", "Los Angeles", "90008", 34.0090, -118.3262, False),
    "Hamilton High School": ("9", "12", 1, "2966 Robertson Blvd", "Los Angeles", "90034", 34.0322, -118.3947, False),
    "Palms Middle School": ("6", "8", 4, "10907 Woodbine St", "Los Angeles", "90034", 34.0197, -118.4110, False),
    "Venice High School": ("9", "12", 4, "13140 Venice Blvd", "Los Angeles", "90066", 34.0050, -118.4402, False),
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
    # Not a real agency: the demo's second district (see HARBOR_SCHOOLS).
    ("hgusd", K.school_district, "Harbor Gateway Unified School District", "HGUSD", "Harbor Gateway Unified School District (fictional)", "A fictional board of trustees (demo only)"),
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
# key: (owner, name, address_1, city, postal code, latitude, longitude); addresses are invented.
LOCATIONS = {
    "eastside-office": ("cbo:0", "Eastside Peacekeepers office", "2417 E Cesar E Chavez Ave", "Los Angeles", "90033", 34.0478, -118.2063),
    "south-bridge-center": ("cbo:1", "South LA Youth Bridge center", "7420 S Central Ave", "Los Angeles", "90001", 33.9712, -118.2562),
    "valley-hub": ("cbo:2", "Valley Safe Routes hub", "14520 Roscoe Blvd", "Panorama City", "91402", 34.2211, -118.4497),
    "crenshaw-studio": ("cbo:3", "Crenshaw Healing Circle studio", "4310 Crenshaw Blvd", "Los Angeles", "90008", 34.0061, -118.3352),
    "harbor-center": ("cbo:4", "Harbor Family Resource Center", "1340 N Avalon Blvd", "Wilmington", "90744", 33.7902, -118.2628),
    "harbor-safe-house": ("cbo:4", "Harbor youth safe house", "612 W Quay St", "Wilmington", "90744", 33.7931, -118.2702),
    "westside-office": ("cbo:5", "Westside Street Outreach office", "3311 Venice Blvd", "Los Angeles", "90019", 34.0339, -118.3418),
    "watts-house": ("cbo:6", "Watts Community Mentors house", "10322 Compton Ave", "Los Angeles", "90002", 33.9423, -118.2471),
    "pacoima-studio": ("cbo:7", "Pacoima Youth Arts studio", "13010 Van Nuys Blvd", "Pacoima", "91331", 34.2689, -118.4209),
    "wellness-clinic": ("cbo:10", "Central City Wellness Clinic", "1530 W 6th St", "Los Angeles", "90017", 34.0559, -118.2698),
    "wellness-telehealth": ("cbo:10", "Central City Wellness telehealth", None, None, None, None, None),
    "dhs-hvip": ("dhs", "DHS violence intervention office", "1983 Marengo St", "Los Angeles", "90033", 34.0581, -118.2092),
    "gryd-south": ("gryd", "GRYD South zone office", "8475 S Vermont Ave", "Los Angeles", "90044", 33.9593, -118.2917),
    "rap-park": ("rap", "Summer Night Lights park site", "9801 Compton Ave", "Los Angeles", "90002", 33.9466, -118.2469),
}
CONFIDENTIAL_LOCATION = "harbor-safe-house"
SAFE_HOUSE_FRONT_DOOR = "Call (310) 555-0187, 24 hours; staff meet youth at a public site"
TELEHEALTH_URL = "https://telehealth.central-city-wellness.example.org"
# A service-area polygon around Watts ([longitude, latitude]); it holds Locke, Gompers, Markham and Jordan.
WATTS_POLYGON = {"type": "Polygon", "coordinates": [[
    [-118.2800, 33.9250], [-118.2250, 33.9250], [-118.2250, 33.9500], [-118.2800, 33.9500], [-118.2800, 33.9250],
]]}
SCHOOL_DAYS = ["MO", "TU", "WE", "TH", "FR"]
# Fixed dates, so that the overdue programs are overdue on every database and every run.
LONG_AGO = datetime(2024, 3, 15, 17, 0, tzinfo=UTC)
# Programs of every type, owned by CBOs and agencies. verified: "current", "overdue" or None (never).
PROGRAMS: list[dict[str, Any]] = [
    {"key": "eastside-safe-passage", "owner": "cbo:0", "name": "Eastside Safe Passage", "type": T.safe_passage,
     "description": "Trained community members posted on the routes to four Boyle Heights campuses.",
     "schools": ["Roosevelt High School", "Hollenbeck Middle School", "Boyle Heights STEM High", "Stevenson Middle School"],
     "languages": ["en", "es"], "locations": ["eastside-office"], "verified": "current",
     "schedules": [{"byday": SCHOOL_DAYS, "minutes_before_arrival": 60, "minutes_after_dismissal": 90,
                    "description": "On post an hour before first bell and ninety minutes after dismissal"}]},
    {"key": "valley-safe-routes", "owner": "cbo:2", "name": "Valley Safe Routes Walkers", "type": T.safe_passage,
     "description": "Walkers and corner captains for North Valley high schools.",
     "schools": ["Van Nuys High School", "Panorama High School", "Arleta High School", "Pacoima Middle School"],
     "languages": ["en", "es", "hy"], "locations": ["valley-hub"], "verified": "overdue",
     "schedules": [{"byday": SCHOOL_DAYS, "minutes_before_arrival": 45, "minutes_after_dismissal": 60}]},
    {"key": "south-safe-passage", "owner": "cbo:1", "name": "South LA Safe Passage", "type": T.safe_passage,
     "description": "Safe passage walkers around Jefferson and Fremont.",
     "schools": ["Jefferson High School", "Fremont High School", "Markham Middle School"],
     "languages": ["en", "es"], "locations": ["south-bridge-center"], "verified": None,
     "schedules": [{"byday": SCHOOL_DAYS, "minutes_before_arrival": 30, "minutes_after_dismissal": 60}]},
    {"key": "westside-safe-passage", "owner": "cbo:5", "name": "Crenshaw Corridor Safe Passage", "type": T.safe_passage,
     "status": ProgramStatus.temporarily_closed, "description": "Paused while the team is rehired.",
     "schools": ["Crenshaw High School", "Dorsey High School"], "languages": ["en"], "locations": ["westside-office"],
     "verified": "current", "schedules": [{"byday": SCHOOL_DAYS, "minutes_before_arrival": 45, "minutes_after_dismissal": 45}]},
    {"key": "gryd-watts-intervention", "owner": "gryd", "name": "GRYD Community Violence Intervention: Watts",
     "type": T.violence_interruption, "description": "Community intervention workers who respond to and prevent retaliation in Watts.",
     "polygon": WATTS_POLYGON, "service_area_description": "Watts, between Central Ave and Alameda St",
     "languages": ["en", "es"], "locations": ["gryd-south"], "verified": "current", "accepts_referrals": True,
     "evidence_basis": EvidenceBasis.research_informed},
    {"key": "gryd-prevention", "owner": "gryd", "name": "GRYD Prevention Services", "type": T.gang_prevention,
     "description": "Family-centered prevention services for youth 10 to 15 at risk of gang involvement.",
     "regions": ["South", "East"], "ages": (10, 15), "languages": ["en", "es"], "locations": ["gryd-south"],
     "verified": "current", "accepts_referrals": True, "evidence_basis": EvidenceBasis.evidence_based,
     "funding": ["City of Los Angeles General Fund"]},
    {"key": "watts-credible-messengers", "owner": "cbo:6", "name": "Credible Messenger Intervention", "type": T.gang_intervention,
     "description": "Mentors with lived experience work one on one with gang-involved teens.",
     "regions": ["South"], "ages": (14, 24), "grades": ("9", "12"), "languages": ["en", "es"], "locations": ["watts-house"],
     "verified": "overdue", "accepts_referrals": True},
    {"key": "westside-incident-response", "owner": "cbo:5", "name": "Westside Rapid Incident Response", "type": T.incident_response,
     "description": "Outreach workers on scene within hours of a violent incident near a campus.",
     "regions": ["West"], "languages": ["en", "es", "ko"], "locations": ["westside-office"], "verified": "current",
     "schedules": [{"byday": ["MO", "TU", "WE", "TH", "FR", "SA", "SU"], "opens_at": "00:00", "closes_at": "23:59",
                    "description": "On call around the clock"}]},
    {"key": "dhs-hvip", "owner": "dhs", "name": "Hospital-Based Violence Intervention", "type": T.hospital_based_intervention,
     "description": "Bedside engagement of young people injured by violence, then case management after discharge.",
     "regions": list(REGIONS), "ages": (12, 26), "languages": ["en", "es", "zh", "tl"], "locations": ["dhs-hvip"],
     "verified": "current", "accepts_referrals": True, "evidence_basis": EvidenceBasis.evidence_based},
    {"key": "south-bridge-mentors", "owner": "cbo:1", "name": "Bridge Mentors", "type": T.mentoring,
     "description": "Weekly mentoring for middle-school students.",
     "schools": ["Markham Middle School", "Gompers Middle School", "Jefferson High School"], "grades": ("6", "9"),
     "languages": ["en", "es", "tl"], "locations": ["south-bridge-center"], "verified": "current", "accepts_referrals": True,
     "schedules": [{"byday": ["TU", "TH"], "opens_at": "15:00", "closes_at": "17:30"}]},
    {"key": "crenshaw-restorative-circles", "owner": "cbo:3", "name": "Restorative Circles", "type": T.restorative_justice,
     "description": "Harm circles and re-entry circles after suspensions.",
     "schools": ["Crenshaw High School", "Dorsey High School", "Audubon Middle School", "Hamilton High School"],
     "languages": ["en"], "locations": ["crenshaw-studio"], "verified": "current", "accepts_referrals": True},
    {"key": "restorative-training", "owner": "cbo:9", "name": "Restorative Practices Training for School Staff",
     "type": T.restorative_justice, "description": "Training school staff in restorative practices.",
     "regions": list(REGIONS), "languages": ["en", "es"], "verified": "current"},
    {"key": "wellness-counseling", "owner": "cbo:10", "name": "School-Linked Counseling", "type": T.mental_health,
     "description": "Individual and family counseling on campus or by telehealth.",
     "regions": ["East", "West"], "ages": (5, 18), "grades": ("TK", "12"), "languages": ["en", "es", "ko", "zh"],
     "locations": ["wellness-clinic", "wellness-telehealth"], "verified": "current", "accepts_referrals": True,
     "is_free": False, "fees": "Medi-Cal accepted; sliding scale for others"},
    {"key": "pacoima-arts", "owner": "cbo:7", "name": "Pacoima Youth Arts After School", "type": T.after_school,
     "description": "Murals, music and Summer Night Lights programming.",
     "regions": ["North"], "ages": (11, 18), "languages": ["en", "es"], "locations": ["pacoima-studio"], "verified": "overdue",
     "schedules": [{"byday": ["MO", "WE", "FR"], "opens_at": "15:30", "closes_at": "18:30"}]},
    {"key": "summer-night-lights", "owner": "rap", "name": "Summer Night Lights", "type": T.after_school,
     "status": ProgramStatus.inactive, "description": "Evening park programming in summer (off season now).",
     "regions": ["South"], "languages": ["en", "es"], "locations": ["rap-park"], "verified": "current"},
    {"key": "harbor-family-navigation", "owner": "cbo:4", "name": "Family Navigation", "type": T.family_support,
     "description": "Case management and basic-needs referrals for families.",
     "regions": ["South"], "languages": ["en", "es", "tl"], "locations": ["harbor-center"], "verified": "current",
     "accepts_referrals": True},
    {"key": "harbor-youth-shelter", "owner": "cbo:4", "name": "Youth Crisis Shelter", "type": T.crisis_response,
     "description": "Emergency shelter for youth who cannot go home safely. Its address is confidential.",
     "regions": ["South", "West"], "ages": (12, 17), "languages": ["en", "es"], "locations": ["harbor-safe-house"],
     "verified": "current", "accepts_referrals": True},
    {"key": "workforce-reentry", "owner": "cbo:11", "name": "Reentry Jobs Pathway", "type": T.reentry, "status": ProgramStatus.draft,
     "description": "Paid internships for young people returning from probation camps.", "ages": (16, 24),
     "languages": ["en"], "verified": None},
    {"key": "parent-safety-walks", "owner": "cbo:8", "name": "Parent Safety Walks", "type": T.other,
     "description": "Parents walk school perimeters and report hazards to the safety committee.",
     "schools": ["Roosevelt High School", "Garfield High School", "Belvedere Middle School"],
     "languages": ["en", "es"], "verified": None},
]
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


def _email(person: str) -> str:
    first, last = person.lower().split(maxsplit=1)
    return f"{first}.{last}@demo.cbs-network.example"


def _organization(session: Session, key: str, **fields: Any) -> Organization:
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


def _user(session: Session, email: str, name: str, organization: Organization, role: Role,
          previous: str | None = None) -> tuple[str, bool]:
    """Creates a missing demo user with its membership; returns its password as the credentials
    file should show it, and whether the user was created. An existing user's name, memberships
    and active flag are theirs and left alone; only its password is the demo's business."""
    user = session.scalar(select(User).where(User.email == email))
    created = user is None
    if created:
        user = User(id=demo_id("user", email), email=email, name=name, is_active=True)
        session.add(user)
        session.add(Membership(id=demo_id("membership", f"{email}:{organization.id}"), user=user, organization=organization, role=role))
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
    session.add(Membership(id=demo_id("membership", f"{email}:{organization.id}"), user=user, organization=organization,
                           role=role, status=MembershipStatus.pending))
    session.flush()


def _client(session: Session, client_id: str, organization: Organization, *, name: str, role: Role,
            public_url: str | None = None, previous: str | None = None) -> str | None:
    """Creates a missing demo client; returns its secret as the credentials file should show it.
    An existing client's settings are its organization's and left alone."""
    client = session.scalar(select(OAuthClient).where(OAuthClient.client_id == client_id))
    if client is None:
        client = OAuthClient(id=demo_id("client", client_id), client_id=client_id, organization_id=organization.id, name=name,
                             scope=" ".join(sorted(SCOPES)), is_active=True, role_ceiling=role, network_wide=public_url is not None,
                             redirect_uris=[])
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


def _ensure(session: Session, model: type, ident: uuid.UUID, **fields: Any) -> Any:
    """The row with this id as it is, or created with these values when missing."""
    row = session.get(model, ident)
    if row is None:
        row = model(id=ident, **fields)
        session.add(row)
    return row


def _schools(session: Session, school_orgs: dict[str, Organization], jurisdiction: Jurisdiction,
             district: Organization) -> dict[str, School]:
    schools = {}
    for r, region in enumerate(REGIONS):
        for n, name in enumerate(SCHOOLS[region]):
            low, high, board, address, city, zip_code, lat, lon, bsap = SCHOOL_DETAILS[name]
            cds = f"1964733{9_000_000 + (r + 1) * 10_000 + n + 1:07d}"
            schools[name] = _ensure(
                session, School, demo_id("school", cds), cds_code=cds, name=name, grade_low=GRADES[low], grade_high=GRADES[high],
                region=region, board_district=board, address_1=address, city=city, state="CA", postal_code=zip_code,
                latitude=lat, longitude=lon, is_bsap=bsap, status=SchoolStatus.active, organization_id=school_orgs[name].id,
                district_id=district.id, jurisdiction_id=jurisdiction.id,
            )
    session.flush()
    return schools


def _locations(session: Session, orgs: dict[str, Organization]) -> dict[str, Location]:
    locations = {}
    for key, (owner, name, address, city, zip_code, lat, lon) in LOCATIONS.items():
        virtual = address is None
        locations[key] = _ensure(
            session, Location, demo_id("location", key), organization_id=orgs[owner].id, name=name,
            location_type=LocationType.virtual if virtual else LocationType.physical, url=TELEHEALTH_URL if virtual else None,
            address_1=address, city=city, state=None if virtual else "CA", postal_code=zip_code, latitude=lat, longitude=lon,
            is_confidential=key == CONFIDENTIAL_LOCATION,
            front_door_contact=SAFE_HOUSE_FRONT_DOOR if key == CONFIDENTIAL_LOCATION else None,
        )
    session.flush()
    return locations


def _programs(session: Session, orgs: dict[str, Organization], schools: dict[str, School],
              locations: dict[str, Location], verifier: User) -> None:
    """The missing demo programs, each with its lists and schedules; an existing one is left as it is."""
    today = utcnow().replace(hour=12, minute=0, second=0, microsecond=0)
    for n, spec in enumerate(PROGRAMS):
        key = spec["key"]
        ident = demo_id("program", key)
        if session.get(Program, ident) is not None:
            continue
        if spec["verified"] == "overdue":
            assured_at = LONG_AGO
        elif spec["verified"] == "current":
            # Recent (a fixed date would turn overdue as the demo ages); later runs leave it alone.
            assured_at = today - timedelta(days=3 + n)
        else:
            assured_at = None
        owner = orgs[spec["owner"]]
        ages, grades = spec.get("ages", (None, None)), spec.get("grades", (None, None))
        program = Program(
            id=ident, organization_id=owner.id, name=spec["name"], description=spec["description"],
            program_type=spec["type"], status=spec.get("status", ProgramStatus.active),
            minimum_age=ages[0], maximum_age=ages[1],
            minimum_grade=GRADES.get(grades[0]), maximum_grade=GRADES.get(grades[1]),
            population_description="Students of the listed schools and their families" if spec.get("schools") else None,
            is_free=spec.get("is_free", True), fees_description=spec.get("fees"),
            application_process="Refer through the CBS Network Hub, or call the program." if spec.get("accepts_referrals") else
            "Ask the school's safety coordinator.",
            evidence_basis=spec.get("evidence_basis"), funding_sources=spec.get("funding", ["CalVIP grant (BSCC)"]),
            contacts=[{"name": "Program coordinator", "phone": f"(213) 555-01{n:02d}"}],
            url=f"https://{key}.example.org", email=f"info@{key}.example.org", phone=f"(213) 555-01{n:02d}",
            accepts_referrals=spec.get("accepts_referrals", False),
            assured_at=assured_at, assured_by_user_id=verifier.id if assured_at else None,
            service_area_geojson=spec.get("polygon"), service_area_description=spec.get("service_area_description"),
        )
        session.add(program)
        program.languages = [ProgramLanguage(code=c) for c in spec["languages"]]
        program.served_schools = [ProgramSchool(school_id=schools[name].id) for name in spec.get("schools", [])]
        program.served_regions = [ProgramRegion(region=region) for region in spec.get("regions", [])]
        program.program_locations = [ProgramLocation(location_id=locations[k].id) for k in spec.get("locations", [])]
        program.schedules = [
            ProgramSchedule(id=demo_id("schedule", f"{key}:{position}"), position=position,
                            **{name: fields.get(name, [] if name == "byday" else None)
                               for name in ("byday", "opens_at", "closes_at", "minutes_before_arrival",
                                            "minutes_after_dismissal", "description")})
            for position, fields in enumerate(spec.get("schedules", []))]
        program.external_codes = [ProgramExternalCode(id=demo_id("external-code", key), scheme="cbs_demo",
                                                      code=f"CBS-{spec['type'].value.upper()}")]
        session.flush()


# Capacity profiles: program key -> (total, available, unit, waitlist length, waitlist open,
# assessment required, staff, certified interventionists, languages staffed, hours, last updated: days ago, or
# a fixed date for the stale ones so they are stale on every run). Programs not listed have no profile yet.
U = SlotUnit
STALE_AT = datetime(2026, 8, 3, 17, 0, tzinfo=UTC)
CAPACITY: dict[str, tuple] = {
    "eastside-safe-passage": (12, 3, U.shifts, 0, False, False, 14, 6, ["en", "es"], "School days 07:00-08:30, 14:30-16:30", 2),
    "valley-safe-routes": (10, 4, U.shifts, 0, False, False, 11, 4, ["en", "es", "hy"], "School days 07:00-16:30", STALE_AT),
    "south-safe-passage": (16, 2, U.shifts, 0, False, False, 18, 9, ["en", "es"], "School days 07:00-08:30, 14:30-17:00", 5),
    "gryd-watts-intervention": (60, 9, U.participants, 0, True, True, 12, 12, ["en", "es"], "24/7 incident response", 1),
    "gryd-prevention": (120, 17, U.youth, 0, True, True, 15, 3, ["en", "es"], "Mon-Fri 09:00-18:00", 4),
    "watts-credible-messengers": (30, 5, U.youth, 0, True, False, 8, 8, ["en", "es"], "Mon-Sat 10:00-20:00",
                                  datetime(2026, 6, 20, 17, 0, tzinfo=UTC)),
    "dhs-hvip": (45, 11, U.participants, 0, False, False, 7, 5, ["en", "es"], "24/7 at trauma centers", 3),
    # Full, with an open waitlist.
    "south-bridge-mentors": (25, 0, U.youth, 8, True, False, 6, 0, ["en", "es"], "Mon-Thu 15:00-19:00", 6),
    "crenshaw-restorative-circles": (40, 12, U.youth, 0, False, False, 5, 0, ["en"], "School days", STALE_AT),
    "wellness-counseling": (35, 6, U.youth, 0, True, True, 9, 0, ["en", "es", "ko"], "Mon-Fri 08:00-18:00", 7),
    "pacoima-arts": (50, 14, U.youth, 0, False, False, 6, 0, ["en", "es"], "School days 15:00-18:30", 10),
    "harbor-family-navigation": (30, 7, U.families, 0, True, False, 4, 0, ["en", "es", "tl"], "Mon-Fri 09:00-17:00", 8),
    "harbor-youth-shelter": (12, 1, U.youth, 0, False, True, 10, 2, ["en", "es"], "24/7", 1),
    "parent-safety-walks": (20, 20, U.shifts, 0, False, False, 3, 0, ["en", "es"], "School days 07:00-08:30", 9),
}


def _capacity(session: Session, verifier: User) -> None:
    """Profiles with two history rows each (the first report, then the current one); created
    once and then left alone, so the demo's own updates are kept."""
    today = utcnow().replace(hour=12, minute=0, second=0, microsecond=0)
    for key, (total, available, unit, waitlist, waitlist_open, assessment, staff, certified, languages, hours,
              updated) in CAPACITY.items():
        program_id = demo_id("program", key)
        if session.scalar(select(CapacityProfile.id).where(CapacityProfile.program_id == program_id)) is not None:
            continue
        updated_at = updated if isinstance(updated, datetime) else today - timedelta(days=updated)
        values = {
            "total_slots": total, "available_slots": available, "slot_unit": unit, "waitlist_length": waitlist,
            "waitlist_open": waitlist_open, "assessment_required": assessment,
            "staff_count": staff, "certified_interventionists": certified, "languages_staffed": languages,
            "hours": hours, "notes": None,
        }
        first = {**values, "slot_unit": unit.value, "available_slots": min(total, available + 3),
                 "waitlist_length": max(0, waitlist - 5)}
        session.add(CapacityHistory(id=demo_id("capacity-history", f"{key}:1"), program_id=program_id, version=1,
                                    changed_at=updated_at - timedelta(days=21), changed_by_user_id=verifier.id, snapshot=first))
        session.add(CapacityHistory(id=demo_id("capacity-history", f"{key}:2"), program_id=program_id, version=2,
                                    changed_at=updated_at, changed_by_user_id=verifier.id, snapshot={**values, "slot_unit": unit.value}))
        # Written as it happened (the first report, then the current one), so the version is 2.
        profile = CapacityProfile(id=demo_id("capacity", key), program_id=program_id, created_at=updated_at - timedelta(days=21),
                                  updated_at=updated_at - timedelta(days=21), updated_by_user_id=verifier.id, **first)
        session.add(profile)
        session.flush()
        for name, value in values.items():
            setattr(profile, name, value)
        profile.updated_at = updated_at
        session.flush()


# --- referrals ---------------------------------------------------------------------------------
# Invented students with names no one has, one per demo referral, and the referral's story: who
# sends it ("lausd": the district's coordinator; a school or CBO: its STAFF member), to which
# program, and the steps after sending. A step is a state to move to (made by whichever party the
# transition table names) with its body, ("note", "source" | "target", text) or ("revoke", reason)
# for the guardian withdrawing the consent. Ages are in days so minors stay minors as the demo ages;
# "consents" lists when each consent was signed (days ago, each valid a year), the last one is used.
CASES: list[dict[str, Any]] = [
    {"student": ("Avery", "Sampleton", 5700, "10", "en", "DEMO-0001"), "from": "school:Roosevelt High School",
     "program": "wellness-counseling", "school": "Roosevelt High School", "urgency": "routine", "draft": True,
     "need": "Withdrawn in class since October; the counselor suggests weekly sessions.", "steps": []},
    {"student": ("Luz", "Ejemplo", 5950, "11", "es", "DEMO-0002"), "from": "lausd",
     "program": "crenshaw-restorative-circles", "school": "Dorsey High School", "urgency": "routine", "due_in": 14,
     "need": "Returning from a five-day suspension; a restorative re-entry circle is requested.", "steps": []},
    {"student": ("Jaylen", "Testwood", 5400, "9", "en", "DEMO-0003"), "from": "school:Roosevelt High School",
     "program": "wellness-counseling", "school": "Roosevelt High School", "urgency": "urgent", "due_in": 7,
     "need": "Witnessed a shooting near campus last week; trouble sleeping and concentrating.",
     "steps": [("accepted", {}),
               ("note", "target", "Intake booked for Tuesday 3:30 pm at the clinic."),
               ("note", "source", "Thank you; the student's advisor will walk them over.")]},
    # Bridge Mentors is full: acceptance puts the referral on its waitlist.
    {"student": ("Marisa", "Imaginario", 4580, "7", "es", "DEMO-0004"), "from": "school:Markham Middle School",
     "program": "south-bridge-mentors", "school": "Markham Middle School", "urgency": "routine",
     "need": "Asked for a mentor after a family member's arrest; attendance is dropping.",
     "steps": [("accepted", {"waitlist_if_full": True}),
               ("note", "target", "Full until the spring cohort; the family is on our waitlist and will be called first.")]},
    {"student": ("Dev", "Demoski", 4700, "7", "en", "DEMO-0005"), "from": "lausd",
     "program": "watts-credible-messengers", "school": "Gompers Middle School", "urgency": "routine",
     "need": "Peer conflict turning into threats online.", "purposes": ["gang_intervention", "mentoring"],
     "steps": [("rejected", {"reason": "The program serves high-school students 14 and older; Bridge Mentors fits grade 7 better."})]},
    {"student": ("Keanu", "Placeholder", 4800, "8", "en", "DEMO-0006"), "from": "school:Markham Middle School",
     "program": "harbor-family-navigation", "school": "Markham Middle School", "urgency": "routine",
     "need": "Family facing eviction; the student misses school to care for younger siblings.",
     "steps": [("accepted", {}), ("in-progress", {}),
               ("note", "target", "First home visit done; the housing application is filed with the family.")]},
    {"student": ("Tobias", "Mockwell", 4350, "6", "es", "DEMO-0007"), "from": "lausd",
     "program": "wellness-counseling", "school": "Hollenbeck Middle School", "urgency": "routine",
     "need": "Anxiety after a lockdown; the family asks for a Spanish-speaking counselor.",
     "steps": [("accepted", {}), ("in-progress", {}),
               ("on-hold", {"reason": "The family is away until mid-January; sessions resume after winter break."})]},
    # An older consent expired; the guardian signed a new one for this referral.
    {"student": ("Samira", "Notreal", 6150, "11", "en", "DEMO-0008"), "from": "lausd",
     "program": "crenshaw-restorative-circles", "school": "Crenshaw High School", "urgency": "urgent", "consents": [430, 21],
     "need": "Fight in the cafeteria; both students agreed to a harm circle.",
     "steps": [("accepted", {}), ("in-progress", {}),
               ("completed", {"outcome": {"enrollment_status": "enrolled", "services": [
                   {"kind": "restorative circle", "count": 4}, {"kind": "family conference", "count": 1}]}})]},
    # 18: the student consents for themselves (FERPA eligible student).
    {"student": ("Eli", "Fictitious", 6780, "12", "en", "DEMO-0009"), "from": "lausd", "eligible": True,
     "program": "watts-credible-messengers", "school": "Jordan High School", "urgency": "urgent", "covers": "target",
     "need": "Named in a neighborhood dispute; the dean fears retaliation.",
     "steps": [("accepted", {}), ("in-progress", {}),
               ("failed", {"reason": "No response after five contact attempts over three weeks.",
                           "outcome": {"enrollment_status": "not-enrolled", "services": [{"kind": "outreach attempt", "count": 5}]}})]},
    # The guardian withdrew consent after acceptance: the receiver keeps the history, not the personal fields.
    {"student": ("Nova", "Madeup", 5250, "9", "es", "DEMO-0010"), "from": "lausd",
     "program": "harbor-family-navigation", "school": "Jordan High School", "urgency": "routine",
     "need": "The family needs food assistance and a benefits screening.",
     "steps": [("accepted", {}), ("revoke", "The guardian withdrew consent by phone; the family found help elsewhere."),
               ("cancelled", {"reason": "The guardian revoked consent."})]},
    {"student": ("Quinn", "Exampleton", 5500, "10", "en", "DEMO-0011"), "from": "school:Roosevelt High School",
     "program": "wellness-counseling", "school": "Roosevelt High School", "urgency": "routine",
     "need": "Referred for counseling after repeated tardies.",
     "steps": [("entered-in-error", {"reason": "Sent for the wrong student."})]},
    # Sent without consent under the health-or-safety emergency exception; the district reviews it.
    {"student": ("Rory", "Pretendo", 5600, "10", "en", "DEMO-0012"), "from": "lausd", "consents": [],
     "program": "harbor-youth-shelter", "school": "Locke High School", "urgency": "emergency",
     "emergency": "Student disclosed they cannot safely go home tonight; the guardian cannot be reached.",
     "need": "Needs a safe place to stay tonight.", "steps": []},
    # Requested long ago and never answered: overdue.
    {"student": ("Finley", "Fakerson", 4450, "7", "en", "DEMO-0013"), "from": "school:Markham Middle School",
     "program": "south-bridge-mentors", "school": "Markham Middle School", "urgency": "routine", "requested_days_ago": 9,
     "need": "Looking for an after-school mentor; the student asked for one.", "steps": []},
]


_PROGRAM_TYPES = {spec["key"]: spec["type"].value for spec in PROGRAMS}
_PROGRAM_OWNERS = {spec["key"]: spec["owner"] for spec in PROGRAMS}


def _acting(session: Session, person: str, organization: Organization) -> Principal:
    """The principal a demo user's token for `organization` would carry: every scope, capped by the role."""
    user = session.scalar(select(User).where(User.email == _email(person)))
    membership = session.scalar(select(Membership).where(Membership.user_id == user.id,
                                                         Membership.organization_id == organization.id))
    return Principal(organization_id=organization.id, role=membership.role, token_scopes=frozenset(SCOPES),
                     client_id="cli", user_id=user.id)


def _subject_body(student: tuple, today: date) -> dict[str, Any]:
    given, family, age_days, grade, language, student_id = student
    n = student_id[-2:]
    return {"given_name": given, "family_name": family, "date_of_birth": (today - timedelta(days=age_days)).isoformat(),
            "district_student_id": student_id, "grade": grade, "preferred_language": language,
            "contact": {"phone": f"(323) 555-02{n}", "email": f"{given.lower()}.{family.lower()}@students.example.org"},
            "guardian": {"name": f"Pat {family}", "relationship": "guardian", "phone": f"(323) 555-03{n}"}}


def _consent_body(case: dict[str, Any], target: Organization, today: date, *, given_days_ago: int) -> dict[str, Any]:
    covers = {"covers_organization_ids": [str(target.id)]} if case.get("covers") == "target" else {"covers_organization_kinds": ["cbo"]}
    return {"given_by": "eligible_student" if case.get("eligible") else "guardian", "method": "written",
            "given_on": (today - timedelta(days=given_days_ago)).isoformat(),
            "expires_on": (today - timedelta(days=given_days_ago) + timedelta(days=365)).isoformat(),
            "purposes": case.get("purposes", [_PROGRAM_TYPES[case["program"]]]), **covers}


def _referrals(session: Session, members: dict[str, Organization], schools: dict[str, School]) -> None:
    """Subjects, consents, referrals and notes, made by the demo users through the same services
    the API calls, so consent, slots and transitions are checked and audited as in real use.

    The services choose their own (random) ids, so these rows cannot be matched on a second run
    like the rest of the demo: the whole part runs once, and is skipped when any demo student is
    already recorded (found by the keyed hash of its district student id)."""
    hashes = [keyring().student_id_hash(case["student"][-1]) for case in CASES]
    if session.scalar(select(Subject.id).where(Subject.student_id_hash.in_(hashes)).limit(1)) is not None:
        return
    actors = {org_key: person for org_key, (person, _role) in STAFF.items()} | {"lausd": PEOPLE["coordinator"][0]}
    today = subjects.today()
    for case in CASES:
        source = _acting(session, actors[case["from"]], members[case["from"]])
        target_key = _PROGRAM_OWNERS[case["program"]]
        target = _acting(session, actors[target_key], members[target_key])
        subject = subjects.create(session=session, principal=source,
                                  data=SubjectCreateSchema().load(_subject_body(case["student"], today)))
        consent = None
        for given_days_ago in case.get("consents", [21]):
            body = _consent_body(case, members[target_key], today, given_days_ago=given_days_ago)
            consent = subjects.create_consent(session=session, principal=source, subject_id=subject.id,
                                              data=ConsentCreateSchema().load(body))
        sending = not case.get("draft")
        referral = referrals.create(session=session, principal=source, data=ReferralCreateSchema().load({
            "subject_id": str(subject.id), "target_program_id": str(demo_id("program", case["program"])),
            "school_id": str(schools[case["school"]].id), "urgency": case["urgency"], "need_description": case["need"],
            "service_due_on": (today + timedelta(days=case["due_in"])).isoformat() if "due_in" in case else None,
            "state": "requested" if sending else "draft",
            "consent_id": str(consent.id) if sending and consent else None, "emergency_reason": case.get("emergency"),
        }))
        if "requested_days_ago" in case:
            # Sent long ago: the referral, its first transition and its deadline all date from then.
            sent = utcnow() - timedelta(days=case["requested_days_ago"])
            first = session.scalar(select(ReferralTransition).where(ReferralTransition.referral_id == referral.id))
            referral.requested_at = referral.created_at = first.at = sent
            session.flush()
        for step in case["steps"]:
            if step[0] == "note":
                referrals.add_note(session=session, principal=source if step[1] == "source" else target,
                                   referral_id=referral.id, body=step[2])
            elif step[0] == "revoke":
                subjects.revoke_consent(session=session, principal=source, subject_id=subject.id, consent_id=consent.id,
                                        reason=step[1])
            else:
                to, body = step
                party = TRANSITIONS[(referral.state, ReferralState(to))]
                referral = referrals.transition(session=session, principal=source if party is Party.requester else target,
                                                referral_id=referral.id, data=TransitionCreateSchema().load({"to": to, **body}))


# --- school safety committees and plans ---------------------------------------------------------
# LAUSD's own rules within the state's: its ISSP is due October 1, and (in this fictional network)
# its high schools seat a student on the committee.
LAUSD_RULES = [{"role": "pupil", "minimum": 1, "min_grade": 9, "source": "District policy: a student voice at high schools"}]
STATE_SEATS = ("principal_or_designee", "teacher_rep", "parent", "classified_rep")
# school -> (seats filled, CBO that sits on it or None, a pending CBO nomination (org key) or None)
COMMITTEES: dict[str, tuple[tuple[str, ...], str | None, str | None]] = {
    "Roosevelt High School": ((*STATE_SEATS, "pupil", "law_enforcement"), "cbo:0", None),
    "Hollenbeck Middle School": (STATE_SEATS, "cbo:8", None),
    "Garfield High School": ((*STATE_SEATS, "pupil"), None, None),
    "Jefferson High School": (("principal_or_designee", "teacher_rep", "classified_rep", "pupil"), "cbo:1", None),
    "Fremont High School": (STATE_SEATS, "cbo:1", None),
    "Jordan High School": ((*STATE_SEATS, "pupil", "fire"), None, "cbo:6"),
    "Locke High School": ((*STATE_SEATS, "pupil"), "cbo:6", None),
    "Crenshaw High School": ((*STATE_SEATS, "pupil"), None, "cbo:3"),
}
# A member whose term ends soon, so compliance shows it coming.
ENDING_SOON = ("Locke High School", "parent")
# school -> (plan state, needs: (type, status, where, program key or None))
PLANS: dict[str, tuple[str, list[tuple[str, str, str, str | None]]]] = {
    "Roosevelt High School": ("approved", [("safe_passage", "in_progress", "Mathews St and 4th St; the Metro bus stop at Cesar Chavez Ave", "eastside-safe-passage")]),
    "Hollenbeck Middle School": ("approved", [("mental_health", "met", "On campus", "wellness-counseling")]),
    "Garfield High School": ("submitted", [("safe_passage", "met", "6th St between Atlantic Blvd and Woods Ave", None)]),
    "Jefferson High School": ("public_meeting_held", [("safe_passage", "open", "41st St and Central Ave", "south-safe-passage")]),
    "Fremont High School": ("drafting", [("restorative_justice", "open", "Conflicts after dismissal at the San Pedro St gate", None)]),
    "Jordan High School": ("drafting", [("safe_passage", "open", "103rd St between Grape St and Wilmington Ave; the Metro A Line stop", None)]),
    "Locke High School": ("drafting", [("safe_passage", "open", "111th St and San Pedro St; the bus stops on Avalon Blvd", None),
                                       ("mental_health", "open", "On campus", None)]),
    "Crenshaw High School": ("amended", [("safe_passage", "open", "Crenshaw Blvd between 48th St and Slauson Ave", "westside-safe-passage")]),
    "Van Nuys High School": ("not_started", []),
}
# Schools with an open safe-passage need that no active safe-passage program serves (Crenshaw's
# program is temporarily closed): what the coverage-gap view must find.
SAFE_PASSAGE_GAPS = {"Jordan High School", "Locke High School", "Crenshaw High School"}
PLAN_ORDER = ("not_started", "drafting", "public_meeting_held", "submitted", "approved", "amended")
INVENTED_PEOPLE = ["Dolores Quintanar", "Marcus Whitfield", "Yesenia Arbelaez", "Gideon Park", "Ruth Okafor", "Tomas Villaseñor",
                   "Alma Benavides", "Desmond Achterberg", "Paloma Irigoyen", "Ivan Sokolowski"]


def current_school_year(today: date) -> str:
    start = today.year if today.month >= 7 else today.year - 1
    return f"{start}-{(start + 1) % 100:02d}"


def _jurisdiction(session: Session) -> Jurisdiction:
    state = session.scalars(select(Jurisdiction).where(Jurisdiction.code == "CA")).one()
    return _ensure(session, Jurisdiction, demo_id("jurisdiction", "lausd"), code="LAUSD",
                   name="Los Angeles Unified School District", parent_id=state.id, plan_due_month=10, plan_due_day=1,
                   composition_rules=LAUSD_RULES, description="The Integrated School Safety Plan (ISSP) is due October 1.")


# --- the second district ------------------------------------------------------------------------
# Harbor Gateway Unified is invented (no such district exists; Harbor Gateway is a Los Angeles
# neighborhood), and so are its schools, trustee areas, addresses and rules. Its schools' own
# organizations sit directly under it; its plans are due November 15 and its committees seat a
# neighborhood resident.
HARBOR_KEY = "hgusd"
HARBOR_DESCRIPTION = "A fictional school district, the demo's second district: it keeps its own schools and only reads LAUSD's."
HARBOR_RULES = [{"role": "community_member", "minimum": 1, "source": "District policy: a neighborhood resident on every committee"}]
# name: (grades, trustee area, invented street number on a street of the area, city, ZIP, approximate coordinates)
HARBOR_SCHOOLS = {
    "Tidewater High School": ("9", "12", 1, "1520 W 190th St", "Los Angeles", "90248", 33.8576, -118.3012),
    "Figueroa Crossing Middle School": ("6", "8", 2, "17430 S Figueroa St", "Los Angeles", "90248", 33.8694, -118.2827),
    "Lighthouse Lane Elementary School": ("K", "5", 3, "1260 W 205th St", "Los Angeles", "90502", 33.8429, -118.2954),
}
HARBOR_PEOPLE = [("Rosalind Marchbanks", Role.org_admin), ("Ezequiel Tanaka-Brandt", Role.coordinator)]
# Like COMMITTEES and PLANS: one complete committee, one missing seats, one school with neither.
HARBOR_COMMITTEES: dict[str, tuple[tuple[str, ...], str | None, str | None]] = {
    "Tidewater High School": ((*STATE_SEATS, "community_member"), "cbo:4", None),
    "Figueroa Crossing Middle School": (STATE_SEATS, None, None),
}
HARBOR_PLANS: dict[str, tuple[str, list[tuple[str, str, str, str | None]]]] = {
    "Tidewater High School": ("submitted", [("mental_health", "open", "On campus; counseling after a fight near the bus stop", None)]),
    "Figueroa Crossing Middle School": ("drafting", [("restorative_justice", "open", "Conflicts at lunch in the quad", None)]),
}


def _harbor_jurisdiction(session: Session) -> Jurisdiction:
    state = session.scalars(select(Jurisdiction).where(Jurisdiction.code == "CA")).one()
    return _ensure(session, Jurisdiction, demo_id("jurisdiction", HARBOR_KEY), code="HGUSD",
                   name="Harbor Gateway Unified School District (fictional)", parent_id=state.id, plan_due_month=11,
                   plan_due_day=15, composition_rules=HARBOR_RULES, description="A fictional district's rules: plans due November 15.")


def _harbor_schools(session: Session, school_orgs: dict[str, Organization], district: Organization) -> dict[str, School]:
    """The second district's schools; CDS codes with an invented county-district part (1999999)."""
    jurisdiction = _harbor_jurisdiction(session)
    schools = {}
    for n, (name, (low, high, area, address, city, zip_code, lat, lon)) in enumerate(HARBOR_SCHOOLS.items()):
        cds = f"1999999{9_500_001 + n:07d}"
        schools[name] = _ensure(
            session, School, demo_id("school", cds), cds_code=cds, name=name, grade_low=GRADES[low], grade_high=GRADES[high],
            region=None, board_district=area, address_1=address, city=city, state="CA", postal_code=zip_code, latitude=lat,
            longitude=lon, is_bsap=False, status=SchoolStatus.active, organization_id=school_orgs[name].id,
            district_id=district.id, jurisdiction_id=jurisdiction.id,
        )
    session.flush()
    return schools


def _committees(session: Session, members: dict[str, Organization], schools: dict[str, School],
                committee_specs: dict[str, tuple] = COMMITTEES, plan_specs: dict[str, tuple] = PLANS) -> None:
    """Committees with complete and missing seats and pending CBO nominations, and safety plans in
    every state with their needs; written directly with demo ids, like the directory. Only for a
    school without its committee (or plan) of this school year: an existing one, the demo's or one
    its users made, is left as it is with its members (or steps and needs)."""
    today = clock.today()
    year = current_school_year(today)
    term_start, term_end = jurisdictions.school_year_bounds(year)
    staff = {org_key: person for org_key, (person, _role) in STAFF.items()}
    for school_name, (seats, cbo, nominating) in committee_specs.items():
        school_id = schools[school_name].id
        if session.scalar(select(Committee.id).where(Committee.school_id == school_id, Committee.school_year == year)):
            continue
        committee = Committee(id=demo_id("committee", f"{school_name}:{year}"), school_id=school_id, school_year=year,
                              meeting_schedule="Second Tuesday of each month, 3:30 pm, library")
        session.add(committee)
        session.flush()
        for n, role in enumerate(seats):
            ends = today + timedelta(days=20) if (school_name, role) == ENDING_SOON else term_end
            person = INVENTED_PEOPLE[(n + len(school_name)) % len(INVENTED_PEOPLE)]
            session.add(CommitteeMember(
                id=demo_id("member", f"{committee.id}:{role}"), committee_id=committee.id, role=role, name=person,
                email=_email(person), status=MemberStatus.active, term_start=term_start, term_end=ends,
                organization_id=members["school:" + school_name].id if role != "law_enforcement" else members["lapd-csp"].id))
        for org_key, status in ((cbo, MemberStatus.active), (nominating, MemberStatus.nominated)):
            if org_key is None:
                continue
            person = staff.get(org_key) or PEOPLE["cbo_admin"][0]
            user = session.scalar(select(User).where(User.email == _email(person)))
            session.add(CommitteeMember(
                id=demo_id("member", f"{committee.id}:cbo:{org_key}"), committee_id=committee.id, role="cbo_representative",
                name=person, email=_email(person), user_id=user.id if user else None, organization_id=members[org_key].id,
                status=status, term_start=term_start, term_end=term_end, nominated_by_organization_id=members[org_key].id,
                nominated_by_user_id=user.id if user else None))
    for school_name, (state, needs) in plan_specs.items():
        school = schools[school_name]
        if session.scalar(select(SafetyPlan.id).where(SafetyPlan.school_id == school.id, SafetyPlan.school_year == year)):
            continue
        due_on, due_rule = jurisdictions.plan_deadline(session, school, year)
        plan_id = demo_id("plan", f"{school_name}:{year}")
        reached = PLAN_ORDER.index(state)
        session.add(SafetyPlan(id=plan_id, school_id=school.id, school_year=year, state=state, due_on=due_on,
                               due_rule=due_rule, public_meeting_on=due_on - timedelta(days=30) if reached >= 2 else None,
                               approved_at=LONG_AGO.replace(year=term_start.year, month=9, day=20) if reached >= 4 else None,
                               summary=f"{school_name}'s {year} comprehensive school safety plan."))
        session.flush()
        for step in range(1, reached + 1):
            session.add(PlanTransition(id=demo_id("plan-transition", f"{plan_id}:{step}"), plan_id=plan_id,
                                       from_state=PLAN_ORDER[step - 1], to_state=PLAN_ORDER[step],
                                       at=LONG_AGO.replace(year=term_start.year, month=8, day=step * 5)))
        for n, (need_type, status, where, program) in enumerate(needs):
            need_id = demo_id("plan-need", f"{plan_id}:{n}")
            session.add(PlanNeed(id=need_id, plan_id=plan_id, need_type=need_type, status=status, priority="high",
                                 description=f"{need_type.replace('_', ' ').capitalize()} need found by the safety assessment.",
                                 location_description=where))
            session.flush()
            if program and session.get(Program, demo_id("program", program)) is not None:
                session.add(PlanNeedProgram(need_id=need_id, program_id=demo_id("program", program)))
    session.flush()


def seed_demo(*, session: Session, public_url: str, previous: dict[str, Any] | None = None) -> dict[str, Any]:
    """Load what is missing of the demo network; returns the demo credentials. `previous` is what
    an earlier seed returned (the credentials file): its passwords and secrets are kept where they
    still verify, so reseeding with it changes nothing that exists."""
    previous = previous or {}
    passwords = {u.get("email"): u.get("password") for u in previous.get("users", [])}
    client_secrets = {c.get("client_id"): c.get("client_secret") for c in previous.get("clients", [])}
    hub = _organization(session, "hub", kind=K.network_hub, name="CBS Network Hub", alternate_name="CBS Network",
                        description="The multi-agency network organization that coordinates community-based safety around Los Angeles schools.",
                        jurisdiction="Los Angeles region", governing_authority="Network charter adopted by member agencies")
    orgs: dict[str, Organization] = {"hub": hub}
    for key, kind, name, short, jurisdiction, authority in AGENCIES:
        orgs[key] = _organization(session, key, kind=kind, name=name, alternate_name=short, jurisdiction=jurisdiction,
                                  governing_authority=authority, description=HARBOR_DESCRIPTION if key == HARBOR_KEY else None)
    lausd = orgs["lausd"]
    school_orgs: dict[str, Organization] = {}
    for region in REGIONS:
        office = _organization(session, f"region-{region.lower()}", kind=K.district_office, name=f"LAUSD Region {region}",
                               parent_id=lausd.id, jurisdiction="Los Angeles Unified School District")
        for n, school in enumerate(SCHOOLS[region]):
            school_orgs[school] = _organization(session, f"school-{region.lower()}-{n}", kind=K.school, name=school,
                                                parent_id=office.id, jurisdiction="Los Angeles Unified School District")
    harbor = orgs[HARBOR_KEY]
    for n, school in enumerate(HARBOR_SCHOOLS):
        school_orgs[school] = _organization(session, f"{HARBOR_KEY}-school-{n}", kind=K.school, name=school, parent_id=harbor.id,
                                            jurisdiction=harbor.name)
    for n, (name, description) in enumerate(CBOS):
        orgs[f"cbo:{n}"] = _organization(session, f"cbo-{n}", kind=K.cbo, name=name, description=description,
                                         jurisdiction="Los Angeles County",
                                         status=OrganizationStatus.prospective if n == len(CBOS) - 1 else OrganizationStatus.active)
    _organization(session, "funder", kind=K.funder, name="Golden State Youth Safety Fund", description="A fictional private funder of CBS grants.")
    _organization(session, "coalition", kind=K.coalition, name="LA Safe Passages Coalition", description="A fictional coalition of safe-passage providers.")

    members = {**orgs, **{f"school:{name}": org for name, org in school_orgs.items()}}
    people = [(person, org_key, Role.org_admin if role_key == "cbo_admin" else Role(role_key))
              for role_key, (person, org_key) in PEOPLE.items()]
    users, created = [], set()
    for person, org_key, role in [*people, *((person, org_key, role) for org_key, (person, role) in STAFF.items()),
                                  *((person, HARBOR_KEY, role) for person, role in HARBOR_PEOPLE)]:
        email = _email(person)
        password, new = _user(session, email, person, members[org_key], role, passwords.get(email))
        if new:
            created.add(email)
        users.append({"email": email, "password": password, "name": person, "role": role.value,
                      "organization": members[org_key].name})

    if _email(PEOPLE["coordinator"][0]) in created:
        _offer(session, _email(PEOPLE["coordinator"][0]), orgs["cbo:0"], Role.viewer)

    schools = {**_schools(session, school_orgs, _jurisdiction(session), lausd), **_harbor_schools(session, school_orgs, harbor)}
    locations = _locations(session, orgs)
    verifier = session.scalar(select(User).where(User.email == users[0]["email"]))  # the network admin
    _programs(session, orgs, schools, locations, verifier)
    _capacity(session, verifier)
    _referrals(session, members, schools)
    _committees(session, members, schools)
    _committees(session, members, schools, HARBOR_COMMITTEES, HARBOR_PLANS)

    clients = []
    # Every agency's system, and one CBO's: CBO staff keep their capacity current through the API.
    for client_id, organization in [*((f"demo-{key}", orgs[key]) for key, *_rest in AGENCIES),
                                    (CBO_CLIENT_ID, orgs["cbo:0"])]:
        name = f"{organization.alternate_name or organization.name} integration (demo)"
        secret = _client(session, client_id, organization, name=name, role=Role.coordinator, previous=client_secrets.get(client_id))
        clients.append({"client_id": client_id, "client_secret": secret, "organization": organization.name,
                        "role_ceiling": Role.coordinator.value, "scopes": sorted(SCOPES)})
    _client(session, EXPLORER_CLIENT_ID, hub, name="API explorer (Swagger UI)", role=Role.network_admin, public_url=public_url)
    session.flush()
    return {"public_url": public_url, "users": users, "clients": clients, "explorer_client_id": EXPLORER_CLIENT_ID}
