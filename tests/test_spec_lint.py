"""The committed OpenAPI document passes Redocly CLI's lint (recommended ruleset, redocly.yaml)
with no error and no warning.

Redocly CLI is a Node.js tool: it is installed at the pinned version into .npm-tools/ (ignored
by git) on first use. Without Node.js and npm the test is skipped on a laptop, and fails in CI.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "openapi" / "openapi.json"
CONFIG = ROOT / "redocly.yaml"
TOOLS = ROOT / ".npm-tools"
# 2.77.0 is one self-contained package (no dependencies to resolve), so the pin alone makes the
# install reproducible. It needs Node.js 20.19+ or 22.12+.
REDOCLY_VERSION = "2.77.0"
REDOCLY_PACKAGE = TOOLS / "node_modules" / "@redocly" / "cli"


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _unavailable(message: str):
    if _in_ci():
        pytest.fail(message + "; CI must run the spec lint")
    pytest.skip(message)


def _installed_version() -> str | None:
    manifest = REDOCLY_PACKAGE / "package.json"
    if not manifest.exists():
        return None
    return json.loads(manifest.read_text())["version"]


@pytest.fixture(scope="module")
def redocly() -> list[str]:
    """The command that runs the pinned Redocly CLI, installing it first when missing."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        _unavailable("Node.js and npm are missing (apt-get install nodejs npm)")
    if _installed_version() != REDOCLY_VERSION:
        install = subprocess.run(
            [npm, "install", "--prefix", str(TOOLS), "--no-save", "--no-audit", "--no-fund", f"@redocly/cli@{REDOCLY_VERSION}"],
            capture_output=True,
            text=True,
            timeout=600,
            cwd=ROOT,
        )
        if install.returncode != 0 or _installed_version() != REDOCLY_VERSION:
            _unavailable(f"npm could not install @redocly/cli@{REDOCLY_VERSION}:\n{install.stdout}\n{install.stderr}")
    return [node, str(REDOCLY_PACKAGE / "bin" / "cli.js")]


def test_committed_spec_passes_redocly_lint_with_no_warning(redocly):
    # No telemetry and no update check: CI and many district networks have no internet.
    env = {**os.environ, "REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true"}
    result = subprocess.run(
        # --max-problems: the report otherwise lists only the first 100 (the totals count all).
        [*redocly, "lint", f"--config={CONFIG}", "--format=json", "--max-problems=100000", str(SPEC)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env=env,
    )
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"redocly lint printed no JSON report (exit {result.returncode}):\n{result.stdout}\n{result.stderr}")
    assert report["version"] == REDOCLY_VERSION
    problems = [
        f"{problem['severity']} {problem['ruleId']} at {', '.join(place['pointer'] for place in problem['location'])}: "
        f"{problem['message']}"
        for problem in report["problems"]
    ]
    assert report["totals"]["errors"] == 0 and report["totals"]["warnings"] == 0, "\n".join(problems)
    assert result.returncode == 0, result.stderr
