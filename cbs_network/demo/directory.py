"""The directory: both districts' schools, the members' service locations, and programs of every
type with their languages, schedules and service areas. The schools' CDS codes, street numbers
and coordinates are invented (plausible, in the right part of the city)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from cbs_network.committees.models import Jurisdiction
from cbs_network.core.db import utcnow
from cbs_network.demo.common import LONG_AGO, demo_id, ensure
from cbs_network.directory.models import (
    GRADES,
    EvidenceBasis,
    Location,
    LocationType,
    Program,
    ProgramExternalCode,
    ProgramLanguage,
    ProgramLocation,
    ProgramRegion,
    ProgramSchedule,
    ProgramSchool,
    ProgramStatus,
    School,
    SchoolStatus,
)
from cbs_network.directory.models import ProgramType as T
from cbs_network.identity.models import User
from cbs_network.organizations.models import Organization

REGIONS = ("North", "East", "South", "West")
SCHOOLS = {
    "North": [
        "Sepulveda Middle School",
        "Van Nuys High School",
        "Panorama High School",
        "Arleta High School",
        "Pacoima Middle School",
        "Sun Valley Magnet",
    ],
    "East": [
        "Roosevelt High School",
        "Hollenbeck Middle School",
        "Garfield High School",
        "Stevenson Middle School",
        "Boyle Heights STEM High",
        "Belvedere Middle School",
    ],
    "South": [
        "Jefferson High School",
        "Fremont High School",
        "Locke High School",
        "Markham Middle School",
        "Gompers Middle School",
        "Jordan High School",
    ],
    "West": [
        "Crenshaw High School",
        "Dorsey High School",
        "Audubon Middle School",
        "Hamilton High School",
        "Palms Middle School",
        "Venice High School",
    ],
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
# The second district's schools (see organizations.HARBOR_KEY).
# name: (grades, trustee area, invented street number on a street of the area, city, ZIP, approximate coordinates)
HARBOR_SCHOOLS = {
    "Tidewater High School": ("9", "12", 1, "1520 W 190th St", "Los Angeles", "90248", 33.8576, -118.3012),
    "Figueroa Crossing Middle School": ("6", "8", 2, "17430 S Figueroa St", "Los Angeles", "90248", 33.8694, -118.2827),
    "Lighthouse Lane Elementary School": ("K", "5", 3, "1260 W 205th St", "Los Angeles", "90502", 33.8429, -118.2954),
}
# key: (owner, name, address_1, city, postal code, latitude, longitude); addresses are invented.
LOCATIONS = {
    "eastside-office": (
        "cbo:0",
        "Eastside Peacekeepers office",
        "2417 E Cesar E Chavez Ave",
        "Los Angeles",
        "90033",
        34.0478,
        -118.2063,
    ),
    "south-bridge-center": (
        "cbo:1",
        "South LA Youth Bridge center",
        "7420 S Central Ave",
        "Los Angeles",
        "90001",
        33.9712,
        -118.2562,
    ),
    "valley-hub": ("cbo:2", "Valley Safe Routes hub", "14520 Roscoe Blvd", "Panorama City", "91402", 34.2211, -118.4497),
    "crenshaw-studio": (
        "cbo:3",
        "Crenshaw Healing Circle studio",
        "4310 Crenshaw Blvd",
        "Los Angeles",
        "90008",
        34.0061,
        -118.3352,
    ),
    "harbor-center": ("cbo:4", "Harbor Family Resource Center", "1340 N Avalon Blvd", "Wilmington", "90744", 33.7902, -118.2628),
    "harbor-safe-house": ("cbo:4", "Harbor youth safe house", "612 W Quay St", "Wilmington", "90744", 33.7931, -118.2702),
    "westside-office": (
        "cbo:5",
        "Westside Street Outreach office",
        "3311 Venice Blvd",
        "Los Angeles",
        "90019",
        34.0339,
        -118.3418,
    ),
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
WATTS_POLYGON = {
    "type": "Polygon",
    "coordinates": [
        [
            [-118.2800, 33.9250],
            [-118.2250, 33.9250],
            [-118.2250, 33.9500],
            [-118.2800, 33.9500],
            [-118.2800, 33.9250],
        ]
    ],
}
SCHOOL_DAYS = ["MO", "TU", "WE", "TH", "FR"]
# Programs of every type, owned by CBOs and agencies. verified: "current", "overdue" or None (never).
PROGRAMS: list[dict[str, Any]] = [
    {
        "key": "eastside-safe-passage",
        "owner": "cbo:0",
        "name": "Eastside Safe Passage",
        "type": T.safe_passage,
        "description": "Trained community members posted on the routes to four Boyle Heights campuses.",
        "schools": ["Roosevelt High School", "Hollenbeck Middle School", "Boyle Heights STEM High", "Stevenson Middle School"],
        "languages": ["en", "es"],
        "locations": ["eastside-office"],
        "verified": "current",
        "schedules": [
            {
                "byday": SCHOOL_DAYS,
                "minutes_before_arrival": 60,
                "minutes_after_dismissal": 90,
                "description": "On post an hour before first bell and ninety minutes after dismissal",
            }
        ],
    },
    {
        "key": "valley-safe-routes",
        "owner": "cbo:2",
        "name": "Valley Safe Routes Walkers",
        "type": T.safe_passage,
        "description": "Walkers and corner captains for North Valley high schools.",
        "schools": ["Van Nuys High School", "Panorama High School", "Arleta High School", "Pacoima Middle School"],
        "languages": ["en", "es", "hy"],
        "locations": ["valley-hub"],
        "verified": "overdue",
        "schedules": [{"byday": SCHOOL_DAYS, "minutes_before_arrival": 45, "minutes_after_dismissal": 60}],
    },
    {
        "key": "south-safe-passage",
        "owner": "cbo:1",
        "name": "South LA Safe Passage",
        "type": T.safe_passage,
        "description": "Safe passage walkers around Jefferson and Fremont.",
        "schools": ["Jefferson High School", "Fremont High School", "Markham Middle School"],
        "languages": ["en", "es"],
        "locations": ["south-bridge-center"],
        "verified": None,
        "schedules": [{"byday": SCHOOL_DAYS, "minutes_before_arrival": 30, "minutes_after_dismissal": 60}],
    },
    {
        "key": "westside-safe-passage",
        "owner": "cbo:5",
        "name": "Crenshaw Corridor Safe Passage",
        "type": T.safe_passage,
        "status": ProgramStatus.temporarily_closed,
        "description": "Paused while the team is rehired.",
        "schools": ["Crenshaw High School", "Dorsey High School"],
        "languages": ["en"],
        "locations": ["westside-office"],
        "verified": "current",
        "schedules": [{"byday": SCHOOL_DAYS, "minutes_before_arrival": 45, "minutes_after_dismissal": 45}],
    },
    {
        "key": "gryd-watts-intervention",
        "owner": "gryd",
        "name": "GRYD Community Violence Intervention: Watts",
        "type": T.violence_interruption,
        "description": "Community intervention workers who respond to and prevent retaliation in Watts.",
        "polygon": WATTS_POLYGON,
        "service_area_description": "Watts, between Central Ave and Alameda St",
        "languages": ["en", "es"],
        "locations": ["gryd-south"],
        "verified": "current",
        "accepts_referrals": True,
        "evidence_basis": EvidenceBasis.research_informed,
    },
    {
        "key": "gryd-prevention",
        "owner": "gryd",
        "name": "GRYD Prevention Services",
        "type": T.gang_prevention,
        "description": "Family-centered prevention services for youth 10 to 15 at risk of gang involvement.",
        "regions": ["South", "East"],
        "ages": (10, 15),
        "languages": ["en", "es"],
        "locations": ["gryd-south"],
        "verified": "current",
        "accepts_referrals": True,
        "evidence_basis": EvidenceBasis.evidence_based,
        "funding": ["City of Los Angeles General Fund"],
    },
    {
        "key": "watts-credible-messengers",
        "owner": "cbo:6",
        "name": "Credible Messenger Intervention",
        "type": T.gang_intervention,
        "description": "Mentors with lived experience work one on one with gang-involved teens.",
        "regions": ["South"],
        "ages": (14, 24),
        "grades": ("9", "12"),
        "languages": ["en", "es"],
        "locations": ["watts-house"],
        "verified": "overdue",
        "accepts_referrals": True,
    },
    {
        "key": "westside-incident-response",
        "owner": "cbo:5",
        "name": "Westside Rapid Incident Response",
        "type": T.incident_response,
        "description": "Outreach workers on scene within hours of a violent incident near a campus.",
        "regions": ["West"],
        "languages": ["en", "es", "ko"],
        "locations": ["westside-office"],
        "verified": "current",
        "schedules": [
            {
                "byday": ["MO", "TU", "WE", "TH", "FR", "SA", "SU"],
                "opens_at": "00:00",
                "closes_at": "23:59",
                "description": "On call around the clock",
            }
        ],
    },
    {
        "key": "dhs-hvip",
        "owner": "dhs",
        "name": "Hospital-Based Violence Intervention",
        "type": T.hospital_based_intervention,
        "description": "Bedside engagement of young people injured by violence, then case management after discharge.",
        "regions": list(REGIONS),
        "ages": (12, 26),
        "languages": ["en", "es", "zh", "tl"],
        "locations": ["dhs-hvip"],
        "verified": "current",
        "accepts_referrals": True,
        "evidence_basis": EvidenceBasis.evidence_based,
    },
    {
        "key": "south-bridge-mentors",
        "owner": "cbo:1",
        "name": "Bridge Mentors",
        "type": T.mentoring,
        "description": "Weekly mentoring for middle-school students.",
        "schools": ["Markham Middle School", "Gompers Middle School", "Jefferson High School"],
        "grades": ("6", "9"),
        "languages": ["en", "es", "tl"],
        "locations": ["south-bridge-center"],
        "verified": "current",
        "accepts_referrals": True,
        "schedules": [{"byday": ["TU", "TH"], "opens_at": "15:00", "closes_at": "17:30"}],
    },
    {
        "key": "crenshaw-restorative-circles",
        "owner": "cbo:3",
        "name": "Restorative Circles",
        "type": T.restorative_justice,
        "description": "Harm circles and re-entry circles after suspensions.",
        "schools": ["Crenshaw High School", "Dorsey High School", "Audubon Middle School", "Hamilton High School"],
        "languages": ["en"],
        "locations": ["crenshaw-studio"],
        "verified": "current",
        "accepts_referrals": True,
    },
    {
        "key": "restorative-training",
        "owner": "cbo:9",
        "name": "Restorative Practices Training for School Staff",
        "type": T.restorative_justice,
        "description": "Training school staff in restorative practices.",
        "regions": list(REGIONS),
        "languages": ["en", "es"],
        "verified": "current",
    },
    {
        "key": "wellness-counseling",
        "owner": "cbo:10",
        "name": "School-Linked Counseling",
        "type": T.mental_health,
        "description": "Individual and family counseling on campus or by telehealth.",
        "regions": ["East", "West"],
        "ages": (5, 18),
        "grades": ("TK", "12"),
        "languages": ["en", "es", "ko", "zh"],
        "locations": ["wellness-clinic", "wellness-telehealth"],
        "verified": "current",
        "accepts_referrals": True,
        "is_free": False,
        "fees": "Medi-Cal accepted; sliding scale for others",
    },
    {
        "key": "pacoima-arts",
        "owner": "cbo:7",
        "name": "Pacoima Youth Arts After School",
        "type": T.after_school,
        "description": "Murals, music and Summer Night Lights programming.",
        "regions": ["North"],
        "ages": (11, 18),
        "languages": ["en", "es"],
        "locations": ["pacoima-studio"],
        "verified": "overdue",
        "schedules": [{"byday": ["MO", "WE", "FR"], "opens_at": "15:30", "closes_at": "18:30"}],
    },
    {
        "key": "summer-night-lights",
        "owner": "rap",
        "name": "Summer Night Lights",
        "type": T.after_school,
        "status": ProgramStatus.inactive,
        "description": "Evening park programming in summer (off season now).",
        "regions": ["South"],
        "languages": ["en", "es"],
        "locations": ["rap-park"],
        "verified": "current",
    },
    {
        "key": "harbor-family-navigation",
        "owner": "cbo:4",
        "name": "Family Navigation",
        "type": T.family_support,
        "description": "Case management and basic-needs referrals for families.",
        "regions": ["South"],
        "languages": ["en", "es", "tl"],
        "locations": ["harbor-center"],
        "verified": "current",
        "accepts_referrals": True,
    },
    {
        "key": "harbor-youth-shelter",
        "owner": "cbo:4",
        "name": "Youth Crisis Shelter",
        "type": T.crisis_response,
        "description": "Emergency shelter for youth who cannot go home safely. Its address is confidential.",
        "regions": ["South", "West"],
        "ages": (12, 17),
        "languages": ["en", "es"],
        "locations": ["harbor-safe-house"],
        "verified": "current",
        "accepts_referrals": True,
    },
    {
        "key": "workforce-reentry",
        "owner": "cbo:11",
        "name": "Reentry Jobs Pathway",
        "type": T.reentry,
        "status": ProgramStatus.draft,
        "description": "Paid internships for young people returning from probation camps.",
        "ages": (16, 24),
        "languages": ["en"],
        "verified": None,
    },
    {
        "key": "parent-safety-walks",
        "owner": "cbo:8",
        "name": "Parent Safety Walks",
        "type": T.other,
        "description": "Parents walk school perimeters and report hazards to the safety committee.",
        "schools": ["Roosevelt High School", "Garfield High School", "Belvedere Middle School"],
        "languages": ["en", "es"],
        "verified": None,
    },
]


def seed_schools(
    session: Session, school_orgs: dict[str, Organization], jurisdiction: Jurisdiction, district: Organization
) -> dict[str, School]:
    schools = {}
    for r, region in enumerate(REGIONS):
        for n, name in enumerate(SCHOOLS[region]):
            low, high, board, address, city, zip_code, lat, lon, bsap = SCHOOL_DETAILS[name]
            cds = f"1964733{9_000_000 + (r + 1) * 10_000 + n + 1:07d}"
            schools[name] = ensure(
                session,
                School,
                demo_id("school", cds),
                cds_code=cds,
                name=name,
                grade_low=GRADES[low],
                grade_high=GRADES[high],
                region=region,
                board_district=board,
                address_1=address,
                city=city,
                state="CA",
                postal_code=zip_code,
                latitude=lat,
                longitude=lon,
                is_bsap=bsap,
                status=SchoolStatus.active,
                organization_id=school_orgs[name].id,
                district_id=district.id,
                jurisdiction_id=jurisdiction.id,
            )
    session.flush()
    return schools


def seed_harbor_schools(
    session: Session, school_orgs: dict[str, Organization], jurisdiction: Jurisdiction, district: Organization
) -> dict[str, School]:
    """The second district's schools; CDS codes with an invented county-district part (1999999)."""
    schools = {}
    for n, (name, (low, high, area, address, city, zip_code, lat, lon)) in enumerate(HARBOR_SCHOOLS.items()):
        cds = f"1999999{9_500_001 + n:07d}"
        schools[name] = ensure(
            session,
            School,
            demo_id("school", cds),
            cds_code=cds,
            name=name,
            grade_low=GRADES[low],
            grade_high=GRADES[high],
            region=None,
            board_district=area,
            address_1=address,
            city=city,
            state="CA",
            postal_code=zip_code,
            latitude=lat,
            longitude=lon,
            is_bsap=False,
            status=SchoolStatus.active,
            organization_id=school_orgs[name].id,
            district_id=district.id,
            jurisdiction_id=jurisdiction.id,
        )
    session.flush()
    return schools


def seed_locations(session: Session, orgs: dict[str, Organization]) -> dict[str, Location]:
    locations = {}
    for key, (owner, name, address, city, zip_code, lat, lon) in LOCATIONS.items():
        virtual = address is None
        locations[key] = ensure(
            session,
            Location,
            demo_id("location", key),
            organization_id=orgs[owner].id,
            name=name,
            location_type=LocationType.virtual if virtual else LocationType.physical,
            url=TELEHEALTH_URL if virtual else None,
            address_1=address,
            city=city,
            state=None if virtual else "CA",
            postal_code=zip_code,
            latitude=lat,
            longitude=lon,
            is_confidential=key == CONFIDENTIAL_LOCATION,
            front_door_contact=SAFE_HOUSE_FRONT_DOOR if key == CONFIDENTIAL_LOCATION else None,
        )
    session.flush()
    return locations


def seed_programs(
    session: Session, orgs: dict[str, Organization], schools: dict[str, School], locations: dict[str, Location], verifier: User
) -> None:
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
            id=ident,
            organization_id=owner.id,
            name=spec["name"],
            description=spec["description"],
            program_type=spec["type"],
            status=spec.get("status", ProgramStatus.active),
            minimum_age=ages[0],
            maximum_age=ages[1],
            minimum_grade=GRADES.get(grades[0]),
            maximum_grade=GRADES.get(grades[1]),
            population_description="Students of the listed schools and their families" if spec.get("schools") else None,
            is_free=spec.get("is_free", True),
            fees_description=spec.get("fees"),
            application_process="Refer through the CBS Network Hub, or call the program."
            if spec.get("accepts_referrals")
            else "Ask the school's safety coordinator.",
            evidence_basis=spec.get("evidence_basis"),
            funding_sources=spec.get("funding", ["CalVIP grant (BSCC)"]),
            contacts=[{"name": "Program coordinator", "phone": f"(213) 555-01{n:02d}"}],
            url=f"https://{key}.example.org",
            email=f"info@{key}.example.org",
            phone=f"(213) 555-01{n:02d}",
            accepts_referrals=spec.get("accepts_referrals", False),
            assured_at=assured_at,
            assured_by_user_id=verifier.id if assured_at else None,
            service_area_geojson=spec.get("polygon"),
            service_area_description=spec.get("service_area_description"),
        )
        session.add(program)
        program.languages = [ProgramLanguage(code=c) for c in spec["languages"]]
        program.served_schools = [ProgramSchool(school_id=schools[name].id) for name in spec.get("schools", [])]
        program.served_regions = [ProgramRegion(region=region) for region in spec.get("regions", [])]
        program.program_locations = [ProgramLocation(location_id=locations[k].id) for k in spec.get("locations", [])]
        program.schedules = [
            ProgramSchedule(
                id=demo_id("schedule", f"{key}:{position}"),
                position=position,
                **{
                    name: fields.get(name, [] if name == "byday" else None)
                    for name in (
                        "byday",
                        "opens_at",
                        "closes_at",
                        "minutes_before_arrival",
                        "minutes_after_dismissal",
                        "description",
                    )
                },
            )
            for position, fields in enumerate(spec.get("schedules", []))
        ]
        program.external_codes = [
            ProgramExternalCode(id=demo_id("external-code", key), scheme="cbs_demo", code=f"CBS-{spec['type'].value.upper()}")
        ]
        session.flush()
