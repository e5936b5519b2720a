"""Every feature's models, imported once so the metadata knows every table."""

from complaints.accounts.models import Account
from complaints.agencies.models import Agency, RoutingRule
from complaints.cases.models import Case, CaseEvent, CaseNumberSequence, Evidence
from complaints.geo.models import Division
from complaints.merchants.models import Enterprise, Outlet, OutletCodeRotation
from complaints.notices.models import Notification
from complaints.outbox.models import OutboxMessage
from complaints.timers.models import CalendarOverride, CalendarYear, CaseDeadline

__all__ = [
    "Account",
    "Agency",
    "CalendarOverride",
    "CalendarYear",
    "Case",
    "CaseDeadline",
    "CaseEvent",
    "CaseNumberSequence",
    "Division",
    "Enterprise",
    "Evidence",
    "Notification",
    "OutboxMessage",
    "Outlet",
    "OutletCodeRotation",
    "RoutingRule",
]
