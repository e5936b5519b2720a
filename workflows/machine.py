"""The case state machine, as data.

`CASE_TRANSITIONS` is the single source of truth for who may do what in which state, under
which conditions, with which justification, and which time limit starts. Code elsewhere asks
`allowed_triggers` (what to offer in a UI) and `check` (may this happen?) instead of testing
states itself. The same functions run the compensation track when given its table
(see `workflows.compensation`).

The machine is pure: it neither stores nor records anything. The caller builds the facts its
guards read, fires the transition, writes the case event, and then uses `apply_effects` to
learn the facts that follow.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields, replace
from enum import StrEnum
from typing import Any, ClassVar, TypeVar

from workflows.grounds import DeclineGround, TerminationGround
from workflows.states import OPEN_STATES, CaseState, DeadlineKind, Role


@dataclass(frozen=True)
class Guard:
    """A condition on one boolean fact: `Guard("offer_pending")` or `Guard("x", False)`."""

    fact: str
    expected: bool = True

    @property
    def name(self) -> str:
        return self.fact if self.expected else f"not_{self.fact}"

    def holds(self, facts: Facts) -> bool:
        return getattr(facts, self.fact) is self.expected


@dataclass(frozen=True)
class Transition:
    trigger: str
    sources: frozenset[StrEnum]
    target: StrEnum | None  # None: the state stays, only an event is recorded
    roles: frozenset[Role]
    guards: tuple[Guard, ...] = ()
    reason_required: bool = False
    ground_type: type[StrEnum] | None = None  # set: a ground of this enum is required
    starts_deadline: DeadlineKind | None = None
    sets: tuple[tuple[str, bool], ...] = ()  # facts that hold after this transition
    # Grounds that may be cited only while a fact holds, e.g. "time limit reached" only once
    # the limit has passed: ((ground value, Guard), ...).
    ground_guards: tuple[tuple[str, Guard], ...] = ()
    # The deadline running in the source state keeps running in the target state (a declined
    # case closed early keeps the tourist's appeal window).
    carries_deadline: bool = False

    @property
    def ground_required(self) -> bool:
        return self.ground_type is not None

    @property
    def is_self_transition(self) -> bool:
        return self.target is None

    @property
    def guard_names(self) -> tuple[str, ...]:
        return tuple(guard.name for guard in self.guards)

    def grounds_allowed(self, facts: Facts) -> list[StrEnum]:
        """The grounds this transition may cite now, in enum order (empty if it takes none)."""
        if self.ground_type is None:
            return []
        blocked = {value for value, guard in self.ground_guards if not guard.holds(facts)}
        return [ground for ground in self.ground_type if ground.value not in blocked]

    def resulting_state(self, source: StrEnum) -> StrEnum:
        return source if self.target is None else self.target


class RefusalCode(StrEnum):
    UNKNOWN_TRIGGER = "unknown_trigger"
    WRONG_STATE = "wrong_state"
    ROLE_NOT_ALLOWED = "role_not_allowed"
    GUARD_FAILED = "guard_failed"
    REASON_REQUIRED = "reason_required"
    GROUND_REQUIRED = "ground_required"
    BAD_GROUND = "bad_ground"


class TransitionRefused(Exception):
    """A transition may not happen. `code` is for machines, the message for people."""

    def __init__(
        self, code: RefusalCode, message: str, *, trigger: str, state: object, role: object
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.trigger = trigger
        self.state = state
        self.role = role


@dataclass(frozen=True)
class Facts:
    """Base for the facts a table's guards read: every field is a plain bool."""

    # Facts about the current state: they no longer hold once the state changes.
    STATE_SCOPED: ClassVar[frozenset[str]] = frozenset()

    def __post_init__(self) -> None:
        # A guard compares with `is True`: a 1 or None here would refuse without saying why.
        for f in fields(self):
            if not isinstance(getattr(self, f.name), bool):
                raise TypeError(f"{type(self).__name__}.{f.name} must be a bool")


FactsT = TypeVar("FactsT", bound=Facts)


@dataclass(frozen=True)
class CaseFacts(Facts):
    """What the guards of the case table may read; the caller derives it from the case."""

    # The outlet's merchant is enrolled and answers complaints on the platform.
    merchant_participates: bool = False
    offer_pending: bool = False
    appraisal_paused: bool = False
    within_appeal_window: bool = False
    # The deadline started on entering the current state has passed (pauses already added).
    deadline_passed: bool = False
    # Received on or after 2026-04-15: SAMR Order 121's grounds apply (false identity).
    received_under_order_121: bool = False
    escalated: bool = False  # already escalated since entering the current state

    STATE_SCOPED: ClassVar[frozenset[str]] = frozenset(
        {"offer_pending", "appraisal_paused", "deadline_passed", "escalated"}
    )


def apply_effects(facts: FactsT, transition: Transition) -> FactsT:
    """The facts after `transition`: state-scoped facts reset on a state change, then `sets`."""
    changes: dict[str, bool] = {}
    if not transition.is_self_transition:
        defaults = {f.name: f.default for f in fields(facts)}
        changes.update({name: defaults[name] for name in type(facts).STATE_SCOPED})
    changes.update(dict(transition.sets))
    return replace(facts, **changes)


def row(
    trigger: str,
    sources: Iterable[StrEnum],
    target: StrEnum | None,
    roles: Iterable[Role],
    **options: Any,
) -> Transition:
    """Build a table row from any iterables; the table reads better without frozenset noise."""
    return Transition(trigger, frozenset(sources), target, frozenset(roles), **options)


REGULATORS = (Role.HANDLER, Role.SUPERVISOR)
S = CaseState

# Filing is not a table transition (there is no source state): it starts this deadline, the
# time the complainant has to verify their identity before the complaint lapses (Order 121).
FILING_STARTS_DEADLINE = DeadlineKind.IDENTITY_VERIFICATION

# fmt: off
CASE_TRANSITIONS: tuple[Transition, ...] = (
    # Routing: an enrolled merchant gets the first chance to settle (12315 online dispute
    # resolution); otherwise the complaint goes straight to the competent regulator.
    row("route_to_merchant", [S.SUBMITTED], S.MERCHANT_RESPONSE, [Role.SYSTEM],
        guards=(Guard("merchant_participates"),),
        starts_deadline=DeadlineKind.MERCHANT_RESPONSE),
    row("route_to_regulator", [S.SUBMITTED], S.REGULATOR_REVIEW, [Role.SYSTEM],
        starts_deadline=DeadlineKind.ACCEPTANCE_DECISION),
    # The merchant's turn.
    row("merchant_refund", [S.MERCHANT_RESPONSE], S.RESOLVED, [Role.MERCHANT]),
    # An offer restarts the clock: the tourist gets the same time to answer it that the
    # merchant had, so a late offer cannot leave the tourist minutes to decide. The state's
    # ceiling (STAGE_CEILINGS) still ends the stage: offers cannot hold a case forever.
    row("merchant_offer", [S.MERCHANT_RESPONSE], None, [Role.MERCHANT],
        sets=(("offer_pending", True),), starts_deadline=DeadlineKind.MERCHANT_RESPONSE),
    row("tourist_accept_offer", [S.MERCHANT_RESPONSE], S.RESOLVED, [Role.TOURIST],
        guards=(Guard("offer_pending"),)),
    row("tourist_reject_offer", [S.MERCHANT_RESPONSE], S.REGULATOR_REVIEW, [Role.TOURIST],
        guards=(Guard("offer_pending"),),
        starts_deadline=DeadlineKind.ACCEPTANCE_DECISION),
    row("merchant_dispute", [S.MERCHANT_RESPONSE], S.REGULATOR_REVIEW, [Role.MERCHANT],
        reason_required=True, starts_deadline=DeadlineKind.ACCEPTANCE_DECISION),
    # Silence is the merchant's only when no offer awaits the tourist: an unanswered offer
    # goes to the regulator too, but is not scored as the merchant's silence.
    row("merchant_deadline_passed", [S.MERCHANT_RESPONSE], S.REGULATOR_REVIEW, [Role.SYSTEM],
        guards=(Guard("deadline_passed"), Guard("offer_pending", False)),
        starts_deadline=DeadlineKind.ACCEPTANCE_DECISION),
    row("offer_unanswered", [S.MERCHANT_RESPONSE], S.REGULATOR_REVIEW, [Role.SYSTEM],
        guards=(Guard("deadline_passed"), Guard("offer_pending")),
        starts_deadline=DeadlineKind.ACCEPTANCE_DECISION),
    # The regulator decides whether to accept (Art. 14) and mediates (Arts. 16-22).
    row("assign", [S.REGULATOR_REVIEW, S.MEDIATION], None, REGULATORS),
    row("accept", [S.REGULATOR_REVIEW], S.MEDIATION, REGULATORS,
        starts_deadline=DeadlineKind.MEDIATION),
    row("decline", [S.REGULATOR_REVIEW], S.DECLINED, REGULATORS,
        ground_type=DeclineGround, starts_deadline=DeadlineKind.APPEAL_WINDOW,
        ground_guards=((DeclineGround.FALSE_IDENTITY.value, Guard("received_under_order_121")),)),
    # Order 121: a complaint whose sender never verifies their identity is not accepted; it
    # never sits in "submitted" for ever. The tick gives the ground in force at receipt.
    row("identity_not_verified", [S.SUBMITTED], S.DECLINED, [Role.SYSTEM],
        guards=(Guard("deadline_passed"),), ground_type=DeclineGround,
        starts_deadline=DeadlineKind.APPEAL_WINDOW),
    # Transfer to the competent agency keeps the case in place; the receiving agency sees it
    # in its queue. The reason is the legal record of why this agency let it go.
    row("transfer", [S.SUBMITTED, S.MEDIATION], None, REGULATORS, reason_required=True),
    # The receiving agency decides on acceptance within its own full time (Art. 14 counts
    # from its receipt), and has not been escalated for the sender's delay.
    row("transfer", [S.REGULATOR_REVIEW], None, REGULATORS, reason_required=True,
        starts_deadline=DeadlineKind.ACCEPTANCE_DECISION, sets=(("escalated", False),)),
    # Art. 20: testing and appraisal time does not count toward the mediation limit.
    row("pause_for_appraisal", [S.MEDIATION], None, [Role.HANDLER],
        guards=(Guard("appraisal_paused", False),), sets=(("appraisal_paused", True),)),
    row("resume_after_appraisal", [S.MEDIATION], None, [Role.HANDLER],
        guards=(Guard("appraisal_paused"),), sets=(("appraisal_paused", False),)),
    row("record_agreement", [S.MEDIATION], S.RESOLVED, [Role.HANDLER]),
    # Art. 21(5) "time limit reached" only once the mediation limit has actually passed.
    row("terminate", [S.MEDIATION], S.TERMINATED, REGULATORS,
        ground_type=TerminationGround, starts_deadline=DeadlineKind.TERMINATION_NOTICE,
        ground_guards=((TerminationGround.TIME_LIMIT_REACHED.value, Guard("deadline_passed")),)),
    # A late regulator is reported to the supervisor once per state. A terminated case is not:
    # both parties are told in the termination's own transaction (Art. 21's notice), so when
    # the notice limit runs out the system closes it instead (see the tick).
    row("escalate", [S.REGULATOR_REVIEW, S.MEDIATION], None, [Role.SYSTEM],
        guards=(Guard("deadline_passed"), Guard("escalated", False)),
        sets=(("escalated", True),)),
    row("withdraw", OPEN_STATES, S.WITHDRAWN, [Role.TOURIST]),
    # Duplicates: the copy is closed with a pointer to the case that carries on; both keep
    # their timelines, and the surviving case records what it absorbed.
    row("merge_into", OPEN_STATES, S.CLOSED, REGULATORS, reason_required=True),
    row("absorb_duplicate", OPEN_STATES, None, REGULATORS, reason_required=True),
    # The appeal window of a declined case runs from the decline, so closing it neither
    # restarts nor ends the window; other outcomes start theirs when the case is closed.
    row("close", [S.DECLINED], S.CLOSED, [*REGULATORS, Role.SYSTEM], carries_deadline=True),
    row("close", [S.RESOLVED, S.TERMINATED, S.WITHDRAWN], S.CLOSED, [*REGULATORS, Role.SYSTEM],
        starts_deadline=DeadlineKind.APPEAL_WINDOW),
    row("reopen", [S.CLOSED, S.DECLINED], S.REGULATOR_REVIEW, [Role.TOURIST, *REGULATORS],
        guards=(Guard("within_appeal_window"),), reason_required=True,
        starts_deadline=DeadlineKind.ACCEPTANCE_DECISION),
)
# fmt: on

# A state whose whole stay is capped, counted from entering it: every deadline started in it
# (including restarts by self-transitions) ends by then at the latest.
STAGE_CEILINGS: dict[StrEnum, DeadlineKind] = {S.MERCHANT_RESPONSE: DeadlineKind.MERCHANT_STAGE}


def allowed_triggers(
    state: StrEnum, role: Role, facts: Facts, *, table: tuple[Transition, ...] = CASE_TRANSITIONS
) -> list[Transition]:
    """The transitions `role` may fire now, in table order; reason and ground are asked later."""
    return [
        t
        for t in table
        if state in t.sources and role in t.roles and all(g.holds(facts) for g in t.guards)
    ]


def check(
    state: StrEnum,
    trigger: str,
    role: Role,
    facts: Facts,
    *,
    reason: str | None = None,
    ground: StrEnum | str | None = None,
    table: tuple[Transition, ...] = CASE_TRANSITIONS,
) -> Transition:
    """The transition `trigger` names, or `TransitionRefused` saying why it may not happen."""

    def refuse(code: RefusalCode, detail: str) -> TransitionRefused:
        where = f"trigger {trigger!r} in state {str(state)!r} by role {str(role)!r}"
        return TransitionRefused(
            code, f"Refused {where}: {detail}", trigger=trigger, state=state, role=role
        )

    rows = [t for t in table if t.trigger == trigger]
    if not rows:
        raise refuse(RefusalCode.UNKNOWN_TRIGGER, "no such trigger.")
    matching = [t for t in rows if state in t.sources]
    if not matching:
        sources = _names(source for t in rows for source in t.sources)
        raise refuse(RefusalCode.WRONG_STATE, f"it applies only in {sources}.")
    transition = matching[0]
    if role not in transition.roles:
        raise refuse(RefusalCode.ROLE_NOT_ALLOWED, f"only {_names(transition.roles)} may fire it.")
    failed = [g.name for g in transition.guards if not g.holds(facts)]
    if failed:
        raise refuse(RefusalCode.GUARD_FAILED, f"condition {_names(failed)} does not hold.")
    if transition.reason_required and not (reason and reason.strip()):
        raise refuse(RefusalCode.REASON_REQUIRED, "a reason is required.")
    _check_ground(transition, ground, refuse)
    for value, guard in transition.ground_guards:
        if ground is not None and str(ground) == value and not guard.holds(facts):
            raise refuse(
                RefusalCode.GUARD_FAILED,
                f"ground {value!r} needs condition {guard.name}, which does not hold.",
            )
    return transition


def _check_ground(
    transition: Transition,
    ground: StrEnum | str | None,
    refuse: Callable[[RefusalCode, str], TransitionRefused],
) -> None:
    expected = transition.ground_type
    if expected is None:
        if ground is not None:
            raise refuse(RefusalCode.BAD_GROUND, f"it takes no ground, got {str(ground)!r}.")
        return
    if ground is None:
        raise refuse(RefusalCode.GROUND_REQUIRED, f"a {expected.__name__} is required.")
    # A member of another enum can share a value with one of ours; it is still the wrong ground.
    wrong_enum = isinstance(ground, StrEnum) and not isinstance(ground, expected)
    if wrong_enum or ground not in {member.value for member in expected}:
        raise refuse(
            RefusalCode.BAD_GROUND,
            f"{str(ground)!r} is not a {expected.__name__}; expected one of {_names(expected)}.",
        )


def _names(values: Iterable[object]) -> str:
    return ", ".join(sorted({str(v) for v in values}))


def validate_table(table: tuple[Transition, ...], facts_type: type) -> None:
    """Raise ValueError if a table is ambiguous or names facts `facts_type` does not have."""
    fact_names = {f.name for f in fields(facts_type)}
    seen: set[tuple[str, StrEnum]] = set()
    for t in table:
        for source in t.sources:
            if (t.trigger, source) in seen:
                raise ValueError(f"two rows for trigger {t.trigger!r} in state {source!r}")
            seen.add((t.trigger, source))
        unknown = (
            {g.fact for g in t.guards}
            | {name for name, _ in t.sets}
            | {g.fact for _, g in t.ground_guards}
        )
        if unknown - fact_names:
            raise ValueError(f"{t.trigger!r} names unknown facts {sorted(unknown - fact_names)}")
        if not t.roles or not t.sources:
            raise ValueError(f"{t.trigger!r} has no roles or no source states")
        if t.is_self_transition and t.starts_deadline is not None:
            # A self-transition may only restart the clock its state already runs on.
            entering = {row.starts_deadline for row in table if row.target in t.sources}
            if t.starts_deadline not in entering:
                raise ValueError(
                    f"self-transition {t.trigger!r} may only restart its state's deadline"
                )


validate_table(CASE_TRANSITIONS, CaseFacts)


__all__ = [
    "CASE_TRANSITIONS",
    "FILING_STARTS_DEADLINE",
    "STAGE_CEILINGS",
    "CaseFacts",
    "Facts",
    "Guard",
    "RefusalCode",
    "Transition",
    "TransitionRefused",
    "allowed_triggers",
    "apply_effects",
    "check",
    "row",
    "validate_table",
]
