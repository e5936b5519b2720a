from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from complaints.database import UTCDateTime, enum_column_type, utcnow
from complaints.extensions import db


class AlertStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    CLOSED = "closed"


class Alert(db.Model):
    """One risk signal, raised once per rule and subject and period (`dedupe_key`), with the
    figures that tripped it and the cases behind it, worked to closure with a note."""

    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_agency_status", "agency_id", "status", "raised_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rule: Mapped[str] = mapped_column(String(32))
    dedupe_key: Mapped[str] = mapped_column(String(160), unique=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"), index=True)
    outlet_id: Mapped[int | None] = mapped_column(ForeignKey("outlets.id"))
    figures: Mapped[dict] = mapped_column(JSON, default=dict)
    case_ids: Mapped[list] = mapped_column(JSON, default=list)
    status: Mapped[AlertStatus] = mapped_column(
        enum_column_type(AlertStatus, "alert_status"), default=AlertStatus.OPEN
    )
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    note: Mapped[str] = mapped_column(Text, default="")

    agency = relationship("Agency")
    enterprise = relationship("Enterprise")
    outlet = relationship("Outlet")
