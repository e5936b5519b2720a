from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from complaints.audit_chain import HashChained
from complaints.categories import Category
from complaints.database import UTCDateTime, enum_column_type, trigram_index, utcnow
from complaints.extensions import db
from workflows.states import CaseState, Role


class Remedy(StrEnum):
    REFUND = "refund"
    PARTIAL_REFUND = "partial_refund"
    REPLACEMENT = "replacement"
    COMPENSATION = "compensation"
    APOLOGY = "apology"
    OTHER = "other"


class CaseSource(StrEnum):
    QR = "qr"
    SEARCH = "search"
    API = "api"
    INSPECTION = "inspection"  # opened by an inspector on site (code-based supervision)


class Case(db.Model):
    __tablename__ = "cases"
    __table_args__ = (
        CheckConstraint("amount_paid_fen >= 0", name="amount_paid_not_negative"),
        CheckConstraint("amount_claimed_fen >= 0", name="amount_claimed_not_negative"),
        # The console queue: an agency's cases by state, in id order for its keyset cursor.
        Index("ix_cases_agency_state_id", "agency_id", "state", "id"),
        # The retention sweep: only cases whose personal data is still there.
        Index(
            "ix_cases_retention_due",
            "state",
            "state_entered_at",
            postgresql_where=text("personal_data_purged_at IS NULL"),
            sqlite_where=text("personal_data_purged_at IS NULL"),
        ),
        # Substring search (console `q`) and similar-text duplicate candidates: pg_trgm GIN
        # on PostgreSQL (a plain index on SQLite, which ignores the options).
        trigram_index("ix_cases_description_trgm", "description"),
        trigram_index("ix_cases_number_trgm", "number"),
        # Duplicate candidates: a place's most recent cases of a category, newest first. Every
        # equality of that query is a key column, so PostgreSQL walks it backwards and stops
        # after RECENT_AT_PLACE rows even when its statistics still call the place quiet (a
        # rush at one stall); with fewer key columns it read all of the place's cases of the
        # last 3 days and sorted them. Also serves every lookup by outlet (its first column).
        Index("ix_cases_place_created", "outlet_id", "enterprise_id", "category", "created_at"),
        # The queue sorted by amount claimed (largest first) walks this backwards.
        Index("ix_cases_agency_amount", "agency_id", "amount_claimed_fen"),
        # The queue's tab counts and handlers' loads: index-only over an agency's open cases.
        Index("ix_cases_agency_state_handler", "agency_id", "state", "handler_id", "escalated"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    state: Mapped[CaseState] = mapped_column(enum_column_type(CaseState, "case_state"))
    state_entered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    source: Mapped[CaseSource] = mapped_column(enum_column_type(CaseSource, "case_source"))

    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    outlet_id: Mapped[int | None] = mapped_column(ForeignKey("outlets.id"))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    handler_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    division_code: Mapped[str] = mapped_column(ForeignKey("divisions.code"))

    category: Mapped[Category] = mapped_column(enum_column_type(Category, "category"))
    description: Mapped[str] = mapped_column(Text)
    occurred_on: Mapped[date]
    # When the complainant knew or should have known of the harm, if later than it happened:
    # the time bar counts from here (SAMR Order 20 Art. 15(4)).
    harm_known_on: Mapped[date | None]
    # A package tour's contract end (Order 32's 90-day filing bar counts from it).
    contract_ended_on: Mapped[date | None]
    # 12315 ODR is the consumer's choice: let the merchant answer first, or go to the regulator.
    merchant_first: Mapped[bool] = mapped_column(default=True, server_default=true())
    amount_paid_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    amount_claimed_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    remedy: Mapped[Remedy] = mapped_column(enum_column_type(Remedy, "remedy"))

    # Personal data: shown in full only to the tourist and the handling regulator.
    tourist_name: Mapped[str] = mapped_column(String(128))
    tourist_phone: Mapped[str] = mapped_column(String(20), index=True)
    # Optional: where texts go by e-mail when SMS cannot reach a foreign number.
    tourist_email: Mapped[str | None] = mapped_column(String(254))
    # Art. 9 asks for the complainant's address; optional for a tourist far from home.
    tourist_address: Mapped[str] = mapped_column(String(255), default="", server_default="")
    language: Mapped[str] = mapped_column(String(8))
    contact_consent: Mapped[bool] = mapped_column(default=False)
    # Set when the tourist typed the SMS code (SAMR Order 121: a real-name complaint).
    phone_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # Only hashes: a database leak must not open anyone's tracking page or replay a submission.
    tracking_key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    submission_key_hash: Mapped[str] = mapped_column(String(64), unique=True)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # Retention (complaints.privacy): the tourist's name, number, photos and messages removed.
    personal_data_purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # Workflow facts that live between transitions (see workflows.machine.CaseFacts).
    offer_pending: Mapped[bool] = mapped_column(default=False, server_default=false())
    appraisal_paused: Mapped[bool] = mapped_column(default=False, server_default=false())
    escalated: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Optimistic lock: two people acting on one case at once cannot both win (compare-and-set).
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 — SQLAlchemy's own protocol

    enterprise = relationship("Enterprise")
    outlet = relationship("Outlet")
    agency = relationship("Agency")
    handler = relationship("Account")
    division = relationship("Division")
    events: Mapped[list["CaseEvent"]] = relationship(
        back_populates="case", order_by="CaseEvent.seq", viewonly=True
    )
    evidence: Mapped[list["Evidence"]] = relationship(
        back_populates="case", order_by="Evidence.id", viewonly=True
    )


class CaseEvent(HashChained, db.Model):
    """Append-only audit row per transition, hash-chained within its case."""

    __tablename__ = "case_events"
    __table_args__ = (
        UniqueConstraint("case_id", "seq", name="uq_case_events_case_seq"),
        # Analytics rollups read one day's events at a time.
        Index("ix_case_events_created_at", "created_at"),
    )
    __chain_owner__ = "case_id"
    __chain_extra__ = ("ground",)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    trigger: Mapped[str] = mapped_column(String(48))
    from_state: Mapped[CaseState | None] = mapped_column(enum_column_type(CaseState, "from_state"))
    to_state: Mapped[CaseState] = mapped_column(enum_column_type(CaseState, "to_state"))
    actor_role: Mapped[Role] = mapped_column(enum_column_type(Role, "actor_role"))
    actor_id: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text, default="")
    ground: Mapped[str | None] = mapped_column(String(48))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    case: Mapped[Case] = relationship(back_populates="events")


class EvidenceKind(StrEnum):
    PHOTO = "photo"
    RECEIPT = "receipt"
    CONTRACT = "contract"
    COMMUNICATION = "communication"
    OTHER = "other"


class Evidence(db.Model):
    """An uploaded file. Staged under its submission key until the case exists, so a form
    re-rendered for an error keeps the photos already sent."""

    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    submission_key_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    kind: Mapped[EvidenceKind] = mapped_column(enum_column_type(EvidenceKind, "evidence_kind"))
    stored_name: Mapped[str] = mapped_column(String(96), unique=True)
    content_type: Mapped[str] = mapped_column(String(32))
    size_bytes: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    original_name: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # What the tourist says the file shows (files added from the tracking page).
    note: Mapped[str] = mapped_column(String(255), default="", server_default="")
    # The "evidence_added" case event whose reason lists this file's hash; None for files
    # sent with the complaint itself (the "submit" event covers those by the case's own row).
    event_id: Mapped[int | None] = mapped_column(ForeignKey("case_events.id"))

    case: Mapped[Case | None] = relationship(back_populates="evidence")

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


class TrackingKey(db.Model):
    """A further tracking link for a case, issued by "find my complaint" after an SMS code.
    The first link is derived from the submission key (Case.tracking_key_hash); these add to
    it, so an old link keeps working. Only hashes are kept, as for the first link."""

    __tablename__ = "case_tracking_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CaseNumberSequence(db.Model):
    """Per city and day counter behind case numbers such as HN-460200-20261125-000123."""

    __tablename__ = "case_number_sequences"

    prefix: Mapped[str] = mapped_column(String(24), primary_key=True)
    last_value: Mapped[int]
