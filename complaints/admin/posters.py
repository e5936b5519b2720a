"""Bulk posters and stickers as one PDF (reportlab), each with its outlet's signed scan code.

Chinese is set in reportlab's built-in STSong-Light CID font (Adobe-GB1): no font file to
ship or find on the machine, and every PDF reader carries or substitutes it. The code is drawn
as vector rectangles from the QR matrix, so it stays sharp at any print size.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

import qrcode
from reportlab.lib.colors import HexColor, black, white
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from complaints.extensions import db
from complaints.geo.models import Division
from complaints.merchants.models import Enterprise, Outlet
from complaints.merchants.qrcodes import ERROR_CORRECTION, POSTER_SIZES, QUIET_ZONE
from complaints.merchants.services import scan_url
from complaints.merchants.uscc import normalise_uscc

CJK_FONT = "STSong-Light"
LATIN_FONT = "Helvetica"
LATIN_BOLD = "Helvetica-Bold"
RED = HexColor("#c8102e")
STICKER = (64, 84, 46)  # sticker width, height and code width in mm
STICKER_GAP = 4  # mm between stickers and around the sheet's edge

pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))


@dataclass(frozen=True)
class PosterSelection:
    uscc: str | None = None
    division: str | None = None
    enterprise_id: int | None = None
    outlet_codes: tuple[str, ...] = ()
    # A regulator prints only its own area: the division codes it may see.
    within_divisions: frozenset[str] | None = None


def selected_outlets(selection: PosterSelection) -> Iterator[Outlet]:
    """Streamed in print order (division, merchant, outlet), 500 rows at a time."""
    statement = (
        select(Outlet)
        .join(Enterprise, Outlet.enterprise_id == Enterprise.id)
        .options(joinedload(Outlet.enterprise))
        .order_by(Outlet.division_code, Enterprise.name_zh, Outlet.name_zh, Outlet.id)
        .execution_options(yield_per=500)
    )
    if selection.uscc:
        statement = statement.where(Enterprise.uscc == normalise_uscc(selection.uscc))
    if selection.enterprise_id is not None:
        statement = statement.where(Outlet.enterprise_id == selection.enterprise_id)
    if selection.division:
        statement = statement.where(
            Outlet.division_code.in_(division_and_below(selection.division))
        )
    if selection.within_divisions is not None:
        statement = statement.where(Outlet.division_code.in_(selection.within_divisions))
    if selection.outlet_codes:
        statement = statement.where(Outlet.code.in_(selection.outlet_codes))
    yield from db.session.scalars(statement)


def division_and_below(code: str) -> set[str]:
    found, frontier = {code}, {code}
    while frontier:
        frontier = set(
            db.session.scalars(select(Division.code).where(Division.parent_code.in_(frontier)))
        )
        frontier -= found
        found |= frontier
    return found


def write_posters(
    selection: PosterSelection, stream: BinaryIO, *, size: str = "a5", layout: str = "posters"
) -> int:
    """Write the PDF to ``stream``; returns how many outlets it holds (0: nothing written)."""
    width, height, code_mm = POSTER_SIZES[size]
    canvas = Canvas(stream, pagesize=(width * mm, height * mm), pageCompression=1)
    canvas.setTitle("安心 扫码投诉 · Anxin scan-to-complain codes")
    canvas.setCreator("Anxin")
    count = 0
    if layout == "stickers":
        count = _sticker_sheets(canvas, selected_outlets(selection), width, height)
    else:
        for outlet in selected_outlets(selection):
            _poster(canvas, outlet, width, height, code_mm)
            canvas.showPage()
            count += 1
    if count:
        canvas.save()
    return count


def draw_code(canvas: Canvas, url: str, x: float, y: float, size: float) -> None:
    """The QR code of ``url`` as a ``size``-wide square (quiet zone included) at (x, y)."""
    qr = qrcode.QRCode(error_correction=ERROR_CORRECTION, border=QUIET_ZONE)
    qr.add_data(url)
    qr.make(fit=True)
    matrix = qr.get_matrix()  # includes the quiet zone
    module = size / len(matrix)
    canvas.setFillColor(white)
    canvas.rect(x, y, size, size, stroke=0, fill=1)
    path = canvas.beginPath()
    for row_index, row in enumerate(matrix):
        top = y + size - (row_index + 1) * module
        start = None
        for col, dark in enumerate([*row, False]):
            if dark and start is None:
                start = col
            elif not dark and start is not None:
                # One rectangle per run of dark modules, slightly overlapping rows so no
                # hairline gaps appear between them when rasterised.
                path.rect(x + start * module, top, (col - start) * module, module * 1.1)
                start = None
    canvas.setFillColor(black)
    canvas.drawPath(path, stroke=0, fill=1)


def _poster(canvas: Canvas, outlet: Outlet, width: float, height: float, code_mm: float) -> None:
    scale = width / 148  # the A5 design, scaled
    enterprise = outlet.enterprise
    centre = width * mm / 2
    inner = (width - 16 * scale) * mm
    canvas.setStrokeColor(RED)
    canvas.setLineWidth(0.6 * mm * scale)
    canvas.rect(4 * mm * scale, 4 * mm * scale, (width - 8 * scale) * mm, (height - 8 * scale) * mm)
    y = (height - 18 * scale) * mm
    canvas.setFillColor(RED)
    _centred(canvas, "扫码投诉", CJK_FONT, 11 * scale, centre, y, inner)
    y -= 8 * mm * scale
    _centred(canvas, "Scan to complain", LATIN_BOLD, 7 * scale, centre, y, inner)
    canvas.setFillColor(black)
    y -= 7 * mm * scale
    _centred(canvas, "安心消费 先行赔付", CJK_FONT, 4.5 * scale, centre, y, inner)
    y -= 5 * mm * scale
    _centred(
        canvas,
        "Shop with peace of mind, compensation first",
        LATIN_FONT,
        3.6 * scale,
        centre,
        y,
        inner,
    )
    code_y = y - 4 * mm * scale - code_mm * mm
    draw_code(canvas, scan_url(outlet), centre - code_mm * mm / 2, code_y, code_mm * mm)
    y = code_y - 7 * mm * scale
    _centred(canvas, enterprise.name_zh, CJK_FONT, 4.8 * scale, centre, y, inner)
    if enterprise.name_en:
        y -= 5 * mm * scale
        _centred(canvas, enterprise.name_en, LATIN_FONT, 3.2 * scale, centre, y, inner)
    y -= 5.5 * mm * scale
    _centred(canvas, outlet.name_zh, CJK_FONT, 3.8 * scale, centre, y, inner)
    if outlet.name_en:
        y -= 4.5 * mm * scale
        _centred(canvas, outlet.name_en, LATIN_FONT, 3.2 * scale, centre, y, inner)
    y -= 5 * mm * scale
    _centred(canvas, f"{enterprise.uscc} · {outlet.code}", "Courier", 3 * scale, centre, y, inner)
    _centred(
        canvas, "海南省旅游消费投诉先行赔付", CJK_FONT, 3 * scale, centre, 9 * mm * scale, inner
    )


def _sticker_sheets(canvas: Canvas, outlets, width: float, height: float) -> int:
    sticker_w, sticker_h, code_mm = STICKER
    columns = max(1, int((width - STICKER_GAP) // (sticker_w + STICKER_GAP)))
    rows = max(1, int((height - STICKER_GAP) // (sticker_h + STICKER_GAP)))
    left = (width - columns * sticker_w - (columns - 1) * STICKER_GAP) / 2
    top = height - (height - rows * sticker_h - (rows - 1) * STICKER_GAP) / 2
    count = 0
    for count, outlet in enumerate(outlets, start=1):
        place = (count - 1) % (columns * rows)
        if place == 0 and count > 1:
            canvas.showPage()
        column, row = place % columns, place // columns
        x = (left + column * (sticker_w + STICKER_GAP)) * mm
        y = (top - (row + 1) * sticker_h - row * STICKER_GAP) * mm
        _sticker(canvas, outlet, x, y, sticker_w * mm, sticker_h * mm, code_mm * mm)
    if count:
        canvas.showPage()
    return count


def _sticker(canvas: Canvas, outlet: Outlet, x, y, w, h, code) -> None:
    canvas.setStrokeColor(RED)
    canvas.setLineWidth(0.4 * mm)
    canvas.roundRect(x, y, w, h, 3 * mm)
    centre = x + w / 2
    canvas.setFillColor(RED)
    _centred(canvas, "扫码投诉 Scan to complain", CJK_FONT, 4.2, centre, y + h - 8 * mm, w - 6 * mm)
    draw_code(canvas, scan_url(outlet), centre - code / 2, y + h - 11 * mm - code, code)
    canvas.setFillColor(black)
    _centred(canvas, outlet.name_zh, CJK_FONT, 3.2, centre, y + 14 * mm, w - 6 * mm)
    if outlet.name_en:
        _centred(canvas, outlet.name_en, LATIN_FONT, 2.6, centre, y + 9.5 * mm, w - 6 * mm)
    _centred(canvas, outlet.code, "Courier", 2.6, centre, y + 5 * mm, w - 6 * mm)


def _centred(canvas: Canvas, text: str, font: str, size_mm: float, x, y, max_width) -> None:
    """Centred at x; shrunk to ``max_width`` when a long name would overflow the border."""
    size = size_mm * mm
    needed = pdfmetrics.stringWidth(text, font, size)
    if needed > max_width:
        size *= max_width / needed
    canvas.setFont(font, size)
    canvas.drawCentredString(x, y, text)
