from datetime import datetime

from sqlalchemy import CheckConstraint, Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from complaints.categories import Category
from complaints.database import UTCDateTime, enum_column_type, trigram_index, utcnow
from complaints.extensions import db


class Enterprise(db.Model):
    """A merchant, keyed by its Unified Social Credit Code (GB 32100-2015)."""

    __tablename__ = "enterprises"
    __table_args__ = (
        # The console's merchant-name filter is a substring search (pg_trgm GIN on PostgreSQL).
        trigram_index("ix_enterprises_name_zh_trgm", "name_zh"),
        trigram_index("ix_enterprises_name_en_trgm", "name_en"),
        # The admin list pages by name within a division (keyset on name, id).
        Index("ix_enterprises_division_name", "division_code", "name_zh", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uscc: Mapped[str] = mapped_column(String(18), unique=True)
    name_zh: Mapped[str] = mapped_column(String(128), index=True)
    name_en: Mapped[str] = mapped_column(String(160), default="")
    division_code: Mapped[str] = mapped_column(ForeignKey("divisions.code"))
    # Early pilot codes fail the check character; a regulator may accept one, on the record.
    uscc_override_reason: Mapped[str | None] = mapped_column(Text)
    uscc_override_by: Mapped[str | None] = mapped_column(String(128))
    # Merchants that joined online dispute resolution answer first (12315 ODR model).
    answers_first: Mapped[bool] = mapped_column(default=True)
    trusted: Mapped[bool] = mapped_column(default=True, server_default="1")  # trusted-merchant list
    # Where new cases and deadline reminders go until staff log in to the portal.
    contact_phone: Mapped[str | None] = mapped_column(String(20))
    contact_email: Mapped[str | None] = mapped_column(String(255))
    notify_language: Mapped[str] = mapped_column(String(8), default="zh")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    outlets: Mapped[list["Outlet"]] = relationship(back_populates="enterprise")

    def name(self, locale: str) -> str:
        return self.name_zh if locale == "zh" or not self.name_en else self.name_en


class Outlet(db.Model):
    """A place a tourist meets the merchant: a shop, a hotel desk, a taxi, a tour counter."""

    __tablename__ = "outlets"
    __table_args__ = (
        CheckConstraint("qr_key_version >= 1", name="qr_key_version_positive"),
        # Imports match an outlet by its enterprise and Chinese name; admin lists page by name.
        Index("ix_outlets_enterprise_name", "enterprise_id", "name_zh"),
        Index("ix_outlets_division_name", "division_code", "name_zh", "id"),
        Index("ix_outlets_name", "name_zh", "id"),  # the admin list's keyset order
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    name_zh: Mapped[str] = mapped_column(String(128))
    name_en: Mapped[str] = mapped_column(String(160), default="")
    category: Mapped[Category] = mapped_column(enum_column_type(Category, "category"))
    division_code: Mapped[str] = mapped_column(ForeignKey("divisions.code"), index=True)
    address: Mapped[str] = mapped_column(String(255), default="")
    # WGS-84 decimal degrees, when the import gives them (a map pin for inspectors).
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    # Printed codes never expire; rotating bumps the version and every older print is refused.
    qr_key_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    enterprise: Mapped[Enterprise] = relationship(back_populates="outlets")
    division = relationship("Division")

    def name(self, locale: str) -> str:
        return self.name_zh if locale == "zh" or not self.name_en else self.name_en


class OutletCodeRotation(db.Model):
    """Append-only record of each QR code rotation, for the regulator's audit."""

    __tablename__ = "outlet_code_rotations"

    id: Mapped[int] = mapped_column(primary_key=True)
    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id"), index=True)
    old_version: Mapped[int]
    new_version: Mapped[int]
    actor: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
