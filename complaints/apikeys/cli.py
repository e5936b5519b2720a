"""`flask --app wsgi apikeys create|list|revoke`: the key is printed alone on the last line."""

from datetime import timedelta

import click
from flask.cli import AppGroup
from sqlalchemy import select

from complaints.accounts.models import AccountRole
from complaints.apikeys import services
from complaints.apikeys.models import ApiKey, Scope
from complaints.database import utcnow
from complaints.extensions import db

apikeys_cli = AppGroup("apikeys", help="API keys for agencies, merchants and partner platforms.")


@apikeys_cli.command("create")
@click.option("--name", required=True)
@click.option("--agency-slug")
@click.option("--uscc")
@click.option("--partner")
@click.option(
    "--scope", "scopes", multiple=True, required=True, type=click.Choice([s.value for s in Scope])
)
@click.option(
    "--role",
    type=click.Choice([r.value for r in AccountRole if r.is_regulator]),
    help="agency keys: the staff role the key acts as (default handler, or fund_manager "
    "with compensation:write)",
)
@click.option("--expires-in-days", type=click.IntRange(min=1))
@click.option("--vouches-for-phone", is_flag=True, help="partner keys: callers' phones are checked")
def create(name, agency_slug, uscc, partner, scopes, role, expires_in_days, vouches_for_phone):
    """Create a key; its secret is printed once, alone on the last line."""
    expires_at = utcnow() + timedelta(days=expires_in_days) if expires_in_days else None
    try:
        key, raw = services.create_key(
            name=name,
            scopes=scopes,
            created_by="cli",
            agency_slug=agency_slug,
            uscc=uscc,
            partner=partner,
            role=AccountRole(role) if role else None,
            expires_at=expires_at,
            vouches_for_phone=vouches_for_phone,
        )
    except services.ApiKeyError as exc:
        raise click.UsageError(str(exc)) from exc
    db.session.commit()
    click.echo(f"created key {key.prefix} ({key.name}) scopes: {key.scopes}", err=True)
    click.echo(raw)


@apikeys_cli.command("revoke")
@click.argument("prefix")
def revoke(prefix):
    """Revoke the key with this prefix (anx_xxxxxxxx)."""
    key = db.session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    if key is None:
        raise click.UsageError(f"no key with prefix {prefix!r}")
    services.revoke(key, utcnow())
    db.session.commit()
    click.echo(f"revoked {key.prefix}")
