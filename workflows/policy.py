"""Every time limit Anxin enforces, as configuration.

National and local rules disagree (SAMR, the tourism ministry, Hainan's guides), so no limit is
a constant: the defaults below follow RULES.md and a deployment may change any of them with
`Policy.from_mapping`, e.g. from the app config.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Any

from workflows.states import DeadlineKind


class LimitUnit(StrEnum):
    HOURS = "hours"  # plain clock hours, nights and holidays included
    WORKING_DAYS = "working_days"  # PRC working days, see workflows.calendar
    CALENDAR_DAYS = "calendar_days"


@dataclass(frozen=True)
class TimeLimit:
    amount: int
    unit: LimitUnit

    def __str__(self) -> str:
        return f"{self.amount} {self.unit}"

    @classmethod
    def parse(cls, value: object, default_unit: LimitUnit) -> TimeLimit:
        """Read `24`, `"24 hours"`, `"7 working days"` or `{"amount": 7, "unit": "..."}`."""
        if isinstance(value, TimeLimit):
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return cls(value, default_unit)
        if isinstance(value, Mapping) and set(value) == {"amount", "unit"}:
            return cls(_strict_int(value["amount"]), _unit(str(value["unit"])))
        if isinstance(value, str):
            match = re.fullmatch(r"\s*(\d+)\s+([a-z_ ]+?)\s*", value.lower())
            if match:
                return cls(int(match[1]), _unit(match[2]))
        raise ValueError(f"cannot read a time limit from {value!r}")


def _unit(text: str) -> LimitUnit:
    name = text.strip().replace(" ", "_")
    try:
        return LimitUnit(name if name.endswith("s") else name + "s")
    except ValueError:
        raise ValueError(f"unknown unit {text!r}; use one of {', '.join(LimitUnit)}") from None


def _strict_int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"expected a whole number, got {value!r}")
    return value


def hours(n: int) -> TimeLimit:
    return TimeLimit(n, LimitUnit.HOURS)


def working_days(n: int) -> TimeLimit:
    return TimeLimit(n, LimitUnit.WORKING_DAYS)


def calendar_days(n: int) -> TimeLimit:
    return TimeLimit(n, LimitUnit.CALENDAR_DAYS)


# 12315 online dispute resolution gives an enterprise 10 working days; no local rule may let
# a merchant sit on a complaint longer than that before the regulator sees it.
MERCHANT_RESPONSE_CEILING = working_days(10)


@dataclass(frozen=True)
class Policy:
    """Time limits and reminder lead times. Limit fields are named after `DeadlineKind`s."""

    # Hainan tourism enterprise complaint guide (2025, trial): the enterprise handles a
    # complaint within 24 h. Allowed up to the merchant stage's ceiling.
    merchant_response: TimeLimit = TimeLimit(24, LimitUnit.HOURS)
    # 12315 ODR: the merchant stage ends 10 working days after routing, whatever happens in
    # it (offers, counter-offers); an offer may give the tourist time to answer, never more.
    merchant_stage: TimeLimit = MERCHANT_RESPONSE_CEILING
    # SAMR Order 121: a complaint whose sender does not verify their identity is not accepted.
    # Local policy choice: reminders as for other hour limits, then closed after 72 h.
    identity_verification: TimeLimit = TimeLimit(72, LimitUnit.HOURS)
    # SAMR Order 20 Art. 14: decide whether to accept within 7 working days of receipt.
    acceptance_decision: TimeLimit = TimeLimit(7, LimitUnit.WORKING_DAYS)
    # SAMR Order 20 Art. 21(5): 45 working days from acceptance. A policy choice: Hainan's
    # guide asks for mediation within 48 h and at most 5 working days with the complainant's
    # consent, and Order 121 amends the national period (figure to be verified).
    mediation: TimeLimit = TimeLimit(45, LimitUnit.WORKING_DAYS)
    # SAMR Order 20 Art. 21: both parties are told within 7 working days of the end.
    termination_notice: TimeLimit = TimeLimit(7, LimitUnit.WORKING_DAYS)
    # Local policy choice, not a national rule: how long a tourist may appeal (reopen) a
    # declined or closed case.
    appeal_window: TimeLimit = TimeLimit(15, LimitUnit.CALENDAR_DAYS)
    # Local policy choice after Hainan's "accept, determine, pay, repay" steps.
    recovery_due: TimeLimit = TimeLimit(10, LimitUnit.WORKING_DAYS)
    # Regulations on Travel Agencies Arts. 13-18: top the deposit up within 5 working days.
    deposit_top_up: TimeLimit = TimeLimit(5, LimitUnit.WORKING_DAYS)
    # SAMR Order 20 Art. 15(4): not accepted after 3 years from knowing of the harm.
    complaint_time_bar_years: int = 3
    # Tourism complaints (Order 32, verify): not accepted more than this many days after the
    # travel contract ended. 0: no such bar (the default outside the tourism scope).
    contract_filing_bar_days: int = 0

    # Reminders for limits counted in hours: when this share of the time has elapsed ...
    reminder_percents_elapsed: tuple[int, ...] = (50,)
    # ... and this many hours before the deadline.
    reminder_hours_before: tuple[int, ...] = (2,)
    # Reminders for limits counted in days: this many working days before the due day ...
    reminder_working_days_before: tuple[int, ...] = (1,)
    # ... at this local hour, when the recipient is at work.
    reminder_hour_local: int = 9

    def __post_init__(self) -> None:
        for kind in DeadlineKind:
            limit = self.limit_for(kind)
            if not isinstance(limit, TimeLimit):
                raise ValueError(f"{kind}: expected a TimeLimit, got {limit!r}")
            _require(kind, _is_int_between(limit.amount, 1, None), "must be at least 1")
        _require(
            "merchant_stage",
            _fits_within(self.merchant_stage, MERCHANT_RESPONSE_CEILING),
            f"must not exceed {MERCHANT_RESPONSE_CEILING}",
        )
        _require(
            "merchant_response",
            _fits_within(self.merchant_response, self.merchant_stage),
            f"must not exceed the merchant stage ({self.merchant_stage})",
        )
        _require(
            "complaint_time_bar_years",
            _is_int_between(self.complaint_time_bar_years, 1, None),
            "must be at least 1",
        )
        _require(
            "contract_filing_bar_days",
            _is_int_between(self.contract_filing_bar_days, 0, None),
            "must be 0 (none) or more",
        )
        _require(
            "reminder_percents_elapsed",
            all(_is_int_between(p, 1, 99) for p in self.reminder_percents_elapsed),
            "each must be between 1 and 99",
        )
        for name in ("reminder_hours_before", "reminder_working_days_before"):
            values = getattr(self, name)
            _require(name, all(_is_int_between(n, 1, None) for n in values), "each must be ≥ 1")
        _require(
            "reminder_hour_local",
            _is_int_between(self.reminder_hour_local, 0, 23),
            "must be between 0 and 23",
        )

    def limit_for(self, kind: DeadlineKind) -> TimeLimit:
        return getattr(self, DeadlineKind(kind).value)

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> Policy:
        """Build a policy from configuration keyed by field name; missing keys keep defaults."""
        known = {f.name: f for f in fields(cls)}
        values: dict[str, Any] = {}
        for key, raw in config.items():
            if key not in known:
                raise ValueError(f"unknown policy key {key!r}; known keys: {', '.join(known)}")
            default = known[key].default
            try:
                values[key] = _coerce(raw, default)
            except ValueError as error:
                raise ValueError(f"{key}: {error}") from None
        return cls(**values)


def _coerce(raw: Any, default: Any) -> Any:
    if isinstance(default, TimeLimit):
        return TimeLimit.parse(raw, default.unit)
    if isinstance(default, tuple):
        if isinstance(raw, str | bytes) or not isinstance(raw, list | tuple):
            raise ValueError(f"expected a list of whole numbers, got {raw!r}")
        return tuple(_strict_int(item) for item in raw)
    return _strict_int(raw)


def _is_int_between(value: object, low: int, high: int | None) -> bool:
    if isinstance(value, bool) or not isinstance(value, int):
        return False
    return low <= value and (high is None or value <= high)


def _require(field_name: str, ok: bool, problem: str) -> None:
    if not ok:
        raise ValueError(f"{field_name}: {problem}")


def _fits_within(limit: TimeLimit, ceiling: TimeLimit) -> bool:
    """Whether `limit` always ends no later than `ceiling` counted from the same start.

    n clock hours end no later than n days of either kind, and n calendar days (extended to
    the next working day) no later than n working days; the other mixes cannot be promised.
    """
    if limit.unit is ceiling.unit:
        return limit.amount <= ceiling.amount
    if ceiling.unit is LimitUnit.HOURS:
        return False
    if limit.unit is LimitUnit.HOURS:
        return limit.amount <= ceiling.amount * 24
    return limit.unit is LimitUnit.CALENDAR_DAYS and limit.amount <= ceiling.amount


# Scopes shipped by default. Tourism complaints (国家旅游局令第32号, verify, RULES.md): accept or
# not within 5 working days, mediation within 60 days, and no complaint more than 90 days after
# the travel contract ended. Applied to the travel-agency category everywhere in the province.
DEFAULT_SCOPES: tuple[Mapping[str, Any], ...] = (
    {
        "category": "travel_agency",
        "acceptance_decision": "5 working days",
        "mediation": "60 calendar days",
        "contract_filing_bar_days": 90,
    },
)


@dataclass(frozen=True)
class PolicySet:
    """The province's policy with scoped variations: per agency, per category, or both.

    The most specific scope wins, in the order province -> agency -> category -> agency and
    category; each scope changes only the keys it names. Configuration:
    `{"merchant_response": "24 hours", "scopes": [{"agency": "amr-460200",
    "category": "travel_agency", "mediation": "5 working days"}, ...]}`.
    """

    base: Mapping[str, Any]
    scopes: tuple[Mapping[str, Any], ...] = DEFAULT_SCOPES

    def __post_init__(self) -> None:
        for scope in self.scopes:
            unknown = set(scope) - {"agency", "category"} - {f.name for f in fields(Policy)}
            if unknown:
                raise ValueError(f"scopes: unknown keys {sorted(unknown)}")
            if not scope.get("agency") and not scope.get("category"):
                raise ValueError("scopes: each scope names an agency, a category or both")
            self.resolve(scope.get("agency"), scope.get("category"))  # fails loudly now

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> PolicySet:
        config = dict(config)
        extra = config.pop("scopes", [])
        if not isinstance(extra, list | tuple) or not all(isinstance(s, Mapping) for s in extra):
            raise ValueError("scopes: expected a list of objects")
        Policy.from_mapping(config)
        return cls(config, (*DEFAULT_SCOPES, *extra))

    @property
    def province(self) -> Policy:
        return self.resolve(None, None)

    def resolve(self, agency: str | None, category: str | None) -> Policy:
        merged = dict(self.base)
        for scope in sorted(self.scopes, key=_specificity):
            if _matches(scope, agency, category):
                merged.update({k: v for k, v in scope.items() if k not in ("agency", "category")})
        try:
            return Policy.from_mapping(merged)
        except ValueError as error:
            raise ValueError(
                f"policy for agency {agency!r}, category {category!r}: {error}"
            ) from None


def _specificity(scope: Mapping[str, Any]) -> int:
    return (2 if scope.get("category") else 0) + (1 if scope.get("agency") else 0)


def _matches(scope: Mapping[str, Any], agency: str | None, category: str | None) -> bool:
    wanted_agency, wanted_category = scope.get("agency"), scope.get("category")
    return (not wanted_agency or wanted_agency == agency) and (
        not wanted_category or wanted_category == category
    )
