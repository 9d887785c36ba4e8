"""Imports every model module so the metadata (and Alembic) sees all tables."""

from __future__ import annotations


def load_all_models() -> None:
    from .audit import models as _audit  # noqa: F401
    from .capacity import models as _capacity  # noqa: F401
    from .committees import models as _committees  # noqa: F401
    from .directory import models as _directory  # noqa: F401
    from .events import models as _events  # noqa: F401
    from .http import idempotency as _idempotency  # noqa: F401
    from .identity import models as _identity  # noqa: F401
    from .oauth import models as _oauth  # noqa: F401
    from .organizations import models as _organizations  # noqa: F401
    from .referrals import models as _referrals  # noqa: F401
