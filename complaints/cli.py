"""Command-line entry points: `flask --app wsgi <group> <command>`."""

import json
import time

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from complaints.accounts.cli import accounts_cli
from complaints.compensation.cli import ledger_cli
from complaints.credit.cli import credit_cli
from complaints.extensions import db


def register_commands(app: Flask) -> None:
    app.cli.add_command(seed_command)
    app.cli.add_command(outlets_cli)
    app.cli.add_command(outbox_cli)
    app.cli.add_command(audit_cli)
    app.cli.add_command(worker_command)
    app.cli.add_command(notices_cli)
    app.cli.add_command(accounts_cli)
    app.cli.add_command(workflows_cli)
    app.cli.add_command(scheduler_command)
    app.cli.add_command(ledger_cli)
    app.cli.add_command(credit_cli)


@click.command("seed")
def seed_command():
    """Load Hainan divisions, agencies and the demo merchants (safe to run again)."""
    from complaints.seed import seed_all

    seed_all()
    db.session.commit()
    click.echo("seeded Hainan divisions, agencies and demo merchants")


outlets_cli = AppGroup("outlets", help="Outlets and their printed codes.")


@outlets_cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line, for machines.")
def list_outlets(as_json: bool):
    """Outlet code, merchant name and scan URL, tab-separated."""
    from complaints.merchants.models import Outlet
    from complaints.merchants.services import scan_url

    outlets = db.session.scalars(select(Outlet).order_by(Outlet.code))
    for outlet in outlets:
        row = {
            "code": outlet.code,
            "merchant": outlet.enterprise.name_zh,
            "outlet": outlet.name_zh,
            "url": scan_url(outlet),
        }
        if as_json:
            click.echo(json.dumps(row, ensure_ascii=False))
        else:
            click.echo(f"{row['code']}\t{row['merchant']}\t{row['url']}")


outbox_cli = AppGroup("outbox", help="The transactional outbox.")


@outbox_cli.command("relay")
@click.option("--loop", is_flag=True, help="Keep relaying every --interval seconds.")
@click.option("--interval", default=2.0, show_default=True)
def relay_outbox(loop: bool, interval: float):
    """Hand pending side effects to the job queue (or run them inline without Redis)."""
    from complaints.outbox.services import relay_pending

    while True:
        count = relay_pending()
        click.echo(f"relayed {count}")
        if not loop:
            return
        time.sleep(interval)


audit_cli = AppGroup("audit", help="The hash-chained case audit trail.")


@audit_cli.command("verify")
def verify_audit():
    """Check every case's event chain; exit 1 at the first broken link of any case."""
    from complaints.cases.audit import verify_all_chains

    broken = list(verify_all_chains())
    for link in broken:
        click.echo(f"case {link.case_id}: event {link.seq}: {link.problem}")
    if broken:
        raise SystemExit(1)
    click.echo("audit chain intact")


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
def worker_command(burst: bool):
    """Run an RQ worker (with scheduler) whose jobs run inside this app's context."""
    from complaints.worker import run_worker

    run_worker(burst=burst)


workflows_cli = AppGroup("workflows", help="Case deadlines and the working-day calendar.")


@workflows_cli.command("tick")
@click.option("--loop", is_flag=True, help="Keep ticking every --interval seconds.")
@click.option("--interval", default=60.0, show_default=True)
def tick_command(loop: bool, interval: float):
    """Reminders, escalations, overdue recoveries, retries and the outbox (idempotent)."""
    from complaints.periodic import run_periodic

    while True:
        counts = run_periodic()
        click.echo(", ".join(f"{name} {count}" for name, count in counts.items()))
        if not loop:
            raise SystemExit(1 if counts["errors"] else 0)
        time.sleep(interval)


@click.command("scheduler")
@click.option("--interval", default=60, show_default=True, help="Seconds between ticks.")
def scheduler_command(interval: int):
    """Enqueue the tick and the outbox relay on RQ every --interval seconds (rq CronScheduler)."""
    from complaints.worker import run_cron_scheduler

    run_cron_scheduler(interval)


notices_cli = AppGroup("notices", help="Notifications to tourists, merchants and regulators.")


@notices_cli.command("retry")
def retry_notices():
    """Send again the messages whose retry time has come (needed only without Redis)."""
    from complaints.notices.jobs import retry_due_notifications

    click.echo(f"retried {retry_due_notifications()}")
