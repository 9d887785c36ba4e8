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
    from cbs_network.core.migrate import migrate

    click.echo(migrate(current_app.config["CBS_SETTINGS"].database_url))


audit_group = AppGroup("audit", help="The audit log.")
cbs.add_command(audit_group)

# `flask cbs import <kind> FILE [--dry-run]`: CSV bulk loads, each defined with its domain.
import_group = AppGroup("import", help="Bulk loads from CSV files (all or nothing, with --dry-run).")
cbs.add_command(import_group)


def _register_imports() -> None:
    from cbs_network.directory.importer import import_organizations_command, import_programs_command
    from cbs_network.directory.schools.csv_load import import_schools_command

    import_group.add_command(import_schools_command)
    import_group.add_command(import_organizations_command)
    import_group.add_command(import_programs_command)


_register_imports()


@audit_group.command("checkpoint")
def audit_checkpoint() -> None:
    """Sign every chain's length and head; print the checkpoint as one JSON line to keep elsewhere."""
    from cbs_network.audit.service import AuditBroken, anchor_line, checkpoint
    from cbs_network.core.db import session

    try:
        entry = checkpoint(session())
    except AuditBroken as broken:
        session().rollback()
        raise click.ClickException(f"no checkpoint written: the audit log does not verify: {broken}") from broken
    session().commit()
    click.echo(anchor_line(entry))


@audit_group.command("verify")
@click.option(
    "--anchor",
    "anchor_file",
    type=click.File("r"),
    help="A file whose last line is a checkpoint printed by `flask cbs audit checkpoint`",
)
def audit_verify(anchor_file) -> None:
    """Check every audit chain and checkpoint; name the first bad record."""
    import json

    from cbs_network.audit.service import verify
    from cbs_network.core.db import session

    anchor = None
    if anchor_file is not None:
        lines = [line for line in anchor_file.read().splitlines() if line.strip()]
        try:
            anchor = json.loads(lines[-1])
            if not isinstance(anchor, dict):
                raise ValueError(anchor)
        except (IndexError, ValueError) as error:
            raise click.BadParameter("not a line printed by `flask cbs audit checkpoint`", param_hint="--anchor") from error
    result = verify(session(), anchor=anchor)
    if not result.ok:
        click.echo(f"audit log broken: {result.problem} ({result.checked} records before it verified)", err=True)
        sys.exit(1)
    latest = result.checkpoint
    covered = (
        f"checkpoint {latest.seq} of {latest.created_at.isoformat()} covers "
        f"{sum(count for count, _head in latest.chains.values())} of them"
        if latest is not None
        else "no checkpoint yet: run `flask cbs audit checkpoint`"
    )
    click.echo(f"audit log intact: {result.checked} records in {result.chains} chains verified; {covered}")


@cbs.command("seed-demo")
@click.option(
    "--credentials-file", default=None, help="Where to write the demo credentials (default: instance/demo-credentials.json)"
)
def seed_demo_command(credentials_file: str | None) -> None:
    """Load what is missing of the demo network (never changing what exists) and print how to sign in."""
    import json
    import os
    from pathlib import Path

    from cbs_network.core.config import INSTANCE_DIR
    from cbs_network.core.db import session
    from cbs_network.demo import SECRET_ROTATED, seed_demo

    settings = current_app.config["CBS_SETTINGS"]
    path = Path(credentials_file) if credentials_file else INSTANCE_DIR / "demo-credentials.json"
    # The previous run's credentials: seeding keeps those that still verify, so saved setups keep working.
    try:
        previous = json.loads(path.read_text())
    except FileNotFoundError:
        previous = None
    except ValueError:
        click.echo(f"{path} is not the JSON seed-demo writes; issuing new demo credentials.", err=True)
        previous = None
    credentials = seed_demo(
        session=session(), public_url=settings.public_url, previous=previous if isinstance(previous, dict) else None
    )
    session().commit()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(credentials, indent=2))
    os.chmod(path, 0o600)
    url = settings.public_url
    click.echo(f"Demo network loaded. Credentials written to {path}\n")
    click.echo(f"Explorer: {url}/docs  (click Authorize, keep the scopes, sign in as one of:)")
    for user in credentials["users"]:
        click.echo(f"  {user['role']:<14} {user['email']:<52} {user['password']}   ({user['organization']})")
    client = next((c for c in credentials["clients"] if c["client_secret"] != SECRET_ROTATED), None)
    if client is not None:
        click.echo("\nA partner system gets a token with client credentials, e.g.:")
        click.echo(
            f"  curl -s -u {client['client_id']}:{client['client_secret']} -d grant_type=client_credentials "
            f"-d scope=organizations:read {url}/oauth/token"
        )
        click.echo(f"  curl -s -H 'Authorization: Bearer <access_token>' {url}/api/v1/organizations")


@cbs.command("seed-scale")
@click.option("--schools", default=1_000, show_default=True)
@click.option("--organizations", default=5_000, show_default=True)
@click.option("--programs", default=20_000, show_default=True)
@click.option("--subjects", default=5_000, show_default=True, help="Encrypted subjects the referrals point at")
@click.option("--referrals", default=1_000_000, show_default=True)
@click.option("--seed", default=1, show_default=True, help="The random generator's seed: same seed, same network")
@click.option(
    "--as-of", type=click.DateTime(["%Y-%m-%d"]), default=None, help="The day the network's dates lead up to (default: today)"
)
@click.option("--allow-existing", is_flag=True, help="Add to a database that already has data (use another --seed)")
@click.option(
    "--credentials-file",
    default=None,
    help="Where to write the benchmark clients' secrets (default: instance/scale-credentials.json)",
)
def seed_scale_command(
    schools, organizations, programs, subjects, referrals, seed, as_of, allow_existing, credentials_file
) -> None:
    """Build a large synthetic network fast with bulk inserts, for benchmarks (bench/)."""
    from cbs_network.demo import scale

    scale.seed_scale_command(
        schools=schools,
        organizations=organizations,
        programs=programs,
        subjects=subjects,
        referrals=referrals,
        seed=seed,
        as_of=as_of,
        allow_existing=allow_existing,
        credentials_file=credentials_file,
    )


@cbs.command("create-client")
@click.option("--organization-id", required=True, type=click.UUID)
@click.option("--name", required=True)
@click.option("--scope", "scopes", multiple=True, required=True, help="Repeat for each scope")
@click.option("--grant-type", "grant_types", multiple=True, default=["client_credentials"], show_default=True)
@click.option("--redirect-uri", "redirect_uris", multiple=True)
@click.option("--role-ceiling", default="viewer", show_default=True)
@click.option("--public", is_flag=True, help="A public client (PKCE, no secret)")
@click.option(
    "--network-wide", is_flag=True, help="May act for any organization its users belong to (an explorer), not only its own"
)
def create_client_command(organization_id, name, scopes, grant_types, redirect_uris, role_ceiling, public, network_wide) -> None:
    """Register an OAuth client for an organization (as the hub operator); prints its secret once."""
    from cbs_network.core.db import session
    from cbs_network.identity.principal import system_principal
    from cbs_network.identity.roles import Role
    from cbs_network.oauth.clients.service import register

    settings = current_app.config["CBS_SETTINGS"]
    client, secret = register(
        session=session(),
        principal=system_principal(organization_id),
        data={
            "name": name,
            "scopes": list(scopes),
            "grant_types": list(grant_types),
            "redirect_uris": list(redirect_uris),
            "role_ceiling": Role(role_ceiling),
            "token_endpoint_auth_method": "none" if public else "client_secret_basic",
            "organization_id": organization_id,
            "network_wide": network_wide,
        },
        allow_insecure_redirects=not settings.is_production,
    )
    session().commit()
    click.echo(f"client_id: {client.client_id}")
    if secret:
        click.echo(f"client_secret: {secret}   (shown once; store it now)")


@cbs.command("rotate-keys")
def rotate_keys_command() -> None:
    """Re-encrypt every personal field under the first key of CBS_FIELD_KEYS.

    Put the new key first (keeping the old one after it) on every instance, run this, then remove the old key.
    """
    from cbs_network.core.crypto import KeyRingError, keyring
    from cbs_network.core.db import session
    from cbs_network.referrals.referrals.service import reseal_all

    counts: dict[str, int] = {}

    def done() -> str:
        return ", ".join(f"{count} {name}" for name, count in counts.items())

    try:
        reseal_all(session(), counts=counts)
    except KeyRingError as error:
        session().rollback()
        raise click.ClickException(f"stopped: {error} Re-encrypted before stopping: {done() or 'nothing'}.") from error
    click.echo(f"re-encrypted under key {keyring().current_key_id!r}: {done()}")


referrals_group = AppGroup("referrals", help="Referral schedules.")
cbs.add_command(referrals_group)


@referrals_group.command("flag-overdue")
def flag_overdue_command() -> None:
    """Raise a referral.overdue event for each referral left requested past the network's deadline."""
    from sqlalchemy import select

    from cbs_network.core.db import session
    from cbs_network.identity.principal import system_principal
    from cbs_network.organizations.models import Organization, OrganizationKind
    from cbs_network.referrals.referrals.service import flag_overdue

    hub = session().scalar(select(Organization.id).where(Organization.kind == OrganizationKind.network_hub).limit(1))
    if hub is None:
        raise click.ClickException("The network has no hub organization to act as.")
    flagged = flag_overdue(session(), system_principal(hub))
    session().commit()
    click.echo(f"{flagged} referrals newly overdue")
