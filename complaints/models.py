"""Every feature's models, imported once so the metadata knows every table."""

from complaints.accounts.models import Account
from complaints.accounts.totp import AccountTotp
from complaints.admin.models import AdminChange
from complaints.agencies.models import Agency, RoutingRule
from complaints.alerts.models import Alert
from complaints.analytics.models import CaseRollup, ScanCount, StageRollup
from complaints.apikeys.models import ApiKey, IdempotentResponse
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
from complaints.credit_exchange.models import CreditChange
from complaints.duplicates.models import DuplicateFlag
from complaints.geo.models import Division
from complaints.hooks_out.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from complaints.merchants.models import Enterprise, Outlet, OutletCodeRotation
from complaints.notices.models import Notification, SatisfactionRating, SmsOptOut
from complaints.open311.models import Open311Request
from complaints.outbox.models import OutboxMessage
from complaints.policies.models import PolicyVersion
from complaints.portal import models as portal_models  # noqa: F401 (registers the tables)
from complaints.supervision.models import Inspection, InspectionPhoto
from complaints.timers.models import CalendarOverride, CalendarYear, CaseDeadline
from complaints.verification.models import PhoneVerification

__all__ = [
    "Account",
    "AccountTotp",
    "AdminChange",
    "Agency",
    "Alert",
    "ApiKey",
    "CalendarOverride",
    "CalendarYear",
    "Case",
    "CaseDeadline",
    "CaseEvent",
    "CaseNumberSequence",
    "CaseRollup",
    "Claim",
    "ClaimEvent",
    "CreditChange",
    "Division",
    "DuplicateFlag",
    "Enterprise",
    "Evidence",
    "Fund",
    "IdempotentResponse",
    "Inspection",
    "InspectionPhoto",
    "LedgerAccount",
    "LedgerEntry",
    "LedgerTransaction",
    "Notification",
    "Open311Request",
    "OutboxMessage",
    "Outlet",
    "OutletCodeRotation",
    "PhoneVerification",
    "PolicyVersion",
    "RecoveryOrder",
    "RoutingRule",
    "SatisfactionRating",
    "SavedFilter",
    "ScanCount",
    "SmsOptOut",
    "StageRollup",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEvent",
]
