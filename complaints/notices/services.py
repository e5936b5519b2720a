"""Writing notifications: rows in the event's own transaction, delivered by a job after commit.

`announce(case, event_key, **context)` is what the workflow calls for every case event; the
table in complaints.notices.events says who hears what. Everything here flushes only: the
request or job that called it commits, so a rolled-back transition sends nothing.
"""

import functools
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import bindparam, exists, func, literal, select, union_all

from complaints.cases.models import Case, CaseEvent
from complaints.cases.reasons import reason_for_reader
from complaints.clock import local_today
from complaints.database import utcnow
from complaints.extensions import db
from complaints.notices.events import (
    EMAIL,
    EXPIRE_AT_DUE,
    SILENT_EVENTS,
    SMS,
    Send,
    base_event,
    sends_for,
)
from complaints.notices.models import Audience, DeliveryStatus, Notification, SmsOptOut
from complaints.notices.optouts import OPTED_OUT, insert_row_unless_exists
from complaints.notices.rendering import language_or_default, render_message
from complaints.outbox.services import add_outbox_message
from complaints.presentation import legal_basis_label
from complaints.timers.services import open_deadline_for
from workflows.grounds import DeclineGround, TerminationGround

log = logging.getLogger(__name__)

DELIVER_JOB = "complaints.notices.jobs.deliver_notification"
RECEIPT_JOB = "complaints.notices.jobs.send_receipt"
REDACTED = "[removed after delivery]"
# A code is worthless once expired and a new one is a click away: never resend one.
NOT_RESENDABLE = frozenset({"phone_code"})


@dataclass(frozen=True)
class Recipient:
    address: str
    language: str


def announce(case: Case, event_key: str, **context) -> list[Notification]:
    """Queue the messages the event table names for this event; returns the rows it added.

    Safe to call twice: a message already queued for the same (case, event_key, audience,
    channel, recipient) is not queued again, so a repeat returns []. Events that may repeat
    (reminders) carry a discriminator: "merchant_reminder:2026-11-26T10:00:00+00:00".
    """
    sends = sends_for(event_key)
    if not sends:
        if base_event(event_key) not in SILENT_EVENTS:
            log.debug("case event %s: no messages in the event table", event_key)
        return []
    facts = _event_facts(case, base_event(event_key), context)
    queued = []
    for send in sends:
        if send.when is not None and not send.when(case):
            continue
        recipient = recipient_for(case, send.audience, send.channel)
        if recipient is None:
            # Nothing to record: there is no address to show in the log or to resend to.
            log.info(
                "case %s %s: no %s for the %s", case.number, event_key, send.channel, send.audience
            )
            continue
        notification = _queue_send(case, event_key, send, recipient, facts)
        if notification is not None:
            queued.append(notification)
    return queued


def _queue_send(case, event_key, send: Send, recipient: Recipient, facts: dict):
    link = link_for(case, send.audience, facts)
    rendered = render_message(
        send.path,
        send.channel,
        recipient.language,
        case=case,
        number=case.number,
        merchant=case.enterprise.name(recipient.language),
        outlet=case.outlet.name(recipient.language) if case.outlet else None,
        agency=case.agency.name(recipient.language) if case.agency else None,
        link=link,
        **facts,
    )
    tracking_url = facts.get("tracking_url")
    secret = tracking_url if tracking_url and tracking_url in rendered.body else None
    return queue_notification(
        case,
        event_key=event_key,
        audience=send.audience,
        channel=send.channel,
        recipient=recipient.address,
        language=recipient.language,
        body=rendered.body,
        subject=rendered.subject,
        secret_fragment=secret,
        expires_at=facts.get("due_at") if base_event(event_key) in EXPIRE_AT_DUE else None,
    )


def queue_notification(
    case: Case,
    *,
    event_key: str,
    audience: Audience,
    channel: str,
    recipient: str,
    language: str,
    body: str,
    subject: str | None = None,
    secret_fragment: str | None = None,
    expires_at: datetime | None = None,
    resend_of_id: int | None = None,
    requested_by: str | None = None,
) -> Notification | None:
    """One row plus its outbox message; None when the same message was queued before.

    An SMS to a number that opted out is recorded as failed (so the log says why the party
    was not told, and a resend is possible after START) but never handed to the outbox.
    """
    facts = _sms_facts(recipient) if channel == SMS else None
    opted_out = facts is not None and facts.opted_out
    over_budget = (
        facts is not None
        and not opted_out
        and audience is Audience.TOURIST
        and base_event(event_key) in VISITOR_TRIGGERED_EVENTS
        and facts.sent_last_hour >= current_app.config["SMS_PER_NUMBER_PER_HOUR"]
    )
    values = {
        "case_id": case.id,
        "event_key": event_key,
        "audience": audience,
        "channel": channel,
        "recipient": recipient,
        "language": language,
        "subject": subject,
        "body": body,
        "secret_fragment": secret_fragment,
        "expires_at": expires_at,
        "resend_of_id": resend_of_id,
        "requested_by": requested_by,
    }
    if opted_out:
        values.update(
            status=DeliveryStatus.FAILED,
            error_code=OPTED_OUT,
            error_reason="not sent: the recipient opted out of text messages (STOP)",
        )
        if base_event(event_key) in NOT_RESENDABLE and secret_fragment:
            values.update(body=body.replace(secret_fragment, REDACTED), secret_fragment=None)
    if over_budget:
        # SMS pumping (issue 11.8): numbers typed by anonymous visitors get at most
        # SMS_PER_NUMBER_PER_HOUR texts, filings included; the rest is logged, not sent.
        values.update(
            status=DeliveryStatus.FAILED,
            error_code=SMS_BUDGET_SPENT,
            error_reason="not sent: too many text messages to this number in the last hour",
        )
        if secret_fragment:
            values.update(body=body.replace(secret_fragment, REDACTED), secret_fragment=None)
    # Without autoflush: outbox rows pending in the session go out in one batch at the end.
    with db.session.no_autoflush:
        notification = insert_row_unless_exists(Notification, values)
    if notification is None:
        return None
    if facts is not None and not over_budget:
        facts.sent_last_hour += 1  # counts toward the budget like the rows already there
    if not (opted_out or over_budget):
        add_outbox_message(DELIVER_JOB, notification.id)
    return notification


@dataclass
class _SmsFacts:
    opted_out: bool
    sent_last_hour: int


def _sms_facts(phone: str) -> _SmsFacts:
    """Opt-out and the hour's count for a number in one query, kept for the transaction (a
    filing texts the same number twice) and counted on as this transaction queues more."""
    known = db.session.info.setdefault("sms_facts", {})
    if phone not in known:
        opted_out, sent = db.session.execute(
            _sms_facts_query(), {"phone": phone, "since": utcnow() - timedelta(hours=1)}
        ).one()
        known[phone] = _SmsFacts(bool(opted_out), sent)
    return known[phone]


def read_sms_facts(phones) -> None:
    """A batch's numbers read together: one statement for the batch instead of one per number
    (a worker's batch of receipts or codes texts a rush's many numbers). Kept for the
    transaction, as `_sms_facts` keeps what it reads."""
    known = db.session.info.setdefault("sms_facts", {})
    missing = sorted({phone for phone in phones if phone} - known.keys())
    if not missing:
        return
    since = utcnow() - timedelta(hours=1)
    opted_out = select(SmsOptOut.phone.label("phone"), literal(1).label("opted_out"), literal(0))
    sent = select(Notification.recipient, literal(0), func.count(Notification.id)).group_by(
        Notification.recipient
    )
    rows = db.session.execute(
        union_all(
            opted_out.where(SmsOptOut.phone.in_(missing)),
            _sent_filter(sent, Notification.recipient.in_(missing), since),
        )
    ).all()
    facts = {phone: _SmsFacts(False, 0) for phone in missing}
    for phone, opted, count in rows:
        facts[phone].opted_out |= bool(opted)
        facts[phone].sent_last_hour += count
    known.update(facts)


@functools.cache
def _sms_facts_query():
    """Built once: every filing asks it."""
    phone = bindparam("phone", type_=Notification.recipient.type)
    since = bindparam("since", type_=Notification.created_at.type)
    return select(
        exists().where(SmsOptOut.phone == phone),
        _sent_since(phone, since).scalar_subquery(),
    )


def _sent_last_hour(phone: str, now: datetime):
    return _sent_since(phone, now - timedelta(hours=1))


def _sent_since(phone, since):
    return _sent_filter(select(func.count(Notification.id)), Notification.recipient == phone, since)


def _sent_filter(query, to_whom, since):
    """Texts that count toward a number's hourly budget (one definition for one number and
    for a batch's)."""
    return query.where(
        Notification.channel == SMS,
        to_whom,
        Notification.created_at > since,
        Notification.error_code.is_distinct_from(SMS_BUDGET_SPENT),
    )


SMS_BUDGET_SPENT = "sms_budget"
# Texts an anonymous visitor can cause (filing, "send a new code"): the ones SMS pumping uses.
# Texts caused by staff decisions are not held back by the budget, but count toward it.
VISITOR_TRIGGERED_EVENTS = frozenset({"case_received", "phone_code"})


def tourist_sms_budget_spent(phone: str, now: datetime | None = None) -> bool:
    """True when this number already got its SMS_PER_NUMBER_PER_HOUR texts (sent or queued)."""
    now = now or utcnow()
    sent = db.session.scalar(_sent_last_hour(phone, now))
    return sent >= current_app.config["SMS_PER_NUMBER_PER_HOUR"]


def recipient_for(case: Case, audience: Audience, channel: str) -> Recipient | None:
    if audience is Audience.TOURIST:
        if channel == SMS and case.tourist_phone:
            return Recipient(case.tourist_phone, language_or_default(case.language))
        return None
    if audience is Audience.MERCHANT:
        enterprise = case.enterprise
        address = enterprise.contact_phone if channel == SMS else enterprise.contact_email
        if not address:
            return None
        return Recipient(address, language_or_default(enterprise.notify_language))
    agency = case.agency
    if channel == EMAIL and agency is not None and agency.notify_email:
        return Recipient(agency.notify_email, "zh")  # the duty inbox of a PRC bureau
    return None


def link_for(case: Case, audience: Audience, facts: dict) -> str | None:
    """Merchant portal and regulator console pages for the case. The tourist's tracking link
    exists only while filing (only its hash is stored), so later tourist messages carry none:
    they point back to the first message and to texting the case number instead."""
    base = current_app.config["PUBLIC_BASE_URL"]
    if audience is Audience.MERCHANT:
        return f"{base}/merchant/cases/{case.number}"
    if audience is Audience.REGULATOR:
        return f"{base}/console/cases/{case.number}"
    return facts.get("tracking_url")


def _event_facts(case: Case, trigger: str, context: dict) -> dict:
    """What the templates may say beyond the case itself: the caller's context, else the
    running deadline and the reason and legal ground recorded with the case event."""
    facts = dict(context)
    if "due_at" not in facts:
        deadline = open_deadline_for(case.id)
        facts["due_at"] = deadline.due_at if deadline is not None else None
        facts.setdefault("due_provisional", deadline is not None and deadline.provisional)
    if "reason" in facts and "ground_basis" in facts:
        return facts
    event = db.session.scalar(
        select(CaseEvent)
        .where(CaseEvent.case_id == case.id, CaseEvent.trigger == trigger)
        .order_by(CaseEvent.seq.desc())
        .limit(1)
    )
    facts.setdefault("reason", reason_for_reader(trigger, event.reason if event else ""))
    facts.setdefault(
        "ground_basis",
        _ground_basis(event.ground if event is not None else None, local_today(case.created_at)),
    )
    return facts


def _ground_basis(ground: str | None, received_on) -> str | None:
    """The article a decision rests on, under the rule in force at receipt, cited in the
    recipient's language."""
    for kind in (DeclineGround, TerminationGround):
        if ground in {member.value for member in kind}:
            return legal_basis_label(kind(ground), received_on)
    return None


def queue_receipt(case: Case, *, tracking_url: str) -> None:
    """The CaseFiled subscriber: the receipt is rendered and queued by an outbox job after
    the filing commits. The link is the tourist's secret, wiped from the message once done."""
    add_outbox_message(RECEIPT_JOB, case.id, tracking_url, secret=True)


def notify_case_received(case: Case, *, tracking_url: str) -> None:
    """The receipt with the tracking link (complaints.notices.jobs.send_receipt)."""
    # A new case has no deadline or decision yet: nothing to look up for the templates.
    announce(
        case, "case_received", tracking_url=tracking_url, due_at=None, reason="", ground_basis=None
    )
