"""Command-line entry points: `flask --app wsgi <group> <command>`."""

import json
import time

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from complaints.extensions import db


def register_commands(app: Flask) -> None:
    app.cli.add_command(seed_command)
    app.cli.add_command(outlets_cli)
    app.cli.add_command(outbox_cli)
    app.cli.add_command(audit_cli)
    app.cli.add_command(worker_command)


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
