"""Formatting shared by templates: money, masked phones, local times."""

import re
from datetime import datetime
from decimal import Decimal
from urllib.parse import urlencode

from flask import request
from flask_babel import format_date, format_datetime, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

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


UNAMBIGUOUS_TIME = "yyyy-MM-dd HH:mm"


def local_time(value, fmt: str | None = None) -> str:
    """Unambiguous in every language (no US month/day order), with the zone said aloud,
    since a tourist reading it at home may be hours away from Hainan. Named Babel formats
    ("short", "medium") are read as this one for the same reason."""
    if not value:
        return ""
    if not isinstance(value, datetime):  # a calendar day has no time and no zone to name
        return format_date(value, "yyyy-MM-dd")
    pattern = UNAMBIGUOUS_TIME if fmt in (None, "short", "medium") else fmt
    return _("%(time)s Beijing time", time=format_datetime(value, pattern))


def limit_text(limit) -> str:
    """A policy time limit in words: "24 hours", "7 working days", "15 days"."""
    unit = getattr(limit.unit, "value", limit.unit)
    if unit == "hours":
        return ngettext("%(num)d hour", "%(num)d hours", limit.amount)
    if unit == "working_days":
        return ngettext("%(num)d working day", "%(num)d working days", limit.amount)
    return ngettext("%(num)d day", "%(num)d days", limit.amount)


def url_with_lang(code: str) -> str:
    """The current page in another language, keeping its query (a search, a filter)."""
    args = request.args.to_dict(flat=False)
    args["lang"] = [code]
    return f"{request.path}?{urlencode(args, doseq=True)}"


TEMPLATE_FILTERS = {
    "money": format_money,
    "mask_phone": mask_phone,
    "local_time": local_time,
    "limit_text": limit_text,
}
# Decisions that cannot be undone ask first (static/confirm.js reads the form's data-confirm).
IRREVERSIBLE = {
    "decline": _l("Decline this complaint? The tourist is told at once; this cannot be undone."),
    "terminate": _l("End the mediation? Both parties are told at once; this cannot be undone."),
    "approve": _l("Approve this claim? The fund pays the tourist; this cannot be undone."),
    "reject": _l("Reject this claim? The tourist is told at once; this cannot be undone."),
    "deduct_deposit": _l("Take the money from the merchant's deposit? This cannot be undone."),
    "enter_reference": _l(
        "Record this transfer as paid to the tourist? The claim is closed as paid; this cannot be undone."
    ),
    "retry_payout": _l("Pay again? First check that the earlier payment did not arrive."),
    "grant_repair": _l("Grant credit repair? The merchant's score changes at once."),
    "rotate": _l(
        "Replace this code? Every printed poster with the old code stops working at once."
    ),
}

TEMPLATE_GLOBALS: dict = {"url_with_lang": url_with_lang, "irreversible": IRREVERSIBLE}


_ARTICLE = re.compile(r"SAMR Order (\d+) Art\. (\d+)\((\d+)\)")
_FORMERLY = re.compile(r"SAMR Order 121 \(formerly SAMR Order (\d+) Art\. (\d+)\((\d+)\)\)")


def legal_basis_label(ground, received_on=None):
    """The article a decision rests on, as a reader of the recipient's language cites it:
    under the rule in force when the complaint was received (Order 20 or Order 121).

    Lazy, so a notice rendered later in the recipient's language gets that language.
    """
    from workflows.grounds import legal_basis_on

    basis = ground.legal_basis if received_on is None else legal_basis_on(ground, received_on)
    formerly = _FORMERLY.fullmatch(basis)
    if formerly:
        order, article, item = formerly.groups()
        return _l(
            "SAMR Order 121 (formerly Order %(order)s, Art. %(article)s(%(item)s))",
            order=order,
            article=article,
            item=item,
        )
    match = _ARTICLE.fullmatch(basis)
    if match:
        order, article, item = match.groups()
        return _l(
            "SAMR Order %(order)s, Art. %(article)s(%(item)s)",
            order=order,
            article=article,
            item=item,
        )
    if basis.startswith("SAMR Order 121"):
        return _l("SAMR Order 121 (in force from 2026-04-15)")
    return basis
