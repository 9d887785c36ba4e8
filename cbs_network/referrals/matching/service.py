"""Program matching for a referral need: which programs could take this person, best first.

Candidates are the programs of the needed type that are active, accept referrals (the program's
accepts_referrals, the record the send check reads: a program that would refuse the referral is
never offered), are visible to the caller, and whose age and grade bounds do not exclude the
person (an open bound is no limit). Each is scored by a plain sum of named components, and every
component adds a reason with its points, so a caseworker can see why one program ranks above
another:

- serves the area: it lists the school or the school's region, or its service-area polygon
  covers the school (service_areas.program_ids_serving); for a point, its polygon covers the
  point or one of its sites is within NEARBY_M;
- capacity (the capacity check's statuses): has_capacity > waitlist > assessment_required >
  unknown > no_capacity, weighted by urgency (an emergency needs a slot now, so a free slot
  counts for more and a waitlist for less);
- fresh capacity data (updated within the network's capacity_stale_after_days);
- language: the program's languages or the staff's languages (capacity profile);
- distance from the school or point to the program's nearest physical site, linearly fewer
  points up to DISTANCE_SCALE_M.

Ties go to the nearer program, then by name, then by id, so the order is deterministic.

Confidential sites (shelters, safe houses) take part only for callers who may see their address
(the owning organization, network admins): for everyone else they are left out of the distance
*and* of the ranking, not merely hidden from `distance_m`, since the order alone (or the "site
within 5 km" reason) would tell how close a shelter is.

The query count does not grow with the candidates: the token, the network's staleness
threshold, the school, one query for the candidates with their capacity profile, language match
and nearest-site distance, and for a school the service-area lookup.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from shapely.geometry import Point, shape
from sqlalchemy import ColumnElement, exists, false, func, null, or_, select
from sqlalchemy.orm import Session, lazyload

from cbs_network.capacity.models import CapacityProfile
from cbs_network.capacity.service import stale_cutoff, status_of
from cbs_network.core.errors import ValidationFailed
from cbs_network.directory import geo
from cbs_network.directory.locations.policy import address_visible
from cbs_network.directory.models import (
    Location,
    LocationType,
    Program,
    ProgramLanguage,
    ProgramLocation,
    ProgramRegion,
    ProgramSchool,
    ProgramStatus,
    ProgramType,
    School,
)
from cbs_network.directory.programs import policy as programs_policy
from cbs_network.directory.service_areas import program_ids_serving
from cbs_network.identity.principal import Principal
from cbs_network.organizations.models import Organization
from cbs_network.referrals.models import Urgency

SERVES_POINTS = 30
FRESH_POINTS = 15
LANGUAGE_POINTS = 20
DISTANCE_POINTS = 20
DISTANCE_SCALE_M = 20_000  # a site this far or farther earns no distance points
NEARBY_M = 5_000  # for a point: a site this close counts as serving the area
CAPACITY_POINTS = {
    Urgency.routine: {"has_capacity": 30, "waitlist": 15, "assessment_required": 10, "unknown": 5, "no_capacity": 0},
    Urgency.urgent: {"has_capacity": 45, "waitlist": 10, "assessment_required": 8, "unknown": 5, "no_capacity": 0},
    Urgency.emergency: {"has_capacity": 60, "waitlist": 5, "assessment_required": 5, "unknown": 3, "no_capacity": 0},
}


@dataclass
class _Match:
    program_id: uuid.UUID
    program_name: str
    organization_id: uuid.UUID
    organization_name: str
    distance_m: float | None
    capacity_status: str = "unknown"
    stale: bool = True
    score: float = 0.0
    reasons: list[str] = field(default_factory=list)

    def add(self, points: float, reason: str) -> None:
        self.score += points
        self.reasons.append(f"{reason} ({points:+g})")


def _origin(
    session: Session, school_id: uuid.UUID | None, latitude: float | None, longitude: float | None
) -> tuple[School | None, tuple[float, float] | None]:
    if school_id is None:
        return None, (latitude, longitude)  # type: ignore[return-value]
    school = session.get(School, school_id)
    if school is None:
        raise ValidationFailed("Unknown school.", errors={"query": {"school_id": ["Unknown school."]}})
    if school.latitude is None or school.longitude is None:
        return school, None
    return school, (school.latitude, school.longitude)


def _eligible(age: int | None, grade: int | None) -> list[ColumnElement[bool]]:
    clauses = []
    if age is not None:
        clauses += [
            or_(Program.minimum_age.is_(None), Program.minimum_age <= age),
            or_(Program.maximum_age.is_(None), Program.maximum_age >= age),
        ]
    if grade is not None:
        clauses += [
            or_(Program.minimum_grade.is_(None), Program.minimum_grade <= grade),
            or_(Program.maximum_grade.is_(None), Program.maximum_grade >= grade),
        ]
    return clauses


def _nearest_site_m(principal: Principal | None, point: tuple[float, float]) -> ColumnElement[float]:
    """Meters to the program's nearest physical site whose address the caller may see."""
    distance = geo.distance_m(Location.latitude, Location.longitude, *point)
    return (
        select(func.min(distance))
        .select_from(ProgramLocation)
        .join(Location, Location.id == ProgramLocation.location_id)
        .where(
            ProgramLocation.program_id == Program.id,
            Location.location_type == LocationType.physical,
            Location.latitude.is_not(None),
            Location.longitude.is_not(None),
            address_visible(principal),
        )
        .scalar_subquery()
    )


def matches(
    *,
    session: Session,
    principal: Principal | None,
    program_type: ProgramType,
    school_id: uuid.UUID | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
    age: int | None = None,
    grade: int | None = None,
    language: str | None = None,
    urgency: Urgency = Urgency.routine,
    limit: int = 10,
) -> list[dict[str, Any]]:
    """The best `limit` programs for the need, ranked, each with its score and reasons.

    Give a school or a point (latitude, longitude); `grade` is the ordinal of directory GRADES
    and `language` a canonical ISO 639 code."""
    school, point = _origin(session, school_id, latitude, longitude)
    candidates = [
        Program.program_type == program_type,
        Program.status == ProgramStatus.active,
        Program.accepts_referrals.is_(True),
        programs_policy.visible(principal),
        *_eligible(age, grade),
    ]
    speaks = exists().where(ProgramLanguage.program_id == Program.id, ProgramLanguage.code == language) if language else false()
    lists_school = (
        exists().where(ProgramSchool.program_id == Program.id, ProgramSchool.school_id == school.id) if school else false()
    )
    lists_region = (
        exists().where(ProgramRegion.program_id == Program.id, ProgramRegion.region == school.region)
        if school and school.region
        else false()
    )
    nearest = _nearest_site_m(principal, point) if point else None
    rows = session.execute(
        select(
            Program.id,
            Program.name.label("program_name"),
            Program.organization_id,
            Organization.name.label("organization_name"),
            Program.service_area_geojson,
            CapacityProfile,
            speaks.label("speaks"),
            lists_school.label("lists_school"),
            lists_region.label("lists_region"),
            (nearest if nearest is not None else null()).label("distance_m"),
        )
        .join(Organization, Organization.id == Program.organization_id)
        .outerjoin(CapacityProfile, CapacityProfile.program_id == Program.id)
        .where(*candidates)
    ).all()
    # lazyload: the polygon test needs no child rows, which Program would otherwise select in.
    base = select(Program).where(*candidates).options(lazyload("*"))
    serving = program_ids_serving(session, school, base) if school and rows else set()
    cutoff = stale_cutoff(session)
    weights = CAPACITY_POINTS[urgency]

    ranked = []  # compared as shown (rounded), so float noise never overrides the tie-breaks
    for row in rows:
        distance = None if row.distance_m is None else round(row.distance_m, 1)
        match = _Match(row.id, row.program_name, row.organization_id, row.organization_name, distance)
        _score_area(match, row, school, point, serving)
        _score_capacity(match, row.CapacityProfile, weights, urgency, cutoff)
        _score_language(match, row, row.CapacityProfile, language)
        _score_distance(match, school, point)
        ranked.append(match)
    ranked.sort(key=lambda m: (-round(m.score, 1), m.distance_m is None, m.distance_m or 0.0, m.program_name, str(m.program_id)))
    return [
        {
            "program_id": m.program_id,
            "program_name": m.program_name,
            "organization_id": m.organization_id,
            "organization_name": m.organization_name,
            "rank": rank,
            "score": round(m.score, 1),
            "distance_m": m.distance_m,
            "capacity_status": m.capacity_status,
            "stale": m.stale,
            "reasons": m.reasons,
        }
        for rank, m in enumerate(ranked[:limit], start=1)
    ]


def _score_area(match: _Match, row: Any, school: School | None, point: tuple[float, float] | None, serving: set) -> None:
    if school is not None:
        if match.program_id not in serving:
            match.add(0, f"Does not list {school.name}, its region, or an area covering it")
        elif row.lists_school:
            match.add(SERVES_POINTS, f"Serves {school.name} (lists the school)")
        elif row.lists_region:
            match.add(SERVES_POINTS, f"Serves {school.name} (lists its region, {school.region})")
        else:
            match.add(SERVES_POINTS, f"Serves {school.name} (its service area covers the school)")
        return
    lat, lon = point  # type: ignore[misc]
    geojson = row.service_area_geojson
    if geojson and shape(geojson).covers(Point(lon, lat)):
        match.add(SERVES_POINTS, "Serves the area (its service area covers the point)")
    elif match.distance_m is not None and match.distance_m <= NEARBY_M:
        match.add(SERVES_POINTS, f"Serves the area (a site within {NEARBY_M // 1000} km)")
    else:
        match.add(0, f"No service area covering the point and no site within {NEARBY_M // 1000} km")


def _score_capacity(
    match: _Match, profile: CapacityProfile | None, weights: dict[str, int], urgency: Urgency, cutoff: Any
) -> None:
    match.capacity_status, reason = status_of(profile)
    weighted = "" if urgency is Urgency.routine else f", weighted for an {urgency.value} need"
    match.add(weights[match.capacity_status], reason + weighted)
    if profile is None:
        return
    match.stale = profile.updated_at <= cutoff
    if match.stale:
        match.add(0, f"Capacity data is stale (last updated {profile.updated_at.date().isoformat()})")
    else:
        match.add(FRESH_POINTS, f"Capacity data is fresh (updated {profile.updated_at.date().isoformat()})")


def _score_language(match: _Match, row: Any, profile: CapacityProfile | None, language: str | None) -> None:
    if not language:
        return
    if row.speaks:
        match.add(LANGUAGE_POINTS, f"Offers services in {language}")
    elif profile is not None and language in (profile.languages_staffed or []):
        match.add(LANGUAGE_POINTS, f"Staff speak {language} (capacity profile)")
    else:
        match.add(0, f"Does not list {language} among its or its staff's languages")


def _score_distance(match: _Match, school: School | None, point: tuple[float, float] | None) -> None:
    if point is None:
        match.add(0, f"{school.name if school else 'The school'} has no coordinates, so distance is not used")
    elif match.distance_m is None:
        match.add(0, "No physical site with a known location, so distance is not used")
    else:
        points = round(DISTANCE_POINTS * max(0.0, 1 - match.distance_m / DISTANCE_SCALE_M), 1)
        match.add(points, f"Nearest site {match.distance_m / 1000:.1f} km away")
