"""The committee-member state machine, in one table.

A CBO's nomination waits in `nominated` until the school side approves (active) or declines it;
an active member's seat is ended by the school side or by the organization the member
represents (staff leave). policy.py says who is which party.
"""

from __future__ import annotations

import enum

from cbs_network.committees.models import MemberStatus as M


class Party(enum.StrEnum):
    school = "school"  # the school, its own district, network admins (policy.is_school_side)
    represented = "represented"  # the organization the member represents


# (from, to) -> the parties that may make the move. Only the school side decides a nomination;
# an organization may take its own representative off a committee (staff leave).
MEMBER_TRANSITIONS: dict[tuple[M, M], frozenset[Party]] = {
    (M.nominated, M.active): frozenset({Party.school}),
    (M.nominated, M.declined): frozenset({Party.school}),
    (M.active, M.ended): frozenset({Party.school, Party.represented}),
}
REASON_REQUIRED = frozenset({M.declined, M.ended})
