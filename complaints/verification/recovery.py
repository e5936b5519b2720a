""" "Find my complaint": case number + phone number -> a code by SMS -> a fresh tracking link.

The old link keeps working (links are added, never replaced). The answer to a request for a
code is the same whether or not the number and phone match, so the form cannot be used to
learn who complained about what; the per-number limit on codes and the per-IP limit on the
route bound the guessing. Flushes only; the request commits.
"""

import secrets
from datetime import datetime

from sqlalchemy import select

from complaints.cases.models import Case, TrackingKey
from complaints.cases.services import hash_key
from complaints.extensions import db
from complaints.verification.services import (
    RECOVER,
    CheckResult,
    _issue,
    attempt,
    latest_code,
    sent_too_often,
)

RECOVER_TEMPLATE = "notices/tourist/recover_code.sms.txt"
FIND_PATH = "/my-complaint"  # also texted in reminders, so it must never change


def _matching_case(number: str, phone_e164: str) -> Case | None:
    case = db.session.scalar(select(Case).where(Case.number == (number or "").strip().upper()))
    if case is None or case.tourist_phone != phone_e164:
        return None
    return case


def send_recovery_code(number: str, phone_e164: str, *, now: datetime) -> bool:
    """True when a code went out; the caller shows the same message either way."""
    case = _matching_case(number, phone_e164)
    if case is None or sent_too_often(case.tourist_phone, now):
        return False
    _issue(case, now, purpose=RECOVER, template=RECOVER_TEMPLATE)
    return True


def redeem_recovery_code(
    number: str, phone_e164: str, code: str, *, now: datetime
) -> tuple[CheckResult, str | None]:
    """(VERIFIED, a new tracking key) or (why not, None)."""
    case = _matching_case(number, phone_e164)
    if case is None:
        return CheckResult.NO_CODE, None
    verification = latest_code(case, RECOVER)
    result = attempt(verification, code, now=now)
    if result is not CheckResult.VERIFIED:
        return result, None
    verification.verified_at = now
    tracking_key = secrets.token_hex(16)
    db.session.add(TrackingKey(case_id=case.id, key_hash=hash_key(tracking_key), created_at=now))
    db.session.flush()
    return CheckResult.VERIFIED, tracking_key
