"""Event reasons as a reader sees them, in the reader's language.

The audit chain keeps each event's reason as written at the time (machine text in English,
hash-sealed, never rewritten): "merchant_response deadline passed at 2026-12-04T09:59:57+00:00",
"Offer: ¥300.00 — …", file hashes. Pages, SMS and e-mails show this instead: the known
machine phrases in words and local time, what a person typed as typed.
"""

import re
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_babel.speaklater import LazyString

from complaints.presentation import local_time
from workflows.states import DeadlineKind

DEADLINE_LABELS = {
    DeadlineKind.MERCHANT_RESPONSE: _l("Merchant answer due"),
    DeadlineKind.MERCHANT_STAGE: _l("Merchant stage ends"),
    DeadlineKind.IDENTITY_VERIFICATION: _l("Identity to be verified by"),
    DeadlineKind.ACCEPTANCE_DECISION: _l("Decision to accept due"),
    DeadlineKind.MEDIATION: _l("Mediation ends"),
    DeadlineKind.TERMINATION_NOTICE: _l("Parties to be told by"),
    DeadlineKind.APPEAL_WINDOW: _l("Appeal window ends"),
    DeadlineKind.RECOVERY_DUE: _l("Recovery due"),
    DeadlineKind.DEPOSIT_TOP_UP: _l("Deposit top-up due"),
}

DEADLINE_PASSED = re.compile(r"^(\w+) deadline passed at (\S+)$")
FILE_LINE = re.compile(r"^\w+ sha256:[0-9a-f]{64} .*$")
DISPUTE_EVIDENCE = re.compile(
    r"\n*Evidence: (?:none attached\.|(\d+) file\(s\) \([^)]*\); sha256 \w+)$"
)
MACHINE_PHRASES = {
    "within the small-claims threshold": _l("Within the small-claims limit: paid at once."),
}


def readable_reason(trigger: str, reason: str | None) -> str:
    """The reason in the current locale; call it while rendering for the reader."""
    reason = (reason or "").strip()
    if not reason:
        return ""
    if phrase := MACHINE_PHRASES.get(reason):
        return str(phrase)
    if match := DEADLINE_PASSED.match(reason):
        return _deadline_passed(match.group(1), match.group(2)) or reason
    if trigger == "evidence_added":
        return _files_added(reason)
    if trigger in ("merchant_offer", "merchant_refund") and reason.startswith("Offer: "):
        return reason.removeprefix("Offer: ")
    if trigger == "merchant_dispute":
        return _dispute(reason)
    return reason


def _deadline_passed(kind: str, at: str) -> str | None:
    try:
        label = DEADLINE_LABELS[DeadlineKind(kind)]
        when = datetime.fromisoformat(at)
    except ValueError:
        return None
    return _(
        "The time limit passed (%(deadline)s: %(time)s).", deadline=label, time=local_time(when)
    )


def _files_added(reason: str) -> str:
    lines = reason.splitlines()
    files = [line for line in lines if FILE_LINE.match(line)]
    note = " ".join(line for line in lines if not FILE_LINE.match(line))
    text = ngettext("%(num)d file added.", "%(num)d files added.", len(files))
    return f"{text} {note}".strip()


def _dispute(reason: str) -> str:
    match = DISPUTE_EVIDENCE.search(reason)
    if not match:
        return reason
    count = int(match.group(1) or 0)
    evidence = ngettext("%(num)d file of evidence.", "%(num)d files of evidence.", count)
    return f"{reason[: match.start()].strip()} {evidence}".strip()


def reason_for_reader(trigger: str, reason: str | None) -> LazyString:
    """For notices: turned into text only inside the recipient's locale (force_locale)."""
    return LazyString(readable_reason, trigger, reason)
