"""Rebuilding scores from events: the full recompute, the expiry refresh, complaint-free periods.

`recompute_all` walks merchants in id order, batch by batch, with one query for the batch's
events and one for its score rows (no query per merchant), so 250,000 merchants take minutes;
only rows that differ are written, in bulk.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from complaints.cases.models import Case
from complaints.credit import engine
from complaints.credit.engine import CreditEventKind, CreditPolicy, ScoreState
from complaints.credit.models import CreditEvent, MerchantScore, TrustedListChange
from complaints.credit.policy import current_credit_policy
from complaints.credit.queries import table_exists
from complaints.credit.services import (
    list_reason,
    record_credit_event,
    refresh_merchant,
)
from complaints.extensions import db
from complaints.merchants.models import Enterprise

log = logging.getLogger(__name__)
TICK = timedelta(microseconds=1)  # the finest step both databases store


@dataclass(frozen=True)
class Difference:
    enterprise_id: int
    stored: ScoreState | None
    expected: ScoreState
    problem: str


@dataclass
class RecomputeReport:
    checked: int = 0  # merchants with events or a score row
    differences: list[Difference] = field(default_factory=list)
    refreshed: int = 0  # stale rows (an entry expired, the tick not yet run), brought up to date
    written: int = 0
    list_changes: int = 0
    flags_synced: int = 0  # Enterprise.trusted set to what the list rule says


def recompute_all(now: datetime, *, batch: int = 5000, fix: bool = True) -> RecomputeReport:
    """Rebuild every score from its events and report any row that disagrees (there must be none).

    A row is checked at the moment it describes: now if it is fresh; just before its
    `next_expiry_at` if an entry has expired since (that row was right until then, and the tick
    would refresh it). Flushes only; the caller commits.
    """
    policy = current_credit_policy()
    report = RecomputeReport()
    last = 0
    while True:
        flags = dict(
            db.session.execute(
                select(Enterprise.id, Enterprise.trusted)
                .where(Enterprise.id > last)
                .order_by(Enterprise.id)
                .limit(batch)
            ).all()
        )
        if not flags:
            return report
        last = max(flags)
        _recompute_batch(flags, now, policy, report, fix)


def _recompute_batch(flags: dict[int, bool], now, policy: CreditPolicy, report, fix: bool):
    lo, hi = min(flags), max(flags)
    e = CreditEvent
    events = db.session.execute(
        select(
            e.enterprise_id, e.id, e.kind, e.points, e.occurred_at, e.expires_at, e.neutralises_id
        )
        .where(e.enterprise_id.between(lo, hi))
        .order_by(e.enterprise_id)
    ).all()
    s = MerchantScore
    rows = {
        r.enterprise_id: r
        for r in db.session.execute(
            select(
                s.enterprise_id, s.score, s.grade, s.next_expiry_at, s.serious_list_since, s.trusted
            ).where(s.enterprise_id.between(lo, hi))
        )
    }
    by_merchant = {k: list(g) for k, g in itertools.groupby(events, key=lambda r: r.enterprise_id)}
    overdue = _overdue_between(lo, hi)
    plan = _Plan()
    for enterprise_id, flag in flags.items():
        merchant_events = by_merchant.get(enterprise_id, [])
        row = rows.get(enterprise_id)
        fresh = engine.summarise(merchant_events, now, policy)
        serious = fresh.serious_since is not None
        grade = policy.grade_for(fresh.score, serious)
        trusted = engine.trusted(grade, serious, enterprise_id in overdue, policy)
        reason = (enterprise_id, trusted, grade, serious, enterprise_id in overdue)
        if trusted != flag:
            plan.flags.append({"eid": enterprise_id, "trusted": trusted})
        if row is None and not merchant_events:
            if trusted != flag:  # ungraded, on the wrong side of the list rule at base score
                plan.changes.append(reason)
            continue
        report.checked += 1
        if row is None:
            report.differences.append(Difference(enterprise_id, None, fresh, "no score row"))
        else:
            _check_row(row, merchant_events, now, policy, fresh, report)
        target = (fresh.score, grade, fresh.next_expiry_at, fresh.serious_since, trusted)
        if row is not None and target == tuple(row)[1:]:
            continue
        values = {
            "eid": enterprise_id,
            "score": fresh.score,
            "grade": grade,
            "next_expiry_at": fresh.next_expiry_at,
            "serious_list_since": fresh.serious_since,
            "trusted": trusted,
            "updated_at": now,
        }
        (plan.inserts if row is None else plan.updates).append(values)
        if trusted != (row.trusted if row is not None else flag):
            plan.changes.append(reason)
    report.flags_synced += len(plan.flags)
    if fix:
        _write(plan, now, policy)
        report.written += len(plan.updates) + len(plan.inserts)
        report.list_changes += len(plan.changes)


@dataclass
class _Plan:
    updates: list[dict] = field(default_factory=list)
    inserts: list[dict] = field(default_factory=list)
    changes: list[tuple] = field(default_factory=list)
    flags: list[dict] = field(default_factory=list)


def _check_row(row, merchant_events, now, policy, fresh: ScoreState, report: RecomputeReport):
    stored = ScoreState(row.score, row.next_expiry_at, row.serious_list_since)
    if stored.is_stale(now):
        report.refreshed += 1
        moment = row.next_expiry_at - TICK
        expected, when = engine.summarise(merchant_events, moment, policy), "before its next expiry"
    else:
        expected, when = fresh, "now"
    if stored != expected:
        report.differences.append(
            Difference(
                row.enterprise_id, stored, expected, f"stored state differs from events {when}"
            )
        )
    elif row.grade != policy.grade_for(stored.score, stored.serious_since is not None):
        report.differences.append(
            Difference(
                row.enterprise_id, stored, expected, f"grade {row.grade} does not fit the score"
            )
        )


def _write(plan: _Plan, now, policy):
    table = MerchantScore.__table__
    if plan.inserts:
        db.session.execute(
            insert(table),
            [
                {
                    "enterprise_id": v["eid"],
                    "score": v["score"],
                    "grade": v["grade"],
                    "next_expiry_at": v["next_expiry_at"],
                    "serious_list_since": v["serious_list_since"],
                    "trusted": v["trusted"],
                    "updated_at": now,
                    "version": 1,
                }
                for v in plan.inserts
            ],
        )
    if plan.updates:
        db.session.execute(
            update(table)
            .where(table.c.enterprise_id == bindparam("eid"))
            .values(
                score=bindparam("score"),
                grade=bindparam("grade"),
                next_expiry_at=bindparam("next_expiry_at"),
                serious_list_since=bindparam("serious_list_since"),
                trusted=bindparam("trusted"),
                updated_at=bindparam("updated_at"),
                version=table.c.version + 1,
            ),
            plan.updates,
        )
    if plan.changes:
        db.session.execute(
            insert(TrustedListChange.__table__),
            [
                {
                    "enterprise_id": eid,
                    "joined": joined,
                    "grade": grade,
                    "reason": list_reason(grade, serious, overdue, policy),
                    "changed_at": now,
                }
                for eid, joined, grade, serious, overdue in plan.changes
            ],
        )
    if plan.flags:
        enterprises = Enterprise.__table__
        db.session.execute(
            update(enterprises)
            .where(enterprises.c.id == bindparam("eid"))
            .values(trusted=bindparam("trusted")),
            plan.flags,
        )
    db.session.flush()


def _overdue_between(lo: int, hi: int) -> set[int]:
    """Merchants in [lo, hi] owing the fund past due, in one query (empty before compensation)."""
    try:
        from complaints.compensation.models import RecoveryOrder, RecoveryState
    except ImportError:
        return set()
    if not table_exists(RecoveryOrder.__tablename__):
        return set()
    return set(
        db.session.scalars(
            select(RecoveryOrder.enterprise_id)
            .where(
                RecoveryOrder.enterprise_id.between(lo, hi),
                RecoveryOrder.state == RecoveryState.OVERDUE,
            )
            .distinct()
        )
    )


# --------------------------------------------------------------------------------------------
# Ticks: each item commits on its own, so one failure never blocks the rest; safe to repeat.


@dataclass
class CreditTickReport:
    refreshed: int = 0
    complaint_free: int = 0
    errors: list[str] = field(default_factory=list)


def run_credit_tick(now: datetime) -> CreditTickReport:
    """Expiry refresh (including automatic removal from the serious list after 3 years) and
    complaint-free periods. Commits."""
    report = CreditTickReport()
    refresh_expired_scores(now, report)
    grant_complaint_free_periods(now, report)
    return report


def refresh_expired_scores(now: datetime, report: CreditTickReport | None = None, batch=500):
    """Rebuild the rows whose earliest entry has expired: an indexed look-up, never a scan."""
    report = report or CreditTickReport()
    failed: set[int] = set()
    while True:
        due = db.session.scalars(
            select(MerchantScore.enterprise_id)
            .where(MerchantScore.next_expiry_at <= now, MerchantScore.enterprise_id.not_in(failed))
            .order_by(MerchantScore.next_expiry_at)
            .limit(batch)
        ).all()
        if not due:
            return report
        for enterprise_id in due:
            try:
                refresh_merchant(enterprise_id, now)
                db.session.commit()
                report.refreshed += 1
            except SQLAlchemyError as exc:
                db.session.rollback()
                failed.add(enterprise_id)
                report.errors.append(f"refresh {enterprise_id}: {exc}")
                log.exception("credit refresh of merchant %s failed", enterprise_id)


def grant_complaint_free_periods(now: datetime, report: CreditTickReport | None = None):
    """+points for every full period without a complaint (idempotent: one key per period end).

    The clock starts at the latest of: joining the platform, the last complaint filed, the last
    period granted. A complaint is any case filed, whatever its outcome: the reward is for
    quiet, not for winning disputes. Only periods still within their expiry are granted, so a
    merchant quiet for years gets the periods that still count, not a backlog of expired ones.
    """
    report = report or CreditTickReport()
    policy = current_credit_policy()
    kind = CreditEventKind.COMPLAINT_FREE_PERIOD
    period = timedelta(days=policy.complaint_free_period_days)
    lifetime = policy.rule(kind).expires_at(now) - now
    last_case = (
        select(Case.enterprise_id, func.max(Case.created_at).label("at"))
        .group_by(Case.enterprise_id)
        .subquery()
    )
    last_free = (
        select(CreditEvent.enterprise_id, func.max(CreditEvent.occurred_at).label("at"))
        .where(CreditEvent.kind == kind)
        .group_by(CreditEvent.enterprise_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Enterprise.id, Enterprise.created_at, last_case.c.at, last_free.c.at)
        .outerjoin(last_case, last_case.c.enterprise_id == Enterprise.id)
        .outerjoin(last_free, last_free.c.enterprise_id == Enterprise.id)
        .where(Enterprise.created_at <= now - period)
    ).all()
    for enterprise_id, created_at, case_at, free_at in rows:
        anchor = max(at for at in (created_at, case_at, free_at) if at is not None)
        ends = []
        end = anchor + period
        while end <= now:
            if end + lifetime > now:
                ends.append(end)
            end += period
        for end in ends:
            try:
                granted = record_credit_event(
                    enterprise_id,
                    kind,
                    reason=f"No complaint for {policy.complaint_free_period_days} days",
                    now=now,
                    occurred_at=end,
                    dedupe_key=f"{kind}:{end.isoformat()}",
                )
                db.session.commit()
                report.complaint_free += granted is not None
            except SQLAlchemyError as exc:
                db.session.rollback()
                report.errors.append(f"complaint-free {enterprise_id}: {exc}")
                log.exception("complaint-free period for merchant %s failed", enterprise_id)
    return report
