"""Firing case transitions: the workflow table decides, this module records.

One call checks the table (who may do what, guards, reason, ground), moves the state with an
optimistic lock, writes the hash-chained event, moves the deadlines, and publishes a CaseTransitioned event that the features subscribed at
the composition root (notices, credit, ...) handle — all in the caller's transaction.
"""

from dataclasses import dataclass
from datetime import datetime

from complaints.cases.audit import append_event
from complaints.cases.models import Case, CaseEvent
from complaints.clock import local_today
from complaints.events import CaseTransitioned, publish
from complaints.extensions import db
from complaints.timers import services as timers
from workflows.grounds import order_121_applies
from workflows.machine import CaseFacts, Transition, allowed_triggers, apply_effects, check
from workflows.states import DeadlineKind, Role

STATEFUL_FACTS = ("offer_pending", "appraisal_paused", "escalated")


@dataclass(frozen=True)
class Actor:
    role: Role
    id: str | None = None  # account id, or None for the tourist and the system


SYSTEM = Actor(Role.SYSTEM)


def case_facts(case: Case, now: datetime) -> CaseFacts:
    deadline = timers.open_deadline_for(case.id)
    # A paused clock has not passed, whatever its (old) due time says.
    passed = deadline is not None and deadline.paused_at is None and deadline.due_at <= now
    in_appeal = deadline is not None and deadline.kind is DeadlineKind.APPEAL_WINDOW and not passed
    return CaseFacts(
        # The merchant answers first only if enrolled and the consumer chose it (12315 ODR).
        merchant_participates=case.enterprise.answers_first and case.merchant_first,
        offer_pending=case.offer_pending,
        appraisal_paused=case.appraisal_paused,
        within_appeal_window=in_appeal,
        deadline_passed=passed and deadline.kind is not DeadlineKind.APPEAL_WINDOW,
        escalated=case.escalated,
        received_under_order_121=order_121_applies(local_today(case.created_at)),
    )


def available_actions(case: Case, role: Role, now: datetime) -> list[Transition]:
    """Exactly what the table allows this role now; every UI renders from this."""
    return allowed_triggers(case.state, role, case_facts(case, now))


def fire(
    case: Case,
    trigger: str,
    actor: Actor,
    *,
    now: datetime,
    reason: str | None = None,
    ground: str | None = None,
) -> CaseEvent:
    """Apply one transition or raise workflows.machine.TransitionRefused. Flushes only.

    A concurrent change to the same case raises sqlalchemy.orm.exc.StaleDataError at flush.
    """
    facts = case_facts(case, now)
    transition = check(case.state, trigger, actor.role, facts, reason=reason, ground=ground)
    before = case.state
    after = transition.resulting_state(before)
    new_facts = apply_effects(facts, transition)
    for name in STATEFUL_FACTS:
        setattr(case, name, getattr(new_facts, name))
    if after != before:
        case.state = after
        case.state_entered_at = now
    elif new_facts.appraisal_paused != facts.appraisal_paused:
        # SAMR Art. 20: testing or appraisal time does not count; the clock stands still.
        pause_or_resume = timers.pause_clock if new_facts.appraisal_paused else timers.resume_clock
        pause_or_resume(case.id, now)
    db.session.flush()  # the version check happens here
    event = append_event(
        case,
        trigger=trigger,
        from_state=before,
        to_state=after,
        role=actor.role,
        actor_id=actor.id,
        reason=reason or "",
        ground=str(ground) if ground else None,
        now=now,
    )
    if after != before or transition.starts_deadline is not None:
        timers.open_deadline(
            case.id,
            transition,
            after,
            now,
            stage_entered_at=case.state_entered_at,
            policy=timers.current_policy(case),
        )
    publish(
        CaseTransitioned(
            case=case,
            record=event,
            trigger=trigger,
            from_state=before,
            to_state=after,
            actor_role=actor.role,
            actor_id=actor.id,
            now=now,
        )
    )
    return event


def route(case: Case, now: datetime) -> CaseEvent:
    """Send a verified complaint to the merchant first when enrolled, else to the regulator."""
    facts = case_facts(case, now)
    trigger = "route_to_merchant" if facts.merchant_participates else "route_to_regulator"
    return fire(case, trigger, SYSTEM, now=now)
