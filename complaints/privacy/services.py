"""Retention: a tourist's personal data leaves the case once it is no longer needed.

What is personal here: the tourist's name and phone number on the case, the photos they sent,
their messages and rating words, the texts and codes sent to their number. Purging removes
those and keeps the case record (number, merchant, facts, decisions, hash-chained events,
ledger), which is the administrative archive and what credit entries point to.

Default periods (RETENTION_POLICY, README): 3 years after handling ended, because a new
complaint about the same harm is not accepted after 3 years (SAMR Order 20 Art. 15(4),
RULES.md) and credit entries count at most 3 years (NDRC measures), so no later decision needs
the tourist's identity; 90 days for a complaint whose phone number was never confirmed, which
nobody handles (Order 121: real identity); a day for photos staged by a form never sent.
A case with a compensation claim still open is never purged: the fund needs the payee.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import and_, delete, exists, or_, select, update

from complaints.cases.models import Case, Evidence
from complaints.compensation.models import Claim
from complaints.extensions import db
from complaints.notices.models import Audience, Notification
from complaints.portal.models import CaseMessage, RatingComment
from complaints.verification.models import PhoneVerification
from workflows.states import COMPENSATION_FINAL_STATES, FINAL_STATES, CaseState, Role

log = logging.getLogger(__name__)

PURGED = "[removed]"
BATCH = 200
DEFAULT_RETENTION = {"ended_case_days": 3 * 365, "unverified_case_days": 90, "staged_hours": 24}


@dataclass(frozen=True)
class RetentionPolicy:
    ended_case_days: int
    unverified_case_days: int
    staged_hours: int

    @classmethod
    def from_mapping(cls, mapping: dict) -> "RetentionPolicy":
        unknown = set(mapping) - set(DEFAULT_RETENTION)
        if unknown:
            raise ValueError(f"unknown keys {sorted(unknown)}; known: {sorted(DEFAULT_RETENTION)}")
        values = {**DEFAULT_RETENTION, **mapping}
        if not all(isinstance(v, int) and v > 0 for v in values.values()):
            raise ValueError("every retention period is a whole number above zero")
        return cls(**values)


def current_policy() -> RetentionPolicy:
    return RetentionPolicy.from_mapping(current_app.config.get("RETENTION_POLICY") or {})


@dataclass
class PurgeReport:
    ended: int = 0
    unverified: int = 0
    files: int = 0
    staged: int = 0

    def summary(self) -> str:
        return (
            f"purged personal data of {self.ended + self.unverified} cases "
            f"({self.ended} ended, {self.unverified} never confirmed), "
            f"removed {self.files} files and {self.staged} unsent uploads"
        )


def _claim_open(case_id_column):
    return exists().where(
        Claim.case_id == case_id_column, Claim.state.not_in(list(COMPENSATION_FINAL_STATES))
    )


def purge_due(now: datetime, policy: RetentionPolicy | None = None) -> PurgeReport:
    """Everything past its period, in batches; each case commits on its own."""
    policy = policy or current_policy()
    report = PurgeReport()
    ended_before = now - timedelta(days=policy.ended_case_days)
    unverified_before = now - timedelta(days=policy.unverified_case_days)
    due = db.session.execute(
        select(Case.id, Case.state)
        .where(
            Case.personal_data_purged_at.is_(None),
            or_(
                and_(Case.state.in_(list(FINAL_STATES)), Case.state_entered_at < ended_before),
                and_(
                    Case.state == CaseState.SUBMITTED,
                    Case.phone_verified_at.is_(None),
                    Case.created_at < unverified_before,
                ),
            ),
            ~_claim_open(Case.id),
        )
        .order_by(Case.id)
        .limit(BATCH)
    ).all()
    for case_id, state in due:
        report.files += purge_case(db.session.get(Case, case_id), now)
        db.session.commit()
        if state is CaseState.SUBMITTED:
            report.unverified += 1
        else:
            report.ended += 1
    report.staged = _purge_staged_uploads(now - timedelta(hours=policy.staged_hours))
    db.session.commit()
    return report


def purge_case(case: Case, now: datetime) -> int:
    """Remove the tourist's personal data from one case; returns files deleted. Flushes."""
    claimed = db.session.execute(
        update(Case)
        .where(Case.id == case.id, Case.personal_data_purged_at.is_(None))
        .values(tourist_name=PURGED, tourist_phone="", personal_data_purged_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        return 0
    files = _delete_files(db.session.scalars(select(Evidence).where(Evidence.case_id == case.id)))
    db.session.execute(delete(Evidence).where(Evidence.case_id == case.id))
    db.session.execute(
        update(CaseMessage)
        .where(CaseMessage.case_id == case.id, CaseMessage.author_role == Role.TOURIST)
        .values(body=PURGED)
    )
    db.session.execute(
        update(RatingComment).where(RatingComment.case_id == case.id).values(body=PURGED)
    )
    db.session.execute(
        update(Notification)
        .where(Notification.case_id == case.id, Notification.audience == Audience.TOURIST)
        .values(recipient=PURGED, body=PURGED, secret_fragment=None)
    )
    db.session.execute(delete(PhoneVerification).where(PhoneVerification.case_id == case.id))
    db.session.refresh(case)
    log.info("personal data of case %s purged", case.number)  # the number, never the person
    return files


def _purge_staged_uploads(before: datetime) -> int:
    staged = list(
        db.session.scalars(
            select(Evidence).where(Evidence.case_id.is_(None), Evidence.created_at < before)
        )
    )
    _delete_files(staged)
    for item in staged:
        db.session.delete(item)
    return len(staged)


def _delete_files(items) -> int:
    upload_dir = Path(current_app.config["UPLOAD_DIR"])
    deleted = 0
    for item in items:
        path = upload_dir / item.stored_name
        if path.exists():
            path.unlink()
            deleted += 1
    return deleted


class ErasureRefused(ValueError):
    """The law needs the data a while longer; the message says why."""


def may_erase(case: Case) -> str | None:
    """None when the tourist may have their data erased now, else the reason (translated at
    the view). While a case is handled the regulator needs the complainant's real identity
    (SAMR Order 121), and the fund needs its payee until a claim is settled."""
    if case.state not in FINAL_STATES:
        return "open"
    if db.session.scalar(select(_claim_open(case.id))):
        return "claim"
    return None


def erase_on_request(case: Case, now: datetime) -> int:
    if may_erase(case) is not None:
        raise ErasureRefused(may_erase(case))
    return purge_case(case, now)


def personal_data_of(case: Case) -> dict:
    """What we hold about the tourist on this case, for the "see my data" request."""
    messages = db.session.scalars(
        select(CaseMessage)
        .where(CaseMessage.case_id == case.id, CaseMessage.author_role == Role.TOURIST)
        .order_by(CaseMessage.id)
    )
    texts = db.session.scalars(
        select(Notification)
        .where(Notification.case_id == case.id, Notification.audience == Audience.TOURIST)
        .order_by(Notification.id)
    )
    return {
        "case": case.number,
        "name": case.tourist_name,
        "phone": case.tourist_phone,
        "phone_confirmed_at": case.phone_verified_at.isoformat()
        if case.phone_verified_at
        else None,
        "language": case.language,
        "contact_consent": case.contact_consent,
        "description": case.description,
        "occurred_on": case.occurred_on.isoformat(),
        "filed_at": case.created_at.isoformat(),
        "photos": [
            {"name": item.original_name, "bytes": item.size_bytes, "sha256": item.sha256}
            for item in case.evidence
        ],
        "messages": [{"at": m.created_at.isoformat(), "text": m.body} for m in messages],
        "texts_and_emails": [
            {"at": n.created_at.isoformat(), "channel": n.channel, "status": n.status.value}
            for n in texts
        ],
        "retention": current_policy().__dict__,
        "personal_data_purged_at": (
            case.personal_data_purged_at.isoformat() if case.personal_data_purged_at else None
        ),
    }
