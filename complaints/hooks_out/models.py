from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from complaints.database import UTCDateTime, enum_column_type, utcnow
from complaints.extensions import db


class WebhookEndpoint(db.Model):
    """A receiver's URL, the events it wants and whose events it may get (one owner)."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(String(255), default="")
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"), index=True)
    partner_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"), index=True)
    event_types: Mapped[str] = mapped_column(Text)  # space separated; "*" for all
    # whsec_<base64>: kept in the clear because signing needs it (as every HMAC sender does).
    secret: Mapped[str] = mapped_column(String(96))
    previous_secret: Mapped[str | None] = mapped_column(String(96))
    previous_secret_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    owner_email: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    # A delivery job is waiting for this endpoint: fan-out queues another only when none is,
    # so 10,000 events to 100 endpoints make a handful of jobs, not a million.
    delivery_queued: Mapped[bool] = mapped_column(default=False, server_default=false())
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disabled_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def type_set(self) -> frozenset[str]:
        return frozenset(self.event_types.split())

    def wants(self, event_type: str) -> bool:
        types = self.type_set
        return "*" in types or event_type in types


class WebhookEvent(db.Model):
    """One thing that happened, as sent: the body is stored as the exact bytes signed."""

    __tablename__ = "webhook_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    msg_id: Mapped[str] = mapped_column(String(40), unique=True)
    type: Mapped[str] = mapped_column(String(48))
    # Deliveries with the same key reach an endpoint in id order (the case number).
    ordering_key: Mapped[str] = mapped_column(String(64))
    # Who may receive it: the agency holding the case, the merchant (None: not the merchant).
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"))
    public: Mapped[bool] = mapped_column(default=False)  # credit-list facts: partners too
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class DeliveryState(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # retries exhausted (three days); replay sends it again


class WebhookDelivery(db.Model):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "event_id", name="uq_webhook_deliveries_endpoint_event"),
        Index("ix_webhook_deliveries_due", "endpoint_id", "state", "id"),
        Index("ix_webhook_deliveries_next", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id"))
    event_id: Mapped[int] = mapped_column(ForeignKey("webhook_events.id"), index=True)
    ordering_key: Mapped[str] = mapped_column(String(64))
    state: Mapped[DeliveryState] = mapped_column(
        enum_column_type(DeliveryState, "webhook_delivery_state")
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status: Mapped[int | None]
    last_error: Mapped[str] = mapped_column(Text, default="")
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    endpoint: Mapped[WebhookEndpoint] = relationship()
    event: Mapped[WebhookEvent] = relationship()
