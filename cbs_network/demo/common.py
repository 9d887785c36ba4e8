"""What every part of the demo network shares: its deterministic ids and its fixed past."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

# Every demo id is uuid5(DEMO_NAMESPACE, "<kind>:<stable key>"): the same on every database.
DEMO_NAMESPACE = uuid.UUID("5c0f3b2e-7d1a-4e8b-9a64-0c1b5d2e3f47")
# Fixed dates, so that the overdue programs are overdue on every database and every run.
LONG_AGO = datetime(2024, 3, 15, 17, 0, tzinfo=UTC)


def demo_id(kind: str, key: str) -> uuid.UUID:
    return uuid.uuid5(DEMO_NAMESPACE, f"{kind}:{key}")


def ensure(session: Session, model: type, ident: uuid.UUID, **fields: Any) -> Any:
    """The row with this id as it is, or created with these values when missing."""
    row = session.get(model, ident)
    if row is None:
        row = model(id=ident, **fields)
        session.add(row)
    return row
