"""What every state machine here shares: a table (from, to) -> the party (or parties) that may
make the move, the moves open to a caller, and the 409 that names the allowed ones."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import TypeVar

from cbs_network.core.errors import InvalidTransition

# A table's states are one enum (S) and its parties another (P, a StrEnum: they sort by value).
S = TypeVar("S", bound=enum.Enum)
P = TypeVar("P", bound=enum.StrEnum)
Table = Mapping[tuple[S, S], P | frozenset[P]]


def _who(party: P | frozenset[P]) -> frozenset[P]:
    return party if isinstance(party, frozenset) else frozenset({party})


def allowed_from(table: Table[S, P], state: S) -> list[dict[str, str]]:
    """The moves out of `state`, each with a party that may make it."""
    return [
        {"to": to.value, "by": party.value} for (start, to), who in table.items() if start is state for party in sorted(_who(who))
    ]


def allowed_for(table: Table[S, P], state: S, parties: set[P]) -> list[str]:
    """The states a caller who is `parties` may move to from `state`."""
    return [to.value for (start, to), who in table.items() if start is state and _who(who) & parties]


def invalid_transition(what: str, table: Table[S, P], state: S, to: S) -> InvalidTransition:
    allowed = allowed_from(table, state)
    listed = ", ".join(f"{t['to']} (by the {t['by']})" for t in allowed) or "none, it is final"
    return InvalidTransition(
        f"{what} in state {state.value} cannot move to {to.value}; allowed: {listed}.",
        current_state=state.value,
        allowed_transitions=allowed,
    )
