from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from complaints.database import UTCDateTime, enum_column_type, utcnow
from complaints.extensions import db


class InspectionResult(StrEnum):
    COMPLIANT = "compliant"
    RECTIFY = "rectify"  # put right by a date
    REFER = "refer"  # referred for an administrative penalty


class Inspection(db.Model):
    """An on-site inspection of an outlet: what was checked, found and decided."""

    __tablename__ = "inspections"
    __table_args__ = (
        CheckConstraint("result <> 'rectify' OR rectify_by IS NOT NULL", name="rectify_has_date"),
        # The tick's look-up of rectifications past their date.
        Index("ix_inspections_rectify_due", "result", "rectified_at", "overdue_at", "rectify_by"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id"), index=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    inspector_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    checklist: Mapped[dict] = mapped_column(JSON, default=dict)  # item key -> passed?
    findings: Mapped[str] = mapped_column(Text, default="")
    result: Mapped[InspectionResult] = mapped_column(
        enum_column_type(InspectionResult, "inspection_result")
    )
    rectify_by: Mapped[date | None]
    rectified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    overdue_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # set once by the tick
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    outlet = relationship("Outlet")
    enterprise = relationship("Enterprise")
    inspector = relationship("Account")
    photos: Mapped[list["InspectionPhoto"]] = relationship(
        back_populates="inspection", order_by="InspectionPhoto.id"
    )


class InspectionPhoto(db.Model):
    __tablename__ = "inspection_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id"), index=True)
    stored_name: Mapped[str] = mapped_column(String(96), unique=True)
    content_type: Mapped[str] = mapped_column(String(32))
    size_bytes: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))

    inspection: Mapped[Inspection] = relationship(back_populates="photos")
