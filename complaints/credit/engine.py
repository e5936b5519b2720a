"""The credit arithmetic, pure: events in, score, grade and an explanation out.

No Flask and no database, so every rule is unit-tested in microseconds and the same code runs
the one-event update, the expiry refresh and the full recompute.

The model: a merchant's score is `base_score` plus the points of every event active at the
moment (occurred, not yet expired). Nothing is clamped, so adding one event's points is exact
(`apply_incremental`) and a recompute from events always lands on the same number. Events expire
following the repair tiers (RULES.md "Credit", NDRC measures): minor entries count at most
3 months, general ones 3 to 12 months, serious ones 1 to 3 years. A repair or an early removal
from the serious list never edits history: it is a new event that cancels one earlier event's
points until that event would have expired anyway (`neutralises_id`).

Every number here is this platform's choice, not a regulation; a deployment may change any of
them with `CreditPolicy.from_mapping` (e.g. from app config `CREDIT_POLICY`).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Protocol
from zoneinfo import ZoneInfo

# Periods in months and years are counted on the Hainan calendar date (Civil Code Arts.
# 200-203): the same date n months on, or the month's last day if it has no such date.
LOCAL_ZONE = ZoneInfo("Asia/Shanghai")


def add_months(moment: datetime, months: int) -> datetime:
    """`moment` plus whole calendar months, on the local date (29 Feb + 1 year -> 28 Feb)."""
    local = moment.astimezone(LOCAL_ZONE)
    index = local.month - 1 + months
    year, month = local.year + index // 12, index % 12 + 1
    day = min(local.day, calendar.monthrange(year, month)[1])
    return local.replace(year=year, month=month, day=day).astimezone(moment.tzinfo)


class CreditEventKind(StrEnum):
    COMPLAINT_SUBSTANTIATED = "complaint_substantiated"
    SETTLED_IN_TIME = "settled_in_time"
    DEADLINE_MISSED = "deadline_missed"
    MEDIATION_REFUSED = "mediation_refused"
    COMPENSATION_PAID = "compensation_paid"
    RECOVERY_REPAID_ON_TIME = "recovery_repaid_on_time"
    RECOVERY_OVERDUE = "recovery_overdue"
    COMPLAINT_FREE_PERIOD = "complaint_free_period"
    SERIOUS_LISTED = "serious_listed"
    # Code-based supervision: what an inspector found on site.
    INSPECTION_PASSED = "inspection_passed"
    INSPECTION_RECTIFY = "inspection_rectify"
    RECTIFICATION_OVERDUE = "rectification_overdue"
    INSPECTION_REFERRED = "inspection_referred"
    # The two kinds below cancel one earlier event; their points and expiry come from it.
    REPAIR_GRANTED = "repair_granted"
    SERIOUS_LIST_REMOVED = "serious_list_removed"


NEUTRALISING_KINDS = frozenset(
    {CreditEventKind.REPAIR_GRANTED, CreditEventKind.SERIOUS_LIST_REMOVED}
)


class Tier(StrEnum):
    MINOR = "minor"
    GENERAL = "general"
    SERIOUS = "serious"


# How long an entry of each tier may count, in days (3 months = 90 days, a year = 365).
TIER_EXPIRY_BOUNDS_DAYS: Mapping[Tier, tuple[int, int]] = MappingProxyType(
    {Tier.MINOR: (1, 90), Tier.GENERAL: (90, 365), Tier.SERIOUS: (365, 1095)}
)


@dataclass(frozen=True)
class KindRule:
    points: int
    tier: Tier
    expiry_days: int
    # Set where the rule speaks in years (SAMR Order 44's three years): counted in calendar
    # years, leap days included, instead of `expiry_days`.
    expiry_years: int = 0

    def expires_at(self, occurred_at: datetime) -> datetime:
        if self.expiry_years:
            return add_months(occurred_at, 12 * self.expiry_years)
        return occurred_at + timedelta(days=self.expiry_days)


# fmt: off
DEFAULT_RULES: Mapping[CreditEventKind, KindRule] = MappingProxyType({
    # The best outcome of a complaint, but still a complaint: small, and short-lived.
    CreditEventKind.SETTLED_IN_TIME:         KindRule(+2, Tier.MINOR, 90),
    # A missed 24-hour answer is a lapse, not a pattern; it weighs little and fades quickly.
    CreditEventKind.DEADLINE_MISSED:         KindRule(-5, Tier.MINOR, 90),
    # The regulator had to step in before the merchant remedied.
    CreditEventKind.COMPLAINT_SUBSTANTIATED: KindRule(-8, Tier.GENERAL, 180),
    # Refusing mediation without good reason (SAMR Order 20 Art. 21(3)) leaves the tourist alone.
    CreditEventKind.MEDIATION_REFUSED:       KindRule(-15, Tier.GENERAL, 365),
    # The public fund paid the tourist because the merchant did not.
    CreditEventKind.COMPENSATION_PAID:       KindRule(-10, Tier.GENERAL, 365),
    # Repaying the fund on time halves the weight of the payout.
    CreditEventKind.RECOVERY_REPAID_ON_TIME: KindRule(+5, Tier.GENERAL, 365),
    # Not repaying public money is dishonest conduct: serious tier, enough to leave B. Two
    # years, so that repair after the serious tier's one-year minimum is possible at all.
    CreditEventKind.RECOVERY_OVERDUE:        KindRule(-25, Tier.SERIOUS, 730, expiry_years=2),
    # Six clean months are worth as much as repaying a recovery.
    CreditEventKind.COMPLAINT_FREE_PERIOD:   KindRule(+5, Tier.GENERAL, 365),
    # SAMR Order 44: removed after 3 years; the grade is also held at D while listed.
    CreditEventKind.SERIOUS_LISTED:          KindRule(-40, Tier.SERIOUS, 1095, expiry_years=3),
    # An inspection found the outlet compliant: a small, short-lived credit.
    CreditEventKind.INSPECTION_PASSED:       KindRule(+2, Tier.MINOR, 90),
    # Found wanting, given a date to put it right: a minor entry.
    CreditEventKind.INSPECTION_RECTIFY:      KindRule(-5, Tier.MINOR, 90),
    # The date passed with nothing put right: the lapse becomes a pattern.
    CreditEventKind.RECTIFICATION_OVERDUE:   KindRule(-10, Tier.GENERAL, 180),
    # Referred for an administrative penalty: as heavy as refusing mediation.
    CreditEventKind.INSPECTION_REFERRED:     KindRule(-15, Tier.GENERAL, 365),
})
# fmt: on

# Minimum time an entry must have counted before a repair may be granted, in calendar months
# (RULES.md: general entries 3 months, serious ones a year; minor ones at once).
DEFAULT_REPAIR_MINIMUM_MONTHS: Mapping[Tier, int] = MappingProxyType(
    {Tier.MINOR: 0, Tier.GENERAL: 3, Tier.SERIOUS: 12}
)


@dataclass(frozen=True)
class CreditPolicy:
    base_score: int = 100
    # Grade cut-offs, best first; below the last one a merchant is graded D.
    thresholds: tuple[tuple[str, int], ...] = (("A", 90), ("B", 75), ("C", 60))
    lowest_grade: str = "D"
    rules: Mapping[CreditEventKind, KindRule] = field(default_factory=lambda: DEFAULT_RULES)
    repair_minimum_months: Mapping[Tier, int] = field(
        default_factory=lambda: DEFAULT_REPAIR_MINIMUM_MONTHS
    )
    complaint_free_period_days: int = 182  # "six months"
    # SAMR Order 44: early removal after one (calendar) year on the list.
    serious_early_removal_years: int = 1
    trusted_grades: frozenset[str] = frozenset({"A", "B"})

    def __post_init__(self) -> None:
        missing = set(CreditEventKind) - NEUTRALISING_KINDS - set(self.rules)
        if missing:
            raise ValueError(f"rules: no rule for {', '.join(sorted(missing))}")
        for kind, rule in self.rules.items():
            low, high = TIER_EXPIRY_BOUNDS_DAYS[rule.tier]
            if rule.expiry_years and not low <= 365 * rule.expiry_years <= high:
                raise ValueError(
                    f"rules.{kind}: expiry {rule.expiry_years} years is outside the "
                    f"{rule.tier} tier ({low}-{high} days)"
                )
            if not low <= rule.expiry_days <= high:
                raise ValueError(
                    f"rules.{kind}: expiry {rule.expiry_days} days is outside the "
                    f"{rule.tier} tier ({low}-{high} days)"
                )
        serious = self.rules[CreditEventKind.SERIOUS_LISTED]
        listed_years = serious.expiry_years or serious.expiry_days // 365
        if not 0 < self.serious_early_removal_years <= listed_years:
            raise ValueError("serious_early_removal_years must be within the listing's expiry")
        cutoffs = [value for _, value in self.thresholds]
        if cutoffs != sorted(cutoffs, reverse=True) or len(set(cutoffs)) != len(cutoffs):
            raise ValueError("thresholds must be strictly decreasing, best grade first")
        if self.complaint_free_period_days < 1:
            raise ValueError("complaint_free_period_days must be at least 1")

    def rule(self, kind: CreditEventKind) -> KindRule:
        return self.rules[CreditEventKind(kind)]

    def expires_at(self, kind: CreditEventKind, occurred_at: datetime) -> datetime:
        return self.rule(kind).expires_at(occurred_at)

    def early_removal_from(self, listed_at: datetime) -> datetime:
        """When a serious-list entry may first be removed early: one calendar year on."""
        return add_months(listed_at, 12 * self.serious_early_removal_years)

    def grade_for(self, score: int, serious_listed: bool = False) -> str:
        if serious_listed:
            return self.lowest_grade
        for grade, cutoff in self.thresholds:
            if score >= cutoff:
                return grade
        return self.lowest_grade

    @property
    def grades(self) -> tuple[str, ...]:
        return (*(grade for grade, _ in self.thresholds), self.lowest_grade)

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> CreditPolicy:
        """Keys are field names; `rules` maps kind names to partial {points, tier, expiry_days}."""
        known = {f.name for f in fields(cls)}
        unknown = set(config) - known
        if unknown:
            raise ValueError(
                f"unknown credit policy keys {sorted(unknown)}; known: {sorted(known)}"
            )
        values = dict(config)
        if "rules" in values:
            rules = dict(DEFAULT_RULES)
            for name, change in values["rules"].items():
                kind = CreditEventKind(name)
                changes = dict(change)
                if "tier" in changes:
                    changes["tier"] = Tier(changes["tier"])
                rules[kind] = replace(rules[kind], **changes)
            values["rules"] = MappingProxyType(rules)
        if "repair_minimum_months" in values:
            minimum = dict(DEFAULT_REPAIR_MINIMUM_MONTHS)
            minimum.update({Tier(k): int(v) for k, v in values["repair_minimum_months"].items()})
            values["repair_minimum_months"] = MappingProxyType(minimum)
        if "thresholds" in values:
            values["thresholds"] = tuple((str(g), int(v)) for g, v in values["thresholds"])
        if "trusted_grades" in values:
            values["trusted_grades"] = frozenset(values["trusted_grades"])
        return cls(**values)


class EventLike(Protocol):
    """What the engine reads from an event: a `CreditFact`, an ORM row or a Core row."""

    kind: CreditEventKind
    points: int
    occurred_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class CreditFact:
    kind: CreditEventKind
    points: int
    occurred_at: datetime
    expires_at: datetime
    id: int | None = None
    neutralises_id: int | None = None
    reason: str = ""
    case_id: int | None = None


def is_active(event: EventLike, moment: datetime) -> bool:
    return event.occurred_at <= moment < event.expires_at


def apply_incremental(current_score: int, event: EventLike) -> int:
    """The score after one event lands that is active now. O(1), and exact: nothing clamps."""
    return current_score + event.points


@dataclass(frozen=True)
class ScoreState:
    """What the merchant_scores row keeps: enough to update in O(1) and to know when to refresh.

    `next_expiry_at` is the earliest expiry among the active events: until then the stored
    score equals `summarise(events, moment)` for every moment; from then the row is stale and is
    rebuilt from its events (the tick, or the next event for that merchant).
    """

    score: int
    next_expiry_at: datetime | None = None
    serious_since: datetime | None = None

    def is_stale(self, now: datetime) -> bool:
        return self.next_expiry_at is not None and self.next_expiry_at <= now


def land(state: ScoreState, event: EventLike, now: datetime) -> ScoreState:
    """The state after `event` is recorded at `now`; `state` must be fresh (not stale) at `now`."""
    if not is_active(event, now):
        return state  # a back-dated fact that has already expired: history only
    serious_since = state.serious_since
    if event.kind == CreditEventKind.SERIOUS_LISTED:
        serious_since = event.occurred_at
    elif event.kind == CreditEventKind.SERIOUS_LIST_REMOVED:
        serious_since = None
    expiry = event.expires_at
    if state.next_expiry_at is not None:
        expiry = min(expiry, state.next_expiry_at)
    return ScoreState(apply_incremental(state.score, event), expiry, serious_since)


def summarise(events: Iterable[EventLike], moment: datetime, policy: CreditPolicy) -> ScoreState:
    """The fast path of `score_at` for recomputes: no explanation lines."""
    score = policy.base_score
    next_expiry: datetime | None = None
    listings: dict[Any, datetime] = {}
    removed: set[Any] = set()
    for event in events:
        if not (event.occurred_at <= moment < event.expires_at):
            continue
        score += event.points
        if next_expiry is None or event.expires_at < next_expiry:
            next_expiry = event.expires_at
        if event.kind == CreditEventKind.SERIOUS_LISTED:
            listings[getattr(event, "id", None)] = event.occurred_at
        elif event.kind == CreditEventKind.SERIOUS_LIST_REMOVED:
            removed.add(getattr(event, "neutralises_id", None))
    current = [at for key, at in listings.items() if key not in removed]
    return ScoreState(score, next_expiry, max(current) if current else None)


@dataclass(frozen=True)
class Line:
    event: EventLike
    points: int
    active: bool
    expires_at: datetime


@dataclass(frozen=True)
class ScoreBreakdown:
    score: int
    grade: str
    base: int
    serious_listed: bool
    next_expiry_at: datetime | None
    lines: tuple[Line, ...]  # newest first; expired ones listed, not counted

    @property
    def counted(self) -> int:
        return sum(line.points for line in self.lines if line.active)


def score_at(events: Iterable[EventLike], moment: datetime, policy: CreditPolicy) -> ScoreBreakdown:
    """The score at `moment`, explained line by line. Events after `moment` are left out."""
    happened = [e for e in events if e.occurred_at <= moment]
    state = summarise(happened, moment, policy)
    serious = state.serious_since is not None
    lines = tuple(
        Line(e, e.points, is_active(e, moment), e.expires_at)
        for e in sorted(happened, key=lambda e: e.occurred_at, reverse=True)
    )
    return ScoreBreakdown(
        score=state.score,
        grade=policy.grade_for(state.score, serious),
        base=policy.base_score,
        serious_listed=serious,
        next_expiry_at=state.next_expiry_at,
        lines=lines,
    )


def history(
    events: Iterable[EventLike], until: datetime, policy: CreditPolicy
) -> list[tuple[datetime, int]]:
    """The score as a step function: (moment, score from then on) at every change up to `until`.

    One sweep over start and expiry moments, so a long history costs O(n log n), not O(n²).
    """
    changes: dict[datetime, int] = {}
    for event in events:
        if event.occurred_at > until:
            continue
        changes[event.occurred_at] = changes.get(event.occurred_at, 0) + event.points
        if event.expires_at <= until:
            changes[event.expires_at] = changes.get(event.expires_at, 0) - event.points
    steps: list[tuple[datetime, int]] = []
    score = policy.base_score
    for moment in sorted(changes):
        score += changes[moment]
        steps.append((moment, score))
    return steps


def trusted(grade: str, serious_listed: bool, overdue_recovery: bool, policy: CreditPolicy) -> bool:
    """Trusted-merchant list rule: a good grade, not on the serious list, nothing owed overdue."""
    return grade in policy.trusted_grades and not serious_listed and not overdue_recovery


def repair_available_from(event: EventLike, policy: CreditPolicy) -> datetime:
    """The first moment a repair of `event` may be granted: its tier's minimum period served."""
    tier = policy.rule(event.kind).tier
    return add_months(event.occurred_at, policy.repair_minimum_months[tier])


def is_repairable_kind(kind: CreditEventKind, policy: CreditPolicy) -> bool:
    """Negative entries other than the serious list (which has its own early-removal rule)."""
    return (
        kind not in NEUTRALISING_KINDS
        and kind != CreditEventKind.SERIOUS_LISTED
        and policy.rule(kind).points < 0
    )
