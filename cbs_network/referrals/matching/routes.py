from __future__ import annotations

from cbs_network.core.db import session
from cbs_network.http.api import Blueprint
from cbs_network.identity.principal import current_principal
from cbs_network.referrals.matching import service as matching
from cbs_network.referrals.matching.schemas import ReferralMatchListSchema, ReferralMatchQuerySchema

blp = Blueprint(
    "referral_matching",
    __name__,
    url_prefix="/api/v1/referrals",
    description="Before sending a referral: the programs that best fit a need, ranked, each with the reasons for its rank.",
)

EXAMPLE = {
    "items": [
        {
            "program_id": "5b7f1c2e-9a4d-4e3b-8f61-2c0d9e7a4b10",
            "program_name": "Youth Mentoring: Watts",
            "organization_id": "3f0f5d8e-6c1e-4c51-9d3b-0b2f7f3f8a11",
            "organization_name": "Watts Youth Collective",
            "rank": 1,
            "score": 113.5,
            "distance_m": 1540.2,
            "capacity_status": "has_capacity",
            "stale": False,
            "reasons": [
                "Serves Jordan High School (lists its region, South) (+30)",
                "Has capacity: 6 of 40 youth slots available (+30)",
                "Capacity data is fresh (updated 2026-11-20) (+15)",
                "Offers services in es (+20)",
                "Nearest site 1.5 km away (+18.5)",
            ],
        },
        {
            "program_id": "8d1e6f3a-2b4c-4d5e-9f60-7a8b9c0d1e2f",
            "program_name": "South LA Mentors",
            "organization_id": "6a5b4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d",
            "organization_name": "South LA Mentors Inc.",
            "rank": 2,
            "score": 45.0,
            "distance_m": None,
            "capacity_status": "waitlist",
            "stale": True,
            "reasons": [
                "Serves Jordan High School (lists the school) (+30)",
                "No slot available; the waitlist is open (12 waiting) (+15)",
                "Capacity data is stale (last updated 2026-08-02) (+0)",
                "Does not list es among its or its staff's languages (+0)",
                "No physical site with a known location, so distance is not used (+0)",
            ],
        },
    ]
}


@blp.route("/matches", methods=["GET"])
@blp.requires("referrals:read")
@blp.arguments(ReferralMatchQuerySchema, location="query")
@blp.response(200, ReferralMatchListSchema, example=EXAMPLE)
def referral_matches(args):
    """Programs that fit a need, best first

    Candidates: active programs of `program_type` that accept referrals, that you may see, and
    whose age and grade bounds do not exclude the person (`age`, `grade`; an open bound is no
    limit). Give the student's `school_id`, or a point (`latitude`, `longitude`).

    Each candidate's `score` is a plain sum; every component adds one reason with its points:

    - **serves the area** (+30): lists the school or its region, or its service-area polygon
      covers the school; for a point, its polygon covers the point or a site is within 5 km;
    - **capacity** (as in the capacity check): routine `has_capacity` +30, `waitlist` +15,
      `assessment_required` +10, `unknown` +5, `no_capacity` 0; `urgent` (+45/+10/+8/+5/0) and
      `emergency` (+60/+5/+5/+3/0) weigh a free slot now more heavily (a program that does not
      accept referrals is not offered at all);
    - **fresh capacity data** (+15): updated within the network's `capacity_stale_after_days`;
    - **language** (+20): the program's languages or its staff's (capacity profile);
    - **distance** (up to +20): to the nearest physical site, 20 points at 0 km down to 0 at 20 km.

    Ties go to the nearer program, then by name, then by id. Confidential sites (shelters) count
    only for their own organization and network admins: for anyone else they are left out of
    the distance and of the ranking alike, so neither `distance_m` nor the order reveals them.
    """
    return {"items": matching.matches(session=session(), principal=current_principal(), **args)}
