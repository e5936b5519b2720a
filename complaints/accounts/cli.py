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


def _account_or_fail(email: str):
    from complaints.accounts.services import account_by_email

    account = account_by_email(email)
    if account is None:
        raise click.UsageError(f"no account for {email}")
    return account


@accounts_cli.command("disable")
@click.option("--email", required=True)
def disable(email: str):
    """Disable an account; every session of it ends at once."""
    from complaints.accounts.services import disable_account

    account = _account_or_fail(email)
    disable_account(account)
    db.session.commit()
    click.echo(f"disabled {account.email}; its sessions have ended")


@accounts_cli.command("set-password")
@click.option("--email", required=True)
@click.password_option(help="Prompted for (hidden, twice) when not given.")
def set_password(email: str, password):
    """Give an account a new password; every session of it ends at once."""
    from complaints.accounts.services import change_password

    account = _account_or_fail(email)
    try:
        change_password(account, password)
    except AccountError as exc:
        db.session.rollback()
        raise click.UsageError(str(exc)) from exc
    db.session.commit()
    click.echo(f"new password for {account.email}; its sessions have ended")
