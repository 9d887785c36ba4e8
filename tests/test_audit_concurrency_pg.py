"""Audit chains under real concurrency on PostgreSQL: separate connections, real commits."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from cbs_network.audit import service as audit
from cbs_network.audit.models import AuditRecord
from cbs_network.identity.principal import system_principal

from .conftest import is_postgres

pytestmark = [pytest.mark.postgres, pytest.mark.skipif(not is_postgres(), reason="real concurrency is tested on PostgreSQL")]


def _append(app, organization_id, n: int = 1) -> None:
    """`n` audited writes for `organization_id`, each in its own transaction and connection checkout."""
    for i in range(n):
        with app.extensions["cbs_db"].session_factory() as session:
            audit.record(
                session, principal=system_principal(organization_id), action="thing.updated", object_type="thing", object_id=i
            )
            session.commit()


def test_one_organizations_open_write_does_not_hold_up_anothers(live):
    app, network, _session = live
    database = app.extensions["cbs_db"]
    holder = database.session_factory()
    with ThreadPoolExecutor(2) as pool:
        try:
            audit.record(
                holder,
                principal=system_principal(network.district.id),
                action="thing.updated",
                object_type="thing",
                object_id="held",
            )  # uncommitted: the district's chain stays locked
            other = pool.submit(_append, app, network.cbo.id)
            other.result(timeout=10)  # a global lock would keep it waiting for the district's commit
            same = pool.submit(_append, app, network.district.id)
            time.sleep(0.5)
            assert not same.done()  # the district's own next write does wait its turn
            holder.commit()
            same.result(timeout=10)
        finally:
            holder.close()  # lets a blocked writer finish, so the pool can shut down
    with database.session_factory() as session:
        rows = set(session.execute(select(AuditRecord.chain, AuditRecord.seq)).all())
        assert rows == {(str(network.cbo.id), 1), (str(network.district.id), 1), (str(network.district.id), 2)}
        assert audit.verify(session).ok


def test_concurrent_writers_of_one_organization_never_fork_its_chain(live):
    app, network, _session = live
    organizations = [network.district.id] * 6 + [network.cbo.id, network.city.id]
    barrier = threading.Barrier(len(organizations), timeout=10)

    def writer(organization_id) -> None:
        barrier.wait()
        _append(app, organization_id, 15)

    with ThreadPoolExecutor(len(organizations)) as pool:
        list(pool.map(writer, organizations))
    with app.extensions["cbs_db"].session_factory() as session:
        counts = dict(session.execute(select(AuditRecord.chain, func.count()).group_by(AuditRecord.chain)).all())
        assert counts == {str(network.district.id): 90, str(network.cbo.id): 15, str(network.city.id): 15}
        district = session.scalars(
            select(AuditRecord).where(AuditRecord.chain == str(network.district.id)).order_by(AuditRecord.seq)
        ).all()
        assert [r.seq for r in district] == list(range(1, 91))
        assert all(r.prev_hash == before.hash for before, r in zip(district, district[1:], strict=False))
        audit.checkpoint(session)
        session.commit()
        result = audit.verify(session)
        assert result.ok and (result.checked, result.chains, result.checkpoint.seq) == (120, 3, 1)
