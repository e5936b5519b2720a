"""`flask --app wsgi accounts create ...`: staff accounts from the command line."""

import click
from flask.cli import AppGroup

from complaints.accounts.models import AccountRole
from complaints.accounts.services import AccountError, create_account
from complaints.extensions import db

accounts_cli = AppGroup("accounts", help="Staff accounts of regulators and merchants.")


@accounts_cli.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", required=True, type=click.Choice([role.value for role in AccountRole]))
@click.option("--agency-slug", help="The agency of a regulator account, e.g. amr-460200.")
@click.option("--uscc", help="The enterprise of a merchant account (Unified Social Credit Code).")
@click.password_option(help="Prompted for (hidden, twice) when not given.")
def create(email: str, name: str, role: str, agency_slug: str | None, uscc: str | None, password):
    """Create an account scoped to one agency (regulators) or one enterprise (merchants)."""
    try:
        account = create_account(
            email=email,
            name=name,
            role=AccountRole(role),
            password=password,
            agency_slug=agency_slug,
            uscc=uscc,
        )
    except AccountError as exc:
        db.session.rollback()
        raise click.UsageError(str(exc)) from exc
    db.session.commit()
    click.echo(f"created {account.role} account {account.email} (id {account.id})")
