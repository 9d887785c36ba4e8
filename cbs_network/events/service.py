"""The write side of the event outbox; delivery and the feed read these rows."""

from __future__ import annotations

import uuid
from typing import Any, Iterable

from sqlalchemy.orm import Session

from cbs_network.core import context
from cbs_network.core.jsonable import jsonable
from cbs_network.events.models import Event
from cbs_network.identity.principal import Principal


def record_event(
    session: Session,
    *,
    type: str,
    object_type: str,
    object_id: Any,
    principal: Principal | None,
    payload: dict[str, Any] | None = None,
    audience: Iterable[uuid.UUID] = (),
) -> Event:
    """Record that something happened, in the caller's transaction.

    `audience` lists the organizations (besides the actor's) that may see the event.
    """
    audience_ids = {str(o) for o in audience}
    if principal is not None:
        audience_ids.add(str(principal.organization_id))
    event = Event(
        id=uuid.uuid4(),
        type=type,
        object_type=object_type,
        object_id=str(object_id),
        organization_id=principal.organization_id if principal else None,
        audience_organization_ids=sorted(audience_ids),
        payload=jsonable(payload or {}),
        request_id=context.request_id.get(),
    )
    session.add(event)
    return event
