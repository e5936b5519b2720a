"""`flask --app wsgi privacy purge`: the retention sweep by hand (the tick runs it too)."""

import click
from flask.cli import with_appcontext

from complaints.database import utcnow
from complaints.privacy.services import purge_due


@click.group("privacy")
def privacy_cli():
    """Personal data retention."""


@privacy_cli.command("purge")
@with_appcontext
def purge_command():
    """Remove tourists' personal data past the retention periods (RETENTION_POLICY)."""
    report = purge_due(utcnow())
    total = report
    while report.ended + report.unverified + report.staged:  # batches until nothing is due
        report = purge_due(utcnow())
        total.ended += report.ended
        total.unverified += report.unverified
        total.files += report.files
        total.staged += report.staged
    click.echo(total.summary())
