"""`flask cbs ...`: operator commands. They call the same services as the API."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import AppGroup

cbs = AppGroup("cbs", help="CBS Network Hub operations.")


@cbs.command("migrate")
def migrate_command() -> None:
    """Upgrade the database to the latest schema."""
    from .migrate import upgrade

    upgrade(current_app.config["CBS_SETTINGS"].database_url)
    click.echo("database is at the latest revision")


audit_group = AppGroup("audit", help="The audit log.")
cbs.add_command(audit_group)


@audit_group.command("verify")
def audit_verify() -> None:
    """Check the audit hash chain; report the first broken link."""
    from .audit.service import verify
    from .db import session

    result = verify(session())
    if result.ok:
        click.echo(f"audit chain intact: {result.checked} records verified")
        return
    click.echo(
        f"audit chain broken at record {result.broken_seq}: {result.reason} "
        f"({result.checked} records before it verified)",
        err=True,
    )
    sys.exit(1)
