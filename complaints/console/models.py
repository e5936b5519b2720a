"""What a regulator keeps in the console: named filters of the queue."""

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from complaints.database import UTCDateTime, utcnow
from complaints.extensions import db


class SavedFilter(db.Model):
    """A queue view a regulator returns to: its query string under a name of their choosing."""

    __tablename__ = "saved_filters"
    __table_args__ = (UniqueConstraint("account_id", "name", name="uq_saved_filters_account_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    name: Mapped[str] = mapped_column(String(80))
    query: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
