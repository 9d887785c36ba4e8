"""Imports every model module so the metadata (and Alembic) sees all tables."""

from __future__ import annotations


def load_all_models() -> None:
    from cbs_network.audit import models as _audit  # noqa: F401
    from cbs_network.capacity import models as _capacity  # noqa: F401
    from cbs_network.committees import models as _committees  # noqa: F401
    from cbs_network.directory import models as _directory  # noqa: F401
    from cbs_network.events import models as _events  # noqa: F401
    from cbs_network.http import idempotency as _idempotency  # noqa: F401
    from cbs_network.identity import models as _identity  # noqa: F401
    from cbs_network.oauth import models as _oauth  # noqa: F401
    from cbs_network.organizations import models as _organizations  # noqa: F401
    from cbs_network.referrals import models as _referrals  # noqa: F401
