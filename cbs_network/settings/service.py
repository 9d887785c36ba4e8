"""The network's directory settings: how often programs must be re-verified."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from cbs_network.audit import service as audit
from cbs_network.directory.models import DirectorySettings
from cbs_network.events.service import record_event
from cbs_network.http.etag import check_version
from cbs_network.identity.principal import Principal
from cbs_network.settings import policy

SETTINGS_ID = 1  # the one row, created by the directory migration


def get(session: Session) -> DirectorySettings:
    """The settings row, read once per transaction of `session` (a request's), so every record in
    a response is judged by the same rules. Held in the session's own info: the identity map alone
    holds it only weakly, and a later transaction reads it afresh."""
    transaction = session.get_transaction()
    cached: tuple[Any, DirectorySettings] | None = session.info.get("network_settings")
    if cached is None or transaction is None or cached[0] is not transaction:
        settings = session.get(DirectorySettings, SETTINGS_ID)
        assert settings is not None  # the directory migration creates the row
        session.info["network_settings"] = cached = (session.get_transaction(), settings)
    return cached[1]


def verification_interval(session: Session) -> timedelta:
    return timedelta(days=get(session).verification_interval_days)


def update(*, session: Session, principal: Principal, data: dict[str, Any], expected_version: int) -> DirectorySettings:
    policy.require_update(principal)
    settings = get(session)
    check_version(settings, expected_version)
    before = audit.snapshot(settings, data.keys())
    for name, value in data.items():
        setattr(settings, name, value)
    changes = audit.diff(before, audit.snapshot(settings, data.keys()))
    if changes:
        session.flush()
        audit.record(
            session,
            principal=principal,
            action="directory_settings.updated",
            object_type="directory_settings",
            object_id=SETTINGS_ID,
            changes=changes,
        )
        record_event(
            session,
            type="directory_settings.updated",
            object_type="directory_settings",
            object_id=SETTINGS_ID,
            principal=principal,
            payload={"changed": sorted(changes)},
        )
    return settings
