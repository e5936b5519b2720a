"""`flask --app wsgi analytics rollup`: rebuild the daily rollups over a range of days."""

from datetime import date, datetime, timedelta

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from complaints.analytics.rollups import local_day, refresh_days
from complaints.cases.models import CaseEvent
from complaints.database import utcnow
from complaints.extensions import db

analytics_cli = AppGroup("analytics", help="Analytics rollups.")


def rebuild_all(since: date | None = None) -> tuple[int, int]:
    """Every day from `since` (default: the first case event) to today. (days, rows)."""
    if since is None:
        first: datetime | None = db.session.scalar(select(func.min(CaseEvent.created_at)))
        if first is None:
            return 0, 0
        since = local_day(first if first.tzinfo else first.replace(tzinfo=utcnow().tzinfo))
    today = local_day(utcnow())
    days = [since + timedelta(days=n) for n in range((today - since).days + 1)]
    return len(days), refresh_days(days)


@analytics_cli.command("rollup")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), help="First day to rebuild.")
def rollup_command(since):
    """Rebuild the daily rollups (default: from the first case event to today)."""
    days, rows = rebuild_all(since.date() if since else None)
    click.echo(f"rebuilt {days} days of analytics rollups: {rows} rows")
