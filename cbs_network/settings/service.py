"""The network's directory settings: how often programs must be re-verified."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import g, has_request_context
from sqlalchemy.orm import Session

from cbs_network.audit import service as audit
from cbs_network.core.errors import Forbidden
from cbs_network.events.service import record_event
from cbs_network.http.etag import check_version
from cbs_network.identity.principal import Principal
from cbs_network.directory.models import DirectorySettings

SETTINGS_ID = 1  # the one row, created by the directory migration


def get(session: Session) -> DirectorySettings:
    """The settings row, read once per request (the identity map alone holds it only weakly),
    so every record in a response is judged by the same rules."""
    if not has_request_context():
        return session.get(DirectorySettings, SETTINGS_ID)
    if "network_settings" not in g:
        g.network_settings = session.get(DirectorySettings, SETTINGS_ID)
    return g.network_settings


def verification_interval(session: Session) -> timedelta:
    return timedelta(days=get(session).verification_interval_days)


def update(*, session: Session, principal: Principal, data: dict[str, Any], expected_version: int) -> DirectorySettings:
    if not principal.is_network_admin:
        raise Forbidden("Only network admins change the network's directory settings.")
    settings = get(session)
    check_version(settings, expected_version)
    before = audit.snapshot(settings, data.keys())
    for name, value in data.items():
        setattr(settings, name, value)
    changes = audit.diff(before, audit.snapshot(settings, data.keys()))
    if changes:
        session.flush()
        audit.record(session, principal=principal, action="directory_settings.updated", object_type="directory_settings",
                     object_id=SETTINGS_ID, changes=changes)
        record_event(session, type="directory_settings.updated", object_type="directory_settings", object_id=SETTINGS_ID,
                     principal=principal, payload={"changed": sorted(changes)})
    return settings
