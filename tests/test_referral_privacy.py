"""Students' personal data: encrypted at rest (and rotatable), found by keyed hash, shown only
on need to know, every showing recorded as a disclosure, withheld from the receiver after
revocation, and never written to logs, events or audit diffs."""

from __future__ import annotations

import base64
import csv
import io
import logging
import os
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text, update

from cbs_network import create_app
from cbs_network.audit import service as audit
from cbs_network.audit.models import AuditRecord
from cbs_network.core.crypto import KeyRingError
from cbs_network.core.db import utcnow
from cbs_network.events.models import Event
from cbs_network.http.idempotency import IdempotencyKey
from cbs_network.referrals.models import Disclosure, Referral, Subject
from cbs_network.referrals.subjects import service as subjects

from . import factories
from .conftest import make_settings
from .helpers import assert_problem, if_match
from .referral_setup import PERSON, SECRETS, Case, consent_body, make_consent, make_program, make_subject, move

NEED = "Needs a mentor after a fight near school"
NOTE = "Intake with Rosa on Tuesday, she asked us to call 555 0199"
# Everything a test here sends that must never be readable outside an authorized response.
CLEAR = (*SECRETS, NEED, "fight near school", NOTE)
SUBJECT_FIELDS = ["contact", "date_of_birth", "district_student_id", "family_name", "given_name", "guardian"]
CSV_HEADER = [
    "id",
    "created_at",
    "subject_id",
    "referral_id",
    "disclosed_to_organization_id",
    "user_id",
    "client_id",
    "fields",
    "purpose",
    "basis",
    "consent_id",
    "request_id",
]


def new_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def leaked(text_: str) -> list[str]:
    return [secret for secret in CLEAR if secret in text_]


def raw_rows(connection, table: str, columns: str = "*") -> str:
    """Every row of `table` as the database holds it, as one string."""
    rows = connection.execute(text(f"SELECT {columns} FROM {table}")).all()  # noqa: S608 - fixed table names
    assert rows, f"{table} is empty: the test wrote nothing to check"
    return "\n".join(" ".join(_text(value) for value in row) for row in rows)


def _text(value) -> str:
    if isinstance(value, (bytes, memoryview)):  # binary columns (PostgreSQL returns memoryview)
        return bytes(value).decode("utf-8", "replace")
    return str(value)


def known_case(client, db_session, network, sender="district_coordinator", **subject_changes) -> Case:
    """A case whose subject carries the known district student id S1234567 (in SECRETS)."""
    program = make_program(db_session, network.cbo)
    subject = make_subject(client, network[sender], district_student_id="S1234567", **subject_changes)
    return Case(subject, make_consent(client, network[sender], subject["id"]), program)


def send(client, case: Case, actor) -> dict:
    response = case.send(client, actor, need_description=NEED)
    assert response.status_code == 201, response.json
    return response.json


def add_note(client, referral_id, actor, body=NOTE):
    return client.post(f"/api/v1/referrals/{referral_id}/notes", json={"body": body}, headers=actor.headers)


# --- encryption at rest ------------------------------------------------------------------------


def test_database_rows_hold_no_personal_field_in_clear(app, client, db_session, network):
    case = known_case(client, db_session, network)
    referral = send(client, case, network["district_coordinator"])
    assert add_note(client, referral["id"], network["cbo_caseworker"]).status_code == 201
    assert move(client, network["cbo_caseworker"], referral["id"], "accepted").status_code == 200

    connection = db_session.connection()
    for table, columns in (
        ("subjects", "*"),
        ("referrals", "*"),
        ("referral_notes", "*"),
        ("audit_records", "changes"),
        ("events", "payload"),
    ):
        assert leaked(raw_rows(connection, table, columns)) == [], table
    stored = connection.execute(text("SELECT personal_data, student_id_hash FROM subjects")).one()
    assert stored.personal_data.startswith("test1:")
    with app.app_context():
        expected_hash = app.extensions["cbs_keyring"].student_id_hash("S1234567")
    assert stored.student_id_hash == expected_hash and len(expected_hash) == 64 and "S1234567" not in expected_hash
    # The API still gives the values back to those who may see them.
    shown = client.get(f"/api/v1/referrals/{referral['id']}", headers=network["district_coordinator"].headers).json
    assert shown["subject"]["district_student_id"] == "S1234567" and shown["need_description"] == NEED


def test_a_ciphertext_moved_to_another_record_does_not_decrypt(app, client, db_session, network):
    first = make_subject(client, network["district_coordinator"])
    second = make_subject(client, network["district_coordinator"], given_name="Other")
    rows = {row.id: row for row in db_session.scalars(select(Subject))}
    source, victim = rows[uuid.UUID(first["id"])], rows[uuid.UUID(second["id"])]
    with app.app_context():
        assert subjects.personal(victim)["given_name"] == "Other"
        victim.personal_data = source.personal_data  # an attacker with write access to the table
        with pytest.raises(KeyRingError, match="moved from another record"):
            subjects.personal(victim)
    db_session.rollback()


# --- key rotation ------------------------------------------------------------------------------


def _app(url: str, field_keys: str):
    return create_app(make_settings(url, field_keys=field_keys), TESTING=True, RATELIMIT_ENABLED=False)


def test_rotate_keys_reencrypts_under_the_new_key_and_keeps_data_readable(make_database_url):
    url, old, new = make_database_url(), new_key(), new_key()
    apps = [_app(url, f"old:{old}"), _app(url, f"new:{new},old:{old}"), _app(url, f"new:{new}")]
    first, rotating, rotated = apps
    session = first.extensions["cbs_db"].session_factory()
    try:
        factories.bind(session)
        network = factories.Network.build()
        program = make_program(session, network.cbo)
        coordinator, caseworker = network["district_coordinator"], network["cbo_caseworker"]
        replayable = {**coordinator.headers, "Idempotency-Key": "rotation-1"}
        with first.test_client() as client:
            first_subject = make_subject(client, coordinator, district_student_id="S7777777")
            consents_url = f"/api/v1/subjects/{first_subject['id']}/consents"
            created = client.post(consents_url, json=consent_body(), headers=replayable)
            assert created.status_code == 201
            subject = make_subject(client, coordinator)
            case = Case(subject, make_consent(client, coordinator, subject["id"]), program)
            referral = send(client, case, coordinator)
            assert add_note(client, referral["id"], caseworker).status_code == 201

        columns = {"subjects": "personal_data", "referrals": "personal_data", "referral_notes": "body"}

        columns["idempotency_keys"] = "response_body"  # stored responses are encrypted too

        def key_ids() -> set[str]:
            with rotating.extensions["cbs_db"].engine.connect() as connection:
                return {
                    _text(value).partition(":")[0]
                    for table, column in columns.items()
                    for value in connection.execute(text(f"SELECT {column} FROM {table}")).scalars()
                }  # noqa: S608

        assert key_ids() == {"old"}
        result = rotating.test_cli_runner().invoke(args=["cbs", "rotate-keys"])
        assert result.exit_code == 0, result.output
        assert "under key 'new'" in result.output and "2 subjects, 1 referrals, 1 notes" in result.output
        assert key_ids() == {"new"}
        again = rotating.test_cli_runner().invoke(args=["cbs", "rotate-keys"])
        assert "0 subjects, 0 referrals, 0 notes" in again.output

        # The old key can now be dropped from the configuration.
        with rotated.test_client() as client:
            replay = client.post(consents_url, json=consent_body(), headers=replayable)
            assert replay.headers["Idempotent-Replayed"] == "true" and replay.json == created.json
            read = client.get(f"/api/v1/subjects/{subject['id']}", headers=coordinator.headers)
            assert read.status_code == 200 and read.json["family_name"] == "Testcase"
            shown = client.get(f"/api/v1/referrals/{referral['id']}", headers=caseworker.headers).json
            assert shown["personal_data"] == "included" and shown["need_description"] == NEED
            assert shown["subject"]["guardian"]["name"] == "Rosa Testcase"
            notes = client.get(f"/api/v1/referrals/{referral['id']}/notes", headers=caseworker.headers).json
            assert [note["body"] for note in notes["items"]] == [NOTE]
    finally:
        session.close()
        for app in apps:
            app.extensions["cbs_db"].session.remove()
            app.extensions["cbs_db"].engine.dispose()


# --- keyed hash of the district student id -----------------------------------------------------


def lookup(client, actor, student_id):
    return client.post("/api/v1/subjects/lookup", json={"district_student_id": student_id}, headers=actor.headers)


def test_lookup_by_student_id_is_case_and_space_insensitive_and_stays_in_the_organization(client, network):
    coordinator = network["district_coordinator"]
    subject = make_subject(client, coordinator, district_student_id="AB12345")
    for written in ("AB12345", "ab12345", " ab 123 45 "):
        found = lookup(client, coordinator, written)
        assert found.status_code == 200, written
        assert found.json["id"] == subject["id"] and found.json["district_student_id"] == "AB12345"
    assert_problem(lookup(client, coordinator, "AB12346"), 404)
    assert_problem(lookup(client, network["cbo_caseworker"], "AB12345"), 404)

    # Another organization may record the same student; each finds only its own record.
    theirs = make_subject(client, network["city_admin"], district_student_id="ab12345")
    assert lookup(client, network["city_admin"], "AB12345").json["id"] == theirs["id"]
    assert lookup(client, coordinator, "AB12345").json["id"] == subject["id"]


def test_the_same_student_id_twice_in_one_organization_is_409(client, network):
    coordinator = network["district_coordinator"]
    subject = make_subject(client, coordinator, district_student_id="S7654321")
    again = client.post(
        "/api/v1/subjects",
        json={"given_name": "Ann", "family_name": "Other", "date_of_birth": "2011-05-05", "district_student_id": "s7654321"},
        headers=coordinator.headers,
    )
    assert assert_problem(again, 409)["existing_subject_id"] == subject["id"]


# --- disclosure records ------------------------------------------------------------------------


def read_counting_disclosures(client, db_session, url, actor):
    """GET `url` as `actor`: its response and the disclosure records it wrote."""
    before = set(db_session.scalars(select(Disclosure.id)))
    response = client.get(url, headers=actor.headers)
    db_session.expire_all()
    return response, [d for d in db_session.scalars(select(Disclosure)) if d.id not in before]


def test_each_read_of_personal_fields_writes_one_disclosure_and_nothing_else_does(client, db_session, network):
    case = known_case(client, db_session, network)
    referral = send(client, case, network["district_coordinator"])
    url = f"/api/v1/referrals/{referral['id']}"

    for actor_name, basis, consent_id in (
        ("district_coordinator", "own_record", None),
        ("cbo_caseworker", "consent", case.consent["id"]),
    ):
        actor = network[actor_name]
        response, written = read_counting_disclosures(client, db_session, url, actor)
        assert response.status_code == 200 and response.json["personal_data"] == "included"
        assert len(written) == 1, actor_name
        record = written[0]
        assert record.fields == [*SUBJECT_FIELDS, "need_description"]
        assert (record.basis.value, str(record.consent_id) if record.consent_id else None) == (basis, consent_id)
        assert record.purpose == "referral: mentoring"
        assert (record.user_id, record.client_id) == (actor.user.id, actor.client.client_id)
        assert record.disclosed_to_organization_id == actor.organization.id
        assert record.record_organization_id == network.district.id
        assert (str(record.referral_id), str(record.subject_id)) == (referral["id"], case.subject["id"])
        assert record.request_id == response.headers["X-Request-ID"]

    quiet = [
        ("network_admin", url),
        ("district_viewer", url),
        ("district_coordinator", "/api/v1/referrals"),
        ("district_coordinator", "/api/v1/referrals/sent"),
        ("cbo_caseworker", "/api/v1/referrals/received"),
        ("network_admin", "/api/v1/referrals"),
        ("cbo_caseworker", f"/api/v1/referrals?subject_id={case.subject['id']}"),
    ]
    for actor_name, read in quiet:
        response, written = read_counting_disclosures(client, db_session, read, network[actor_name])
        assert response.status_code == 200, (actor_name, read)
        body = response.json
        assert written == [], (actor_name, read)
        assert leaked(response.get_data(as_text=True)) == [], (actor_name, read)
        if "items" in body:
            assert referral["id"] in {item["id"] for item in body["items"]}
        else:
            assert (body["personal_data"], body["subject"], body["need_description"]) == ("not_shared", None, None)

    revoke(client, network["district_coordinator"], case)
    response, written = read_counting_disclosures(client, db_session, url, network["cbo_caseworker"])
    assert response.json["personal_data"] == "withheld" and written == []


def test_disclosures_are_listed_and_exported_for_the_source_admins_only(client, db_session, network):
    case = known_case(client, db_session, network)
    referral = send(client, case, network["district_coordinator"])
    for actor in ("cbo_caseworker", "district_coordinator", "cbo_caseworker"):
        assert client.get(f"/api/v1/referrals/{referral['id']}", headers=network[actor].headers).status_code == 200
    admin = network["district_admin"]
    by_referral = f"/api/v1/referrals/{referral['id']}/disclosures"
    by_subject = f"/api/v1/subjects/{case.subject['id']}/disclosures"
    for url, where in ((by_referral, Disclosure.referral_id), (by_subject, Disclosure.subject_id)):
        key = uuid.UUID(referral["id"] if where is Disclosure.referral_id else case.subject["id"])
        expected = [
            str(i)
            for i in db_session.scalars(select(Disclosure.id).where(where == key).order_by(Disclosure.created_at, Disclosure.id))
        ]
        assert len(expected) >= 4  # the send's response and the three reads (the subject's own reads too)

        seen, cursor = [], None
        while True:
            page = client.get(url, query_string={"limit": 2, **({"cursor": cursor} if cursor else {})}, headers=admin.headers)
            assert page.status_code == 200, page.json
            seen += [item["id"] for item in page.json["items"]]
            cursor = page.json["next_cursor"]
            if cursor is None:
                break
        assert seen == expected
        item = page.json["items"][-1]
        assert set(item) == {
            "id",
            "created_at",
            "subject_id",
            "referral_id",
            "disclosed_to_organization_id",
            "user_id",
            "client_id",
            "fields",
            "purpose",
            "basis",
            "consent_id",
            "request_id",
        }

        exported = client.get(url, query_string={"format": "csv"}, headers=admin.headers)
        assert exported.status_code == 200 and exported.mimetype == "text/csv"
        assert "attachment" in exported.headers["Content-Disposition"]
        rows = list(csv.reader(io.StringIO(exported.get_data(as_text=True))))
        assert rows[0] == CSV_HEADER
        assert [row[0] for row in rows[1:]] == expected
        assert leaked(exported.get_data(as_text=True)) == []
        target_row = next(row for row in rows[1:] if row[CSV_HEADER.index("basis")] == "consent")
        assert target_row[CSV_HEADER.index("disclosed_to_organization_id")] == str(network.cbo.id)
        assert target_row[CSV_HEADER.index("consent_id")] == case.consent["id"]

    for url in (by_referral, by_subject):
        assert_problem(client.get(url, headers=network["district_coordinator"].headers), 403)  # no disclosures:read
        assert_problem(client.get(url, headers=network["city_admin"].headers), 404)  # no part in it
        assert_problem(client.get(url, headers=network["network_admin"].headers), 403 if url == by_referral else 404)
    # The receiver's admins see the referral but not who else saw the student; the subject is not theirs at all.
    assert_problem(client.get(by_referral, headers=network["cbo_admin"].headers), 403)
    assert_problem(client.get(by_subject, headers=network["cbo_admin"].headers), 404)


# --- revocation and emergency review -----------------------------------------------------------


def revoke(client, actor, case: Case) -> None:
    response = client.post(
        f"/api/v1/subjects/{case.subject['id']}/consents/{case.consent['id']}/revocation",
        json={"reason": "Guardian withdrew consent by letter."},
        headers=actor.headers,
    )
    assert response.status_code == 200 and response.json["status"] == "revoked", response.json


def test_revoked_consent_withholds_personal_fields_from_the_receiver_only(client, db_session, network):
    case = known_case(client, db_session, network)
    source, target = network["district_coordinator"], network["cbo_caseworker"]
    referral = send(client, case, source)
    assert move(client, target, referral["id"], "accepted").status_code == 200
    assert add_note(client, referral["id"], target).status_code == 201
    revoke(client, source, case)

    url = f"/api/v1/referrals/{referral['id']}"
    seen = client.get(url, headers=target.headers)
    assert seen.status_code == 200
    body = seen.json
    assert (body["personal_data"], body["subject"], body["need_description"]) == ("withheld", None, None)
    assert body["state"] == "accepted" and [h["to_state"] for h in body["history"]] == ["requested", "accepted"]
    assert leaked(seen.get_data(as_text=True)) == []
    assert_problem(client.get(f"{url}/notes", headers=target.headers), 403)
    assert_problem(add_note(client, referral["id"], target, body="One more thing"), 403)
    # The receiver still does its work on the referral, without the details.
    moved = move(client, target, referral["id"], "in-progress")
    assert moved.status_code == 200 and moved.json["personal_data"] == "withheld" and moved.json["subject"] is None

    mine = client.get(url, headers=source.headers).json
    assert mine["personal_data"] == "included" and mine["subject"]["family_name"] == "Testcase"
    assert mine["need_description"] == NEED
    assert [n["body"] for n in client.get(f"{url}/notes", headers=source.headers).json["items"]] == [NOTE]


def test_an_emergency_exception_not_upheld_withholds_from_the_receiver(client, db_session, network):
    program = make_program(db_session, network.cbo)
    subject = make_subject(client, network["district_coordinator"])
    response = client.post(
        "/api/v1/referrals",
        headers=network["district_coordinator"].headers,
        json={
            "subject_id": subject["id"],
            "target_program_id": str(program.id),
            "urgency": "emergency",
            "need_description": NEED,
            "emergency_reason": "Threat of violence reported by the dean.",
        },
    )
    assert response.status_code == 201, response.json
    referral = response.json
    assert referral["emergency"]["review"] == "pending"
    url = f"/api/v1/referrals/{referral['id']}"
    target = network["cbo_caseworker"]
    shown, written = read_counting_disclosures(client, db_session, url, target)
    assert shown.json["personal_data"] == "included" and [d.basis.value for d in written] == ["emergency"]

    review = {"decision": "not_upheld", "note": "No threat found on follow-up."}
    assert_problem(client.post(f"{url}/emergency-review", json=review, headers=network["district_coordinator"].headers), 403)
    assert_problem(client.post(f"{url}/emergency-review", json=review, headers=network["cbo_admin"].headers), 403)
    reviewed = client.post(f"{url}/emergency-review", json=review, headers=network["district_admin"].headers)
    assert reviewed.status_code == 200 and reviewed.json["emergency"]["review"] == "not_upheld"

    shown, written = read_counting_disclosures(client, db_session, url, target)
    assert (shown.json["personal_data"], shown.json["subject"], shown.json["need_description"]) == ("withheld", None, None)
    assert written == []
    assert_problem(client.get(f"{url}/notes", headers=target.headers), 403)
    assert client.get(url, headers=network["district_coordinator"].headers).json["personal_data"] == "included"


# --- logs, events, audit -----------------------------------------------------------------------


def test_no_personal_field_reaches_logs_events_or_audit(app, client, db_session, network, caplog, capsys):
    logger = logging.getLogger("cbs_network")
    level = logger.level
    logger.addHandler(caplog.handler)
    logger.setLevel(logging.DEBUG)
    caplog.set_level(logging.DEBUG)  # the libraries' records too (Authlib, Werkzeug)
    try:
        coordinator, admin, target = network["district_coordinator"], network["district_admin"], network["cbo_caseworker"]
        case = known_case(client, db_session, network)
        assert lookup(client, coordinator, "S1234567").status_code == 200
        patched = client.patch(
            f"/api/v1/subjects/{case.subject['id']}",
            json={"contact": {"phone": "+1 213 555 0199"}},
            headers=if_match(coordinator.headers, case.subject["version"]),
        )
        assert patched.status_code == 200, patched.json
        referral = send(client, case, coordinator)
        for actor, to, body in (
            (target, "accepted", {}),
            (target, "in-progress", {}),
            (target, "completed", {"outcome": {"enrollment_status": "enrolled"}}),
        ):
            assert move(client, actor, referral["id"], to, **body).status_code == 200
        assert add_note(client, referral["id"], target).status_code == 201
        url = f"/api/v1/referrals/{referral['id']}"
        for actor in (coordinator, target, network["network_admin"]):
            assert client.get(url, headers=actor.headers).status_code == 200
        assert client.get(f"{url}/notes", headers=target.headers).status_code == 200
        assert client.get(f"{url}/disclosures?format=csv", headers=admin.headers).status_code == 200
        # Refused input must not be echoed either.
        bad = client.post("/api/v1/subjects", json={**PERSON, "date_of_birth": "2999-01-01"}, headers=coordinator.headers)
        assert_problem(bad, 422)
        assert leaked(bad.get_data(as_text=True)) == []
    finally:
        logger.removeHandler(caplog.handler)
        logger.setLevel(level)

    access_lines = [r for r in caplog.records if r.name == "cbs_network.access"]
    assert len(access_lines) >= 14
    logged = "\n".join(f"{r.name} {r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert leaked(logged) == []
    assert leaked(capsys.readouterr().err) == []  # the JSON log lines as written

    connection = db_session.connection()
    events = raw_rows(connection, "events", "type, payload")
    assert "referral.note_added" in events and "referral.transitioned" in events
    assert leaked(events) == []
    assert leaked(raw_rows(connection, "audit_records", "changes")) == []
    created = db_session.scalars(select(AuditRecord.changes).where(AuditRecord.action == "subject.created")).all()
    assert len(created) == 1
    for name in ("given_name", "family_name", "date_of_birth", "district_student_id", "contact", "guardian"):
        assert created[0][name] == {"before": None, "after": audit.MASK}, name
    assert created[0]["preferred_language"] == {"before": None, "after": "es"}  # plain fields stay readable


def test_a_response_with_personal_fields_is_not_kept_for_replay(client, db_session, network):
    coordinator = network["district_coordinator"]
    headers = {**coordinator.headers, "Idempotency-Key": "subject-1"}
    body = {"given_name": "Ana", "family_name": "Testcase", "date_of_birth": "2011-04-02", "district_student_id": "S1234567"}
    first = client.post("/api/v1/subjects", json=body, headers=headers)
    assert first.status_code == 201
    replay = client.post("/api/v1/subjects", json=body, headers=headers)
    assert_problem(replay, 409)  # the retry learns it succeeded, and where the record is
    assert replay.json["location"] == first.headers["Location"] and first.headers["Location"] in replay.json["detail"]
    assert leaked(replay.get_data(as_text=True)) == []
    assert leaked(raw_rows(db_session.connection(), "idempotency_keys")) == []
    assert db_session.scalar(select(func.count()).select_from(Subject)) == 1


def test_a_replay_after_revocation_does_not_disclose_again(client, db_session, network):
    case = known_case(client, db_session, network)
    source, target = network["district_coordinator"], network["cbo_caseworker"]
    referral = send(client, case, source)
    url, headers = f"/api/v1/referrals/{referral['id']}/transitions", {**target.headers, "Idempotency-Key": "accept-1"}
    accepted = client.post(url, json={"to": "accepted"}, headers=headers)
    assert accepted.status_code == 200 and accepted.json["personal_data"] == "included"
    revoke(client, source, case)
    replay = client.post(url, json={"to": "accepted"}, headers=headers)
    assert replay.status_code == 409 and "already succeeded (200)" in replay.json["detail"]
    assert leaked(replay.get_data(as_text=True)) == []
    stored = db_session.scalars(select(IdempotencyKey).where(IdempotencyKey.key == "accept-1")).one()
    assert stored.replayable is False and stored.response_body == b""  # nothing personal kept at all


# --- overdue -----------------------------------------------------------------------------------


def test_a_referral_past_the_response_deadline_is_overdue_and_flagged_once(app, client, db_session, network):
    hub_admin = network["network_admin"]
    settings = client.get("/api/v1/directory/settings", headers=hub_admin.headers).json
    changed = client.patch(
        "/api/v1/directory/settings",
        json={"referral_response_hours": 2},
        headers=if_match(hub_admin.headers, settings["version"]),
    )
    assert changed.status_code == 200 and changed.json["referral_response_hours"] == 2

    source, target = network["district_coordinator"], network["cbo_caseworker"]
    case = known_case(client, db_session, network)
    late, fresh, answered = (send(client, case, source) for _ in range(3))
    assert move(client, target, answered["id"], "accepted").status_code == 200
    three_hours_ago = utcnow() - timedelta(hours=3)
    db_session.execute(
        update(Referral)
        .where(Referral.id.in_([uuid.UUID(late["id"]), uuid.UUID(answered["id"])]))
        .values(requested_at=three_hours_ago)
    )
    db_session.commit()

    received = {r["id"]: r for r in client.get("/api/v1/referrals/received", headers=target.headers).json["items"]}
    assert (received[late["id"]]["overdue"], received[fresh["id"]]["overdue"], received[answered["id"]]["overdue"]) == (
        True,
        False,
        False,
    )
    shown = client.get(f"/api/v1/referrals/{late['id']}", headers=source.headers).json
    assert shown["overdue"] is True and shown["respond_by"].startswith((three_hours_ago + timedelta(hours=2)).date().isoformat())
    overdue = client.get("/api/v1/referrals/received?overdue=true", headers=target.headers).json["items"]
    assert [r["id"] for r in overdue] == [late["id"]]
    not_overdue = client.get("/api/v1/referrals/sent?overdue=false", headers=source.headers).json["items"]
    assert {r["id"] for r in not_overdue} == {fresh["id"], answered["id"]}

    def overdue_events() -> list[Event]:
        db_session.expire_all()
        return list(db_session.scalars(select(Event).where(Event.type == "referral.overdue")))

    runner = app.test_cli_runner()
    first = runner.invoke(args=["cbs", "referrals", "flag-overdue"])
    assert first.exit_code == 0, first.output
    assert "1 referrals newly overdue" in first.output
    events = overdue_events()
    assert [e.object_id for e in events] == [late["id"]]
    assert events[0].payload["state"] == "requested" and leaked(str(events[0].payload)) == []
    assert set(events[0].audience_organization_ids) >= {str(network.district.id), str(network.cbo.id)}
    second = runner.invoke(args=["cbs", "referrals", "flag-overdue"])
    assert second.exit_code == 0 and "0 referrals newly overdue" in second.output
    assert len(overdue_events()) == 1
