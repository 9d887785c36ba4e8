from __future__ import annotations

import uuid
from datetime import date
from enum import Enum
from typing import Any


def jsonable(value: Any) -> Any:
    """Enums, UUIDs, dates and datetimes as the JSON values the API shows for them."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, date):  # datetimes too
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    return value
