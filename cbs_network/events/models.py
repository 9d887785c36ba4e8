from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from cbs_network.core.db import Base, IdMixin, utcnow


class Event(IdMixin, Base):
    """Transactional outbox: written with the change it describes, delivered later.

    Payloads carry ids and states, never personal fields.
    """

    __tablename__ = "events"

    type: Mapped[str] = mapped_column(String(80), index=True)
    object_type: Mapped[str] = mapped_column(String(60))
    object_id: Mapped[str] = mapped_column(String(64), index=True)
    organization_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    audience_organization_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    request_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    published_at: Mapped[datetime | None] = mapped_column(index=True)
