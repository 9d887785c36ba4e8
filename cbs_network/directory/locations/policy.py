"""Who may see and change locations.

Every network member reads the directory's locations; only the owning organization (its
coordinators and org admins, who hold directory:write) or network admins change them.

Confidential locations (shelters, safe houses) are the one exception to "readable by every
member": their address, postal code, coordinates (and any distance computed from them) are
shown only to the owning organization and to network admins. Everyone else, including the
tokenless public of the HSDS API (principal None), gets the front door only. `disclosed` is the
one place that decides what of a location a caller sees; every serialization goes through it.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, or_, true

from cbs_network.directory.models import Location
from cbs_network.directory.policy import require_edit_owned
from cbs_network.identity.principal import Principal

# What a caller not granted a confidential location's address sees of it.
FRONT_DOOR_FIELDS = ("id", "name", "organization_id", "location_type", "is_confidential", "front_door_contact")


def sees_address(principal: Principal | None, location: Any) -> bool:
    if not location.is_confidential:
        return True
    return principal is not None and (principal.is_network_admin or principal.organization_id == location.organization_id)


def disclosed(data: dict[str, Any], location: Any, address_shown: bool | None) -> dict[str, Any]:
    """A dumped location cut down to what its reader may see of it: `address_shown` is
    `sees_address` for the caller, decided where the caller is known (None: as the public sees it)."""
    if address_shown if address_shown is not None else sees_address(None, location):
        return data
    return {key: value for key, value in data.items() if key in FRONT_DOOR_FIELDS}


def address_visible(principal: Principal | None) -> ColumnElement[bool]:
    """SQL: the rows whose address the caller may see (for proximity searches, which would
    otherwise reveal a confidential site through its order or the count within a radius)."""
    if principal is not None and principal.is_network_admin:
        return true()
    if principal is None:
        return Location.is_confidential.is_(False)
    return or_(Location.is_confidential.is_(False), Location.organization_id == principal.organization_id)


def require_edit(principal: Principal, organization_id: uuid.UUID) -> None:
    require_edit_owned(principal, organization_id, "locations")
