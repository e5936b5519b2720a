from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from complaints.extensions import db


class Division(db.Model):
    """An administrative division (GB/T 2260): province, prefecture-level city, district or county."""

    __tablename__ = "divisions"

    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(96))
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("divisions.code"), index=True)

    def name(self, locale: str) -> str:
        return self.name_zh if locale == "zh" else self.name_en

    @property
    def city_code(self) -> str:
        """The city or province-administered county a case number and fund belong to."""
        if self.code.startswith("469") or self.code.endswith("00"):
            return self.code
        return self.code[:4] + "00"
