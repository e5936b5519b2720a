"""Domain events, published by the code that makes something happen, handled by subscribers.

A feature reacts to a case or claim event by subscribing to it at the composition root
(`complaints.subscriptions`), never by a call wired into `fire`: the workflow core imports
none of the features that react to it, and a new feature adds a subscriber, not a line.

Handlers run synchronously, in registration order, inside the publisher's transaction: they
flush and never commit, so a change and its effects (notices, credit events, outbox rows)
commit or roll back together. Anything slow leaves through the outbox.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from complaints.cases.models import Case, CaseEvent
    from complaints.compensation.models import Claim, ClaimEvent

Handler = Callable[[Any], None]
_handlers: dict[type, list[Handler]] = {}


def subscribe(event_type: type, handler: Handler) -> None:
    """Register once; registering the same handler again (a second app) changes nothing."""
    handlers = _handlers.setdefault(event_type, [])
    if handler not in handlers:
        handlers.append(handler)


def publish(event: object) -> None:
    for handler in tuple(_handlers.get(type(event), ())):
        handler(event)


@dataclass(frozen=True)
class CaseTransitioned:
    """A case transition was recorded (state may be unchanged, e.g. a note or an offer)."""

    case: Case
    record: CaseEvent
    trigger: str
    from_state: Any
    to_state: Any
    actor_role: Any
    actor_id: str | None
    now: datetime


@dataclass(frozen=True)
class ClaimTransitioned:
    """A compensation claim transition was recorded."""

    claim: Claim
    record: ClaimEvent
    trigger: str
    from_state: Any
    to_state: Any
    actor_role: Any
    actor_id: str | None
    now: datetime


@dataclass(frozen=True)
class CaseFiled:
    """A complaint was filed (any channel: QR form, search, API, Open311): a new case in its
    first state, with the tracking link that only exists while filing (the database keeps its
    hash)."""

    case: Case
    tracking_url: str
    now: datetime


@dataclass(frozen=True)
class PhoneVerified:
    """The tourist proved they hold the case's phone number (SAMR Order 121: real name)."""

    case: Case
    now: datetime


@dataclass(frozen=True)
class CompensationPaid:
    """The fund paid the tourist on the merchant's behalf (ledger posted)."""

    claim: Claim
    now: datetime
    # False for a small claim paid without freezing the merchant (no receivable, no recovery).
    merchant_frozen: bool = True


@dataclass(frozen=True)
class RecoveryOpened:
    """The fund asks the merchant to repay by `due_at`."""

    claim: Claim
    due_at: datetime
    now: datetime


@dataclass(frozen=True)
class RecoveryClosed:
    """The merchant's debt to the fund is gone: repaid (on time or late) or deducted."""

    claim: Claim
    on_time: bool
    now: datetime


@dataclass(frozen=True)
class RecoveryOverdue:
    """The merchant did not repay the fund by the due date."""

    claim: Claim
    now: datetime


@dataclass(frozen=True)
class MerchantHeldLiable:
    """A case found the merchant liable for a small claim the fund had paid without freezing
    it: the payout now counts against the merchant and is recovered."""

    claim: Claim
    now: datetime


@dataclass(frozen=True)
class RepaymentRejected:
    """A fund manager rejected the repayment reference a merchant typed: the due date runs on."""

    claim: Claim
    reason: str | None
    due_at: datetime
    now: datetime


@dataclass(frozen=True)
class CompensationNotice:
    """Something about a claim its parties or the agency must hear (the fund's own limits,
    deposit top-ups, a referral): `event_key` names the message in the notices table and
    `context` fills it."""

    case: Case
    event_key: str
    context: dict


@dataclass(frozen=True)
class DeadlineMoved:
    """A calendar correction moved a running deadline: the party it binds is told (`notice`
    names the message)."""

    case: Case
    notice: str
    due_at: datetime
    now: datetime


@dataclass(frozen=True)
class ReminderDue:
    """A running deadline reached one of its reminder times. `event_key` names the reminded
    party and the reminder time ("merchant_reminder:2026-11-26T10:00:00+00:00")."""

    case: Case
    event_key: str
    due_at: datetime


@dataclass(frozen=True)
class MessagePosted:
    """A message was added to a case's thread; `notify` names the audiences to tell (the
    parties who may read it, but not its author's)."""

    case: Case
    message: Any
    now: datetime
    notify: tuple = ()


@dataclass(frozen=True)
class GradeChanged:
    """A merchant's trust grade moved (old_grade None: first graded)."""

    enterprise_id: int
    old_grade: str | None
    new_grade: str
    score: int
    now: datetime


@dataclass(frozen=True)
class SeriousListChanged:
    """A merchant entered (since set) or left (since None) the serious dishonesty list."""

    enterprise_id: int
    entered: bool
    since: datetime | None
    now: datetime
