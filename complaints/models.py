"""Every feature's models, imported once so the metadata knows every table."""

from complaints.agencies.models import Agency
from complaints.cases.models import Case, CaseEvent, CaseNumberSequence, Evidence
from complaints.geo.models import Division
from complaints.merchants.models import Enterprise, Outlet, OutletCodeRotation
from complaints.notices.models import Notification
from complaints.outbox.models import OutboxMessage

__all__ = [
    "Agency",
    "Case",
    "CaseEvent",
    "CaseNumberSequence",
    "Division",
    "Enterprise",
    "Evidence",
    "Notification",
    "OutboxMessage",
    "Outlet",
    "OutletCodeRotation",
]
