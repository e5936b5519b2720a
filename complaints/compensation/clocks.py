"""The fund's own time limits (issue 12 item 13): deciding on a claim and paying it.

Hainan asks for acceptance within 24 hours and Sanya promises small claims paid within 30
minutes; both are policy (`compensation_decision`, `compensation_payout`). The tick reminds
the agency at half time and, once a limit is missed, records it on the claim (a hash-chained
`escalate` event) and reports it, once. Each claim is claimed with a compare-and-set and
committed on its own, like the case tick.
"""

import logging
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError

from complaints.cases.workflow import SYSTEM
from complaints.compensation.models import Claim
from complaints.compensation.services import ClaimConflict, fire
from complaints.events import CompensationNotice, publish
from complaints.extensions import db
from workflows.machine import TransitionRefused
from workflows.states import CompensationState

log = logging.getLogger(__name__)
WAITING = (CompensationState.REQUESTED, CompensationState.APPROVED)
STEP = {CompensationState.REQUESTED: "decision", CompensationState.APPROVED: "payout"}


def chase_claims(now: datetime, batch: int = 500) -> dict[str, int]:
    counts = {"claim_reminders": 0, "claims_late": 0}
    reminders = db.session.execute(
        select(Claim.id, Claim.step_reminder_at)
        .where(Claim.state.in_(WAITING), Claim.step_reminder_at <= now)
        .limit(batch)
    ).all()
    for claim_id, reminder_at in reminders:
        taken = db.session.execute(
            update(Claim)
            .where(Claim.id == claim_id, Claim.step_reminder_at == reminder_at)
            .values(step_reminder_at=None)
        ).rowcount
        if taken:
            claim = db.session.get(Claim, claim_id)
            step = STEP.get(claim.state, "decision")
            publish(
                CompensationNotice(
                    claim.case,
                    f"claim_reminder:{claim.id}:{reminder_at.isoformat()}",
                    {"due_at": claim.step_due_at, "step": step},
                )
            )
            counts["claim_reminders"] += 1
        db.session.commit()
    late = db.session.scalars(
        select(Claim.id)
        .where(
            Claim.state.in_(WAITING),
            Claim.step_due_at <= now,
            Claim.step_escalated_at.is_(None),
        )
        .order_by(Claim.step_due_at)
        .limit(batch)
    ).all()
    for claim_id in late:
        try:
            taken = db.session.execute(
                update(Claim)
                .where(Claim.id == claim_id, Claim.step_escalated_at.is_(None))
                .values(step_escalated_at=now)
            ).rowcount
            if taken:
                _escalate(db.session.get(Claim, claim_id), now)
                counts["claims_late"] += 1
            db.session.commit()
        except (ClaimConflict, TransitionRefused, SQLAlchemyError):
            db.session.rollback()
            log.exception("escalating late claim %s failed", claim_id)
    return counts


def _escalate(claim: Claim, now: datetime) -> None:
    step = STEP.get(claim.state, "decision")
    due = claim.step_due_at
    fire(claim, "escalate", SYSTEM, now=now, reason=f"{step} limit passed at {due.isoformat()}")
    publish(
        CompensationNotice(
            claim.case, f"claim_late:{claim.id}:{step}", {"due_at": due, "step": step}
        )
    )
