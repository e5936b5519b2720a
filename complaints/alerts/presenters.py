"""What an alert says, in the reader's language."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from complaints.alerts.models import Alert, AlertStatus
from complaints.presentation import format_money

RULE_LABELS = {
    "merchant_burst": _l("Many complaints against one merchant"),
    "category_above": _l("Category above its usual level"),
    "division_above": _l("District above its usual level"),
    "phone_many_merchants": _l("One phone against many merchants (possible abuse)"),
    "phones_one_merchant": _l("Many phones against one merchant (possible fraud ring)"),
    "fund_outflow": _l("Compensation outflow above the usual rate"),
    "scan_drop": _l("Scans dropped at a trusted merchant (codes removed?)"),
}
STATUS_LABELS = {
    AlertStatus.OPEN: _l("Open"),
    AlertStatus.ACKNOWLEDGED: _l("Acknowledged"),
    AlertStatus.CLOSED: _l("Closed"),
}


def rule_label(rule: str) -> str:
    return str(RULE_LABELS.get(rule, rule))


def describe(alert: Alert) -> str:
    f = alert.figures or {}
    if alert.rule == "merchant_burst":
        return _("%(n)d complaints in %(days)d days.", n=f["complaints"], days=f["days"])
    if alert.rule in ("category_above", "division_above"):
        return _(
            "%(value)s: %(recent)d complaints in the last 7 days against a usual %(mean)s a week "
            "(Poisson p = %(p)s).",
            value=f["value"],
            recent=f["recent"],
            mean=f["mean"],
            p=f["p"],
        )
    if alert.rule == "phone_many_merchants":
        return _(
            "The phone ending %(tail)s complained about %(n)d merchants in %(days)d days.",
            tail=f["phone_tail"],
            n=f["merchants"],
            days=f["days"],
        )
    if alert.rule == "phones_one_merchant":
        return _(
            "%(n)d different phones complained within %(hours)d hours.",
            n=f["phones"],
            hours=f["hours"],
        )
    if alert.rule == "fund_outflow":
        return _(
            "%(fund)s paid %(recent)s in 7 days; a usual week is %(usual)s.",
            fund=f["fund"],
            recent=format_money(f["recent_fen"]),
            usual=format_money(f["usual_fen"]),
        )
    if alert.rule == "scan_drop":
        return _(
            "%(recent)d scans in the last 7 days; a usual week has %(usual)s.",
            recent=f["recent"],
            usual=f["usual"],
        )
    return ""
