"""Recording the change feed (subscribers) and reading the lists. Flush only."""

from datetime import datetime

from sqlalchemy import select

from complaints import events
from complaints.credit.models import MerchantScore
from complaints.credit_exchange.models import ChangeKind, CreditChange
from complaints.extensions import db
from complaints.merchants.models import Enterprise


def record_grade_change(event: events.GradeChanged) -> CreditChange:
    change = CreditChange(
        enterprise_id=event.enterprise_id,
        kind=ChangeKind.GRADE,
        old_grade=event.old_grade,
        new_grade=event.new_grade,
        score=event.score,
        changed_at=event.now,
    )
    db.session.add(change)
    db.session.flush()
    return change


def record_serious_list_change(event: events.SeriousListChanged) -> CreditChange:
    row = db.session.get(MerchantScore, event.enterprise_id)
    change = CreditChange(
        enterprise_id=event.enterprise_id,
        kind=ChangeKind.SERIOUS_ENTERED if event.entered else ChangeKind.SERIOUS_LEFT,
        new_grade=row.grade if row else None,
        score=row.score if row else None,
        changed_at=event.now,
    )
    db.session.add(change)
    db.session.flush()
    return change


def trusted_list(after_id: int | None = None, limit: int | None = None):
    """(enterprise, score row or None) on the trusted-merchant list, by enterprise id."""
    stmt = (
        select(Enterprise, MerchantScore)
        .outerjoin(MerchantScore, MerchantScore.enterprise_id == Enterprise.id)
        .where(Enterprise.trusted.is_(True))
        .order_by(Enterprise.id)
    )
    return _page(stmt, after_id, limit)


def serious_list(after_id: int | None = None, limit: int | None = None):
    stmt = (
        select(Enterprise, MerchantScore)
        .join(MerchantScore, MerchantScore.enterprise_id == Enterprise.id)
        .where(MerchantScore.serious_list_since.is_not(None))
        .order_by(Enterprise.id)
    )
    return _page(stmt, after_id, limit)


def _page(stmt, after_id, limit):
    if after_id is not None:
        stmt = stmt.where(Enterprise.id > after_id)
    if limit is not None:
        stmt = stmt.limit(limit)
    return [tuple(row) for row in db.session.execute(stmt).all()]


def list_entry(enterprise: Enterprise, score: MerchantScore | None, serious: bool) -> dict:
    return {
        "uscc": enterprise.uscc,
        "name_zh": enterprise.name_zh,
        "name_en": enterprise.name_en,
        "division_code": enterprise.division_code,
        "grade": score.grade if score else None,
        "score": score.score if score else None,
        "since": score.serious_list_since if (serious and score) else None,
    }


def changes(after_id: int | None = None, limit: int = 100, since: datetime | None = None):
    stmt = select(CreditChange).order_by(CreditChange.id).limit(limit)
    if after_id is not None:
        stmt = stmt.where(CreditChange.id > after_id)
    if since is not None:
        stmt = stmt.where(CreditChange.changed_at >= since)
    return list(db.session.scalars(stmt))


def change_entry(change: CreditChange) -> dict:
    return {
        "id": change.id,
        "uscc": change.enterprise.uscc,
        "kind": str(change.kind),
        "old_grade": change.old_grade,
        "new_grade": change.new_grade,
        "score": change.score,
        "changed_at": change.changed_at,
    }
