"""Formatting shared by templates: money, masked phones, local times."""

from decimal import Decimal

from flask_babel import format_datetime

FEN_PER_YUAN = 100


def fen_to_yuan(fen: int) -> Decimal:
    return (Decimal(fen) / FEN_PER_YUAN).quantize(Decimal("0.01"))


def yuan_to_fen(amount: Decimal) -> int:
    return int((amount * FEN_PER_YUAN).to_integral_exact())


def format_money(fen: int | None) -> str:
    if fen is None:
        return ""
    return f"¥{fen_to_yuan(fen):,.2f}"


def mask_phone(e164: str) -> str:
    """138****1234 style: enough to recognise, not enough to call."""
    if len(e164) < 8:
        return "****"
    return f"{e164[:-8]}****{e164[-4:]}"


def local_time(value, fmt: str = "medium") -> str:
    return format_datetime(value, fmt) if value else ""


TEMPLATE_FILTERS = {"money": format_money, "mask_phone": mask_phone, "local_time": local_time}
TEMPLATE_GLOBALS: dict = {}
