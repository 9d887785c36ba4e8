from __future__ import annotations

import pytest
from sqlalchemy import text, update
from sqlalchemy.exc import DBAPIError

from cbs_network.audit import service as audit
from cbs_network.audit.models import AuditRecord

from .conftest import is_postgres
from .helpers import assert_problem


def _as_an_attacker(db_session) -> None:
    """Someone with superuser rights can switch off the append-only trigger; verify still catches them."""
    if is_postgres():
        db_session.execute(text("ALTER TABLE audit_records DISABLE TRIGGER audit_records_append_only"))


@pytest.mark.skipif(not is_postgres(), reason="the append-only trigger is PostgreSQL's")
def test_postgres_refuses_updates_and_deletes(client, network, db_session):
    _write_some(client, network, 1)
    for statement in ("UPDATE audit_records SET action = 'x'", "DELETE FROM audit_records"):
        with pytest.raises(DBAPIError, match="append-only"), db_session.begin_nested():
            db_session.execute(text(statement))


def _write_some(client, network, n=3):
    admin = network["network_admin"]
    ids = []
    for i in range(n):
        ids.append(client.post("/api/v1/organizations", json={"kind": "cbo", "name": f"Audited {i}"}, headers=admin.headers).json["id"])
    return ids


def test_every_write_is_recorded_with_actor_org_and_request_id(client, network, db_session):
    admin = network["network_admin"]
    org_id = _write_some(client, network, 1)[0]
    response = client.patch(f"/api/v1/organizations/{org_id}", json={"website": "https://audited.example.org"},
                            headers={**admin.headers, "If-Match": '"1"', "X-Request-ID": "audit-trace-0001"})
    assert response.status_code == 200
    record = db_session.query(AuditRecord).filter_by(object_id=org_id, action="organization.updated").one()
    assert record.organization_id == network.hub.id
    assert record.actor_user_id == admin.user.id
    assert record.actor_client_id == admin.client.client_id
    assert record.request_id == "audit-trace-0001"
    assert record.changes == {"website": {"before": None, "after": "https://audited.example.org"}}


def test_chain_verifies_and_detects_tampering(client, network, db_session):
    _write_some(client, network)
    result = audit.verify(db_session)
    assert result.ok and result.checked >= 3
    victim = db_session.query(AuditRecord).order_by(AuditRecord.seq).offset(1).first()
    _as_an_attacker(db_session)
    db_session.execute(update(AuditRecord).where(AuditRecord.id == victim.id).values(action="organization.tampered"))
    db_session.expire_all()
    broken = audit.verify(db_session)
    assert broken.broken_seq == victim.seq and "content" in broken.reason


def test_deleted_record_breaks_the_chain(client, network, db_session):
    _write_some(client, network)
    victim = db_session.query(AuditRecord).order_by(AuditRecord.seq).offset(1).first()
    seq = victim.seq
    _as_an_attacker(db_session)
    db_session.delete(victim)
    db_session.flush()
    assert audit.verify(db_session).broken_seq == seq


def test_cli_verify_reports_first_broken_link(app, client, network, db_session):
    _write_some(client, network)
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["cbs", "audit", "verify"])
    assert ok.exit_code == 0 and "intact" in ok.output
    victim = db_session.query(AuditRecord).order_by(AuditRecord.seq.desc()).first()
    _as_an_attacker(db_session)
    db_session.execute(update(AuditRecord).where(AuditRecord.id == victim.id).values(changes={"forged": True}))
    db_session.commit()
    bad = runner.invoke(args=["cbs", "audit", "verify"])
    assert bad.exit_code == 1 and f"broken at record {victim.seq}" in bad.output


def test_masked_fields_never_store_values():
    changes = audit.diff({"name": "A", "date_of_birth": "2010-01-01"}, {"name": "B", "date_of_birth": "2010-02-02"},
                         masked={"date_of_birth"})
    assert changes["date_of_birth"] == {"before": audit.MASK, "after": audit.MASK}
    assert changes["name"] == {"before": "A", "after": "B"}


def test_network_admins_list_and_filter(client, network):
    ids = _write_some(client, network, 2)
    admin = network["network_admin"]
    page = client.get("/api/v1/audit?object_type=organization&action=organization.created", headers=admin.headers).json
    assert {ids[0], ids[1]} <= {r["object_id"] for r in page["items"]}
    seqs = [r["seq"] for r in page["items"]]
    assert seqs == sorted(seqs)
    history = client.get(f"/api/v1/audit/organization/{ids[0]}", headers=admin.headers).json["items"]
    assert [r["action"] for r in history] == ["organization.created"]


def test_others_cannot_read_the_audit_log(client, network):
    _write_some(client, network, 1)
    for actor in ("district_admin", "cbo_admin", "district_viewer"):
        response = client.get("/api/v1/audit", headers=network[actor].headers)
        assert_problem(response, 403)
