"""What Twilio's callbacks change: a message's delivery status, opt-outs, and SMS answers."""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import force_locale, format_date
from flask_babel import gettext as _
from sqlalchemy import func, select, update

from complaints.cases.models import Case
from complaints.cases.presenters import STATE_LABELS
from complaints.extensions import db
from complaints.notices.models import DeliveryStatus, Notification, SatisfactionRating
from complaints.notices.optouts import insert_unless_exists, record_opt_out, remove_opt_out
from complaints.notices.rendering import SMS_PREFIX, language_or_default
from notifications.twilio_webhooks import normalise_status
from workflows.states import CaseState

# Twilio blocks the sender itself on these and answers the person; we only take note.
TWILIO_STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
# The Chinese carriers' convention ("回复TD退订"); Twilio does not know them, so we confirm.
OUR_STOP_WORDS = frozenset({"退订", "TD"})
START_WORDS = frozenset({"START", "UNSTOP"})
CASE_NUMBER = re.compile(r"HN-\d{6}-\d{8}-\d{6}", re.IGNORECASE)
RATING = re.compile(r"[1-5]")
RATING_WINDOW = timedelta(days=30)  # a score answers the "closed" SMS of the last month


# -- delivery status callbacks ------------------------------------------------------------


def apply_status_callback(message_sid: str, twilio_status: str, error_code: str | None):
    """Move the message with this provider id forward; None when it is not one of ours.

    Raises ValueError for a status word Twilio may add in future. Callbacks can arrive out of
    order, so a delivered message stays delivered, and "queued"/"sent" change nothing (we
    already hold the message as sent). Each change is a conditional UPDATE, so two
    callbacks racing cannot undo each other.
    """
    ours = normalise_status(twilio_status)
    notification = db.session.scalar(
        select(Notification).where(Notification.provider_message_id == message_sid)
    )
    if notification is None:
        return None
    if ours == "delivered":
        changes = {"status": DeliveryStatus.DELIVERED, "error_code": None, "error_reason": None}
        allowed_from = (DeliveryStatus.SENT, DeliveryStatus.FAILED)
    elif ours == "failed":
        changes = {
            "status": DeliveryStatus.FAILED,
            "error_code": error_code or None,
            "error_reason": f"the carrier reported the message {twilio_status}",
        }
        allowed_from = (DeliveryStatus.SENT,)
    else:
        return notification
    db.session.execute(
        update(Notification)
        .where(Notification.id == notification.id, Notification.status.in_(allowed_from))
        .values(**changes)
    )
    db.session.refresh(notification)
    return notification


# -- inbound SMS ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    text: str | None  # None: reply with an empty TwiML response (no SMS back)


def answer_inbound(from_phone: str, body: str, *, now: datetime) -> Answer:
    """What to text back to `from_phone`, who sent `body`. Flushes; the request commits."""
    words = (body or "").strip()
    keyword = words.upper()
    if keyword in TWILIO_STOP_WORDS:
        record_opt_out(from_phone, keyword)
        return Answer(None)
    if keyword in OUR_STOP_WORDS:
        record_opt_out(from_phone, keyword)
        return Answer(_stopped_text())
    if keyword in START_WORDS:
        remove_opt_out(from_phone)
        return Answer(None)  # Twilio confirms the re-subscription itself
    match = CASE_NUMBER.search(words)
    if match:
        case = _case_by_number(match.group(0))
        if case is not None and case.tourist_phone == from_phone:
            return Answer(_status_text(case))
    elif RATING.fullmatch(words):
        case = _recently_closed_case(from_phone, now)
        if case is not None:
            first = _record_rating(case, int(words))
            return Answer(_thanks_text(case, first=first))
    # The same words for an unknown number, a wrong number and nonsense: nothing to learn.
    return Answer(_help_text())


def _case_by_number(number: str) -> Case | None:
    return db.session.scalar(select(Case).where(func.upper(Case.number) == number.upper()))


def _recently_closed_case(phone: str, now: datetime) -> Case | None:
    return db.session.scalar(
        select(Case)
        .where(
            Case.tourist_phone == phone,
            Case.state == CaseState.CLOSED,
            Case.state_entered_at > now - RATING_WINDOW,
        )
        .order_by(Case.state_entered_at.desc())
        .limit(1)
    )


def _record_rating(case: Case, score: int) -> bool:
    """The first score counts, as on the tracking page (complaints.portal.ratings): a case has
    one score wherever it came from. False when the case was rated before."""
    values = {"case_id": case.id, "score": score}
    return insert_unless_exists(SatisfactionRating.__table__, values) is not None


def _status_text(case: Case) -> str:
    with force_locale(language_or_default(case.language)):
        return SMS_PREFIX + _(
            "Case %(number)s: %(state)s (since %(since)s).",
            number=case.number,
            state=str(STATE_LABELS[case.state]),
            since=format_date(case.state_entered_at, "yyyy-MM-dd"),
        )


def _thanks_text(case: Case, *, first: bool) -> str:
    with force_locale(language_or_default(case.language)):
        if first:
            text = _("Thank you for rating how case %(number)s was handled.", number=case.number)
        else:
            text = _("Case %(number)s was already rated. Thank you.", number=case.number)
        return SMS_PREFIX + text


def _stopped_text() -> str:
    with force_locale("zh"):
        return SMS_PREFIX + _("You will get no more text messages from us. Text START to undo.")


def _help_text() -> str:
    # Nothing tells us the sender's language: both, Chinese first.
    texts = []
    for language in ("zh", "en"):
        with force_locale(language):
            texts.append(
                _(
                    "To hear how your complaint is going, text its case number (like "
                    "HN-460200-20261125-000123) from the phone number you gave when filing."
                )
            )
    # Until the Chinese text is translated both would read the same: say it once.
    return SMS_PREFIX + "\n".join(dict.fromkeys(texts))
