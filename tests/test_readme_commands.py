"""Every shell command in README.md's code blocks works as typed: this file runs it, or names the
test or CI step that does. A command added to the README without either fails
test_every_readme_command_is_run_here_or_elsewhere."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from .helpers import free_port, http_status
from .test_demo_credentials import ROOT, cli_env, flask_cli

VENV_BIN = ROOT / ".venv" / "bin"


def readme_blocks() -> list[list[str]]:
    """The commands of each code block: continuation lines joined, comments dropped."""
    text = (ROOT / "README.md").read_text()
    blocks = []
    for block in re.findall(r"^```\w*\n(.*?)^```", text, re.S | re.M):
        lines = (re.sub(r"\s+#.*$", "", line).strip() for line in re.sub(r"\\\n\s*", "", block).splitlines())
        blocks.append([line for line in lines if line and not line.startswith("#")])
    return blocks


def readme_commands() -> list[str]:
    return [command for block in readme_blocks() for command in block]


# The `flask` commands, run here as typed, in this order, on one database (after `make run`'s
# seed-demo, which gives flag-overdue its hub organization), each with what its output must say.
FLASK_OUTPUT = {
    "flask --app wsgi cbs migrate": "created a new database at",
    ".venv/bin/flask --app wsgi cbs import schools schools.csv --dry-run": "dry run: ",
    ".venv/bin/flask --app wsgi cbs import organizations organizations.csv": "imported: 1 ",
    ".venv/bin/flask --app wsgi cbs import programs programs.csv": "imported: 1 ",
    ".venv/bin/flask --app wsgi cbs referrals flag-overdue": "referrals newly overdue",
    ".venv/bin/flask --app wsgi cbs rotate-keys": "re-encrypted under key",
}
# The inputs the import commands name.
CSV_FILES = {
    "schools.csv": "cds_code,name,grade_low,grade_high,region,board_district,address_1,city,state,postal_code,latitude,"
    "longitude,is_bsap,status\n"
    "19647339999001,Readme Test High School,9,12,South,7,100 E Example St,Los Angeles,CA,90011,34.0,"
    "-118.25,false,active\n",
    "organizations.csv": "kind,name,identifier_scheme,identifier_value\ncbo,Readme Test Youth Collective,ein,95-0000001\n",
    "programs.csv": "organization_identifier,name,program_type,languages\nein:95-0000001,Readme Test Mentoring,mentoring,en;es\n",
}
# Run by another test or by CI: where, and what that file must contain for it to be so.
ELSEWHERE = {
    "make test": [(".ci/run", "env -u CBS_TEST_DATABASE_URL make test")],
    "CBS_TEST_DATABASE_URL=postgresql+psycopg://root@127.0.0.1:5432/test make test": [
        (".ci/run", 'PG_TEST_URL="postgresql+psycopg://root@127.0.0.1:5432/test"'),
        (".ci/run", 'CBS_TEST_DATABASE_URL="$PG_TEST_URL" make test'),
    ],
    "gunicorn -c gunicorn.conf.py wsgi:app": [
        ("tests/test_hardening_live.py", '"-m", "gunicorn", "-c", "gunicorn.conf.py"'),
        ("Dockerfile", "gunicorn.conf.py"),
    ],
}
# `make run` and the client-credentials block, run against the hub it serves.
MAKE_RUN = "make run"
MAKE_TEST_ALL = "make test-all"


def _curl_block() -> list[str]:
    return next(block for block in readme_blocks() if block and block[0].startswith("HUB="))


def test_every_readme_command_is_run_here_or_elsewhere():
    config = (ROOT / "cbs_network" / "core" / "config.py").read_text()
    run_here = {*FLASK_OUTPUT, MAKE_RUN, MAKE_TEST_ALL, *_curl_block()}
    uncovered = []
    for command in readme_commands():
        exported = re.fullmatch(r"export (\w+)=.*", command)
        if exported:  # a production setting (with placeholders): the hub must read it
            assert f'"{exported.group(1)}"' in config, command
        elif command in ELSEWHERE:
            for path, snippet in ELSEWHERE[command]:
                assert snippet in (ROOT / path).read_text(), (command, path, snippet)
        elif command not in run_here:
            uncovered.append(command)
    assert uncovered == [], "README commands no test runs: run them in tests/test_readme_commands.py or list them in ELSEWHERE"
    assert set(FLASK_OUTPUT) <= set(readme_commands()), "FLASK_OUTPUT names a command the README no longer shows"


@pytest.fixture
def checkout(tmp_path) -> Path:
    """The repository root as a fresh shell sees it, with the import files beside it: `.venv` and
    wsgi.py (the app imports from the installed project), and the CSV files the README names, so
    nothing is written into the real checkout."""
    root = tmp_path / "checkout"
    root.mkdir()
    (root / ".venv").symlink_to(ROOT / ".venv")
    shutil.copy(ROOT / "wsgi.py", root / "wsgi.py")
    for name, content in CSV_FILES.items():
        (root / name).write_text(content)
    return root


def test_every_flask_command_in_the_readme_works_as_typed(checkout):
    env = cli_env(checkout / "instance")
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"  # `flask`: the installed one, as in production
    readme = readme_commands()
    flask_commands = [c for c in readme if re.match(r"(\S*/)?flask ", c)]
    assert sorted(flask_commands) == sorted(FLASK_OUTPUT), "each README flask command needs its expected output here"
    for n, (command, expected) in enumerate(FLASK_OUTPUT.items()):
        result = subprocess.run(["bash", "-c", command], cwd=checkout, env=env, capture_output=True, text=True, timeout=600)
        assert result.returncode == 0 and expected in result.stdout, (command, result.stdout, result.stderr)
        if n == 0:
            flask_cli("cbs", "seed-demo", env=env, cwd=checkout)  # what `make run` does next


def test_make_run_serves_the_demo_and_the_readmes_curl_lines_get_a_token_and_the_organizations(tmp_path):
    assert MAKE_RUN in readme_commands()
    port = free_port()
    env = {**cli_env(tmp_path / "instance"), "PORT": str(port)}
    log = tmp_path / "make-run.log"
    # `-o .venv/.installed`: the suite already runs in the built .venv (CI builds it first); an
    # edited pyproject.toml must not make a test reinstall the shared environment.
    with log.open("wb") as output:
        process = subprocess.Popen(
            ["make", "-o", ".venv/.installed", "run"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    hub = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while http_status(f"{hub}/healthz") != 200:
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.5)
        assert "instance/demo-credentials.json" in log.read_text()
        credentials = json.loads((tmp_path / "instance" / "demo-credentials.json").read_text())
        block = _curl_block()
        # The README's HUB is `make run`'s default address; this hub runs on a free port instead.
        assert block[0] == "HUB=http://127.0.0.1:5000"
        client_id = re.fullmatch(r"CLIENT_ID=(\S+)", block[1]).group(1)
        client = next(c for c in credentials["clients"] if c["client_id"] == client_id)
        if shutil.which("curl") is not None:
            # From the directory holding instance/, as the README's lines are typed at the repository root.
            script = "\n".join(["set -eu -o pipefail", f"HUB={hub}", *block[1:]])
            result = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
            assert result.returncode == 0, (result.stdout, result.stderr)
            listed = json.loads(result.stdout)
        else:  # no curl on this machine: the same two requests
            listed = _curl_block_without_curl(hub, client["client_id"], client["client_secret"])
        assert client["organization"] in [item["name"] for item in listed["items"]], listed
    finally:
        os.killpg(process.pid, signal.SIGTERM)  # make and the gunicorn it execs: this test's own group
        process.wait(timeout=30)


def _curl_block_without_curl(hub: str, client_id: str, client_secret: str) -> dict:
    basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
    data = urllib.parse.urlencode({"grant_type": "client_credentials", "scope": "organizations:read"}).encode()
    asked = urllib.request.Request(f"{hub}/oauth/token", data=data, headers={"Authorization": f"Basic {basic}"})
    with urllib.request.urlopen(asked, timeout=30) as response:
        token = json.load(response)["access_token"]
    listing = urllib.request.Request(f"{hub}/api/v1/organizations", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(listing, timeout=30) as response:
        return json.load(response)


def test_make_test_all_runs_the_suite_on_sqlite_then_on_postgresql():
    """CI (.ci/run) runs these two legs itself; this checks `make test-all` is the same two."""
    assert MAKE_TEST_ALL in readme_commands()
    result = subprocess.run(
        ["make", "-n", "-o", ".venv/.installed", "test-all"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if k != "PG_TEST_URL"},
    )
    assert result.returncode == 0, result.stderr
    legs = [line for line in result.stdout.splitlines() if "pytest" in line]
    assert legs == [
        "env -u CBS_TEST_DATABASE_URL .venv/bin/pytest -ra ",
        "CBS_TEST_DATABASE_URL=postgresql+psycopg://root@127.0.0.1:5432/test .venv/bin/pytest -ra ",
    ], legs
