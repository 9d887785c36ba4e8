"""Capacity profiles of the demo programs, with the history of how each got there."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from cbs_network.capacity.models import CapacityHistory, CapacityProfile, SlotUnit
from cbs_network.core.db import utcnow
from cbs_network.demo.common import demo_id
from cbs_network.identity.models import User

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
    "watts-credible-messengers": (
        30,
        5,
        U.youth,
        0,
        True,
        False,
        8,
        8,
        ["en", "es"],
        "Mon-Sat 10:00-20:00",
        datetime(2026, 6, 20, 17, 0, tzinfo=UTC),
    ),
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


def seed_capacity(session: Session, verifier: User) -> None:
    """Profiles with two history rows each (the first report, then the current one); created
    once and then left alone, so the demo's own updates are kept."""
    today = utcnow().replace(hour=12, minute=0, second=0, microsecond=0)
    for key, (
        total,
        available,
        unit,
        waitlist,
        waitlist_open,
        assessment,
        staff,
        certified,
        languages,
        hours,
        updated,
    ) in CAPACITY.items():
        program_id = demo_id("program", key)
        if session.scalar(select(CapacityProfile.id).where(CapacityProfile.program_id == program_id)) is not None:
            continue
        updated_at = updated if isinstance(updated, datetime) else today - timedelta(days=updated)
        values = {
            "total_slots": total,
            "available_slots": available,
            "slot_unit": unit,
            "waitlist_length": waitlist,
            "waitlist_open": waitlist_open,
            "assessment_required": assessment,
            "staff_count": staff,
            "certified_interventionists": certified,
            "languages_staffed": languages,
            "hours": hours,
            "notes": None,
        }
        first = {
            **values,
            "slot_unit": unit.value,
            "available_slots": min(total, available + 3),
            "waitlist_length": max(0, waitlist - 5),
        }
        session.add(
            CapacityHistory(
                id=demo_id("capacity-history", f"{key}:1"),
                program_id=program_id,
                version=1,
                changed_at=updated_at - timedelta(days=21),
                changed_by_user_id=verifier.id,
                snapshot=first,
            )
        )
        session.add(
            CapacityHistory(
                id=demo_id("capacity-history", f"{key}:2"),
                program_id=program_id,
                version=2,
                changed_at=updated_at,
                changed_by_user_id=verifier.id,
                snapshot={**values, "slot_unit": unit.value},
            )
        )
        # Written as it happened (the first report, then the current one), so the version is 2.
        profile = CapacityProfile(
            id=demo_id("capacity", key),
            program_id=program_id,
            created_at=updated_at - timedelta(days=21),
            updated_at=updated_at - timedelta(days=21),
            updated_by_user_id=verifier.id,
            **first,
        )
        session.add(profile)
        session.flush()
        for name, value in values.items():
            setattr(profile, name, value)
        profile.updated_at = updated_at
        session.flush()
