from datetime import datetime

from sqlalchemy import JSON, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from complaints.database import UTCDateTime, utcnow
from complaints.extensions import db


class PolicyVersion(db.Model):
    """The policy values in force from ``effective_from``: overrides of the installation's
    environment values (WORKFLOW_POLICY / CREDIT_POLICY), which stay the default. Append-only:
    a change is a new version, so the values any past deadline was computed with are kept."""

    __tablename__ = "policy_versions"
    __table_args__ = (Index("ix_policy_versions_kind_from", "kind", "effective_from"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # "workflow" or "credit"
    values: Mapped[dict] = mapped_column(JSON)
    effective_from: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(255))
    reason: Mapped[str] = mapped_column(Text)
