"""Every case trigger has a decided credit effect; the chart geometry is sound."""

from datetime import UTC, datetime, timedelta

from complaints.credit.engine import CreditPolicy
from complaints.credit.presenters import KIND_LABELS, score_chart
from complaints.credit.services import CASE_TRIGGER_EFFECTS
from workflows.machine import CASE_TRANSITIONS

NOW = datetime(2026, 11, 25, tzinfo=UTC)


def test_every_case_trigger_has_a_decided_credit_effect():
    triggers = {t.trigger for t in CASE_TRANSITIONS}
    assert triggers == set(CASE_TRIGGER_EFFECTS)


def test_every_event_kind_has_a_label():
    from complaints.credit.engine import CreditEventKind

    assert set(KIND_LABELS) == set(CreditEventKind)


def test_chart_is_a_step_line_inside_its_box():
    policy = CreditPolicy()
    steps = [
        (NOW - timedelta(days=500), 95),  # before the window: the line starts at 95
        (NOW - timedelta(days=200), 80),
        (NOW - timedelta(days=30), 65),
    ]
    chart = score_chart(steps, NOW, policy)
    assert chart.path.startswith("M 28")
    assert chart.path.count("V ") == 2
    assert chart.last[2] == 65
    ys = [y for _, y, _ in chart.thresholds]
    assert ys == sorted(ys)  # A above B above C
    assert all(28 <= y <= chart.height - 28 for y in ys)
    assert len(chart.x_labels) == 5


def test_chart_without_history_is_flat_at_the_base_score():
    chart = score_chart([], NOW, CreditPolicy())
    assert chart.last[2] == 100
    assert "V" not in chart.path
