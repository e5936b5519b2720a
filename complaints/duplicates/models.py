from datetime import datetime
from enum import StrEnum

from sqlalchemy import Float, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from complaints.database import UTCDateTime, enum_column_type, utcnow
from complaints.extensions import db


class DuplicateResolution(StrEnum):
    MERGED = "merged"
    DISMISSED = "dismissed"


class DuplicateFlag(db.Model):
    """A newer case that may repeat an older one, flagged on arrival for a handler to judge."""

    __tablename__ = "duplicate_flags"
    __table_args__ = (UniqueConstraint("case_id", "earlier_case_id", name="uq_duplicate_pair"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    earlier_case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    reasons: Mapped[str] = mapped_column(String(96))  # comma-separated rule names
    text_similarity: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolution: Mapped[DuplicateResolution | None] = mapped_column(
        enum_column_type(DuplicateResolution, "duplicate_resolution")
    )
    resolved_by: Mapped[str | None] = mapped_column(String(64))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    case = relationship("Case", foreign_keys=[case_id])
    earlier_case = relationship("Case", foreign_keys=[earlier_case_id])
