"""Read side: what the scan page and the merchant portal show. A fixed number of queries each."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import case, func, inspect, select

from complaints.cases.models import Case, CaseEvent
from complaints.credit import engine
from complaints.credit.models import CreditEvent, MerchantScore, TrustedListChange
from complaints.credit.policy import current_credit_policy
from complaints.extensions import db
from complaints.merchants.models import Enterprise
from workflows.states import OPEN_STATES, CaseState, Role


def has_overdue_recovery(enterprise_id: int) -> bool:
    """Whether the merchant owes the compensation fund past the due date.

    The compensation tables are another feature's and may not be migrated yet: until they
    exist nobody can owe anything, so this answers False instead of failing.
    """
    try:
        from complaints.compensation.models import RecoveryOrder, RecoveryState
    except ImportError:
        return False
    if not table_exists(RecoveryOrder.__tablename__):
        return False
    found = db.session.scalar(
        select(RecoveryOrder.id)
        .where(
            RecoveryOrder.enterprise_id == enterprise_id,
            RecoveryOrder.state == RecoveryState.OVERDUE,
        )
        .limit(1)
    )
    return found is not None


def table_exists(name: str) -> bool:
    # Tables appear (migrations) but do not disappear at run time: remember only a yes.
    known = current_app.extensions.setdefault("anxin_credit_tables", set())
    if name in known:
        return True
    if inspect(db.session.connection()).has_table(name):
        known.add(name)
        return True
    return False


@dataclass(frozen=True)
class Standing:
    """What a tourist sees on scanning: grade, list marks, and the last 12 months' record."""

    graded: bool
    grade: str | None
    score: int | None
    trusted: bool
    serious_listed: bool
    complaints_12m: int
    settled_12m: int
    concluded_12m: int  # settled, or mediation ended without a settlement
    median_time_to_settle: timedelta | None
    # When time alone changes what is shown (a credit entry expires, the oldest complaint leaves
    # the 12-month window): a kept copy of the scan page is good until then.
    changes_at: datetime | None = None
    # From the complaint reaching the merchant to the merchant's first answer (12315-style).
    median_time_to_respond: timedelta | None = None

    @property
    def pledged(self) -> bool:
        # Trusted merchants are the ones whose complaints the fund pays first (Hainan scheme).
        return self.trusted

    @property
    def settled_share(self) -> float | None:
        return self.settled_12m / self.concluded_12m if self.concluded_12m else None

    def as_record(self) -> dict:
        return {
            "graded": self.graded,
            "grade": self.grade,
            "score": self.score,
            "trusted": self.trusted,
            "pledged": self.pledged,
            "serious_listed": self.serious_listed,
            "complaints_12m": self.complaints_12m,
            "settled_12m": self.settled_12m,
            "concluded_12m": self.concluded_12m,
            "settled_share": self.settled_share,
            "median_time_to_settle": self.median_time_to_settle,
            "median_time_to_respond": self.median_time_to_respond,
        }


def public_standing(enterprise_id: int, now: datetime) -> Standing:
    policy = current_credit_policy()
    row = db.session.get(MerchantScore, enterprise_id)
    # The pledge shown must be what the fund will do: compensation reads Enterprise.trusted,
    # which the credit service keeps in step with the list rule.
    enterprise = db.session.get(Enterprise, enterprise_id)
    trusted = bool(enterprise is not None and enterprise.trusted)
    grade = score = None
    serious = False
    expiry = None
    if row is not None:
        expiry = row.next_expiry_at
        grade, score = row.grade, row.score
        serious = row.serious_list_since is not None
        if row.next_expiry_at is not None and row.next_expiry_at <= now:
            # An entry expired since the last update and the tick has not run yet: show the
            # grade as of now without writing from a GET (the tick persists it, list included).
            state = engine.summarise(_event_rows(enterprise_id), now, policy)
            serious = state.serious_since is not None
            score, grade = state.score, policy.grade_for(state.score, serious)
            expiry = now + timedelta(minutes=1)  # until the tick has written the new row
    complaints, settled, concluded, median, oldest, respond = _last_year(enterprise_id, now)
    ages_out = oldest + timedelta(days=365) if oldest is not None else None
    return Standing(
        graded=row is not None,
        grade=grade,
        score=score,
        trusted=trusted,
        serious_listed=serious,
        complaints_12m=complaints,
        settled_12m=settled,
        concluded_12m=concluded,
        median_time_to_settle=median,
        changes_at=min((t for t in (expiry, ages_out) if t is not None and t > now), default=None),
        median_time_to_respond=respond,
    )


def _event_rows(enterprise_id: int):
    e = CreditEvent
    return db.session.execute(
        select(e.id, e.kind, e.points, e.occurred_at, e.expires_at, e.neutralises_id).where(
            e.enterprise_id == enterprise_id
        )
    ).all()


def _last_year(enterprise_id: int, now: datetime):
    """Complaints filed in the last 12 months and how they ended, in one grouped query.

    Settled: the case's latest outcome is a resolution (refund, accepted offer, mediation
    agreement) and it is not open again. Concluded: settled, or mediation terminated without
    one. Declined (not a consumer dispute with this merchant), withdrawn and open complaints
    have no outcome to count for or against the merchant.
    """
    resolved_at = func.max(case((CaseEvent.to_state == CaseState.RESOLVED, CaseEvent.created_at)))
    terminated_at = func.max(
        case((CaseEvent.to_state == CaseState.TERMINATED, CaseEvent.created_at))
    )
    routed_at = func.min(case((CaseEvent.trigger == "route_to_merchant", CaseEvent.created_at)))
    answered_at = func.min(case((CaseEvent.actor_role == Role.MERCHANT, CaseEvent.created_at)))
    rows = db.session.execute(
        select(
            Case.id, Case.state, Case.created_at, resolved_at, terminated_at, routed_at, answered_at
        )
        .outerjoin(
            CaseEvent,
            (CaseEvent.case_id == Case.id)
            & (
                CaseEvent.to_state.in_([CaseState.RESOLVED, CaseState.TERMINATED])
                | (CaseEvent.trigger == "route_to_merchant")
                | (CaseEvent.actor_role == Role.MERCHANT)
            ),
        )
        .where(Case.enterprise_id == enterprise_id, Case.created_at >= now - timedelta(days=365))
        .group_by(Case.id, Case.state, Case.created_at)
    ).all()
    durations: list[timedelta] = []
    responses: list[timedelta] = []
    concluded = 0
    for _, state, created_at, resolved, terminated, routed, answered in rows:
        routed, answered = _aware(routed), _aware(answered)
        if routed is not None and answered is not None and answered >= routed:
            responses.append(answered - routed)
        if state in OPEN_STATES:
            continue
        resolved, terminated = _aware(resolved), _aware(terminated)
        if resolved is not None and (terminated is None or resolved > terminated):
            durations.append(resolved - created_at)
            concluded += 1
        elif terminated is not None:
            concluded += 1
    median = statistics.median(durations) if durations else None
    oldest = min((_aware(row.created_at) for row in rows), default=None)
    respond = statistics.median(responses) if responses else None
    return len(rows), len(durations), concluded, median, oldest, respond


def _aware(value):
    """MAX(CASE ...) loses the column type on SQLite and comes back as text or naive."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class ScoreHistory:
    breakdown: engine.ScoreBreakdown
    steps: list[tuple[datetime, int]]
    list_changes: list  # TrustedListChange rows, newest first
    case_numbers: dict[int, str]


def score_history(enterprise_id: int, now: datetime) -> ScoreHistory:
    """Everything the portal shows about a score: the chart's steps and every line behind it."""
    policy = current_credit_policy()
    events = db.session.scalars(
        select(CreditEvent).where(CreditEvent.enterprise_id == enterprise_id)
    ).all()
    case_ids = {e.case_id for e in events if e.case_id is not None}
    numbers = (
        dict(db.session.execute(select(Case.id, Case.number).where(Case.id.in_(case_ids))).all())
        if case_ids
        else {}
    )
    changes = db.session.scalars(
        select(TrustedListChange)
        .where(TrustedListChange.enterprise_id == enterprise_id)
        .order_by(TrustedListChange.changed_at.desc(), TrustedListChange.id.desc())
    ).all()
    return ScoreHistory(
        breakdown=engine.score_at(events, now, policy),
        steps=engine.history(events, now, policy),
        list_changes=list(changes),
        case_numbers=numbers,
    )
