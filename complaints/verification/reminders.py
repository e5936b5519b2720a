"""Reminders to confirm the phone number, sent by the tick 1 hour and 24 hours after filing.

A complaint whose number is never confirmed waits in "submitted" and nobody handles it; the
tourist may not have noticed the code. Each reminder goes once per case (the notification's
unique event key makes a second tick, or a second machine, a no-op) and carries no code: a
code lasts minutes, a reminder may be read hours later, so it says where to ask for one.
"""

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, exists, select

from complaints.cases.models import Case
from complaints.extensions import db
from complaints.notices.models import Audience, Notification
from complaints.notices.rendering import language_or_default, render_message
from complaints.notices.services import queue_notification
from complaints.verification.models import PhoneVerification
from complaints.verification.recovery import FIND_PATH
from workflows.states import CaseState

REMINDER_TEMPLATE = "notices/tourist/confirm_reminder.sms.txt"
# (event key, sent once the case is this old, and no longer once it is this old)
STAGES = (
    ("phone_reminder:1h", timedelta(hours=1), timedelta(hours=24)),
    ("phone_reminder:24h", timedelta(hours=24), timedelta(days=7)),
)
QUIET_AFTER_CODE = timedelta(minutes=30)  # a code just asked for is reminder enough
BATCH = 500


def send_confirmation_reminders(now: datetime) -> int:
    sent = 0
    for event_key, after, until in STAGES:
        reminded = exists().where(
            Notification.case_id == Case.id, Notification.event_key == event_key
        )
        recent_code = exists().where(
            and_(
                PhoneVerification.case_id == Case.id,
                PhoneVerification.sent_at > now - QUIET_AFTER_CODE,
            )
        )
        due = db.session.scalars(
            select(Case)
            .where(
                Case.created_at <= now - after,
                Case.created_at > now - until,
                Case.phone_verified_at.is_(None),
                Case.state == CaseState.SUBMITTED,
                ~reminded,
                ~recent_code,
            )
            .order_by(Case.created_at)
            .limit(BATCH)
        ).all()
        for case in due:
            sent += _remind(case, event_key)
            db.session.commit()
    return sent


def _remind(case: Case, event_key: str) -> int:
    language = language_or_default(case.language)
    rendered = render_message(
        REMINDER_TEMPLATE,
        "sms",
        language,
        number=case.number,
        find_url=current_app.config["PUBLIC_BASE_URL"] + FIND_PATH,
    )
    queued = queue_notification(
        case,
        event_key=event_key,
        audience=Audience.TOURIST,
        channel="sms",
        recipient=case.tourist_phone,
        language=language,
        body=rendered.body,
    )
    return int(queued is not None)
