"""One-time codes that prove the tourist holds the phone number (SAMR Order 121, real name).

Own codes: six digits, sent as a "phone_code" notification through the outbox; only an HMAC
of the code is kept, and the SMS body is redacted once delivered. With
TWILIO_VERIFY_SERVICE_SID configured, Twilio Verify sends and checks the code instead and
nothing secret is stored here. Either way a code lasts 10 minutes and allows 5 wrong tries,
and a number gets at most VERIFY_SENDS_PER_NUMBER codes per window.
"""

import functools
import hashlib
import hmac
import logging
import secrets
from datetime import datetime, timedelta
from enum import StrEnum

from flask import current_app
from sqlalchemy import Row, bindparam, func, insert, select, update

from complaints.cases.models import Case, CaseSource
from complaints.cases.services import phone_verified
from complaints.database import bound_params, bound_values, utcnow
from complaints.extensions import db
from complaints.notices.models import Audience
from complaints.notices.rendering import language_or_default, render_message
from complaints.notices.services import queue_notification, read_sms_facts
from complaints.outbox.services import add_outbox_message, commit_all_or_none
from complaints.verification.models import PhoneVerification
from notifications.base import DeliveryError

log = logging.getLogger(__name__)

CODE_TTL = timedelta(minutes=10)
# An SMS takes seconds to a minute to arrive: a second code sooner only crosses the first.
RESEND_AFTER = timedelta(seconds=60)
MAX_ATTEMPTS = 5
OWN, TWILIO_VERIFY = "own", "twilio_verify"
START_VERIFY_JOB = "complaints.verification.services.start_twilio_verification"
FIRST_CODE_JOB = "complaints.verification.services.send_first_code"
CODE_ON_FILING_SOURCES = frozenset({CaseSource.QR, CaseSource.SEARCH})
CODE_TEMPLATE = "notices/tourist/phone_code.sms.txt"
CONFIRM, RECOVER = "confirm", "recover"  # PhoneVerification.purpose


class SendResult(StrEnum):
    SENT = "sent"
    TOO_SOON = "too_soon"  # the last code went out under RESEND_AFTER ago
    RATE_LIMITED = "rate_limited"
    ALREADY_VERIFIED = "already_verified"


class CheckResult(StrEnum):
    VERIFIED = "verified"
    ALREADY_VERIFIED = "already_verified"
    WRONG = "wrong"
    LOCKED = "locked"  # no tries left on this code: ask for a new one
    EXPIRED = "expired"
    NO_CODE = "no_code"
    UNAVAILABLE = "unavailable"  # Twilio Verify could not answer now


def uses_twilio_verify() -> bool:
    return bool(current_app.config["NOTIFICATION_SETTINGS"].get("TWILIO_VERIFY_SERVICE_SID"))


def _twilio_verify():
    # Imported when used: the Twilio SDK is slow to import and most deployments use own codes.
    from notifications.twilio_verify import TwilioVerify

    return TwilioVerify(current_app.config["NOTIFICATION_SETTINGS"])


def queue_code_on_filing(case: Case) -> None:
    """Filing on our own form sends the first code (the tourist is looking at the phone right
    now); complaints that arrive by machine wait for a request. The code is issued by an
    outbox job after the filing commits: the filing itself stays one insert's work."""
    if case.source in CODE_ON_FILING_SOURCES:
        add_outbox_message(FIRST_CODE_JOB, case.id)


def send_first_code(case_id: int) -> None:
    """The outbox job: takes an id, safe to run twice (a case that has a code gets none).
    The code counts from the filing (the case's created_at), as the tourist's request does,
    not from whenever the job runs: the per-number window and the reminders stay where the
    filing put them."""
    _send_first_codes([[case_id]])


def _send_first_codes(calls: list[list]) -> dict[int, Exception]:
    """The batch form: one SELECT of the cases still without a code and one commit. A
    failure fails the batch; its retry skips the cases that got their code. Each code is
    sent within the same per-number window as "send a new code" (issue 11.8: filings were a
    way round it); past it the tracking page offers a new code once the window has room."""
    case_ids = [case_id for case_id, *_ in calls]
    has_code = (
        select(PhoneVerification.id)
        .where(PhoneVerification.case_id == Case.id, PhoneVerification.purpose == CONFIRM)
        .exists()
    )
    waiting = db.session.scalars(
        select(Case)
        .where(Case.id.in_(case_ids), Case.phone_verified_at.is_(None), ~has_code)
        .order_by(Case.id)
    ).all()

    def issue_codes():
        read_sms_facts(case.tourist_phone for case in waiting)
        for case in waiting:
            # The window's count and the new row in one statement.
            _issue(case, case.created_at, within_window=True)

    return commit_all_or_none(case_ids, issue_codes)


send_first_code.batch = _send_first_codes


def send_new_code(case: Case, *, now: datetime) -> SendResult:
    """ "Send a new code" on the tracking page. Flushes; the request commits and relays."""
    if case.phone_verified_at is not None:
        return SendResult.ALREADY_VERIFIED
    available_at = resend_available_at(case)
    if available_at is not None and now < available_at:
        return SendResult.TOO_SOON
    if sent_too_often(case.tourist_phone, now):
        return SendResult.RATE_LIMITED
    _issue(case, now)
    return SendResult.SENT


def resend_available_at(case: Case) -> datetime | None:
    """When "Send a new code" may be pressed again (shown as a countdown)."""
    last = db.session.scalar(
        select(func.max(PhoneVerification.sent_at)).where(
            PhoneVerification.case_id == case.id, PhoneVerification.purpose == CONFIRM
        )
    )
    return last + RESEND_AFTER if last is not None else None


def sent_too_often(phone: str, now: datetime) -> bool:
    """The per-number limit on codes, whatever they are for."""
    sent_recently = db.session.scalar(_codes_in_window(phone, now))
    return sent_recently >= current_app.config["VERIFY_SENDS_PER_NUMBER"]


def _send_window() -> timedelta:
    return timedelta(minutes=current_app.config["VERIFY_SEND_WINDOW_MINUTES"])


def _codes_in_window(phone: str, now: datetime):
    return select(func.count(PhoneVerification.id)).where(
        PhoneVerification.phone == phone, PhoneVerification.sent_at > now - _send_window()
    )


def _issue(
    case: Case,
    now: datetime,
    *,
    purpose: str = CONFIRM,
    template: str = CODE_TEMPLATE,
    within_window: bool = False,
) -> Row | None:
    """A new code; with `within_window`, only if the number's per-window limit has room
    (None otherwise), checked by the INSERT itself."""
    provider = TWILIO_VERIFY if uses_twilio_verify() else OWN
    code = f"{secrets.randbelow(10**6):06d}"
    values = {
        "case_id": case.id,
        "phone": case.tourist_phone,
        "provider": provider,
        "sent_at": now,
        "expires_at": now + CODE_TTL,
        "purpose": purpose,
    }
    if provider == OWN:
        values["code_hash"] = _code_hash(case.id, case.tourist_phone, now, code)
    # One INSERT returning the row, without flushing what else is pending: the outbox rows of
    # a filing go out together in its last flush.
    params = bound_params(values)
    if within_window:
        params.update(
            window_phone=case.tourist_phone,
            window_start=now - _send_window(),
            window_limit=current_app.config["VERIFY_SENDS_PER_NUMBER"],
        )
    with db.session.no_autoflush:
        verification = db.session.execute(
            _code_insert(tuple(values), within_window), params
        ).one_or_none()
    if verification is None:
        return None
    if verification.provider == TWILIO_VERIFY:
        add_outbox_message(START_VERIFY_JOB, verification.id)
        return verification
    language = language_or_default(case.language)
    rendered = render_message(
        template,
        "sms",
        language,
        code=code,
        number=case.number,
        minutes=int(CODE_TTL.total_seconds() // 60),
    )
    queue_notification(
        case,
        event_key=f"phone_code:{verification.id}",
        audience=Audience.TOURIST,
        channel="sms",
        recipient=case.tourist_phone,
        language=language,
        body=rendered.body,
        secret_fragment=code,  # redacted from the stored body once delivered
        expires_at=verification.expires_at,
    )
    return verification


@functools.cache
def _code_insert(columns: tuple[str, ...], within_window: bool):
    """Built once per process: with `within_window`, the INSERT selects its row only while the
    number has fewer than `window_limit` codes since `window_start`."""
    table = PhoneVerification.__table__
    values = bound_values(table, columns)
    # On the table, not the model: the ORM would read the parameters as rows to insert.
    statement = insert(table)
    if within_window:
        sent_in_window = (
            select(func.count(table.c.id))
            .where(table.c.phone == bindparam("window_phone"))
            .where(table.c.sent_at > bindparam("window_start", type_=table.c.sent_at.type))
            .scalar_subquery()
        )
        statement = statement.from_select(
            list(values), select(*values.values()).where(sent_in_window < bindparam("window_limit"))
        )
    else:
        statement = statement.values(**values)
    return statement.returning(table.c.id, table.c.provider, table.c.expires_at)


def _code_hash(case_id: int, phone: str, sent_at: datetime, code: str) -> str:
    # Keyed: six digits are a million guesses, so a plain hash would give the code away to
    # anyone who reads the table. Bound to this code's case, number and moment (known before
    # the row has an id, so the hash is written by the row's own INSERT).
    key = current_app.config["SECRET_KEY"].encode()
    sent = round(sent_at.timestamp() * 1_000_000)
    message = f"phone-code:{case_id}:{sent}:{phone}:{code}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def check_code(case: Case, code: str, *, now: datetime) -> CheckResult:
    """Compare `code` with the latest one sent for the case. Flushes; the request commits."""
    if case.phone_verified_at is not None:
        return CheckResult.ALREADY_VERIFIED
    verification = latest_code(case, CONFIRM)
    result = attempt(verification, code, now=now)
    if result is not CheckResult.VERIFIED:
        return result
    verification.verified_at = now
    phone_verified(case, now)
    db.session.flush()
    return CheckResult.VERIFIED


def latest_code(case: Case, purpose: str) -> PhoneVerification | None:
    return db.session.scalar(
        select(PhoneVerification)
        .where(PhoneVerification.case_id == case.id, PhoneVerification.purpose == purpose)
        .order_by(PhoneVerification.id.desc())
        .limit(1)
    )


def attempt(verification: PhoneVerification | None, code: str, *, now: datetime) -> CheckResult:
    """One try at `verification` (counted first, so parallel guesses cannot pass the limit)."""
    if verification is None:
        return CheckResult.NO_CODE
    if verification.expires_at <= now:
        return CheckResult.EXPIRED
    code = "".join((code or "").split())
    if not (len(code) == 6 and code.isascii() and code.isdigit()):
        return CheckResult.WRONG  # a typo in the format does not use up a try
    # Count the try before checking, with a compare-and-set, so parallel guesses cannot
    # exceed the limit.
    counted = db.session.execute(
        update(PhoneVerification)
        .where(PhoneVerification.id == verification.id, PhoneVerification.attempts < MAX_ATTEMPTS)
        .values(attempts=PhoneVerification.attempts + 1)
    ).rowcount
    db.session.refresh(verification)
    if not counted:
        return CheckResult.LOCKED
    result = _compare(verification, code)
    if result is CheckResult.WRONG and verification.attempts >= MAX_ATTEMPTS:
        return CheckResult.LOCKED
    return result


def _compare(verification: PhoneVerification, code: str) -> CheckResult:
    if verification.provider == OWN:
        if verification.code_hash and hmac.compare_digest(
            verification.code_hash,
            _code_hash(verification.case_id, verification.phone, verification.sent_at, code),
        ):
            return CheckResult.VERIFIED
        return CheckResult.WRONG
    try:
        with _twilio_verify() as verify:
            approved = verify.check(verification.phone, code)
    except DeliveryError as exc:
        log.warning("Twilio Verify check for verification %s: %s", verification.id, exc)
        # 60202 (too many checks) is permanent: the tourist needs a new code.
        return CheckResult.UNAVAILABLE if exc.retryable else CheckResult.LOCKED
    return CheckResult.VERIFIED if approved else CheckResult.WRONG


def start_twilio_verification(verification_id: int) -> None:
    """The outbox job asking Twilio Verify to send the code. Not retried: the code is only
    useful for minutes and the tourist can ask for a new one, so a failure is logged."""
    verification = db.session.get(PhoneVerification, verification_id)
    if verification is None or verification.verified_at is not None:
        return
    if verification.expires_at <= utcnow():
        return  # the relay was late (Redis down): a new code is a click away
    case = db.session.get(Case, verification.case_id)
    try:
        with _twilio_verify() as verify:
            verify.start(verification.phone, locale=language_or_default(case.language))
    except DeliveryError as exc:
        log.warning("Twilio Verify could not send verification %s: %s", verification_id, exc)
