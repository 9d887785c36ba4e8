"""The referral state machine: the HL7 Gravity SDOH referral Task, in one table.

The requester (the source organization) sends, cancels and marks entered-in-error; the target
(the program's organization) does the rest. A reason is required for rejected, cancelled,
on-hold and failed; an outcome for completed and failed.
"""

from __future__ import annotations

import enum

from cbs_network.referrals.models import ReferralState as S


class Party(enum.StrEnum):
    requester = "requester"
    target = "target"


TERMINAL = frozenset({S.rejected, S.completed, S.failed, S.cancelled, S.entered_in_error})
REASON_REQUIRED = frozenset({S.rejected, S.cancelled, S.on_hold, S.failed})
OUTCOME_REQUIRED = frozenset({S.completed, S.failed})
# Leaving the program for good gives back its slot or waitlist place.
RELEASES_PLACE = frozenset({S.completed, S.failed, S.cancelled, S.entered_in_error})

# (from, to) -> the party that may make the move
TRANSITIONS: dict[tuple[S, S], Party] = {
    (S.draft, S.requested): Party.requester,
    (S.draft, S.cancelled): Party.requester,
    (S.requested, S.accepted): Party.target,
    (S.requested, S.rejected): Party.target,
    (S.requested, S.cancelled): Party.requester,
    (S.accepted, S.in_progress): Party.target,
    (S.accepted, S.on_hold): Party.target,
    (S.accepted, S.completed): Party.target,
    (S.accepted, S.failed): Party.target,
    (S.accepted, S.cancelled): Party.requester,
    (S.in_progress, S.on_hold): Party.target,
    (S.in_progress, S.completed): Party.target,
    (S.in_progress, S.failed): Party.target,
    (S.in_progress, S.cancelled): Party.requester,
    (S.on_hold, S.in_progress): Party.target,
    (S.on_hold, S.completed): Party.target,
    (S.on_hold, S.failed): Party.target,
    (S.on_hold, S.cancelled): Party.requester,
    # Any record can turn out to be a mistake, whatever state it reached.
    **{(state, S.entered_in_error): Party.requester for state in S if state is not S.entered_in_error},
}
