"""Alert thresholds: policy values with these defaults, changed by app config `ALERT_POLICY`
(a JSON object of the fields below), never constants in the rules."""

from dataclasses import dataclass, fields

from flask import current_app


@dataclass(frozen=True)
class AlertPolicy:
    # A merchant with this many complaints filed within `burst_days`.
    burst_complaints: int = 5
    burst_days: int = 7
    # Category or division: last 7 days against the mean week of the `baseline_weeks` before,
    # raised when P(X >= observed | Poisson(mean)) < `baseline_p` and observed >= the minimum.
    baseline_weeks: int = 8
    baseline_p: float = 0.01
    baseline_min_count: int = 5
    baseline_floor: float = 0.5  # a baseline of zero would make any complaint "significant"
    # One phone filing against this many different merchants within `phone_days`.
    phone_merchants: int = 3
    phone_days: int = 30
    # This many different phones against one merchant within `ring_hours`.
    ring_phones: int = 5
    ring_hours: int = 24
    # A fund's payouts in the last 7 days above `outflow_factor` x its mean week before,
    # and above `outflow_min_fen` (small funds have noisy weeks).
    outflow_weeks: int = 8
    outflow_factor: float = 3.0
    outflow_min_fen: int = 500_000
    # A trusted merchant's outlet scanned less than `scan_drop_share` of its usual week,
    # where the usual week (mean of `scan_weeks`) had at least `scan_min_weekly` scans.
    scan_weeks: int = 4
    scan_drop_share: float = 0.3
    scan_min_weekly: int = 20

    @classmethod
    def from_mapping(cls, values: dict) -> "AlertPolicy":
        known = {f.name: f.type for f in fields(cls)}
        unknown = set(values) - set(known)
        if unknown:
            raise ValueError(f"ALERT_POLICY: unknown field(s) {', '.join(sorted(unknown))}")
        return cls(**values)


def current_alert_policy() -> AlertPolicy:
    policy = current_app.extensions.get("anxin_alert_policy")
    if policy is None:
        policy = AlertPolicy.from_mapping(current_app.config.get("ALERT_POLICY") or {})
        current_app.extensions["anxin_alert_policy"] = policy
    return policy
