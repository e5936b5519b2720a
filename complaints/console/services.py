"""A regulator's actions on a case: the workflow table decides, these add what the table
does not carry (who is assigned, which agency holds the case, what was agreed). Flush only."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select

from complaints.accounts.models import Account, AccountRole
from complaints.agencies.models import Agency
from complaints.cases.models import Case, CaseEvent
from complaints.cases.workflow import Actor, available_actions, case_facts, fire
from complaints.extensions import db
from complaints.presentation import format_money, yuan_to_fen
from workflows.machine import RefusalCode, Transition, TransitionRefused, check


@dataclass(frozen=True)
class ActionInput:
    reason: str | None = None
    ground: str | None = None
    handler_id: int | None = None
    agency_id: int | None = None
    amount: Decimal | None = None
    terms: str | None = None


def actor_for(account: Account) -> Actor:
    return Actor(role=account.role.workflow_role, id=str(account.id))


def ensure_available(case: Case, trigger: str, account: Account, now: datetime) -> Transition:
    """The transition if the table offers it to this account now, else TransitionRefused.

    When a trigger is not on offer, the table's own check says why: its state, role and guard
    tests come before the reason and ground tests, so it refuses for the right cause.
    """
    role = account.role.workflow_role
    for transition in available_actions(case, role, now):
        if transition.trigger == trigger:
            return transition
    check(case.state, trigger, role, case_facts(case, now))
    raise TransitionRefused(  # unreachable while the table and allowed_triggers agree
        RefusalCode.GUARD_FAILED,
        f"Refused trigger {trigger!r}: not available.",
        trigger=trigger,
        state=case.state,
        role=role,
    )


def perform(
    case: Case, trigger: str, account: Account, data: ActionInput, now: datetime
) -> CaseEvent:
    actor = actor_for(account)
    if trigger == "assign":
        return assign_case(case, actor, data.handler_id, data.reason, now)
    if trigger == "transfer":
        return transfer_case(case, actor, data.agency_id, data.reason, now)
    if trigger == "record_agreement":
        return record_agreement(case, actor, data.amount, data.terms, now)
    if trigger == "take_over":  # the signed-in supervisor's own, higher agency takes it
        return take_over_case(case, actor, account.agency, data.reason, now)
    return fire(case, trigger, actor, now=now, reason=data.reason, ground=data.ground)


def assign_case(
    case: Case, actor: Actor, handler_id: int | None, note: str | None, now: datetime
) -> CaseEvent:
    handler = db.session.scalar(
        select(Account).where(
            Account.id == handler_id,
            Account.agency_id == case.agency_id,  # never a handler of another agency
            Account.role == AccountRole.HANDLER,
            Account.active.is_(True),
        )
    )
    if handler is None:
        raise TransitionRefused(
            RefusalCode.BAD_GROUND,
            "Refused trigger 'assign': choose an active handler of this agency.",
            trigger="assign",
            state=case.state,
            role=actor.role,
        )
    reason = f"Assigned to {handler.name}" + (f": {note}" if note else "")
    event = fire(case, "assign", actor, now=now, reason=reason)
    case.handler_id = handler.id
    db.session.flush()
    return event


def transfer_case(
    case: Case, actor: Actor, agency_id: int | None, reason: str | None, now: datetime
) -> CaseEvent:
    """Hand the case to the competent agency; it leaves this agency's queue for theirs."""
    target = db.session.get(Agency, agency_id) if agency_id else None
    if target is None or target.id == case.agency_id:
        raise TransitionRefused(
            RefusalCode.BAD_GROUND,
            "Refused trigger 'transfer': choose another agency.",
            trigger="transfer",
            state=case.state,
            role=actor.role,
        )
    record = f"Transferred to {target.name_zh} ({target.slug}): {reason}" if reason else None
    # The case moves before the event is announced, so "new in your queue" reaches the
    # receiving agency's duty inbox and the tourist hears which agency has the case now.
    previous_agency, previous_handler = case.agency, case.handler
    case.agency, case.handler = target, None  # the handler belonged to the agency letting go
    try:
        event = fire(case, "transfer", actor, now=now, reason=record)
    except TransitionRefused:
        case.agency, case.handler = previous_agency, previous_handler
        raise
    db.session.flush()
    return event


def take_over_case(
    case: Case, actor: Actor, agency: Agency, reason: str | None, now: datetime
) -> CaseEvent:
    """SAMR Art. 12: a higher regulator takes the case over from the agency below it."""
    from complaints.agencies.routing import division_chain

    holder = case.agency
    above = holder is not None and agency.division_code in division_chain(holder.division_code)
    if not above or agency.id == holder.id:
        raise TransitionRefused(
            RefusalCode.BAD_GROUND,
            "Refused trigger 'take_over': only an agency above the one holding the case may.",
            trigger="take_over",
            state=case.state,
            role=actor.role,
        )
    record = f"Taken over by {agency.name_zh} ({agency.slug}) from {holder.slug}: {reason}"
    case.agency, case.handler = agency, None
    try:
        event = fire(case, "take_over", actor, now=now, reason=record if reason else None)
    except TransitionRefused:
        case.agency = holder
        raise
    db.session.flush()
    return event


def record_agreement(
    case: Case, actor: Actor, amount: Decimal | None, terms: str | None, now: datetime
) -> CaseEvent:
    """Art. 22: the agreement reached in mediation, on the record with its amount and terms."""
    reason = f"Agreement: {format_money(yuan_to_fen(amount or Decimal(0)))} — {terms or ''}"
    return fire(case, "record_agreement", actor, now=now, reason=reason.strip())
