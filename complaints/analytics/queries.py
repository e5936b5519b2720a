"""What the analytics page shows, each chart as a table: the table is what the chart draws,
what a screen reader reads and what the CSV download holds, so the three cannot disagree.

Everything reads the daily rollups, the funds' ledger figures, current scores and scan
counts; nothing here scans the cases table except the complaint rate's top outlets, which is
bounded by the date range and the created_at index.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from complaints.analytics.models import CaseRollup, ScanCount, StageRollup
from complaints.analytics.rollups import BUCKET_HOURS, STAGES, day_bounds
from complaints.cases.models import Case
from complaints.categories import Category
from complaints.compensation.models import Claim, Fund
from complaints.compensation.queries import figures
from complaints.credit.models import MerchantScore, TrustedListChange
from complaints.extensions import db
from complaints.geo.models import Division
from complaints.merchants.models import Enterprise, Outlet
from complaints.presentation import fen_to_yuan
from workflows.states import DeadlineKind

MIN_SCANS_FOR_RATE = 20  # fewer scans than this make a rate per 1,000 meaningless
TOP_RATES = 10

STAGE_LABELS = {
    DeadlineKind.MERCHANT_RESPONSE: _l("Merchant stage"),
    DeadlineKind.ACCEPTANCE_DECISION: _l("Acceptance decision"),
    DeadlineKind.MEDIATION: _l("Mediation"),
}
OUTCOME_LABELS = {
    "resolved": _l("Resolved"),
    "declined": _l("Declined"),
    "terminated": _l("Mediation terminated"),
    "withdrawn": _l("Withdrawn"),
}

# A tile map of Hainan: each city or county at a rough (column, row) of the island, Sansha
# off the south-east coast. Coarse on purpose: a schematic, not a survey.
MAP_TILES = {
    "460100": (3, 0), "469005": (4, 0), "469023": (2, 0), "469024": (1, 0),
    "460400": (1, 1), "469022": (2, 1), "469021": (3, 1), "469002": (4, 1),
    "469026": (0, 2), "469025": (1, 2), "469030": (2, 2), "469006": (4, 2),
    "469007": (0, 3), "469027": (1, 3), "469001": (2, 3), "469029": (3, 3),
    "460200": (2, 4), "469028": (3, 4), "460300": (4, 5),
}  # fmt: skip


@dataclass(frozen=True)
class Scope:
    """Whose figures: one agency (and its divisions), or the whole province (None)."""

    agency_id: int | None
    division_codes: frozenset[str] | None


@dataclass(frozen=True)
class Filters:
    start: date
    end: date  # inclusive
    category: Category | None = None
    division: str | None = None


@dataclass
class Table:
    key: str
    title: object
    chart: str  # line, bar, pie, map
    columns: list = field(default_factory=list)
    rows: list[list] = field(default_factory=list)
    unit: object = ""
    tiles: list[tuple[int, int]] = field(default_factory=list)  # map only: (column, row) per row
    extra: dict = field(default_factory=dict)
    series: list[int] | None = None  # which columns the chart draws (all when None)


def scope_for(account, province: bool) -> Scope:
    if province:
        return Scope(None, None)
    agency = account.agency
    codes = {agency.division_code}
    codes |= set(
        db.session.scalars(
            select(Division.code).where(Division.parent_code == agency.division_code)
        )
    )
    return Scope(agency.id, frozenset(codes))


def city_of(code: str) -> str:
    return code if code.startswith("469") or code.endswith("00") else code[:4] + "00"


def _rollup_where(scope: Scope, filters: Filters) -> list:
    conditions = [CaseRollup.day >= filters.start, CaseRollup.day <= filters.end]
    if scope.agency_id is not None:
        conditions.append(CaseRollup.agency_id == scope.agency_id)
    if filters.category is not None:
        conditions.append(CaseRollup.category == filters.category)
    if filters.division:
        conditions.append(CaseRollup.division_code == filters.division)
    return conditions


def _names(locale: str) -> dict[str, str]:
    return {d.code: d.name(locale) for d in db.session.scalars(select(Division))}


def daily_by_category(scope: Scope, filters: Filters) -> Table:
    rows = db.session.execute(
        select(CaseRollup.day, CaseRollup.category, func.sum(CaseRollup.n))
        .where(*_rollup_where(scope, filters), CaseRollup.metric == "received")
        .group_by(CaseRollup.day, CaseRollup.category)
    ).all()
    by_day: dict[date, dict] = defaultdict(dict)
    present = set()
    for day, category, n in rows:
        by_day[day][Category(category)] = int(n)
        present.add(Category(category))
    categories = [c for c in Category if c in present]
    table = Table("daily", _l("Complaints per day by category"), "line", unit=_l("complaints"))
    table.columns = [_l("Day"), *[c.label for c in categories]]
    day = filters.start
    while day <= filters.end:
        table.rows.append([day.isoformat(), *[by_day[day].get(c, 0) for c in categories]])
        day += timedelta(days=1)
    return table


def weekly_by_division(scope: Scope, filters: Filters, locale: str) -> Table:
    rows = db.session.execute(
        select(CaseRollup.day, CaseRollup.division_code, func.sum(CaseRollup.n))
        .where(*_rollup_where(scope, filters), CaseRollup.metric == "received")
        .group_by(CaseRollup.day, CaseRollup.division_code)
    ).all()
    names = _names(locale)
    group = city_of if scope.agency_id is None else (lambda code: code)
    weeks: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    present: set[str] = set()
    for day, code, n in rows:
        monday = day - timedelta(days=day.weekday())
        weeks[monday][group(code)] += int(n)
        present.add(group(code))
    codes = sorted(present)
    table = Table("weekly", _l("Complaints per week by division"), "bar", unit=_l("complaints"))
    table.columns = [_l("Week of"), *[names.get(c, c) for c in codes]]
    for monday in sorted(weeks):
        table.rows.append([monday.isoformat(), *[weeks[monday].get(c, 0) for c in codes]])
    return table


def timeliness(scope: Scope, filters: Filters) -> Table:
    conditions = [StageRollup.day >= filters.start, StageRollup.day <= filters.end]
    if scope.agency_id is not None:
        conditions.append(StageRollup.agency_id == scope.agency_id)
    rows = db.session.execute(
        select(
            StageRollup.kind,
            StageRollup.bucket,
            func.sum(StageRollup.n),
            func.sum(StageRollup.within),
        )
        .where(*conditions)
        .group_by(StageRollup.kind, StageRollup.bucket)
    ).all()
    buckets: dict[DeadlineKind, dict[int, int]] = defaultdict(dict)
    within: dict[DeadlineKind, int] = defaultdict(int)
    for kind, bucket, n, ok in rows:
        buckets[DeadlineKind(kind)][int(bucket)] = int(n)
        within[DeadlineKind(kind)] += int(ok)
    table = Table("timeliness", _l("Handled within the legal limit"), "bar", unit="%", series=[1])
    table.columns = [
        _l("Stage"),
        _l("Share within the limit, per cent"),
        _l("Stages ended"),
        _l("Median (hours, at most)"),
    ]
    for kind in STAGES:
        total = sum(buckets[kind].values())
        share = round(100 * within[kind] / total, 1) if total else 0
        table.rows.append([STAGE_LABELS[kind], share, total, median_hours(buckets[kind])])
    return table


def median_hours(buckets: dict[int, int]) -> int | str:
    """The upper edge of the bucket holding the middle stage ("half ended within N hours")."""
    total = sum(buckets.values())
    if not total:
        return "—"
    seen = 0
    for bucket in sorted(buckets):
        seen += buckets[bucket]
        if seen * 2 >= total:
            return BUCKET_HOURS[bucket] if bucket < len(BUCKET_HOURS) else f">{BUCKET_HOURS[-1]}"
    return "—"


def outcomes(scope: Scope, filters: Filters) -> Table:
    rows = dict(
        db.session.execute(
            select(CaseRollup.metric, func.sum(CaseRollup.n))
            .where(*_rollup_where(scope, filters), CaseRollup.metric.in_(OUTCOME_LABELS))
            .group_by(CaseRollup.metric)
        ).all()
    )
    table = Table("outcomes", _l("Outcomes"), "pie", unit=_l("cases"))
    table.columns = [_l("Outcome"), _l("Cases")]
    table.rows = [[label, int(rows.get(key, 0))] for key, label in OUTCOME_LABELS.items()]
    return table


def money(scope: Scope) -> Table:
    query = select(Fund).order_by(Fund.division_code)
    if scope.division_codes is not None:
        query = query.where(Fund.division_code.in_(scope.division_codes))
    table = Table("money", _l("Advance compensation (CNY)"), "bar", unit="CNY", series=[2, 3, 4, 5])
    table.columns = [
        _l("Fund"),
        _l("Claims"),
        _l("Paid"),
        _l("Recovered"),
        _l("Overdue"),
        _l("Balance"),
    ]
    for fund in db.session.scalars(query):
        f = figures(fund)
        claims = db.session.scalar(select(func.count(Claim.id)).where(Claim.fund_id == fund.id))
        table.rows.append(
            [
                fund.name_zh,
                claims,
                float(fen_to_yuan(f.paid_fen)),
                float(fen_to_yuan(f.recovered_fen)),
                float(fen_to_yuan(f.overdue_fen)),
                float(fen_to_yuan(f.balance_fen)),
            ]
        )
    return table


def grades(scope: Scope, filters: Filters) -> Table:
    query = select(MerchantScore.grade, func.count()).join(
        Enterprise, Enterprise.id == MerchantScore.enterprise_id
    )
    moves = select(TrustedListChange.joined, func.count()).join(
        Enterprise, Enterprise.id == TrustedListChange.enterprise_id
    )
    start, _ = day_bounds(filters.start)
    _, end = day_bounds(filters.end)
    moves = moves.where(TrustedListChange.changed_at >= start, TrustedListChange.changed_at < end)
    if scope.division_codes is not None:
        query = query.where(Enterprise.division_code.in_(scope.division_codes))
        moves = moves.where(Enterprise.division_code.in_(scope.division_codes))
    counts = dict(db.session.execute(query.group_by(MerchantScore.grade)).all())
    moved = dict(db.session.execute(moves.group_by(TrustedListChange.joined)).all())
    table = Table("grades", _l("Merchants by trust grade"), "bar", unit=_l("merchants"))
    table.columns = [_l("Grade"), _l("Merchants")]
    table.rows = [[g, int(counts.get(g, 0))] for g in ("A", "B", "C", "D")]
    table.extra = {"joined": int(moved.get(True, 0)), "left": int(moved.get(False, 0))}
    return table


def complaint_rates(scope: Scope, filters: Filters, locale: str) -> Table:
    start, _ = day_bounds(filters.start)
    _, end = day_bounds(filters.end)
    scans = (
        select(ScanCount.outlet_id, func.sum(ScanCount.n).label("scans"))
        .where(ScanCount.day >= filters.start, ScanCount.day <= filters.end)
        .group_by(ScanCount.outlet_id)
        .having(func.sum(ScanCount.n) >= MIN_SCANS_FOR_RATE)
        .subquery()
    )
    complaints = select(Case.outlet_id, func.count(Case.id).label("n")).where(
        Case.created_at >= start, Case.created_at < end, Case.outlet_id.is_not(None)
    )
    if scope.agency_id is not None:
        complaints = complaints.where(Case.agency_id == scope.agency_id)
    if filters.category is not None:
        complaints = complaints.where(Case.category == filters.category)
    complaints = complaints.group_by(Case.outlet_id).subquery()
    rate = complaints.c.n * 1000.0 / scans.c.scans
    rows = db.session.execute(
        select(Outlet, complaints.c.n, scans.c.scans, rate)
        .join(complaints, complaints.c.outlet_id == Outlet.id)
        .join(scans, scans.c.outlet_id == Outlet.id)
        .order_by(rate.desc(), Outlet.id)
        .limit(TOP_RATES)
    ).all()
    table = Table(
        "rates", _l("Highest complaint rate per 1,000 scans"), "bar", unit="‰", series=[1]
    )
    table.columns = [_l("Outlet"), _l("Complaints per 1,000 scans"), _l("Complaints"), _l("Scans")]
    table.rows = [
        [outlet.name(locale), round(float(r), 1), int(n), int(s)] for outlet, n, s, r in rows
    ]
    return table


def volume_map(scope: Scope, filters: Filters, locale: str) -> Table:
    rows = db.session.execute(
        select(CaseRollup.division_code, func.sum(CaseRollup.n))
        .where(*_rollup_where(scope, filters), CaseRollup.metric == "received")
        .group_by(CaseRollup.division_code)
    ).all()
    volume: dict[str, int] = defaultdict(int)
    for code, n in rows:
        volume[city_of(code)] += int(n)
    names = _names(locale)
    table = Table("map", _l("Complaints by city and county"), "map", unit=_l("complaints"))
    table.columns = [_l("City or county"), _l("Complaints")]
    for code, tile in MAP_TILES.items():
        table.rows.append([names.get(code, code), volume.get(code, 0)])
        table.tiles.append(tile)
    return table


BUILDERS = {
    "daily": lambda scope, filters, locale: daily_by_category(scope, filters),
    "weekly": weekly_by_division,
    "timeliness": lambda scope, filters, locale: timeliness(scope, filters),
    "outcomes": lambda scope, filters, locale: outcomes(scope, filters),
    "money": lambda scope, filters, locale: money(scope),
    "grades": lambda scope, filters, locale: grades(scope, filters),
    "rates": complaint_rates,
    "map": volume_map,
}


def chart(key: str, scope: Scope, filters: Filters, locale: str) -> Table | None:
    builder = BUILDERS.get(key)
    return builder(scope, filters, locale) if builder else None


def dashboard(scope: Scope, filters: Filters, locale: str) -> list[Table]:
    return [build(scope, filters, locale) for build in BUILDERS.values()]
