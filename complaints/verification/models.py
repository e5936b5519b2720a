from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from complaints.database import UTCDateTime, utcnow
from complaints.extensions import db


class PhoneVerification(db.Model):
    """One code sent to one number for one case. Each "send a new code" is a new row, so the
    rows are also the per-number send history the rate limit counts."""

    __tablename__ = "phone_verifications"
    __table_args__ = (Index("ix_phone_verifications_phone_sent", "phone", "sent_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    phone: Mapped[str] = mapped_column(String(20))
    # HMAC of the code under the app secret; empty when Twilio Verify holds the code.
    code_hash: Mapped[str | None] = mapped_column(String(64))
    provider: Mapped[str] = mapped_column(String(16))  # "own" or "twilio_verify"
    attempts: Mapped[int] = mapped_column(default=0)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # "confirm": the real-name check after filing; "recover": "find my complaint".
    purpose: Mapped[str] = mapped_column(String(16), default="confirm", server_default="confirm")
