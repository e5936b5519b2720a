"""`flask enterprises import`, `flask outlets import` and `flask outlets posters`."""

import getpass
import sys
from pathlib import Path

import click
from flask.cli import AppGroup
from flask_babel import force_locale

from complaints.admin.audit import Actor
from complaints.admin.importing import ImportReport, run_import

enterprises_cli = AppGroup("enterprises", help="Enterprises (merchants), keyed by their USCC.")


def _import_options(command):
    options = [
        click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path)),
        click.option("--dry-run", is_flag=True, help="Check and count, change nothing."),
        click.option(
            "--all-or-nothing",
            is_flag=True,
            help="Import nothing when any row is rejected.",
        ),
        click.option("--reason", default="", help="Why: recorded with every change."),
        click.option(
            "--by", "actor", default=None, help="Who, for the record (default: cli:$USER)."
        ),
        click.option(
            "--lang", default="en", type=click.Choice(["en", "zh"]), help="Message language."
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _run(kind, file: Path, dry_run, all_or_nothing, reason, actor, lang) -> None:
    who = Actor(label=actor or f"cli:{getpass.getuser()}")

    def show(error):
        click.echo(f"{file.name}: {error}", err=True)

    with force_locale(lang), file.open("rb") as stream:
        report = run_import(
            kind,
            stream,
            file.name,
            who,
            reason=reason,
            dry_run=dry_run,
            all_or_nothing=all_or_nothing,
            on_error=show,
        )
    _finish(report, all_or_nothing)


def _finish(report: ImportReport, all_or_nothing: bool) -> None:
    if report.file_error:
        click.echo(f"refused: {report.file_error}", err=True)
    if report.dry_run:
        click.echo("dry run: nothing was changed")
    elif report.rolled_back and all_or_nothing:
        click.echo("all or nothing: rows were rejected, so nothing was changed")
    click.echo(report.summary)
    if report.file_error:
        sys.exit(2)
    if report.rejected:
        sys.exit(1)


@enterprises_cli.command("import")
@_import_options
def import_enterprises(file, dry_run, all_or_nothing, reason, actor, lang):
    """Upsert enterprises by USCC from FILE (CSV or XLSX; English or Chinese headers:
    uscc/统一社会信用代码, name_zh/名称, name_en, division_code/行政区划代码, contact_phone,
    contact_email, answers_first, notify_language)."""
    from complaints.admin.enterprise_import import EnterpriseImport

    _run(EnterpriseImport(), file, dry_run, all_or_nothing, reason, actor, lang)


def register_outlet_commands(outlets_cli: AppGroup) -> None:
    """The outlets group lives in complaints.cli; these commands join it."""

    @outlets_cli.command("import")
    @_import_options
    def import_outlets(file, dry_run, all_or_nothing, reason, actor, lang):
        """Upsert outlets from FILE, matched by enterprise USCC and Chinese name; new outlets
        get their printed code (columns uscc, name_zh, name_en, category, division_code,
        address, lat, long)."""
        from complaints.admin.outlet_import import OutletImport

        _run(OutletImport(), file, dry_run, all_or_nothing, reason, actor, lang)

    @outlets_cli.command("posters")
    @click.option("--uscc", default=None, help="Every outlet of this enterprise.")
    @click.option("--division", default=None, help="Every outlet in this division (and under it).")
    @click.option("--all", "everything", is_flag=True, help="Every outlet.")
    @click.option("--size", type=click.Choice(["a4", "a5", "a6"]), default="a5", show_default=True)
    @click.option(
        "--layout", type=click.Choice(["posters", "stickers"]), default="posters", show_default=True
    )
    @click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
    def posters(uscc, division, everything, size, layout, out):
        """One PDF: a bilingual poster per outlet, or sheets of stickers."""
        from complaints.admin.posters import PosterSelection, write_posters

        chosen = [flag for flag in (uscc, division, everything) if flag]
        if len(chosen) != 1:
            raise click.UsageError("give exactly one of --uscc, --division or --all")
        selection = PosterSelection(uscc=uscc, division=division)
        with out.open("wb") as stream:
            count = write_posters(selection, stream, size=size, layout=layout)
        if count == 0:
            out.unlink()
            raise click.ClickException("no outlet matches: no PDF written")
        click.echo(f"wrote {count} {'stickers' if layout == 'stickers' else 'posters'} to {out}")
