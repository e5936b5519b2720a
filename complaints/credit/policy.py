"""The deployment's credit policy: engine defaults, changed by app config `CREDIT_POLICY` and
then by an admin's dated policy versions (complaints.policies)."""

from datetime import datetime

from complaints.credit.engine import CreditPolicy
from complaints.policies.services import CREDIT, cached, environment_values, versioned_values


def current_credit_policy(at: datetime | None = None) -> CreditPolicy:
    values = versioned_values(CREDIT, at)
    if values is None:
        values = environment_values(CREDIT)
    return cached(CREDIT, values, CreditPolicy.from_mapping)
