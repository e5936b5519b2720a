"""Streamed CSV and XLSX: one chunk per batch, spreadsheet-safe, readable by Excel's library."""

import io

import openpyxl

from complaints.exports.streams import csv_stream, xlsx_stream

HEADER = ("case", "note", "amount")


def batches():
    yield [("HN-1", '=HYPERLINK("http://evil")', 12), ("HN-2", "bell\x07 and <tags> & 中文", 3.5)]
    yield [("HN-3", None, True)]


def test_csv_is_streamed_per_batch_and_defuses_formulas():
    chunks = list(csv_stream(HEADER, batches()))
    assert len(chunks) == 3  # the header, then one chunk per batch
    text = b"".join(chunks).decode("utf-8-sig")
    assert "'=HYPERLINK" in text
    assert text.splitlines()[0] == "case,note,amount"


def test_xlsx_is_streamed_per_batch_and_opens_with_openpyxl():
    chunks = list(xlsx_stream(HEADER, batches(), sheet_name="cases"))
    assert len(chunks) >= 3
    book = openpyxl.load_workbook(io.BytesIO(b"".join(chunks)), read_only=True)
    sheet = book["cases"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == HEADER
    assert rows[1] == ("HN-1", '=HYPERLINK("http://evil")', 12)  # text, never a formula
    assert rows[2] == ("HN-2", "bell and <tags> & 中文", 3.5)  # control character dropped
    assert rows[3][0] == "HN-3"
