"""A partner's generated Python client works against the hub.

openapi-python-client generates a client from the committed openapi/openapi.json, must print no
warning (a warning means part of the API is silently missing from the client), and the client's
typed functions then run a partner's everyday flow against a hub serving real HTTP: search
programs page by page, read one and PATCH it with its ETag, send a referral and accept it as the
receiving organization, and read errors as typed problems.

The flow builds request bodies with the generated models' from_dict and checks that responses
parse into the generated models, so a schema that does not describe what the hub sends fails
here rather than in a partner's code.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from .referral_setup import PERSON, consent_body, make_program

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "openapi" / "openapi.json"
BIN = Path(sys.executable).parent
# A name no other module uses: the generated package is imported into this test process.
PACKAGE = "cbs_hub_generated_client"


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Iterator[tuple[str, object]]:
    """(what the generator printed, the imported generated package)."""
    parent = tmp_path_factory.mktemp("generated")
    # The generator formats its output with ruff, found on PATH: the venv's own.
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run(
        [
            str(BIN / "openapi-python-client"),
            "generate",
            "--path",
            str(SPEC),
            "--meta",
            "none",
            "--output-path",
            str(parent / PACKAGE),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=parent,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    sys.path.insert(0, str(parent))
    try:
        yield output, importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(parent))
        for name in [name for name in sys.modules if name == PACKAGE or name.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def test_the_generator_prints_no_warning(generated):
    output, _package = generated
    # Its only expected line is "Generating <path>"; anything else is a warning or an error about
    # a schema it dropped or could not express.
    unexpected = [line for line in output.splitlines() if line.strip() and not line.startswith("Generating ")]
    assert not unexpected, output


@pytest.fixture
def hub(live) -> Iterator[tuple[str, object, object]]:
    """The live app served over HTTP on a free port: (base URL, network, the test's session)."""
    app, network, session = live
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", network, session
    finally:
        server.shutdown()
        thread.join(timeout=10)


def test_a_partner_flow_through_the_generated_client(generated, hub):
    _output, package = generated
    base, network, session = hub
    models = importlib.import_module(f"{PACKAGE}.models")

    def api(name: str):
        return importlib.import_module(f"{PACKAGE}.api.{name}")

    def client_for(actor_name: str):
        # Undocumented statuses raise instead of passing through unparsed.
        return package.AuthenticatedClient(base_url=base, token=network[actor_name].token, raise_on_unexpected_status=True)

    district, cbo_admin, cbo_caseworker = (
        client_for("district_coordinator"),
        client_for("cbo_admin"),
        client_for("cbo_caseworker"),
    )
    programs = [make_program(session, network.cbo, name=f"Generated client mentoring {n}") for n in range(3)]

    # Search, then follow next_cursor to the last page.
    list_programs = api("programs.list_programs")
    first = list_programs.sync_detailed(client=district, q="Generated client", limit=2)
    assert first.status_code == 200, first.content
    assert isinstance(first.parsed, models.ProgramPage)
    assert len(first.parsed.items) == 2 and first.parsed.next_cursor
    assert 'rel="next"' in first.headers["link"]
    second = list_programs.sync_detailed(client=district, q="Generated client", limit=2, cursor=first.parsed.next_cursor)
    assert second.status_code == 200, second.content
    assert len(second.parsed.items) == 1 and second.parsed.next_cursor is None
    found = {str(program.id) for program in first.parsed.items + second.parsed.items}
    assert found == {str(program.id) for program in programs}

    # Read one, PATCH it with the ETag of that read; the old ETag is then stale.
    program_id = programs[0].id
    read = api("programs.get_program").sync_detailed(program_id, client=cbo_admin)
    assert read.status_code == 200, read.content
    assert isinstance(read.parsed, models.Program) and read.parsed.name == "Generated client mentoring 0"
    etag = read.headers["etag"]
    update_program = api("programs.update_program")
    body = models.ProgramUpdate.from_dict({"description": "Weekly mentoring after school"})
    updated = update_program.sync_detailed(program_id, client=cbo_admin, body=body, if_match=etag)
    assert updated.status_code == 200, updated.content
    assert isinstance(updated.parsed, models.Program)
    assert updated.parsed.description == "Weekly mentoring after school" and updated.parsed.version == read.parsed.version + 1
    assert updated.headers["etag"] != etag
    stale = update_program.sync_detailed(program_id, client=cbo_admin, body=body, if_match=etag)
    assert stale.status_code == 412, stale.content
    assert isinstance(stale.parsed, models.Problem) and stale.parsed.current_etag == updated.headers["etag"]

    # The district sends a referral with a guardian's consent; the CBO accepts it.
    person = {**PERSON, "district_student_id": f"S{uuid.uuid4().int % 10**9:09d}"}
    subject = api("subjects.create_subject").sync_detailed(client=district, body=models.SubjectCreate.from_dict(person))
    assert subject.status_code == 201, subject.content
    assert isinstance(subject.parsed, models.Subject) and subject.parsed.family_name == PERSON["family_name"]
    consent = api("subjects.create_consent").sync_detailed(
        subject.parsed.id, client=district, body=models.ConsentCreate.from_dict(consent_body())
    )
    assert consent.status_code == 201, consent.content
    assert isinstance(consent.parsed, models.Consent)
    referral_body = models.ReferralCreate.from_dict(
        {
            "subject_id": str(subject.parsed.id),
            "target_program_id": str(program_id),
            "consent_id": str(consent.parsed.id),
            "urgency": "urgent",
            "need_description": "Needs a mentor after a fight near school",
        }
    )
    sent = api("referrals.create_referral").sync_detailed(client=district, body=referral_body)
    assert sent.status_code == 201, sent.content
    assert isinstance(sent.parsed, models.Referral) and sent.parsed.state == "requested"
    received = api("referrals.list_received_referrals").sync_detailed(client=cbo_caseworker)
    assert received.status_code == 200, received.content
    assert [item.id for item in received.parsed.items] == [sent.parsed.id]
    accepted = api("referrals.transition_referral").sync_detailed(
        sent.parsed.id, client=cbo_caseworker, body=models.TransitionCreate.from_dict({"to": "accepted"})
    )
    assert accepted.status_code == 200, accepted.content
    assert isinstance(accepted.parsed, models.Referral) and accepted.parsed.state == "accepted"
    assert accepted.parsed.history[-1].to_state == "accepted"

    # Errors arrive as typed problems.
    missing = api("programs.get_program").sync_detailed(uuid.uuid4(), client=district)
    assert missing.status_code == 404, missing.content
    assert isinstance(missing.parsed, models.Problem)
    assert missing.parsed.status == 404 and missing.parsed.type_.startswith("/problems/") and missing.parsed.request_id
    invalid = list_programs.sync_detailed(client=district, limit=1000)
    assert invalid.status_code == 422, invalid.content
    assert isinstance(invalid.parsed, models.Problem) and invalid.parsed.status == 422
    assert "limit" in invalid.parsed.errors["query"]
