from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from complaints.database import UTCDateTime, enum_column_type
from complaints.extensions import db


class ChangeKind(StrEnum):
    GRADE = "grade_changed"
    SERIOUS_ENTERED = "serious_list_entered"
    SERIOUS_LEFT = "serious_list_left"


class CreditChange(db.Model):
    """Append-only feed of grade and serious-list changes, written by subscription."""

    __tablename__ = "credit_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    kind: Mapped[ChangeKind] = mapped_column(enum_column_type(ChangeKind, "credit_change_kind"))
    old_grade: Mapped[str | None] = mapped_column(String(1))
    new_grade: Mapped[str | None] = mapped_column(String(1))
    score: Mapped[int | None]
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    enterprise = relationship("Enterprise")
