from datetime import date, datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from complaints.database import UTCDateTime, enum_column_type, utcnow
from complaints.extensions import db
from workflows.states import CaseState, DeadlineKind


class CaseDeadline(db.Model):
    """A running time limit. Deadlines live here, never only in Redis, so a tick on any
    machine finds what is due with an index instead of scanning cases."""

    __tablename__ = "case_deadlines"
    __table_args__ = (
        Index("ix_case_deadlines_due", "closed_at", "due_at"),
        Index("ix_case_deadlines_reminder", "closed_at", "next_reminder_at"),
        # The console queue walks each state's running deadlines in due order (keyset).
        Index(
            "ix_case_deadlines_running",
            "state",
            "due_at",
            "case_id",
            postgresql_where=text("closed_at IS NULL"),
            sqlite_where=text("closed_at IS NULL"),
        ),
        # "Has this case a running deadline?" for the queue's ended-cases segment: without it
        # PostgreSQL read the whole case_id index from the start (bench: 253 ms -> 3 ms).
        Index(
            "ix_case_deadlines_running_case",
            "case_id",
            postgresql_where=text("closed_at IS NULL"),
            sqlite_where=text("closed_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[DeadlineKind] = mapped_column(enum_column_type(DeadlineKind, "deadline_kind"))
    state: Mapped[CaseState] = mapped_column(enum_column_type(CaseState, "deadline_state"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Computed over a year with no official calendar yet: shown with a warning everywhere.
    provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    next_reminder_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminders_sent: Mapped[int] = mapped_column(default=0)
    fired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set while the case's clock stands still (SAMR Art. 20 appraisal): nothing fires, and
    # on resume the deadline moves on by the pause.
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CalendarOverride(db.Model):
    """An admin's correction to the PRC working-day calendar (e.g. next year's 调休 notice)."""

    __tablename__ = "calendar_overrides"

    day: Mapped[date] = mapped_column(primary_key=True)
    is_working_day: Mapped[bool]
    note: Mapped[str] = mapped_column(Text, default="")
    set_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CalendarYear(db.Model):
    """A year an admin declared complete: its overrides match the State Council notice."""

    __tablename__ = "calendar_years"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    note: Mapped[str] = mapped_column(Text, default="")
    set_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
