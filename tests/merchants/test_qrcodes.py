import ast
import io
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image, ImageDraw

from complaints.merchants import qrcodes
from complaints.merchants.qrcodes import qr_png, qr_png_for_print, qr_svg, qr_version
from complaints.merchants.tokens import OutletTokenSigner

SVG_NS = "{http://www.w3.org/2000/svg}"
# As long as a real one: 8-character outlet code, key version 3, SHA-256 signature.
TOKEN = OutletTokenSigner("test-outlet-secret").sign("O7K2XQ8A", 3)
URL = f"https://anxin.example.gov.cn/s/{TOKEN}"
DPI = 300


def decode(image):
    return [(r.text, r.ec_level) for r in zxingcpp.read_barcodes(image)]


def side_in_modules(url):
    return 17 + 4 * qr_version(url) + 2 * qrcodes.QUIET_ZONE


def px_for_mm(mm, dpi=DPI):
    return round(mm / 25.4 * dpi)


def test_typical_url_stays_at_a_low_version():
    assert len(URL) == 85
    assert qr_version(URL) == 6  # 41 modules; 84 bytes would have fitted version 5
    longest = f"https://anxin.example.gov.cn/s/{OutletTokenSigner('s').sign('ABCDEFGHJK12', 10**8)}"
    assert qr_version(longest) <= 6


def test_png_decodes_to_the_exact_url_at_level_m():
    image = Image.open(io.BytesIO(qr_png(URL)))
    assert image.format == "PNG"
    assert image.size == (side_in_modules(URL) * 10,) * 2
    assert decode(image) == [(URL, "M")]


def test_png_box_size_and_border():
    image = Image.open(io.BytesIO(qr_png(URL, box_size=3, border=6)))
    assert image.size[0] == (17 + 4 * qr_version(URL) + 12) * 3
    assert decode(image) == [(URL, "M")]


def parse_svg(svg):
    assert svg.startswith(b"<?xml")
    root = ET.fromstring(svg)  # noqa: S314 - our own output, not untrusted input
    assert root.tag == f"{SVG_NS}svg"
    return root


def test_svg_is_a_standalone_scalable_document():
    root = parse_svg(qr_svg(URL))
    side = side_in_modules(URL)
    assert root.get("viewBox") == f"0 0 {side} {side}"
    assert root.get("width") == f"{side}mm"
    [background] = root.findall(f"{SVG_NS}rect")
    assert background.get("fill") == "white"
    [path] = root.findall(f"{SVG_NS}path")
    assert path.get("d").startswith("M4,4H5V5H4z")  # the finder pattern's corner, inside border 4


def rasterise(svg, px_per_unit=8):
    """Draw the SVG's module squares with Pillow: enough for qrcode's square path drawer."""
    root = parse_svg(svg)
    side = int(root.get("viewBox").split()[2])
    image = Image.new("L", (side * px_per_unit,) * 2, 255)
    draw = ImageDraw.Draw(image)
    squares = re.findall(r"M(\d+),(\d+)H(\d+)V(\d+)H\d+z", root.find(f"{SVG_NS}path").get("d"))
    assert squares
    for x0, y0, x1, y1 in squares:
        box = [int(v) * px_per_unit for v in (x0, y0, x1, y1)]
        draw.rectangle([box[0], box[1], box[2] - 1, box[3] - 1], fill=0)
    return image


def test_svg_content_decodes_to_the_exact_url():
    assert decode(rasterise(qr_svg(URL))) == [(URL, "M")]
    # and it is the same symbol as the PNG, module for module
    png = Image.open(io.BytesIO(qr_png(URL, box_size=8))).convert("L")
    assert rasterise(qr_svg(URL)).tobytes() == png.tobytes()


@pytest.mark.parametrize(("width_mm", "dpi"), [(20, 300), (15, 300), (30, 600), (80, 150)])
def test_print_png_is_at_least_the_asked_size_in_whole_modules(width_mm, dpi):
    image = Image.open(io.BytesIO(qr_png_for_print(URL, width_mm=width_mm, dpi=dpi)))
    side = side_in_modules(URL)
    target_px = width_mm / 25.4 * dpi
    assert image.size[0] == image.size[1] >= target_px
    assert image.size[0] % side == 0  # whole pixels per module
    assert image.size[0] - side < target_px  # the smallest such size, not just any larger one
    assert round(image.info["dpi"][0]) == dpi
    assert decode(image) == [(URL, "M")]


@pytest.mark.parametrize("bad", [{"width_mm": 0}, {"width_mm": -5}, {"width_mm": float("nan")}])
def test_print_png_refuses_impossible_sizes(bad):
    with pytest.raises(ValueError, match="width_mm"):
        qr_png_for_print(URL, **bad)
    with pytest.raises(ValueError, match="dpi"):
        qr_png_for_print(URL, width_mm=20, dpi=0)


def shrink_to(png, mm):
    image = Image.open(io.BytesIO(png)).convert("L")
    return image.resize((px_for_mm(mm),) * 2, Image.Resampling.LANCZOS)


def test_still_decodes_when_printed_2_cm_wide():
    small = shrink_to(qr_png(URL), 20)
    assert small.size == (236, 236)  # quiet zone included
    assert decode(small) == [(URL, "M")]


def test_reports_whether_it_decodes_printed_1_5_cm_wide(record_property):
    # Not asserted: below 2 cm a 41-module symbol has about 0.3 mm modules, which phone
    # cameras at arm's length may not resolve even where this ideal resample still decodes.
    small = shrink_to(qr_png(URL), 15)
    decodes = decode(small) == [(URL, "M")]
    record_property("decodes_at_15_mm", decodes)
    print(f"1.5 cm ({small.size[0]} px at {DPI} dpi) decodes: {decodes}")


@pytest.mark.parametrize("url", ["", "x" * 3000])
def test_unusable_urls_are_value_errors(url):
    with pytest.raises(ValueError, match="URL"):
        qr_png(url)


def test_module_stays_pure():
    tree = ast.parse(Path(qrcodes.__file__).read_text(encoding="utf-8"))
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported <= {"io", "math", "qrcode"}
