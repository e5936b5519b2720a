"""`flask --app wsgi credit-exchange export [--date YYYY-MM-DD]`."""

from datetime import timedelta

import click
from flask.cli import AppGroup

from complaints.clock import local_today
from complaints.credit_exchange.exports import write_export

credit_exchange_cli = AppGroup("credit-exchange", help="Signed credit-list exports.")


@credit_exchange_cli.command("export")
@click.option("--date", "day", type=click.DateTime(formats=["%Y-%m-%d"]), help="default: yesterday")
def export(day):
    """Write the day's signed CSV and JSON export; prints the files, a summary last."""
    chosen = day.date() if day else local_today() - timedelta(days=1)
    paths = write_export(chosen)
    for path in paths:
        click.echo(str(path))
    click.echo(f"exported credit lists for {chosen.isoformat()}: {len(paths)} files")
