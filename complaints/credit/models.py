"""Credit events (append-only), the per-merchant score they add up to, list changes, repairs."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from complaints.credit.engine import CreditEventKind
from complaints.database import UTCDateTime, enum_column_type, utcnow
from complaints.extensions import db


class CreditEvent(db.Model):
    """One fact about a merchant's conduct, with its points and when it stops counting.

    Never updated or deleted: a repair is a new event that cancels this one's points
    (`neutralises_id`), so the history a merchant or regulator reads is the history that was.
    """

    __tablename__ = "credit_events"
    __table_args__ = (
        # Idempotency: the same fact (e.g. "deadline missed on case 12") lands once, however
        # often a hook or a tick retries. NULL keys (regulator decisions) never collide.
        UniqueConstraint("enterprise_id", "dedupe_key", name="uq_credit_events_dedupe"),
        # One repair or early removal per event.
        UniqueConstraint("neutralises_id", name="uq_credit_events_neutralises"),
        CheckConstraint("expires_at > occurred_at", name="expires_after_occurring"),
        # The recompute streams events merchant by merchant in this order.
        Index("ix_credit_events_enterprise_occurred", "enterprise_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"))
    kind: Mapped[CreditEventKind] = mapped_column(
        enum_column_type(CreditEventKind, "credit_event_kind")
    )
    points: Mapped[int]
    reason: Mapped[str] = mapped_column(Text, default="")
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(64), default="system")
    dedupe_key: Mapped[str | None] = mapped_column(String(96))
    neutralises_id: Mapped[int | None] = mapped_column(ForeignKey("credit_events.id"))

    case = relationship("Case")
    neutralises: Mapped["CreditEvent | None"] = relationship(remote_side=[id])


@event.listens_for(CreditEvent, "before_update")
@event.listens_for(CreditEvent, "before_delete")
def _append_only(mapper, connection, target):
    raise RuntimeError("credit events are append-only; record a new event instead")


class MerchantScore(db.Model):
    """The current score, kept up to date one event at a time (see engine.ScoreState).

    A row older than `next_expiry_at` is stale: the tick (or the next event) rebuilds it from
    events. `flask credit recompute` checks every row against its events.
    """

    __tablename__ = "merchant_scores"
    __table_args__ = (CheckConstraint("grade IN ('A', 'B', 'C', 'D')", name="grade_known"),)

    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), primary_key=True)
    score: Mapped[int]
    grade: Mapped[str] = mapped_column(String(1))
    next_expiry_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    trusted: Mapped[bool] = mapped_column(default=False)
    serious_list_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Bumped on every change, so a cache or an ETag can tell two states apart.
    version: Mapped[int] = mapped_column(default=1, server_default="1")


class TrustedListChange(db.Model):
    """A merchant joined or left the trusted-merchant list (advance-compensation pledge)."""

    __tablename__ = "trusted_list_changes"
    __table_args__ = (Index("ix_trusted_list_changes_enterprise", "enterprise_id", "changed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"))
    joined: Mapped[bool]
    grade: Mapped[str] = mapped_column(String(1))
    reason: Mapped[str] = mapped_column(Text)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RepairState(StrEnum):
    REQUESTED = "requested"
    GRANTED = "granted"
    REFUSED = "refused"


class CreditRepairApplication(db.Model):
    """A merchant asks to repair one negative entry: what it corrected, what it commits to."""

    __tablename__ = "credit_repair_applications"
    __table_args__ = (
        # One open application per entry; a refused one does not block asking again.
        Index(
            "ux_credit_repair_open_event",
            "credit_event_id",
            unique=True,
            postgresql_where=text("state = 'requested'"),
            sqlite_where=text("state = 'requested'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    credit_event_id: Mapped[int] = mapped_column(ForeignKey("credit_events.id"))
    corrections: Mapped[str] = mapped_column(Text)
    commitment: Mapped[str] = mapped_column(Text)
    state: Mapped[RepairState] = mapped_column(enum_column_type(RepairState, "repair_state"))
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    grant_event_id: Mapped[int | None] = mapped_column(ForeignKey("credit_events.id"))
    # Maker-checker for serious entries: the first of the two grants, by another person.
    first_approved_by: Mapped[str | None] = mapped_column(String(64))
    first_approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_approval_reason: Mapped[str | None] = mapped_column(Text)

    credit_event: Mapped[CreditEvent] = relationship(foreign_keys=[credit_event_id])
