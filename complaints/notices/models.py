from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from complaints.database import UTCDateTime, enum_column_type, utcnow
from complaints.extensions import db


class Audience(StrEnum):
    TOURIST = "tourist"
    MERCHANT = "merchant"
    REGULATOR = "regulator"


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # written with the event, waiting for its job
    RETRYING = "retrying"  # a transient failure; tried again with backoff
    SENT = "sent"  # the provider took it
    DELIVERED = "delivered"  # the provider confirmed delivery (status callback)
    FAILED = "failed"  # permanently refused; the reason says why


class Notification(db.Model):
    """One message to one recipient about one case event, and what became of it."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint(
            "case_id",
            "event_key",
            "audience",
            "channel",
            "recipient",
            name="uq_notifications_once_per_event",
        ),
        Index("ix_notifications_status", "status", "id"),
        # The inline-mode retry sweep reads only the few rows waiting for another attempt.
        Index("ix_notifications_retry_due", "status", "next_attempt_at"),
        # The per-number SMS budget (SMS pumping) counts a number's last hour.
        Index("ix_notifications_recipient_created", "recipient", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    event_key: Mapped[str] = mapped_column(String(64))
    audience: Mapped[Audience] = mapped_column(enum_column_type(Audience, "audience"))
    channel: Mapped[str] = mapped_column(String(8))
    recipient: Mapped[str] = mapped_column(String(255))
    language: Mapped[str] = mapped_column(String(8))
    subject: Mapped[str | None] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    # Parts of the body that must not outlive delivery (a tracking link) are redacted after.
    secret_fragment: Mapped[str | None] = mapped_column(String(128))
    status: Mapped[DeliveryStatus] = mapped_column(
        enum_column_type(DeliveryStatus, "delivery_status"), default=DeliveryStatus.PENDING
    )
    provider_message_id: Mapped[str | None] = mapped_column(String(64), index=True)
    error_code: Mapped[str | None] = mapped_column(String(32))
    error_reason: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=0)
    # Without a queue, a transient failure waits here for the tick's retry sweep. Under RQ
    # it stays empty: RQ's own retry schedule owns the message.
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set (and committed) before the provider is called, cleared when the outcome is recorded:
    # a send interrupted in between is checked with the provider, never blindly repeated.
    attempt_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A message that is wrong once late (a code, a reminder before a deadline) is not sent after.
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A resend is a new row, so the log keeps what happened to the first one and who asked.
    resend_of_id: Mapped[int | None] = mapped_column(ForeignKey("notifications.id"), index=True)
    requested_by: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class SmsOptOut(db.Model):
    """A number that asked for no more text messages (STOP, 退订, or Twilio's error 21610)."""

    __tablename__ = "sms_opt_outs"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    source: Mapped[str] = mapped_column(String(32))  # the keyword, or "twilio:21610"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SatisfactionRating(db.Model):
    """The tourist's answer to the question in the "case closed" SMS: 1 (bad) to 5 (good)."""

    __tablename__ = "satisfaction_ratings"
    __table_args__ = (CheckConstraint("score BETWEEN 1 AND 5", name="score_1_to_5"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), unique=True)
    score: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
