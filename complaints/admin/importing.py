"""The import engine shared by enterprises and outlets: stream rows, validate, upsert in batches.

Each batch is validated row by row (a rejected row names its line, column and reason), then
written with one lookup query, one bulk INSERT, one bulk UPDATE and one bulk INSERT of audit
rows, so memory stays flat and a 200k-row file takes seconds. Rows are never held beyond their
batch; only the keys seen so far are kept, to reject a key repeated within the file.
"""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import BinaryIO, Protocol

from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, inspect, update

from complaints.admin.audit import Actor, write_changes
from complaints.admin.tabular import FileRefused, open_table
from complaints.admin.validators import CellInvalid
from complaints.extensions import db

BATCH_SIZE = 2000
KEPT_ERRORS = 1000  # a screen shows these; the CLI streams every one as it is found


@dataclass(frozen=True)
class RowError:
    line: int
    column: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}, column {self.column}: {self.reason}"


@dataclass
class ImportReport:
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    errors: list[RowError] = field(default_factory=list)
    errors_dropped: int = 0
    file_error: str | None = None
    dry_run: bool = False
    rolled_back: bool = False

    @property
    def summary(self) -> str:
        return (
            f"imported {self.imported}, updated {self.updated}, "
            f"unchanged {self.unchanged}, rejected {self.rejected}"
        )

    @property
    def ok(self) -> bool:
        return self.file_error is None and self.rejected == 0

    def reject(self, errors: list[RowError]) -> None:
        self.rejected += 1
        room = KEPT_ERRORS - len(self.errors)
        self.errors.extend(errors[: max(room, 0)])
        self.errors_dropped += max(len(errors) - max(room, 0), 0)


class RowInvalid(Exception):
    def __init__(self, errors: list[RowError]):
        super().__init__(errors)
        self.errors = errors


class Validator:
    """Collects every problem of one row, so a clerk fixes a line in one go."""

    def __init__(self, line: int, row: dict[str, str]):
        self.line = line
        self.row = row
        self.errors: list[RowError] = []

    def error(self, column: str, reason) -> None:
        self.errors.append(RowError(self.line, column, str(reason)))

    def text(self, column: str, *, required: bool = False, max_length: int) -> str | None:
        value = self.row.get(column, "").strip()
        if not value:
            if required:
                self.error(column, _l("This column is required and the cell is empty."))
            return None
        if len(value) > max_length:
            self.error(
                column,
                _l(
                    "Too long: %(length)d characters, at most %(max)d.",
                    length=len(value),
                    max=max_length,
                ),
            )
            return None
        return value

    def cell(self, column: str, parse: Callable, *, required: bool = False):
        """``parse(text)`` of a non-empty cell; None (and an error if required) when empty."""
        value = self.row.get(column, "").strip()
        if not value:
            if required:
                self.error(column, _l("This column is required and the cell is empty."))
            return None
        try:
            return parse(value)
        except CellInvalid as invalid:
            self.error(column, invalid.args[0])
            return None

    def done(self):
        if self.errors:
            raise RowInvalid(self.errors)


class Kind(Protocol):
    """What an importable thing provides: its columns and how to validate and write a batch."""

    aliases: dict[str, str]
    required: tuple[str, ...]

    def key_of(self, values: dict) -> str: ...

    def validate(self, check: Validator) -> dict: ...

    def write_batch(self, rows: list[tuple[int, dict]], actor: Actor, reason: str) -> "Counts": ...


@dataclass
class Counts:
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[RowError] = field(default_factory=list)  # one per row refused when written


def run_import(
    kind: Kind,
    stream: BinaryIO,
    filename: str,
    actor: Actor,
    *,
    reason: str = "",
    dry_run: bool = False,
    all_or_nothing: bool = False,
    on_error: Callable[[RowError], None] | None = None,
    batch_size: int = BATCH_SIZE,
) -> ImportReport:
    """Import a file; commits per batch unless ``dry_run`` or ``all_or_nothing``."""
    report = ImportReport(dry_run=dry_run)
    try:
        table = open_table(stream, filename, kind.aliases)
        missing = [name for name in kind.required if name not in table.columns]
        if missing:
            raise FileRefused(
                str(
                    _l(
                        "The first line must name the columns; missing: %(columns)s.",
                        columns=", ".join(missing),
                    )
                )
            )
        seen: dict[str, int] = {}
        for batch in _batches(table.rows, batch_size):
            valid = _validate_batch(kind, batch, seen, report, on_error)
            counts = kind.write_batch(valid, actor, reason)
            report.imported += counts.imported
            report.updated += counts.updated
            report.unchanged += counts.unchanged
            for error in counts.rejected:
                _reject(report, [error], on_error)
            if dry_run or all_or_nothing:
                db.session.flush()
            else:
                db.session.commit()
    except FileRefused as refused:
        report.file_error = str(refused)
        db.session.rollback()
        return report
    if dry_run or (all_or_nothing and report.rejected):
        db.session.rollback()
        report.rolled_back = True
    else:
        db.session.commit()
    return report


def insert_rows(model, rows: list[dict]) -> None:
    """Core executemany INSERT (every row has every key: a third of the ORM bulk path's time),
    named with its mapper so the lookup cache (complaints.lookups) sees the table change."""
    if rows:
        db.session.execute(insert(model.__table__), rows, bind_arguments={"mapper": inspect(model)})


def write_batch(model, inserts: list[dict], updates: list[dict], changes: list[dict], counts):
    """A validated batch's writes: new rows, changed rows (executemany by id), their audit rows."""
    insert_rows(model, inserts)
    if updates:
        db.session.execute(update(model), updates)
    write_changes(changes)
    counts.imported, counts.updated = len(inserts), len(updates)
    return counts


def _batches(rows: Iterable, size: int) -> Iterator[list]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def _validate_batch(kind, batch, seen, report, on_error) -> list[tuple[int, dict]]:
    valid = []
    for line, row in batch:
        check = Validator(line, row)
        try:
            values = kind.validate(check)
            check.done()
        except RowInvalid as invalid:
            _reject(report, invalid.errors, on_error)
            continue
        key = kind.key_of(values)
        if key in seen:
            column = kind.required[0]
            error = RowError(
                line,
                column,
                str(_l("The same row appears again: first on line %(line)d.", line=seen[key])),
            )
            _reject(report, [error], on_error)
            continue
        seen[key] = line
        valid.append((line, values))
    return valid


def _reject(report: ImportReport, errors: list[RowError], on_error) -> None:
    report.reject(errors)
    if on_error:
        for error in errors:
            on_error(error)
