from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from complaints.database import UTCDateTime, utcnow
from complaints.extensions import db


class AdminChange(db.Model):
    """One administrative change: who, when, what it was before and after, and why.

    Append-only. ``before`` is null for a creation; ``after`` holds only the fields that
    changed (with ``before`` holding their old values), so a 250k-row import stays small.
    """

    __tablename__ = "admin_changes"
    __table_args__ = (Index("ix_admin_changes_subject", "subject_type", "subject_key", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(255))  # an email, or "cli:<user>" for scripts
    actor_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    subject_type: Mapped[str] = mapped_column(String(32))  # enterprise, outlet, agency, ...
    subject_key: Mapped[str] = mapped_column(String(64))  # USCC, outlet code, slug, ...
    action: Mapped[str] = mapped_column(String(32))  # create, update, import, disable, ...
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(Text, default="")
