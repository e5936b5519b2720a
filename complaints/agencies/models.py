from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from complaints.extensions import db


class Agency(db.Model):
    """A regulator that receives cases: a county-level market regulation bureau (SAMR Art. 12)."""

    __tablename__ = "agencies"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(48), unique=True)
    name_zh: Mapped[str] = mapped_column(String(128))
    name_en: Mapped[str] = mapped_column(String(160))
    division_code: Mapped[str] = mapped_column(ForeignKey("divisions.code"), index=True)
    # The duty inbox: new cases in the queue and escalations are announced here.
    notify_email: Mapped[str | None] = mapped_column(String(255))

    def name(self, locale: str) -> str:
        return self.name_zh if locale == "zh" else self.name_en
