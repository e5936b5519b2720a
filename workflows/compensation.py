"""The advance-compensation track: a claim paid from the public fund, then recovered.

It runs beside a case (from merchant_response, regulator_review or mediation) and uses the
same engine as the case machine: pass `table=COMPENSATION_TRANSITIONS` to `allowed_triggers`
and `check`, and a `CompensationFacts` as the facts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from workflows.machine import Facts, Guard, Transition, row, validate_table
from workflows.states import CaseState, DeadlineKind, Role
from workflows.states import CompensationState as C

# A claim may be opened while someone still owes the tourist an answer on the case.
CASE_STATES_ALLOWING_CLAIMS: frozenset[CaseState] = frozenset(
    {CaseState.MERCHANT_RESPONSE, CaseState.REGULATOR_REVIEW, CaseState.MEDIATION}
)


@dataclass(frozen=True)
class CompensationFacts(Facts):
    # Within the small-claims limit: Sanya's 2024 track pays at once without review.
    small_claim: bool = False
    # The tourist said where the money goes (an Alipay, WeChat Pay or bank account).
    payee_known: bool = False
    merchant_has_deposit: bool = False
    # Tourist and merchant settled after the payout, so the money goes back to the fund.
    parties_settled: bool = False
    deadline_passed: bool = False

    STATE_SCOPED: ClassVar[frozenset[str]] = frozenset({"deadline_passed"})


# fmt: off
COMPENSATION_TRANSITIONS: tuple[Transition, ...] = (
    row("approve", [C.REQUESTED], C.APPROVED, [Role.FUND_MANAGER],
        guards=(Guard("payee_known"),)),
    row("auto_approve", [C.REQUESTED], C.APPROVED, [Role.SYSTEM],
        guards=(Guard("small_claim"), Guard("payee_known"))),
    row("reject", [C.REQUESTED], C.REJECTED, [Role.FUND_MANAGER], reason_required=True),
    row("pay", [C.APPROVED], C.PAID, [Role.SYSTEM]),
    row("open_recovery", [C.PAID], C.RECOVERY_OPEN, [Role.SYSTEM],
        starts_deadline=DeadlineKind.RECOVERY_DUE),
    # A merchant's typed transfer reference is only a claim: the fund manager rejects one that
    # matches no money received, and the due date keeps running meanwhile.
    row("reject_repayment_reference", [C.RECOVERY_OPEN, C.OVERDUE], None, [Role.FUND_MANAGER],
        reason_required=True),
    # An overdue merchant can still repay, or be charged against its deposit.
    row("confirm_repayment", [C.RECOVERY_OPEN, C.OVERDUE], C.RECOVERED, [Role.FUND_MANAGER]),
    row("deduct_deposit", [C.RECOVERY_OPEN, C.OVERDUE], C.DEDUCTED, [Role.FUND_MANAGER],
        guards=(Guard("merchant_has_deposit"),),
        starts_deadline=DeadlineKind.DEPOSIT_TOP_UP),
    row("mark_overdue", [C.RECOVERY_OPEN], C.OVERDUE, [Role.SYSTEM],
        guards=(Guard("deadline_passed"),)),
    row("return_to_fund", [C.PAID, C.RECOVERY_OPEN], C.RETURNED, [Role.SYSTEM],
        guards=(Guard("parties_settled"),)),
)
# fmt: on

validate_table(COMPENSATION_TRANSITIONS, CompensationFacts)
