"""What the regulator console shows of notifications, and its one action: send a failed one again.

The console (another package) calls these; like every service here they flush and the
request commits, then calls complaints.outbox.services.after_commit().
"""

import re
from datetime import datetime

from sqlalchemy import and_, exists, not_, select
from sqlalchemy.orm import aliased

from complaints.cases.models import Case
from complaints.database import utcnow
from complaints.extensions import db
from complaints.notices.events import SMS, base_event
from complaints.notices.models import DeliveryStatus, Notification
from complaints.notices.optouts import is_opted_out
from complaints.notices.services import NOT_RESENDABLE, REDACTED, queue_notification

_RESEND_SUFFIX = re.compile(r"#r(\d+)$")


def N_(message: str) -> str:
    """Marks a message for extraction; the view that shows it translates it (gettext)."""
    return message


class ResendRefused(Exception):
    """The message may not be sent again; the message says why, for the person who asked."""


def delivery_log(case_id: int) -> list[Notification]:
    """Every message about one case, oldest first, resends right after what they replace."""
    return list(
        db.session.scalars(
            select(Notification).where(Notification.case_id == case_id).order_by(Notification.id)
        )
    )


def unhandled_failure():
    """Failed, and nobody has sent it again yet: what the console must show first."""
    resend = aliased(Notification)
    return and_(
        Notification.status == DeliveryStatus.FAILED,
        not_(exists().where(resend.resend_of_id == Notification.id)),
    )


def failed_first_log(
    limit: int = 50, before_id: int | None = None, *, scope: tuple = ()
) -> list[Notification]:
    """All messages, unhandled failures first, each part newest first.

    Pages by keyset: pass the id of the last row shown as `before_id`. Whether that row was an
    unhandled failure tells which part the next page continues. `scope` narrows the log with
    SQL conditions on Notification (the console passes its agency's cases); this package
    itself knows nothing of agencies.
    """
    unhandled = unhandled_failure()
    in_failures = True
    if before_id is not None:
        in_failures = bool(
            db.session.scalar(
                select(Notification.id).where(Notification.id == before_id, unhandled)
            )
        )
    rows: list[Notification] = []
    if in_failures:
        query = select(Notification).where(unhandled, *scope)
        if before_id is not None:
            query = query.where(Notification.id < before_id)
        rows = list(db.session.scalars(query.order_by(Notification.id.desc()).limit(limit)))
    if len(rows) < limit:
        query = select(Notification).where(not_(unhandled), *scope)
        if before_id is not None and not in_failures:
            query = query.where(Notification.id < before_id)
        rows += db.session.scalars(query.order_by(Notification.id.desc()).limit(limit - len(rows)))
    return rows


def resend(notification_id: int, actor: str, *, now: datetime | None = None) -> Notification:
    """Queue a failed message again as a new row (the failed one stays in the log).

    `actor` is who asked, e.g. "account:42". Raises ResendRefused when it may not be resent.
    """
    now = now or utcnow()
    original = db.session.get(Notification, notification_id)
    if original is None:
        raise ResendRefused(N_("There is no such message."))
    if original.status is not DeliveryStatus.FAILED:
        raise ResendRefused(N_("Only a failed message can be sent again."))
    if base_event(original.event_key) in NOT_RESENDABLE:
        raise ResendRefused(
            N_("A verification code is not resent: the tourist asks for a new one.")
        )
    if original.expires_at is not None and original.expires_at <= now:
        raise ResendRefused(N_("The message is out of date (its deadline has passed)."))
    if original.channel == SMS and is_opted_out(original.recipient):
        raise ResendRefused(N_("The recipient opted out of text messages; they must text START."))
    copy = queue_notification(
        db.session.get(Case, original.case_id),
        event_key=_next_resend_key(original.event_key),
        audience=original.audience,
        channel=original.channel,
        recipient=original.recipient,
        language=original.language,
        body=original.body,
        subject=original.subject,
        secret_fragment=original.secret_fragment,
        expires_at=original.expires_at,
        resend_of_id=original.id,
        requested_by=actor[:128],
    )
    if copy is None:
        raise ResendRefused(N_("This message was already sent again."))
    if original.secret_fragment:
        # The link now travels with the copy: the failed row need not keep it.
        original.body = original.body.replace(original.secret_fragment, REDACTED)
        original.secret_fragment = None
    db.session.flush()
    return copy


def _next_resend_key(event_key: str) -> str:
    # Deterministic, so two people pressing "resend" at once make one copy (unique key).
    match = _RESEND_SUFFIX.search(event_key)
    if match is None:
        return f"{event_key}#r1"
    return f"{event_key[: match.start()]}#r{int(match.group(1)) + 1}"
