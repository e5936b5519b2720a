"""Bulk posters: one PDF, rasterised at print resolution, every code decoded by zxing-cpp."""

import pypdfium2 as pdfium
import pytest
import zxingcpp
from sqlalchemy import select

from complaints.extensions import db
from complaints.merchants.models import Enterprise, Outlet
from complaints.merchants.services import ScanStatus, resolve_scan_token

PRINT_DPI = 150


def _decoded_pages(path):
    pdf = pdfium.PdfDocument(str(path))
    try:
        for page in pdf:
            image = page.render(scale=PRINT_DPI / 72).to_pil()
            text = page.get_textpage().get_text_range()
            yield [result.text for result in zxingcpp.read_barcodes(image)], text
    finally:
        pdf.close()


def _token(url: str) -> str:
    return url.rsplit("/s/", 1)[1]


@pytest.mark.parametrize("size", ["a4", "a5", "a6"])
def test_every_poster_decodes_to_its_outlets_live_code(runner, seeded, tmp_path, size):
    out = tmp_path / "posters.pdf"
    result = runner.invoke(args=["outlets", "posters", "--all", "--size", size, "--out", str(out)])
    assert result.exit_code == 0, result.output
    outlets = {o.code: o for o in db.session.scalars(select(Outlet))}
    assert f"wrote {len(outlets)} posters" in result.output
    seen = set()
    for codes, text in _decoded_pages(out):
        assert len(codes) == 1
        scan = resolve_scan_token(_token(codes[0]))
        assert scan.status is ScanStatus.VALID
        seen.add(scan.outlet.code)
        # Chinese is set as text (a CID font), so the reader gets the characters back.
        assert scan.outlet.name_zh in text
        assert "扫码投诉" in text
    assert seen == set(outlets)


def test_stickers_for_one_enterprise_and_for_a_division(runner, seeded, tmp_path):
    taxi = db.session.scalar(select(Enterprise).where(Enterprise.name_en.contains("Taxi")))
    out = tmp_path / "stickers.pdf"
    args = ["outlets", "posters", "--uscc", taxi.uscc, "--size", "a4", "--layout", "stickers"]
    result = runner.invoke(args=[*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    decoded = [code for codes, _ in _decoded_pages(out) for code in codes]
    assert sorted(resolve_scan_token(_token(c)).outlet.code for c in decoded) == sorted(
        o.code for o in taxi.outlets
    )
    sanya = tmp_path / "sanya.pdf"
    result = runner.invoke(
        args=["outlets", "posters", "--division", "460200", "--size", "a4", "--out", str(sanya)]
    )
    sanya_outlets = db.session.scalars(
        select(Outlet.code).where(Outlet.division_code.startswith("4602"))
    ).all()
    assert f"wrote {len(sanya_outlets)} posters" in result.output


def test_posters_need_exactly_one_selection_and_a_match(runner, seeded, tmp_path):
    out = tmp_path / "x.pdf"
    both = runner.invoke(args=["outlets", "posters", "--all", "--uscc", "X", "--out", str(out)])
    assert both.exit_code == 2
    assert "exactly one" in both.output
    none = runner.invoke(args=["outlets", "posters", "--division", "469030", "--out", str(out)])
    assert none.exit_code == 1
    assert "no outlet matches" in none.output
    assert not out.exists()
