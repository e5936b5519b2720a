"""Rows of a CSV or XLSX file, streamed: (line number, {column: text}) with mapped headers.

Pure (no app, no database). Line numbers are what a spreadsheet shows: the header is line 1.
CSV is read as UTF-8 (with or without BOM) or, failing that, GB18030 (what Excel saves on a
Chinese Windows). XLSX is read with openpyxl in read-only mode, one row at a time.
"""

import codecs
import csv
import io
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

XLSX_MAGIC = b"PK\x03\x04"
_SNIFF_BYTES = 1 << 16


class FileRefused(ValueError):
    """The file as a whole cannot be read (format, encoding, headers)."""


@dataclass(frozen=True)
class Table:
    columns: list[str]  # canonical names, in file order ("" for columns we do not use)
    rows: Iterator[tuple[int, dict[str, str]]]


def normalise_header(raw) -> str:
    text = unicodedata.normalize("NFKC", str(raw or "")).strip().lower()
    return text.replace(" ", "_").replace("-", "_")


def cell_text(value) -> str:
    """A cell as text: 460203.0 from a spreadsheet is the division code 460203."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def open_table(stream: BinaryIO, filename: str, aliases: dict[str, str]) -> Table:
    """Open ``stream`` as CSV or XLSX (by content, then by name) and map its header row.

    ``aliases`` maps normalised header names (English and Chinese) to canonical column names;
    unknown columns (a registry export has many) are kept out of the rows.
    """
    head = stream.read(4)
    stream.seek(0)
    if head == XLSX_MAGIC or filename.lower().endswith((".xlsx", ".xlsm")):
        raw_rows = _xlsx_rows(stream)
    else:
        raw_rows = _csv_rows(stream)
    try:
        header = next(raw_rows)
    except StopIteration:
        raise FileRefused("the file is empty: the first line must name the columns") from None
    columns = [aliases.get(normalise_header(name), "") for name in header]
    return Table(columns=columns, rows=_mapped(raw_rows, columns))


def _mapped(raw_rows, columns) -> Iterator[tuple[int, dict[str, str]]]:
    for line, values in enumerate(raw_rows, start=2):
        texts = [cell_text(value) for value in values]
        if not any(texts):
            continue  # blank lines between blocks are common in hand-made sheets
        yield (
            line,
            {
                name: texts[index] if index < len(texts) else ""
                for index, name in enumerate(columns)
                if name
            },
        )


def _csv_rows(stream: BinaryIO):
    sample = stream.read(_SNIFF_BYTES)
    stream.seek(0)
    encoding = "utf-8-sig"
    try:
        # A multi-byte character cut at the sample's end is not an encoding error.
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        encoding = "gb18030"
    text = io.TextIOWrapper(stream, encoding=encoding, newline="")
    try:
        yield from csv.reader(text)
    except UnicodeDecodeError as exc:
        raise FileRefused(f"the file is neither UTF-8 nor GB18030 text ({exc.reason})") from None
    except csv.Error as exc:
        raise FileRefused(f"the file is not valid CSV: {exc}") from None
    finally:
        text.detach()


def _xlsx_rows(stream: BinaryIO):
    from zipfile import BadZipFile

    from openpyxl import load_workbook

    try:
        workbook = load_workbook(stream, read_only=True, data_only=True)
    except (BadZipFile, KeyError, OSError) as exc:
        raise FileRefused(f"the file is not a readable XLSX workbook ({exc})") from None
    try:
        yield from workbook.worksheets[0].iter_rows(values_only=True)
    finally:
        workbook.close()
