"""The audit log: keyed chains per acting organization, signed checkpoints, and `verify`.

Each attack test plays someone who can write to the database (and so can switch the append-only
triggers off) but does not hold CBS_AUDIT_KEYS.
"""

from __future__ import annotations

import base64
import json
import os

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError

from cbs_network import create_app
from cbs_network.audit import service as audit
from cbs_network.audit.keys import EXTENSION, AuditKeys
from cbs_network.audit.models import AuditCheckpoint, AuditRecord
from cbs_network.core import config
from cbs_network.identity.principal import system_principal

from .conftest import TEST_AUDIT_KEYS, is_postgres, make_settings
from .helpers import assert_problem

TABLES = ("audit_records", "audit_checkpoints")


def _new_key(key_id: str) -> str:
    return f"{key_id}:" + base64.urlsafe_b64encode(os.urandom(32)).decode()


def _as_an_attacker(db_session) -> None:
    """Whoever owns the database can switch the append-only triggers off; verify still catches them."""
    for table in TABLES:
        if is_postgres():
            db_session.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        else:
            for operation in ("update", "delete"):
                db_session.execute(text(f"DROP TRIGGER {table}_append_only_{operation}"))


def _write(db_session, principal, n: int) -> list[AuditRecord]:
    return [
        audit.record(
            db_session,
            principal=principal,
            action="thing.updated",
            object_type="thing",
            object_id=i,
            changes={"n": {"before": i, "after": i + 1}},
        )
        for i in range(n)
    ]


@pytest.fixture
def chains(network, db_session) -> dict[str, list[AuditRecord]]:
    """Three records in each of three chains: the hub's, the district's and the system chain."""
    return {
        str(network.hub.id): _write(db_session, system_principal(network.hub.id), 3),
        str(network.district.id): _write(db_session, system_principal(network.district.id), 3),
        audit.SYSTEM_CHAIN: _write(db_session, None, 3),
    }


def _chain(db_session, chain: str) -> list[AuditRecord]:
    db_session.expire_all()
    return list(db_session.scalars(select(AuditRecord).where(AuditRecord.chain == chain).order_by(AuditRecord.seq)))


def _write_some(client, network, n=3):
    admin = network["network_admin"]
    return [
        client.post("/api/v1/organizations", json={"kind": "cbo", "name": f"Audited {i}"}, headers=admin.headers).json["id"]
        for i in range(n)
    ]


# --- what is recorded ---------------------------------------------------------------------------


def test_every_write_is_recorded_with_actor_org_request_id_chain_and_key(client, network, db_session):
    admin = network["network_admin"]
    org_id = _write_some(client, network, 1)[0]
    response = client.patch(
        f"/api/v1/organizations/{org_id}",
        json={"website": "https://audited.example.org"},
        headers={**admin.headers, "If-Match": '"1"', "X-Request-ID": "audit-trace-0001"},
    )
    assert response.status_code == 200
    record = db_session.query(AuditRecord).filter_by(object_id=org_id, action="organization.updated").one()
    assert record.organization_id == network.hub.id and record.chain == str(network.hub.id)
    assert record.actor_user_id == admin.user.id
    assert record.actor_client_id == admin.client.client_id
    assert record.request_id == "audit-trace-0001"
    assert record.changes == {"website": {"before": None, "after": "https://audited.example.org"}}
    assert record.key_id == TEST_AUDIT_KEYS.partition(":")[0] and len(record.hash) == 64


def test_each_organization_has_its_own_chain(chains, db_session):
    for chain in chains:
        rows = _chain(db_session, chain)
        assert [r.seq for r in rows] == [1, 2, 3]
        assert rows[0].prev_hash == audit.GENESIS_HASH
        assert [r.prev_hash for r in rows[1:]] == [r.hash for r in rows[:-1]]
    result = audit.verify(db_session, batch=2)
    assert result.ok and (result.checked, result.chains) == (9, 3) and result.checkpoint is None


def test_masked_fields_never_store_values():
    changes = audit.diff(
        {"name": "A", "date_of_birth": "2010-01-01"}, {"name": "B", "date_of_birth": "2010-02-02"}, masked={"date_of_birth"}
    )
    assert changes["date_of_birth"] == {"before": audit.MASK, "after": audit.MASK}
    assert changes["name"] == {"before": "A", "after": "B"}


# --- the database refuses changes ---------------------------------------------------------------


def test_the_database_refuses_updates_and_deletes(chains, db_session):
    audit.checkpoint(db_session)
    statements = [f"DELETE FROM {table}" for table in TABLES]
    statements += ["UPDATE audit_records SET action = 'x'", "UPDATE audit_checkpoints SET mac = 'x'"]
    if is_postgres():
        statements += [f"TRUNCATE {table}" for table in TABLES]
    for statement in statements:
        with pytest.raises(DBAPIError, match="append-only"), db_session.begin_nested():
            db_session.execute(text(statement))


# --- attacks verify detects ---------------------------------------------------------------------


def test_an_edited_record_is_named(chains, network, db_session):
    chain = str(network.district.id)
    victim = chains[chain][1]
    _as_an_attacker(db_session)
    db_session.execute(update(AuditRecord).where(AuditRecord.id == victim.id).values(action="thing.tampered"))
    result = audit.verify(db_session)
    assert (result.chain, result.seq, result.record_id) == (chain, 2, victim.id)
    assert "content does not match" in result.problem and str(victim.id) in result.problem


def test_a_deleted_middle_record_is_named(chains, network, db_session):
    chain = str(network.hub.id)
    _as_an_attacker(db_session)
    db_session.execute(delete(AuditRecord).where(AuditRecord.id == chains[chain][1].id))
    result = audit.verify(db_session)
    assert (result.chain, result.seq) == (chain, 2) and "missing" in result.problem
    assert str(chains[chain][2].id) in result.problem  # the record found in its place


def test_a_rewritten_record_with_recomputed_hashes_is_caught(chains, network, db_session):
    """The attacker edits a record and recomputes every following hash, as today's unkeyed chain
    allowed, with the only key they can have: their own."""
    chain = str(network.district.id)
    attacker = AuditKeys(_new_key(TEST_AUDIT_KEYS.partition(":")[0]))  # the right key id, the wrong key
    _as_an_attacker(db_session)
    rows = _chain(db_session, chain)
    rows[0].changes = {"n": {"before": 0, "after": 1000}}
    prev_hash = audit.GENESIS_HASH
    for row in rows:
        row.prev_hash = prev_hash
        row.hash = prev_hash = audit._expected_hash(row, attacker)
    db_session.flush()
    result = audit.verify(db_session)
    assert (result.chain, result.seq, result.record_id) == (chain, 1, rows[0].id)
    assert "content does not match" in result.problem


def test_a_record_under_an_unknown_key_is_named(chains, network, db_session):
    chain = str(network.hub.id)
    victim = chains[chain][2]
    _as_an_attacker(db_session)
    db_session.execute(update(AuditRecord).where(AuditRecord.id == victim.id).values(key_id="forged"))
    result = audit.verify(db_session)
    assert (result.chain, result.seq, result.record_id) == (chain, 3, victim.id)
    assert "key 'forged'" in result.problem


def test_records_deleted_from_a_chains_end_are_caught(chains, network, db_session):
    audit.checkpoint(db_session)
    chain = str(network.district.id)
    _as_an_attacker(db_session)
    db_session.execute(delete(AuditRecord).where(AuditRecord.chain == chain, AuditRecord.seq > 1))
    result = audit.verify(db_session)
    assert (result.chain, result.seq) == (chain, 2)
    assert "checkpoint 1 counted 3 records" in result.problem


def test_an_emptied_table_is_caught(chains, db_session):
    audit.checkpoint(db_session)
    _as_an_attacker(db_session)
    db_session.execute(delete(AuditRecord))
    result = audit.verify(db_session)
    assert (result.chain, result.seq) == (min(chains), 1) and "missing" in result.problem


def test_records_after_the_latest_checkpoint_still_verify(chains, network, db_session):
    audit.checkpoint(db_session)
    _write(db_session, system_principal(network.city.id), 2)
    _write(db_session, None, 1)
    result = audit.verify(db_session)
    assert result.ok and (result.checked, result.chains, result.checkpoint.seq) == (12, 4, 1)


@pytest.fixture
def checkpoints(chains, network, db_session) -> list[AuditCheckpoint]:
    made = []
    for _ in range(3):
        made.append(audit.checkpoint(db_session))
        _write(db_session, system_principal(network.hub.id), 1)
    return made


def test_a_deleted_checkpoint_is_caught(checkpoints, db_session):
    _as_an_attacker(db_session)
    db_session.execute(delete(AuditCheckpoint).where(AuditCheckpoint.seq == 2))
    result = audit.verify(db_session)
    assert result.seq == 2 and "checkpoint 2: missing" in result.problem


def test_an_edited_checkpoint_is_caught(checkpoints, network, db_session):
    victim = checkpoints[1]
    forged = {**victim.chains, str(network.hub.id): [1, victim.chains[str(network.hub.id)][1]]}
    _as_an_attacker(db_session)
    db_session.execute(update(AuditCheckpoint).where(AuditCheckpoint.id == victim.id).values(chains=forged))
    result = audit.verify(db_session)
    assert (result.seq, result.record_id) == (2, victim.id) and "content does not match" in result.problem


def test_a_checkpoint_refuses_to_sign_a_truncated_log(chains, network, db_session):
    """Otherwise the next checkpoint would bless the shorter chain as its real length."""
    audit.checkpoint(db_session)
    chain = str(network.hub.id)
    _as_an_attacker(db_session)
    db_session.execute(delete(AuditRecord).where(AuditRecord.chain == chain, AuditRecord.seq == 3))
    with pytest.raises(audit.AuditBroken, match=f"chain {chain}, record 3: missing"):
        audit.checkpoint(db_session)


# --- anchors kept outside the database ----------------------------------------------------------


def test_an_anchor_catches_both_tables_emptied(checkpoints, db_session):
    anchor = json.loads(audit.anchor_line(checkpoints[-1]))
    assert audit.verify(db_session, anchor=anchor).ok
    _as_an_attacker(db_session)
    db_session.execute(delete(AuditRecord))
    db_session.execute(delete(AuditCheckpoint))
    assert audit.verify(db_session).ok  # nothing left inside the database to tell
    result = audit.verify(db_session, anchor=anchor)
    assert result.seq == 3 and "emptied or rolled back" in result.problem


def test_an_anchor_catches_a_rollback_to_before_it(checkpoints, network, db_session):
    """Back to the state of checkpoint 2: later checkpoint and records gone, consistently."""
    anchor = json.loads(audit.anchor_line(checkpoints[-1]))
    _as_an_attacker(db_session)
    db_session.execute(delete(AuditCheckpoint).where(AuditCheckpoint.seq == 3))
    db_session.execute(delete(AuditRecord).where(AuditRecord.chain == str(network.hub.id), AuditRecord.seq > 4))
    assert audit.verify(db_session).ok
    result = audit.verify(db_session, anchor=anchor)
    assert result.seq == 3 and "missing, though the anchor holds it" in result.problem


def test_an_altered_anchor_is_refused(checkpoints, db_session):
    anchor = json.loads(audit.anchor_line(checkpoints[0]))
    anchor["seq"] = 99
    assert "anchor does not verify" in audit.verify(db_session, anchor=anchor).problem


# --- keys ---------------------------------------------------------------------------------------


def test_rotation_keeps_old_records_verifiable(chains, network, db_session):
    old = TEST_AUDIT_KEYS.partition(":")[0]
    rotated = _new_key("audit2")
    db_session.info[EXTENSION] = AuditKeys(f"{rotated},{TEST_AUDIT_KEYS}")
    new_records = _write(db_session, system_principal(network.hub.id), 2)
    audit.checkpoint(db_session)
    assert {r.key_id for r in new_records} == {"audit2"} and {r.key_id for r in chains[str(network.hub.id)]} == {old}
    result = audit.verify(db_session)
    assert result.ok and result.checked == 11 and result.checkpoint.key_id == "audit2"
    db_session.info[EXTENSION] = AuditKeys(rotated)  # the old key dropped too soon
    result = audit.verify(db_session)
    assert not result.ok and result.seq == 1 and f"key {old!r}" in result.problem


def test_production_refuses_to_start_without_audit_keys(database_url):
    with pytest.raises(RuntimeError, match="CBS_AUDIT_KEYS"):
        create_app(make_settings(database_url, environment="production", audit_keys=""))


def test_outside_production_a_key_is_generated_once(database_url, tmp_path, monkeypatch):
    monkeypatch.setattr(config, "INSTANCE_DIR", tmp_path)
    settings = make_settings(database_url, audit_keys="")
    spec = settings.audit_key_spec()
    assert AuditKeys(spec).current_key_id and settings.audit_key_spec() == spec
    assert (tmp_path / "audit_keys").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("spec", ["", "k1", "k1:c2hvcnQ", f"{_new_key('a')},{_new_key('a')}", "k1:!!!"])
def test_malformed_keys_are_refused(spec):
    with pytest.raises(ValueError, match="CBS_AUDIT_KEYS"):
        AuditKeys(spec)


# --- the command line ---------------------------------------------------------------------------


def test_cli_checkpoint_and_verify_name_the_first_bad_record(app, chains, network, db_session, tmp_path):
    runner = app.test_cli_runner()
    made = runner.invoke(args=["cbs", "audit", "checkpoint"])
    assert made.exit_code == 0, made.output
    anchor = tmp_path / "anchors.log"
    anchor.write_text(made.output)
    assert json.loads(made.output)["chains"][str(network.hub.id)][0] == 3
    ok = runner.invoke(args=["cbs", "audit", "verify", "--anchor", str(anchor)])
    assert ok.exit_code == 0, ok.output
    assert "intact: 9 records in 3 chains verified; checkpoint 1 of " in ok.output and "covers 9 of them" in ok.output

    chain = str(network.district.id)
    victim = chains[chain][1]
    _as_an_attacker(db_session)
    db_session.execute(update(AuditRecord).where(AuditRecord.id == victim.id).values(changes={"forged": True}))
    bad = runner.invoke(args=["cbs", "audit", "verify"])
    assert bad.exit_code == 1
    assert f"chain {chain}, record 2 (id {victim.id}): content does not match its MAC" in bad.output
    refused = runner.invoke(args=["cbs", "audit", "checkpoint"])
    assert refused.exit_code == 1 and "no checkpoint written" in refused.output


def test_cli_verify_refuses_a_file_that_is_no_anchor(app, tmp_path):
    anchor = tmp_path / "anchor"
    anchor.write_text("not json\n")
    result = app.test_cli_runner().invoke(args=["cbs", "audit", "verify", "--anchor", str(anchor)])
    assert result.exit_code == 2 and "--anchor" in result.output


# --- the API ------------------------------------------------------------------------------------


def test_network_admins_list_and_filter(client, network):
    ids = _write_some(client, network, 2)
    admin = network["network_admin"]
    page = client.get("/api/v1/audit?object_type=organization&action=organization.created", headers=admin.headers).json
    assert {ids[0], ids[1]} <= {r["object_id"] for r in page["items"]}
    seqs = [r["seq"] for r in page["items"]]
    assert seqs == sorted(seqs)
    assert {(r["chain"], r["key_id"]) for r in page["items"]} == {(str(network.hub.id), TEST_AUDIT_KEYS.partition(":")[0])}
    history = client.get(f"/api/v1/audit/organization/{ids[0]}", headers=admin.headers).json["items"]
    assert [r["action"] for r in history] == ["organization.created"]


def test_the_chain_filter(client, chains, network):
    admin = network["network_admin"]
    for chain, records in chains.items():
        items = client.get(f"/api/v1/audit?chain={chain}", headers=admin.headers).json["items"]
        assert [(r["chain"], r["seq"], r["id"]) for r in items] == [(chain, r.seq, str(r.id)) for r in records]
    assert client.get("/api/v1/audit?chain=nobody", headers=admin.headers).json["items"] == []


def test_others_cannot_read_the_audit_log(client, network):
    _write_some(client, network, 1)
    for actor in ("district_admin", "cbo_admin", "district_viewer"):
        response = client.get("/api/v1/audit", headers=network[actor].headers)
        assert_problem(response, 403)
