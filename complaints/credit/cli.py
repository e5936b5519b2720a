"""`flask --app wsgi credit ...`: rebuild and check scores, run the credit tick."""

import time

import click
from flask.cli import AppGroup

from complaints.database import utcnow
from complaints.extensions import db

credit_cli = AppGroup("credit", help="Merchant credit scores and grades.")


@credit_cli.command("recompute")
@click.option("--batch", default=5000, show_default=True, help="Merchants per query batch.")
@click.option("--check-only", is_flag=True, help="Report differences without writing.")
def recompute_command(batch: int, check_only: bool):
    """Rebuild every score from its events; exit 1 if any stored score disagreed."""
    from complaints.credit.recompute import recompute_all

    started = time.perf_counter()
    report = recompute_all(utcnow(), batch=batch, fix=not check_only)
    if check_only:
        db.session.rollback()
    else:
        db.session.commit()
    for difference in report.differences[:50]:
        click.echo(
            f"merchant {difference.enterprise_id}: {difference.problem}: "
            f"stored {difference.stored}, from events {difference.expected}",
            err=True,
        )
    click.echo(
        f"checked {report.checked}, differences {len(report.differences)}, "
        f"refreshed {report.refreshed}, written {report.written}, "
        f"list changes {report.list_changes}, trusted flags synced {report.flags_synced} "
        f"in {time.perf_counter() - started:.1f} s"
    )
    if report.differences:
        raise SystemExit(1)


@credit_cli.command("tick")
def tick_command():
    """Refresh scores whose entries expired and grant complaint-free periods (idempotent)."""
    from complaints.credit.recompute import run_credit_tick

    report = run_credit_tick(utcnow())
    click.echo(f"refreshed {report.refreshed}, complaint-free periods {report.complaint_free}")
    for error in report.errors:
        click.echo(f"error: {error}", err=True)
    raise SystemExit(1 if report.errors else 0)
