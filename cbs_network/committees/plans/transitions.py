"""The safety-plan state machine, in one table.

The school side (the school, its own district, network admins) drafts a plan, records its
public meeting, submits it and amends it; only the school's own district (the coordinators and
org admins of the organization its district_id names) or network admins approve it, never the
school itself. An amended plan is submitted and approved again (policy.py says who is who).
"""

from __future__ import annotations

import enum

from cbs_network.committees.models import PlanState as S


class Party(enum.StrEnum):
    school = "school"
    district = "district"


# (from, to) -> the party that may make the move
TRANSITIONS: dict[tuple[S, S], Party] = {
    (S.not_started, S.drafting): Party.school,
    (S.drafting, S.public_meeting_held): Party.school,
    (S.public_meeting_held, S.submitted): Party.school,
    (S.submitted, S.approved): Party.district,
    (S.approved, S.amended): Party.school,
    (S.amended, S.submitted): Party.school,
}

# States in which the plan's public meeting has taken place: its date stays set and not in the future.
MEETING_HELD = frozenset({S.public_meeting_held, S.submitted, S.approved, S.amended})
