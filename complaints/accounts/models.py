from datetime import datetime
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from complaints.database import UTCDateTime, enum_column_type, utcnow
from complaints.extensions import db
from workflows.states import Role


class AccountRole(StrEnum):
    HANDLER = "handler"
    SUPERVISOR = "supervisor"
    FUND_MANAGER = "fund_manager"
    ADMIN = "admin"
    INSPECTOR = "inspector"  # field staff of an agency: code-based supervision on a phone
    MERCHANT_OWNER = "merchant_owner"
    MERCHANT_STAFF = "merchant_staff"

    @property
    def workflow_role(self) -> Role:
        if self in (AccountRole.MERCHANT_OWNER, AccountRole.MERCHANT_STAFF):
            return Role.MERCHANT
        return Role(self.value)

    @property
    def is_inspector(self) -> bool:
        return self is AccountRole.INSPECTOR

    @property
    def sees_analytics(self) -> bool:
        """Supervisors and admins read their agency's analytics; admins the province's too."""
        return self in (AccountRole.SUPERVISOR, AccountRole.ADMIN)

    @property
    def sees_province(self) -> bool:
        return self is AccountRole.ADMIN

    @property
    def is_regulator(self) -> bool:
        return self in (
            AccountRole.HANDLER,
            AccountRole.SUPERVISOR,
            AccountRole.FUND_MANAGER,
            AccountRole.ADMIN,
        )


class Account(UserMixin, db.Model):
    """Staff of a regulator (scoped to one agency) or of a merchant (scoped to one enterprise)."""

    __tablename__ = "accounts"
    __table_args__ = (
        CheckConstraint("(agency_id IS NULL) <> (enterprise_id IS NULL)", name="exactly_one_scope"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[AccountRole] = mapped_column(enum_column_type(AccountRole, "account_role"))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    language: Mapped[str] = mapped_column(String(8), default="zh")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Every session carries the generation it was opened in; sign-out, a new password or
    # disabling the account moves it on, which ends every session (copied cookies included).
    session_generation: Mapped[int] = mapped_column(default=0, server_default="0")

    agency = relationship("Agency")
    enterprise = relationship("Enterprise")

    @property
    def is_active(self) -> bool:
        return self.active


class LoginThrottle(db.Model):
    """Failed sign-ins per account and client address: progressive delays for that client
    only, so a stranger guessing from elsewhere never locks the owner out (issue 11.6)."""

    __tablename__ = "login_throttles"
    __table_args__ = (UniqueConstraint("account_id", "client"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    client: Mapped[str] = mapped_column(String(64))
    failures: Mapped[int] = mapped_column(default=0)
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
