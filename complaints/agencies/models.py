from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from complaints.categories import Category
from complaints.database import enum_column_type
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


class RoutingRule(db.Model):
    """Send cases of a division (and everything under it) and/or a category to an agency.

    Empty division or category means "any". The most specific matching rule wins; without
    one, the case goes to the regulator of the outlet's city or county (SAMR Art. 12).
    """

    __tablename__ = "routing_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    division_code: Mapped[str | None] = mapped_column(ForeignKey("divisions.code"), index=True)
    category: Mapped[Category | None] = mapped_column(
        enum_column_type(Category, "routing_category")
    )
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    note: Mapped[str] = mapped_column(Text, default="")

    agency = relationship("Agency")
