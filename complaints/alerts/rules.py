"""The early-warning rules. Each reads a bounded window (indexed by time) and returns findings;
`services.raise_alerts` turns new ones into alerts. Thresholds come from `AlertPolicy`.

Baseline test (category or division "above its usual level"): let x be the complaints received
in the last 7 days and m the mean per week over the 8 weeks before (floored at 0.5). Under the
hypothesis that complaints arrive as a Poisson process at the usual rate, P(X >= x) for
X ~ Poisson(m) is the chance of seeing a week at least this busy by luck. An alert is raised
when that probability is below `baseline_p` (default 1%) and x is at least `baseline_min_count`.
"""

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select

from complaints.agencies.routing import jurisdiction_agency
from complaints.alerts.policy import AlertPolicy
from complaints.analytics.models import CaseRollup, ScanCount
from complaints.analytics.rollups import local_day
from complaints.cases.models import Case
from complaints.compensation.models import Claim, Fund
from complaints.extensions import db
from complaints.merchants.models import Enterprise, Outlet

MAX_CASES_LISTED = 50


@dataclass
class Finding:
    rule: str
    dedupe_key: str
    agency_id: int
    figures: dict
    enterprise_id: int | None = None
    outlet_id: int | None = None
    case_ids: list[int] = field(default_factory=list)


def week_tag(now: datetime) -> str:
    year, week, _ = local_day(now).isocalendar()
    return f"{year}W{week:02d}"


def poisson_tail(observed: int, mean: float) -> float:
    """P(X >= observed) for X ~ Poisson(mean), summed in a numerically safe way."""
    if observed <= 0:
        return 1.0
    term = math.exp(-mean)
    below = term
    for k in range(1, observed):
        term *= mean / k
        below += term
    return max(0.0, 1.0 - below)


def _cases(*conditions) -> list[int]:
    return list(
        db.session.scalars(
            select(Case.id).where(*conditions).order_by(Case.id.desc()).limit(MAX_CASES_LISTED)
        )
    )


def merchant_bursts(now: datetime, policy: AlertPolicy) -> list[Finding]:
    since = now - timedelta(days=policy.burst_days)
    rows = db.session.execute(
        select(Case.agency_id, Case.enterprise_id, func.count(Case.id))
        .where(Case.created_at >= since, Case.agency_id.is_not(None))
        .group_by(Case.agency_id, Case.enterprise_id)
        .having(func.count(Case.id) >= policy.burst_complaints)
    ).all()
    return [
        Finding(
            rule="merchant_burst",
            dedupe_key=f"merchant_burst:{enterprise_id}:{week_tag(now)}",
            agency_id=agency_id,
            enterprise_id=enterprise_id,
            figures={"complaints": n, "days": policy.burst_days},
            case_ids=_cases(Case.enterprise_id == enterprise_id, Case.created_at >= since),
        )
        for agency_id, enterprise_id, n in rows
    ]


def baselines(now: datetime, policy: AlertPolicy) -> list[Finding]:
    today = local_day(now)
    recent_start = today - timedelta(days=6)
    base_start = recent_start - timedelta(weeks=policy.baseline_weeks)
    findings = []
    for column, rule in (
        (CaseRollup.category, "category_above"),
        (CaseRollup.division_code, "division_above"),
    ):
        # Grouped by day, split in Python: PostgreSQL will not group by a parameterised
        # comparison it sees twice as two different expressions.
        rows = db.session.execute(
            select(CaseRollup.agency_id, column, CaseRollup.day, func.sum(CaseRollup.n))
            .where(
                CaseRollup.metric == "received",
                CaseRollup.day >= base_start,
                CaseRollup.day <= today,
            )
            .group_by(CaseRollup.agency_id, column, CaseRollup.day)
        ).all()
        counts: dict = defaultdict(lambda: [0, 0])  # (agency, value) -> [baseline, recent]
        for agency_id, value, day, n in rows:
            counts[(agency_id, str(value))][1 if day >= recent_start else 0] += int(n)
        for (agency_id, value), (baseline, recent) in counts.items():
            mean = max(baseline / policy.baseline_weeks, policy.baseline_floor)
            p = poisson_tail(recent, mean)
            if recent >= policy.baseline_min_count and p < policy.baseline_p:
                condition = (
                    Case.category == value
                    if rule == "category_above"
                    else Case.division_code == value
                )
                findings.append(
                    Finding(
                        rule=rule,
                        dedupe_key=f"{rule}:{agency_id}:{value}:{week_tag(now)}",
                        agency_id=agency_id,
                        figures={
                            "value": value,
                            "recent": recent,
                            "mean": round(mean, 2),
                            "p": f"{p:.2g}",
                        },
                        case_ids=_cases(
                            Case.agency_id == agency_id,
                            condition,
                            Case.created_at >= now - timedelta(days=7),
                        ),
                    )
                )
    return findings


def phone_many_merchants(now: datetime, policy: AlertPolicy) -> list[Finding]:
    since = now - timedelta(days=policy.phone_days)
    rows = db.session.execute(
        select(
            Case.tourist_phone,
            func.count(func.distinct(Case.enterprise_id)),
            func.max(Case.agency_id),
        )
        .where(Case.created_at >= since, Case.agency_id.is_not(None))
        .group_by(Case.tourist_phone)
        .having(func.count(func.distinct(Case.enterprise_id)) >= policy.phone_merchants)
    ).all()
    return [
        Finding(
            rule="phone_many_merchants",
            dedupe_key=f"phone_many_merchants:{phone}:{week_tag(now)}",
            agency_id=agency_id,
            figures={"merchants": n, "days": policy.phone_days, "phone_tail": phone[-4:]},
            case_ids=_cases(Case.tourist_phone == phone, Case.created_at >= since),
        )
        for phone, n, agency_id in rows
    ]


def phones_one_merchant(now: datetime, policy: AlertPolicy) -> list[Finding]:
    since = now - timedelta(hours=policy.ring_hours)
    rows = db.session.execute(
        select(Case.agency_id, Case.enterprise_id, func.count(func.distinct(Case.tourist_phone)))
        .where(Case.created_at >= since, Case.agency_id.is_not(None))
        .group_by(Case.agency_id, Case.enterprise_id)
        .having(func.count(func.distinct(Case.tourist_phone)) >= policy.ring_phones)
    ).all()
    return [
        Finding(
            rule="phones_one_merchant",
            dedupe_key=f"phones_one_merchant:{enterprise_id}:{local_day(now).isoformat()}",
            agency_id=agency_id,
            enterprise_id=enterprise_id,
            figures={"phones": n, "hours": policy.ring_hours},
            case_ids=_cases(Case.enterprise_id == enterprise_id, Case.created_at >= since),
        )
        for agency_id, enterprise_id, n in rows
    ]


def fund_outflows(now: datetime, policy: AlertPolicy) -> list[Finding]:
    recent_start = now - timedelta(days=7)
    base_start = recent_start - timedelta(weeks=policy.outflow_weeks)
    findings = []
    for fund in db.session.scalars(select(Fund)):

        def paid(start, end, fund_id=fund.id):
            return int(
                db.session.scalar(
                    select(func.coalesce(func.sum(Claim.amount_fen), 0)).where(
                        Claim.fund_id == fund_id, Claim.paid_at >= start, Claim.paid_at < end
                    )
                )
            )

        recent, baseline = paid(recent_start, now), paid(base_start, recent_start)
        usual = baseline / policy.outflow_weeks
        if recent >= policy.outflow_min_fen and recent > policy.outflow_factor * usual:
            agency = jurisdiction_agency(fund.division_code)
            if agency is None:
                continue
            findings.append(
                Finding(
                    rule="fund_outflow",
                    dedupe_key=f"fund_outflow:{fund.id}:{week_tag(now)}",
                    agency_id=agency.id,
                    figures={"fund": fund.name_zh, "recent_fen": recent, "usual_fen": round(usual)},
                    case_ids=list(
                        db.session.scalars(
                            select(Claim.case_id)
                            .where(Claim.fund_id == fund.id, Claim.paid_at >= recent_start)
                            .limit(MAX_CASES_LISTED)
                        )
                    ),
                )
            )
    return findings


def scan_drops(now: datetime, policy: AlertPolicy) -> list[Finding]:
    """Scans of a trusted merchant's outlet fell far below its usual week: codes taken down?"""
    today = local_day(now)
    recent_start = today - timedelta(days=6)
    base_start = recent_start - timedelta(weeks=policy.scan_weeks)
    rows = db.session.execute(
        select(ScanCount.outlet_id, ScanCount.day, ScanCount.n)
        .join(Outlet, Outlet.id == ScanCount.outlet_id)
        .join(Enterprise, Enterprise.id == Outlet.enterprise_id)
        .where(ScanCount.day >= base_start, ScanCount.day <= today, Enterprise.trusted.is_(True))
    ).all()
    counts: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for outlet_id, day, n in rows:
        counts[outlet_id][1 if day >= recent_start else 0] += int(n)
    findings = []
    for outlet_id, (baseline, recent) in counts.items():
        usual = baseline / policy.scan_weeks
        if usual >= policy.scan_min_weekly and recent < policy.scan_drop_share * usual:
            outlet = db.session.get(Outlet, outlet_id)
            agency = jurisdiction_agency(outlet.division_code)
            if agency is None:
                continue
            findings.append(
                Finding(
                    rule="scan_drop",
                    dedupe_key=f"scan_drop:{outlet_id}:{week_tag(now)}",
                    agency_id=agency.id,
                    enterprise_id=outlet.enterprise_id,
                    outlet_id=outlet_id,
                    figures={"recent": recent, "usual": round(usual, 1)},
                )
            )
    return findings


RULES = (
    merchant_bursts,
    baselines,
    phone_many_merchants,
    phones_one_merchant,
    fund_outflows,
    scan_drops,
)
