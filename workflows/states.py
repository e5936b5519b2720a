"""The workflow vocabulary: case states, compensation states, roles and deadline kinds.

Values are stored in the database and sent over the API, so they are stable lowercase
identifiers; user-facing labels are translated by the application.
"""

from enum import StrEnum


class CaseState(StrEnum):
    SUBMITTED = "submitted"
    MERCHANT_RESPONSE = "merchant_response"
    REGULATOR_REVIEW = "regulator_review"
    MEDIATION = "mediation"
    RESOLVED = "resolved"
    DECLINED = "declined"
    TERMINATED = "terminated"
    WITHDRAWN = "withdrawn"
    CLOSED = "closed"


# Someone still owes the tourist an answer: a deadline runs and the tourist may withdraw.
OPEN_STATES: frozenset[CaseState] = frozenset(
    {
        CaseState.SUBMITTED,
        CaseState.MERCHANT_RESPONSE,
        CaseState.REGULATOR_REVIEW,
        CaseState.MEDIATION,
    }
)

# Handling has ended with an outcome. Only closing and an appeal (reopen) lead out of them.
FINAL_STATES: frozenset[CaseState] = frozenset(CaseState) - OPEN_STATES


class Role(StrEnum):
    TOURIST = "tourist"
    MERCHANT = "merchant"
    HANDLER = "handler"  # regulator staff handling the case
    SUPERVISOR = "supervisor"  # regulator staff above the handler; receives escalations
    FUND_MANAGER = "fund_manager"  # runs the advance-compensation fund
    ADMIN = "admin"  # configures the system; fires no case transitions
    INSPECTOR = "inspector"  # inspects outlets on site; fires no case transitions
    SYSTEM = "system"  # timers, routing and automatic rules


class CompensationState(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    PAID = "paid"
    RECOVERY_OPEN = "recovery_open"
    RECOVERED = "recovered"
    DEDUCTED = "deducted"  # recovered from the merchant's quality guarantee deposit
    OVERDUE = "overdue"
    RETURNED = "returned"  # paid money flowed back to the fund because the parties settled


COMPENSATION_FINAL_STATES: frozenset[CompensationState] = frozenset(
    {
        CompensationState.REJECTED,
        CompensationState.RECOVERED,
        CompensationState.DEDUCTED,
        CompensationState.RETURNED,
    }
)


class DeadlineKind(StrEnum):
    """A time limit a transition starts. Each kind is also the name of its `Policy` field."""

    MERCHANT_RESPONSE = "merchant_response"
    # The whole merchant stage (12315 online dispute resolution): a ceiling counted from
    # routing that no offer or answer moves, never a deadline of its own.
    MERCHANT_STAGE = "merchant_stage"
    # Order 121: a complaint whose sender never verifies their identity is not accepted.
    IDENTITY_VERIFICATION = "identity_verification"
    ACCEPTANCE_DECISION = "acceptance_decision"
    MEDIATION = "mediation"
    TERMINATION_NOTICE = "termination_notice"
    APPEAL_WINDOW = "appeal_window"
    RECOVERY_DUE = "recovery_due"
    DEPOSIT_TOP_UP = "deposit_top_up"
