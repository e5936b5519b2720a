"""`flask --app wsgi ledger ...`: check the books, run the recovery tick, pay into a fund."""

from decimal import Decimal, InvalidOperation

import click
from flask.cli import AppGroup
from sqlalchemy import select

from complaints.extensions import db

ledger_cli = AppGroup("ledger", help="The advance-compensation ledger.")

SHOWN_PROBLEMS = 20


def all_problems():
    from complaints.compensation import audit, ledger

    yield from ledger.verify()
    yield from audit.reconcile_claims()
    yield from audit.verify_claim_chains()


@ledger_cli.command("verify")
def verify_command():
    """Recompute every balance from the entries; exit 1 on any difference."""
    problems = []
    for problem in all_problems():
        problems.append(problem)
        if len(problems) >= SHOWN_PROBLEMS:
            break
    for problem in problems:
        click.echo(str(problem))
    if problems:
        raise SystemExit(1)
    click.echo("ledger balanced: every transaction sums to zero and every balance matches")


@ledger_cli.command("mark-overdue")
def mark_overdue_command():
    """Mark recoveries past their due date overdue (idempotent; run from cron or the tick)."""
    from complaints.compensation.recovery import mark_overdue_recoveries
    from complaints.database import utcnow

    click.echo(f"overdue {mark_overdue_recoveries(utcnow())}")


@ledger_cli.command("contribute")
@click.argument("division_code")
@click.argument("amount_yuan")
@click.option("--reference", required=True, help="The bank reference of the incoming money.")
def contribute_command(division_code: str, amount_yuan: str, reference: str):
    """Record money paid into a city's or county's fund, e.g. `contribute 460200 50000.00`."""
    from complaints.cases.workflow import SYSTEM
    from complaints.compensation.ledger import transaction_exists
    from complaints.compensation.models import Fund
    from complaints.compensation.services import contribute
    from complaints.database import utcnow
    from complaints.presentation import yuan_to_fen

    fund = db.session.scalar(select(Fund).where(Fund.division_code == division_code))
    if fund is None:
        raise click.BadParameter(f"no fund for division {division_code}")
    try:
        amount = Decimal(amount_yuan)
    except InvalidOperation:
        amount = Decimal("NaN")
    if not amount.is_finite() or amount.as_tuple().exponent < -2 or amount <= 0:
        raise click.BadParameter("amount must be yuan above zero, at most two decimals")
    amount_fen = yuan_to_fen(amount)
    key = f"contribution:{division_code}:{reference}"
    if transaction_exists(key):
        raise click.ClickException(f"reference {reference} is already recorded for this fund")
    contribute(
        fund,
        amount_fen,
        key=key,
        actor=SYSTEM,
        now=utcnow(),
        memo=f"contribution, reference {reference}",
    )
    db.session.commit()
    click.echo(f"fund {division_code}: received {amount_yuan} yuan")
