"""Print-ready QR images of an outlet's complaint URL: PNG, SVG and PNG sized for print.

Pure: takes a URL, returns bytes; the app decides what URL and where the image goes.
"""

import io
import math

import qrcode
from qrcode.constants import ERROR_CORRECT_M
from qrcode.exceptions import DataOverflowError
from qrcode.image.pil import PilImage
from qrcode.image.svg import SvgPathFillImage

# Level M (15% recovery): there is no logo covering modules, so H's extra redundancy would only
# raise the version and shrink each module at a given print size, which hurts more than it
# helps a worn sticker. TECH-NOTES.md keeps H for codes with a logo.
ERROR_CORRECTION = ERROR_CORRECT_M
# Four modules of quiet zone is what the standard requires; phones fail on busy posters without.
QUIET_ZONE = 4
MM_PER_INCH = 25.4
# Printed poster sizes: page width, page height and code width (quiet zone included), in mm.
POSTER_SIZES = {"a4": (210, 297, 130), "a5": (148, 210, 90), "a6": (105, 148, 62)}


def qr_version(url: str) -> int:
    """The QR version (1-40) ``url`` needs at level M; the symbol is 17 + 4*version modules wide."""
    return _make(url, box_size=1, border=QUIET_ZONE).version


def qr_png(url: str, *, box_size: int = 10, border: int = QUIET_ZONE) -> bytes:
    """A 1-bit PNG with ``box_size`` pixels per module."""
    return _png(_make(url, box_size=box_size, border=border))


def qr_svg(url: str, *, border: int = QUIET_ZONE) -> bytes:
    """A standalone SVG document (XML declaration, xmlns, viewBox) that scales to any print size.

    The white-background variant of ``SvgPathImage``: a transparent quiet zone on a coloured or
    patterned poster would no longer be quiet. One module is one user unit; the width and
    height attributes say 1 mm per module, which layout software may override freely.
    """
    qr = _make(url, box_size=10, border=border)
    image = qr.make_image(image_factory=SvgPathFillImage)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue()


def qr_png_for_print(url: str, *, width_mm: float, dpi: int = 300) -> bytes:
    """A PNG at least ``width_mm`` wide (quiet zone included) when printed at ``dpi``.

    Each module gets a whole number of pixels so every module edge is sharp in the file; the
    image is the smallest such size at or above the target, so it is at most one module's worth
    of pixels larger. The PNG records ``dpi``: placed at that resolution it prints no smaller
    than ``width_mm``, and a layout that forces exactly ``width_mm`` only shrinks a sharp source
    by a few percent (the tests decode such a downscale).
    """
    if not (isinstance(width_mm, int | float) and math.isfinite(width_mm) and width_mm > 0):
        raise ValueError(f"width_mm must be a positive number, got {width_mm!r}")
    if isinstance(dpi, bool) or not isinstance(dpi, int) or dpi <= 0:
        raise ValueError(f"dpi must be a positive integer, got {dpi!r}")
    qr = _make(url, box_size=1, border=QUIET_ZONE)
    modules = qr.modules_count + 2 * QUIET_ZONE
    target_px = math.ceil(width_mm / MM_PER_INCH * dpi)
    qr.box_size = max(1, math.ceil(target_px / modules))
    return _png(qr, dpi=dpi)


def _make(url: str, *, box_size: int, border: int) -> qrcode.QRCode:
    if not isinstance(url, str) or not url:
        raise ValueError("a QR code needs a non-empty URL")
    if isinstance(box_size, bool) or not isinstance(box_size, int) or box_size < 1:
        raise ValueError(f"box_size must be a positive integer, got {box_size!r}")
    if isinstance(border, bool) or not isinstance(border, int) or border < 0:
        raise ValueError(f"border must be a non-negative integer, got {border!r}")
    qr = qrcode.QRCode(error_correction=ERROR_CORRECTION, box_size=box_size, border=border)
    qr.add_data(url)
    try:
        qr.make(fit=True)
    # qrcode reports "needs version 41" as a plain ValueError rather than DataOverflowError.
    except (DataOverflowError, ValueError) as exc:
        raise ValueError(f"URL too long for a QR code ({len(url)} characters)") from exc
    return qr


def _png(qr: qrcode.QRCode, *, dpi: int | None = None) -> bytes:
    image = qr.make_image(image_factory=PilImage)
    buffer = io.BytesIO()
    if dpi is None:
        image.save(buffer, format="PNG")
    else:
        image.save(buffer, format="PNG", dpi=(dpi, dpi))
    return buffer.getvalue()
