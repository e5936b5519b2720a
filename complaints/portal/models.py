"""What the merchant stage adds to a case: offers, dispute evidence, messages, rating notes.

Case state itself stays in complaints.cases; these tables hold the details the workflow table
does not carry (how much was offered, which files back a dispute, who said what to whom).
"""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from complaints.cases.models import EvidenceKind
from complaints.database import UTCDateTime, enum_column_type, utcnow
from complaints.extensions import db
from workflows.states import Role


class OfferKind(StrEnum):
    OFFER = "offer"  # the tourist accepts or rejects it
    REFUND = "refund"  # the merchant granted the claim; nothing for the tourist to answer


class OfferStatus(StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    SUPERSEDED = "superseded"  # a newer offer, a refund or a dispute replaced it
    LAPSED = "lapsed"  # the case left the merchant stage unanswered (deadline, withdrawal)


class Offer(db.Model):
    """A merchant's settlement proposal, or a refund (stored as an offer already accepted)."""

    __tablename__ = "merchant_offers"
    __table_args__ = (
        CheckConstraint("amount_fen IS NULL OR amount_fen >= 0", name="amount_not_negative"),
        # At most one offer waits for the tourist: the one the tracking page shows.
        Index(
            "uq_merchant_offers_one_open",
            "case_id",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[OfferKind] = mapped_column(enum_column_type(OfferKind, "offer_kind"))
    amount_fen: Mapped[int | None] = mapped_column(BigInteger)
    terms: Mapped[str] = mapped_column(Text, default="")
    made_by: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    made_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[OfferStatus] = mapped_column(enum_column_type(OfferStatus, "offer_status"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    maker = relationship("Account")


class DisputeEvidence(db.Model):
    """A file a merchant stages for its dispute. Frozen (submitted_at set) when the dispute is
    submitted, once, and from then on shown to the regulator; until then only the merchant's
    staff see it and may remove it."""

    __tablename__ = "dispute_evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    kind: Mapped[EvidenceKind] = mapped_column(enum_column_type(EvidenceKind, "evidence_kind"))
    note: Mapped[str] = mapped_column(String(255), default="")
    stored_name: Mapped[str] = mapped_column(String(96), unique=True)
    content_type: Mapped[str] = mapped_column(String(32))
    size_bytes: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    original_name: Mapped[str] = mapped_column(String(255), default="")
    uploaded_by: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The merchant_dispute event it was submitted with: its reason lists these files' hashes.
    dispute_event_id: Mapped[int | None] = mapped_column(ForeignKey("case_events.id"))


class CaseMessage(db.Model):
    """One message in a case's thread; each audience sees only what its flag allows."""

    __tablename__ = "case_messages"
    __table_args__ = (Index("ix_case_messages_case_created", "case_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    author_role: Mapped[Role] = mapped_column(enum_column_type(Role, "message_author_role"))
    author_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    body: Mapped[str] = mapped_column(Text)
    visible_to_tourist: Mapped[bool] = mapped_column(default=True)
    visible_to_merchant: Mapped[bool] = mapped_column(default=True)
    visible_to_regulator: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author = relationship("Account")


class RatingComment(db.Model):
    """The words that go with a tracking-page rating. The score itself lives in
    notices' satisfaction_ratings (one per case, shared with the SMS answer)."""

    __tablename__ = "rating_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), unique=True)
    body: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
