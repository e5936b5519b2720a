"""Command-line entry points: `flask --app wsgi <group> <command>`."""

import json
import time

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from complaints.accounts.cli import accounts_cli
from complaints.admin.cli import enterprises_cli, register_outlet_commands
from complaints.analytics.cli import analytics_cli
from complaints.apikeys.cli import apikeys_cli
from complaints.compensation.cli import ledger_cli
from complaints.credit.cli import credit_cli
from complaints.credit_exchange.cli import credit_exchange_cli
from complaints.extensions import db
from complaints.privacy.cli import privacy_cli


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
    app.cli.add_command(privacy_cli)
    app.cli.add_command(enterprises_cli)
    app.cli.add_command(apikeys_cli)
    app.cli.add_command(credit_exchange_cli)
    app.cli.add_command(analytics_cli)


@click.command("seed")
def seed_command():
    """Hainan divisions, agencies and funds; outside production also the demo merchants,
    accounts and complaints (safe to run again)."""
    from flask import current_app

    from complaints.alerts.services import evaluate as evaluate_alerts
    from complaints.analytics.cli import rebuild_all
    from complaints.database import utcnow
    from complaints.demo_cases import seed_demo_cases
    from complaints.outbox.services import relay_pending
    from complaints.seed import seed_all

    seed_all()
    db.session.commit()
    if current_app.config["ANXIN_ENV"] != "production":
        filed = seed_demo_cases(
            current_app.config["SECRET_KEY"], current_app.config["PUBLIC_BASE_URL"]
        )
        db.session.commit()
        relay_pending()
        rebuild_all()  # the demo's complaints are dated in the past: roll every day up
        evaluate_alerts(utcnow())  # and the early warning they trip shows at once
        click.echo(f"filed {filed} demo complaints")
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


register_outlet_commands(outlets_cli)

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


calendar_cli = AppGroup("calendar", help="The PRC working-day calendar and its corrections.")
workflows_cli.add_command(calendar_cli)


@calendar_cli.command("set")
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.argument("kind", type=click.Choice(["working", "off"]))
@click.option("--note", required=True, help="The notice this follows, e.g. 国办发明电〔2026〕X号.")
@click.option("--by", "actor", required=True, help="Who made the change, for the record.")
def calendar_set(day, kind: str, note: str, actor: str):
    """Mark DAY as a working day or a day off (overrides the packaged calendar)."""
    from complaints.timers.services import set_calendar_day

    set_calendar_day(day.date(), working=kind == "working", note=note, actor=actor)
    db.session.commit()
    click.echo(f"{day.date()} is now {'a working day' if kind == 'working' else 'a day off'}")


@calendar_cli.command("complete")
@click.argument("year", type=int)
@click.option("--note", required=True)
@click.option("--by", "actor", required=True)
def calendar_complete(year: int, note: str, actor: str):
    """Declare YEAR's calendar complete: its deadlines are no longer provisional."""
    from complaints.timers.services import declare_year_complete

    declare_year_complete(year, note=note, actor=actor)
    db.session.commit()
    click.echo(f"{year} declared complete")


@calendar_cli.command("status")
@click.argument("year", type=int)
def calendar_status(year: int):
    """Is YEAR official, and which days were corrected?"""
    from complaints.timers.models import CalendarOverride
    from complaints.timers.services import current_calendar

    calendar = current_calendar()
    state = "official" if calendar.is_official(year) else "PROVISIONAL (estimated, no notice yet)"
    click.echo(f"{year}: {state}")
    for row in db.session.scalars(select(CalendarOverride).order_by(CalendarOverride.day)):
        if row.day.year == year:
            kind = "working" if row.is_working_day else "off"
            click.echo(f"{row.day}\t{kind}\t{row.set_by}\t{row.note}")


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
