"""Every feature's models, imported once so the metadata knows every table."""

from complaints.accounts.models import Account
from complaints.agencies.models import Agency, RoutingRule
from complaints.alerts.models import Alert
from complaints.analytics.models import CaseRollup, ScanCount, StageRollup
from complaints.cases.models import Case, CaseEvent, CaseNumberSequence, Evidence
from complaints.compensation.models import (
    Claim,
    ClaimEvent,
    Fund,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    RecoveryOrder,
)
from complaints.console.models import SavedFilter
from complaints.credit import models as credit_models  # noqa: F401 (registers the tables)
from complaints.duplicates.models import DuplicateFlag
from complaints.geo.models import Division
from complaints.merchants.models import Enterprise, Outlet, OutletCodeRotation
from complaints.notices.models import Notification, SatisfactionRating, SmsOptOut
from complaints.outbox.models import OutboxMessage
from complaints.portal import models as portal_models  # noqa: F401 (registers the tables)
from complaints.supervision.models import Inspection, InspectionPhoto
from complaints.timers.models import CalendarOverride, CalendarYear, CaseDeadline
from complaints.verification.models import PhoneVerification

__all__ = [
    "Account",
    "Agency",
    "Alert",
    "CalendarOverride",
    "CalendarYear",
    "Case",
    "CaseDeadline",
    "CaseEvent",
    "CaseNumberSequence",
    "CaseRollup",
    "Claim",
    "ClaimEvent",
    "Division",
    "DuplicateFlag",
    "Enterprise",
    "Evidence",
    "Fund",
    "Inspection",
    "InspectionPhoto",
    "LedgerAccount",
    "LedgerEntry",
    "LedgerTransaction",
    "Notification",
    "OutboxMessage",
    "Outlet",
    "OutletCodeRotation",
    "PhoneVerification",
    "RecoveryOrder",
    "RoutingRule",
    "SatisfactionRating",
    "SavedFilter",
    "ScanCount",
    "SmsOptOut",
    "StageRollup",
]
