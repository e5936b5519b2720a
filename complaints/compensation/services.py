"""Claims: request, decide, and the one way a claim changes state.

Every state change goes through `fire`: the compensation table (workflows.compensation)
decides whether it may happen, a compare-and-set UPDATE on the claim's state makes two
people (or workers) acting at once produce one change, and a hash-chained claim event records
it. Services flush; the request or job commits.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from complaints.cases.models import Case
from complaints.cases.workflow import SYSTEM, Actor
from complaints.compensation import eligibility, ledger
from complaints.compensation.audit import append_claim_event
from complaints.compensation.models import (
    AccountKind,
    Claim,
    ClaimEvent,
    Fund,
    TransactionKind,
)
from complaints.compensation.payee import Payee, mask_account, masked_payee
from complaints.events import ClaimTransitioned, publish
from complaints.extensions import db
from complaints.geo.models import Division
from complaints.outbox.services import add_outbox_message
from workflows.compensation import COMPENSATION_TRANSITIONS, CompensationFacts
from workflows.machine import Transition, allowed_triggers, check
from workflows.states import COMPENSATION_FINAL_STATES, CompensationState, Role

PAY_JOB = "complaints.compensation.jobs.pay_claim"


class ClaimRefused(Exception):
    """The claim is not eligible; `reasons` say why, each with a code and a message."""

    def __init__(self, reasons: list[eligibility.Ineligible]) -> None:
        super().__init__(", ".join(reason.code for reason in reasons))
        self.reasons = reasons


class ClaimConflict(Exception):
    """Someone else changed the claim first (compare-and-set found another state)."""


class ReasonRequired(ValueError):
    pass


def fund_for_case(case: Case) -> Fund | None:
    division = db.session.get(Division, case.division_code)
    return db.session.scalar(select(Fund).where(Fund.division_code == division.city_code))


def live_claim(case_id: int) -> Claim | None:
    return db.session.scalar(
        select(Claim)
        .where(Claim.case_id == case_id, Claim.state != CompensationState.REJECTED)
        .limit(1)
    )


def claim_facts(claim: Claim, now: datetime, **overrides: bool) -> CompensationFacts:
    """The facts the table's guards read; `parties_settled` only its caller can know."""
    recovery = claim.recovery
    deposit = ledger.balance_of(AccountKind.MERCHANT_DEPOSIT, enterprise_id=claim.enterprise_id)
    facts = {
        "small_claim": claim.amount_fen <= claim.fund.small_claim_threshold_fen,
        "payee_known": bool(claim.payee_method and claim.payee_account and claim.payee_name),
        "merchant_has_deposit": deposit >= claim.amount_fen,
        "deadline_passed": recovery is not None and recovery.due_at <= now,
    }
    return CompensationFacts(**(facts | overrides))


def available_claim_actions(claim: Claim, role: Role, now: datetime) -> list[Transition]:
    return allowed_triggers(
        claim.state, role, claim_facts(claim, now), table=COMPENSATION_TRANSITIONS
    )


def fire(
    claim: Claim,
    trigger: str,
    actor: Actor,
    *,
    now: datetime,
    reason: str | None = None,
    facts: CompensationFacts | None = None,
    **values,
) -> ClaimEvent:
    """Apply one claim transition or raise TransitionRefused / ClaimConflict. Flushes only.

    `values` are further claim columns written by the same conditional UPDATE.
    """
    facts = facts or claim_facts(claim, now)
    transition = check(
        claim.state, trigger, actor.role, facts, reason=reason, table=COMPENSATION_TRANSITIONS
    )
    before = claim.state
    after = transition.resulting_state(before)
    if after in COMPENSATION_FINAL_STATES:
        values.setdefault("closed_at", now)
    changed = db.session.execute(
        update(Claim)
        .where(Claim.id == claim.id, Claim.state == before)
        .values(state=after, version=Claim.version + 1, **values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise ClaimConflict(f"claim {claim.id} is no longer {before}")
    db.session.expire(claim)
    record = append_claim_event(
        claim,
        trigger=trigger,
        from_state=before,
        to_state=after,
        role=actor.role,
        actor_id=actor.id,
        reason=reason or "",
        now=now,
    )
    publish(
        ClaimTransitioned(
            claim=claim,
            record=record,
            trigger=trigger,
            from_state=before,
            to_state=after,
            actor_role=actor.role,
            actor_id=actor.id,
            now=now,
        )
    )
    return record


def request_claim(
    case: Case, amount_fen: int, actor: Actor, *, now: datetime, payee: Payee | None = None
) -> Claim:
    """Open a claim; a small one is approved at once and its payout queued (Sanya's track).

    Without a payee the claim waits: no one can approve it until the tourist says where the
    money goes (set_payee)."""
    fund = fund_for_case(case)
    request = eligibility.ClaimRequest(case=case, fund=fund, amount_fen=amount_fen, now=now)
    reasons = eligibility.reasons_not_eligible(request)
    if reasons:
        raise ClaimRefused(reasons)
    claim = Claim(
        case_id=case.id,
        fund_id=fund.id,
        enterprise_id=case.enterprise_id,
        state=CompensationState.REQUESTED,
        amount_fen=amount_fen,
        tourist_phone=case.tourist_phone,
        requested_at=now,
    )
    if payee is not None:
        _record_payee(claim, payee)
    db.session.add(claim)
    db.session.flush()  # a concurrent second claim on the case fails here (unique index)
    # Accounts exist before the hot payout path needs them: no inserts under contention there.
    ledger.account(AccountKind.TOURIST_PAYABLE, fund_id=fund.id)
    ledger.account(
        AccountKind.MERCHANT_RECEIVABLE, fund_id=fund.id, enterprise_id=case.enterprise_id
    )
    append_claim_event(
        claim,
        trigger="request",
        from_state=None,
        to_state=CompensationState.REQUESTED,
        role=actor.role,
        actor_id=actor.id,
        reason=payee_record(claim),
        now=now,
    )
    _approve_if_small(claim, now)
    return claim


def set_payee(claim: Claim, payee: Payee, *, now: datetime) -> None:
    """The tourist gives (or corrects) the account while the claim still waits for approval."""
    if claim.state is not CompensationState.REQUESTED:
        raise ClaimConflict("the payee can only change before approval")
    _record_payee(claim, payee)
    db.session.flush()
    append_claim_event(
        claim,
        trigger="payee_given",
        from_state=claim.state,
        to_state=claim.state,
        role=Role.TOURIST,
        actor_id=None,
        reason=payee_record(claim),
        now=now,
    )
    _approve_if_small(claim, now)


def _record_payee(claim: Claim, payee: Payee) -> None:
    claim.payee_method, claim.payee_account = payee.method.value, payee.account
    claim.payee_name = payee.name


def payee_record(claim: Claim) -> str:
    """For the claim's audit chain: which account, masked (the chain is read widely), plus a
    hash of the full details so a later change of account is detectable."""
    if not claim.payee_method:
        return ""
    full = f"{claim.payee_method}|{claim.payee_account}|{claim.payee_name}".encode()
    digest = hashlib.sha256(full).hexdigest()[:16]
    return f"payee {claim.payee_method} {mask_account(claim.payee_account)} sha256:{digest}"


def _approve_if_small(claim: Claim, now: datetime) -> None:
    facts = claim_facts(claim, now)
    if facts.small_claim and facts.payee_known:
        fire(
            claim,
            "auto_approve",
            SYSTEM,
            now=now,
            reason="within the small-claims threshold",  # the record, not a UI string
            approved_at=now,
            decided_by="system",
        )
        schedule_payout(claim)


def approve(claim: Claim, actor: Actor, *, reason: str, now: datetime) -> ClaimEvent:
    """A fund manager approves a claim above the small-claims limit, saying why."""
    if not (reason or "").strip():
        raise ReasonRequired("a reason is required")
    event = fire(
        claim,
        "approve",
        actor,
        now=now,
        reason=reason.strip(),
        approved_at=now,
        decided_by=actor.id,
        decision_reason=reason.strip(),
    )
    schedule_payout(claim)
    return event


def reject(claim: Claim, actor: Actor, *, reason: str, now: datetime) -> ClaimEvent:
    return fire(
        claim,
        "reject",
        actor,
        now=now,
        reason=(reason or "").strip(),
        decided_by=actor.id,
        decision_reason=(reason or "").strip(),
    )


def schedule_payout(claim: Claim) -> None:
    """The payout leaves through the outbox: only if this transaction commits."""
    add_outbox_message(PAY_JOB, claim.id)


def record_transfer_reference(claim: Claim, reference: str, actor: Actor, *, now: datetime) -> None:
    """Manual backend: a fund manager made the bank transfer; the payout job records it."""
    reference = (reference or "").strip()
    if not reference:
        raise ReasonRequired("a transfer reference is required")
    if actor.role is not Role.FUND_MANAGER:
        raise ClaimConflict("only a fund manager records a transfer")
    changed = db.session.execute(
        update(Claim)
        .where(
            Claim.id == claim.id,
            Claim.state == CompensationState.APPROVED,
            Claim.entered_reference.is_(None),
        )
        .values(entered_reference=reference[:96], entered_reference_by=actor.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise ClaimConflict(f"claim {claim.id} is not waiting for a transfer reference")
    db.session.expire(claim)
    schedule_payout(claim)


def contribute(
    fund: Fund, amount_fen: int, *, key: str, actor: Actor, now: datetime, memo: str = ""
):
    """Money paid into the fund; payouts that stopped for lack of money are queued again."""
    cash = ledger.account(AccountKind.FUND_CASH, fund_id=fund.id)
    source = ledger.account(AccountKind.FUND_CONTRIBUTIONS, fund_id=fund.id)
    transaction = ledger.post(
        TransactionKind.CONTRIBUTION,
        key,
        [ledger.Leg(cash, amount_fen), ledger.Leg(source, -amount_fen)],
        actor_role=actor.role,
        actor_id=actor.id,
        now=now,
        memo=memo,
    )
    waiting = db.session.scalars(
        select(Claim.id).where(
            Claim.fund_id == fund.id,
            Claim.state == CompensationState.APPROVED,
            Claim.payout_note == "insufficient_funds",
        )
    )
    for claim_id in waiting:
        add_outbox_message(PAY_JOB, claim_id)
    return transaction


STATUS_LABELS = {
    CompensationState.REQUESTED: _l("Advance compensation asked for; a fund manager will decide"),
    CompensationState.APPROVED: _l("Advance compensation approved; payment on its way"),
    CompensationState.REJECTED: _l("Advance compensation not granted"),
    CompensationState.PAID: _l("Advance compensation paid"),
    CompensationState.RECOVERY_OPEN: _l("Advance compensation paid"),
    CompensationState.RECOVERED: _l("Advance compensation paid"),
    CompensationState.DEDUCTED: _l("Advance compensation paid"),
    CompensationState.OVERDUE: _l("Advance compensation paid"),
    CompensationState.RETURNED: _l("Advance compensation paid; you and the merchant settled"),
}


@dataclass(frozen=True)
class CompensationSummary:
    state: CompensationState
    label: object
    amount_fen: int
    paid_at: datetime | None
    reason: str
    payee: str = ""  # masked: "Alipay 138****5678 (张*)"
    needs_payee: bool = False  # waiting for the tourist to say where the money goes


def compensation_summary(case: Case) -> CompensationSummary | None:
    """What the tourist sees: never how the fund recovers the money from the merchant."""
    claim = live_claim(case.id) or db.session.scalar(
        select(Claim).where(Claim.case_id == case.id).order_by(Claim.id.desc()).limit(1)
    )
    if claim is None:
        return None
    reason = claim.decision_reason if claim.state is CompensationState.REJECTED else ""
    return CompensationSummary(
        claim.state,
        STATUS_LABELS[claim.state],
        claim.amount_fen,
        claim.paid_at,
        reason,
        payee=masked_payee(claim),
        needs_payee=claim.state is CompensationState.REQUESTED and not claim.payee_method,
    )
