"""The deployment's credit policy: engine defaults, changed by app config `CREDIT_POLICY`."""

from flask import current_app

from complaints.credit.engine import CreditPolicy


def current_credit_policy() -> CreditPolicy:
    policy = current_app.extensions.get("anxin_credit_policy")
    if policy is None:
        policy = CreditPolicy.from_mapping(current_app.config.get("CREDIT_POLICY") or {})
        current_app.extensions["anxin_credit_policy"] = policy
    return policy
