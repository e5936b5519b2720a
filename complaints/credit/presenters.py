"""Labels and the score chart's geometry, so templates only place what is computed here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l

from complaints.credit.engine import CreditEventKind, CreditPolicy

K = CreditEventKind

KIND_LABELS = {
    K.COMPLAINT_SUBSTANTIATED: _l("Complaint substantiated"),
    K.SETTLED_IN_TIME: _l("Settled within the merchant deadline"),
    K.DEADLINE_MISSED: _l("Merchant deadline missed"),
    K.MEDIATION_REFUSED: _l("Mediation refused"),
    K.COMPENSATION_PAID: _l("Compensation paid on the merchant's behalf"),
    K.RECOVERY_REPAID_ON_TIME: _l("Compensation fund repaid on time"),
    K.RECOVERY_OVERDUE: _l("Repayment to the compensation fund overdue"),
    K.COMPLAINT_FREE_PERIOD: _l("Complaint-free period"),
    K.SERIOUS_LISTED: _l("Put on the serious illegal and dishonest list"),
    K.INSPECTION_PASSED: _l("On-site inspection: compliant"),
    K.INSPECTION_RECTIFY: _l("On-site inspection: rectification ordered"),
    K.RECTIFICATION_OVERDUE: _l("Rectification not done by its date"),
    K.INSPECTION_REFERRED: _l("On-site inspection: referred for a penalty"),
    K.REPAIR_GRANTED: _l("Credit repair granted"),
    K.SERIOUS_LIST_REMOVED: _l("Removed early from the serious list"),
}

LIST_REASONS = {
    "meets_rules": _l("Grade A or B, not on the serious list, no overdue repayment"),
    "grade_too_low": _l("Grade below B"),
    "serious_list": _l("On the serious illegal and dishonest list"),
    "overdue_recovery": _l("A repayment to the compensation fund is overdue"),
}

# Colour and text colour per grade, chosen for contrast (WCAG AA on white text or dark text).
GRADE_COLOURS = {
    "A": ("#1b7f3b", "#ffffff"),
    "B": ("#2f6fb0", "#ffffff"),
    "C": ("#e0a800", "#1b1b1b"),
    "D": ("#b3261e", "#ffffff"),
}


def kind_label(kind) -> str:
    return KIND_LABELS[CreditEventKind(kind)]


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    path: str  # an SVG path: a step line, the score held flat between changes
    thresholds: list[tuple[str, float, int]]  # grade, y, cut-off
    x_labels: list[tuple[float, datetime]]
    last: tuple[float, float, int]  # x, y, score now
    y_min: int
    y_max: int


def score_chart(
    steps: list[tuple[datetime, int]],
    now: datetime,
    policy: CreditPolicy,
    *,
    months: int = 12,
    width: int = 600,
    height: int = 200,
    margin: int = 28,
) -> Chart:
    """Geometry for the last `months` of a step history (see engine.history)."""
    start = now - timedelta(days=round(months * 30.44))
    before = [score for at, score in steps if at <= start]
    current = before[-1] if before else policy.base_score
    inside = [(at, score) for at, score in steps if start < at <= now]
    scores = [current, *(score for _, score in inside), *(v for _, v in policy.thresholds)]
    y_min = min(min(scores) - 5, policy.thresholds[-1][1] - 10)
    y_max = max(scores) + 5
    span = (now - start).total_seconds()
    plot_w, plot_h = width - 2 * margin, height - 2 * margin

    def x(at: datetime) -> float:
        return round(margin + plot_w * (at - start).total_seconds() / span, 1)

    def y(score: int) -> float:
        return round(margin + plot_h * (y_max - score) / (y_max - y_min), 1)

    parts = [f"M {x(start)} {y(current)}"]
    for at, score in inside:
        parts.append(f"H {x(at)} V {y(score)}")
        current = score
    parts.append(f"H {x(now)}")
    quarters = [start + (now - start) * i / 4 for i in range(5)]
    return Chart(
        width=width,
        height=height,
        path=" ".join(parts),
        thresholds=[(grade, y(cutoff), cutoff) for grade, cutoff in policy.thresholds],
        x_labels=[(x(at), at) for at in quarters],
        last=(x(now), y(current), current),
        y_min=y_min,
        y_max=y_max,
    )


def portal_context(enterprise_id: int, now: datetime) -> dict:
    """Everything templates/credit/_score_chart.html and _events.html need, for the portal view:
    `render_template("...", **portal_context(enterprise.id, utcnow()))`."""
    from complaints.credit.policy import current_credit_policy
    from complaints.credit.queries import score_history

    policy = current_credit_policy()
    history = score_history(enterprise_id, now)
    return {
        "history": history,
        "chart": score_chart(history.steps, now, policy),
        "kind_label": kind_label,
        "list_reasons": LIST_REASONS,
    }
