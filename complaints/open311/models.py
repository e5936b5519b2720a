from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from complaints.database import UTCDateTime, utcnow
from complaints.extensions import db


class Open311Request(db.Model):
    """A case filed through Open311: which key filed it, and the token it was answered with."""

    __tablename__ = "open311_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), unique=True)
    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id"), index=True)
    token: Mapped[str] = mapped_column(String(48), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
