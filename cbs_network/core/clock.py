"""The network's calendar. Dates with legal weight (a consent's expiry, a plan's deadline, a
committee term) are Los Angeles dates: a plan due March 1 is on time all of March 1 there."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

NETWORK_TIMEZONE = ZoneInfo("America/Los_Angeles")


def today() -> date:
    return datetime.now(NETWORK_TIMEZONE).date()
