from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from complaints.accounts.models import AccountRole
from complaints.database import UTCDateTime, enum_column_type, utcnow
from complaints.extensions import db


class Scope(StrEnum):
    CASES_READ = "cases:read"
    CASES_WRITE = "cases:write"
    OPEN311 = "open311"
    CREDIT_READ = "credit:read"
    COMPENSATION_WRITE = "compensation:write"
    WEBHOOKS = "webhooks"


class ApiKey(db.Model):
    """A key for an agency, a merchant or a partner platform. Only a hash of the secret is
    kept; the prefix is shown in lists so people can tell their keys apart."""

    __tablename__ = "api_keys"
    __table_args__ = (
        CheckConstraint(
            "(CASE WHEN agency_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN enterprise_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN partner IS NULL THEN 0 ELSE 1 END) = 1",
            name="exactly_one_owner",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The staff role the key acts as (the same role rules as the pages); None for partners.
    role: Mapped[AccountRole | None] = mapped_column(enum_column_type(AccountRole, "api_key_role"))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"), index=True)
    partner: Mapped[str | None] = mapped_column(String(128))
    # Merchant keys act for the owner who made them: offers and answers need a person on
    # record, exactly as when the owner clicks in the portal.
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    # A partner that checks the caller's phone itself (a hotline that called back) may file
    # complaints that count as real-name; others leave the tourist to confirm by SMS code.
    vouches_for_phone: Mapped[bool] = mapped_column(default=False)
    scopes: Mapped[str] = mapped_column(Text)  # space separated Scope values
    rate_limit_per_minute: Mapped[int] = mapped_column(Integer, default=600)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    agency = relationship("Agency")
    enterprise = relationship("Enterprise")
    account = relationship("Account")

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(self.scopes.split())

    def usable(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class IdempotentResponse(db.Model):
    """The first response to a POST with an Idempotency-Key, replayed for a retry."""

    __tablename__ = "api_idempotent_responses"
    __table_args__ = (UniqueConstraint("api_key_id", "key", name="uq_api_idempotent_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id"))
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int]
    content_type: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
