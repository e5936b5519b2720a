"""The deployment's credit policy: engine defaults, changed by app config `CREDIT_POLICY` and
then by an admin's dated policy versions (complaints.policies)."""

from complaints.credit.engine import CreditPolicy


def current_credit_policy() -> CreditPolicy:
    from complaints.policies.services import CREDIT, policy_at

    return policy_at(CREDIT)
