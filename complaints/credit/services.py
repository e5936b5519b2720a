"""Recording credit events and keeping each merchant's score current, one event at a time.

Services flush; the request or job that called them commits. Every event lands through
`record_credit_event`, which locks the merchant's score row, adds the event's points (O(1)), or
rebuilds the row from its events when an earlier event has expired since the last update.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask_babel import lazy_gettext
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite

from complaints.cases.models import Case, CaseEvent
from complaints.credit import engine
from complaints.credit.engine import CreditEventKind, CreditPolicy, ScoreState
from complaints.credit.models import CreditEvent, MerchantScore, TrustedListChange
from complaints.credit.policy import current_credit_policy
from complaints.credit.queries import has_overdue_recovery
from complaints.extensions import db
from complaints.merchants.models import Enterprise
from complaints.timers.models import CaseDeadline
from workflows.grounds import TerminationGround
from workflows.states import DeadlineKind

K = CreditEventKind

# Kinds that come from one case: each lands at most once per (merchant, kind, case).
CASE_DERIVED = frozenset(
    {
        K.COMPLAINT_SUBSTANTIATED,
        K.SETTLED_IN_TIME,
        K.DEADLINE_MISSED,
        K.MEDIATION_REFUSED,
        K.COMPENSATION_PAID,
        K.RECOVERY_REPAID_ON_TIME,
        K.RECOVERY_OVERDUE,
    }
)


def N_(message: str) -> str:
    """Mark a msgid for extraction (a Babel default keyword) without translating it yet."""
    return message


class CreditRuleError(ValueError):
    """A credit action the rules refuse. `str()` is English (logs, jobs, tests); views show
    `message`, translated for the request."""

    def __init__(self, msgid: str, **variables) -> None:
        super().__init__(msgid % variables if variables else msgid)
        self.msgid, self.variables = msgid, variables

    @property
    def message(self):
        return lazy_gettext(self.msgid, **self.variables)


def record_credit_event(
    enterprise_id: int,
    kind: CreditEventKind,
    *,
    case_id: int | None = None,
    reason: str,
    now: datetime,
    actor: str = "system",
    occurred_at: datetime | None = None,
    dedupe_key: str | None = None,
    neutralises: CreditEvent | None = None,
) -> CreditEvent | None:
    """Record one fact and update the score; None when this fact was already recorded."""
    policy = current_credit_policy()
    kind = CreditEventKind(kind)
    occurred_at = (occurred_at or now).astimezone(UTC)
    if occurred_at > now:
        raise ValueError("a credit event cannot be recorded before it happens")
    if kind in engine.NEUTRALISING_KINDS:
        if neutralises is None or neutralises.enterprise_id != enterprise_id:
            raise ValueError(f"{kind} must name an event of the same merchant to neutralise")
        points, expires_at = -neutralises.points, neutralises.expires_at
    else:
        points, expires_at = policy.rule(kind).points, policy.expires_at(kind, occurred_at)
    if dedupe_key is None and kind in CASE_DERIVED:
        if case_id is None:
            raise ValueError(f"{kind} needs the case it comes from")
        dedupe_key = f"{kind}:case:{case_id}"
    values = {
        "enterprise_id": enterprise_id,
        "kind": kind,
        "points": points,
        "reason": reason,
        "case_id": case_id,
        "occurred_at": occurred_at,
        "expires_at": expires_at,
        "recorded_at": now,
        "actor": actor,
        "dedupe_key": dedupe_key,
        "neutralises_id": neutralises.id if neutralises is not None else None,
    }
    event_id = _insert_ignore(
        CreditEvent, values, ["enterprise_id", "dedupe_key"], returning=CreditEvent.id
    )
    if event_id is None:
        return None  # the same fact landed before (a retried hook or tick)
    event = db.session.get(CreditEvent, event_id)
    row = locked_score_row(enterprise_id, now, policy)
    state = _state_of(row)
    if state.is_stale(now):
        state = engine.summarise(_events_of(enterprise_id), now, policy)
    else:
        state = engine.land(state, event, now)
    write_state(row, state, now, policy)
    return event


def refresh_merchant(enterprise_id: int, now: datetime) -> MerchantScore:
    """Rebuild one merchant's row from its events (expiry passed, or a repair of the row)."""
    policy = current_credit_policy()
    row = locked_score_row(enterprise_id, now, policy)
    write_state(row, engine.summarise(_events_of(enterprise_id), now, policy), now, policy)
    return row


def reevaluate_trusted(enterprise_id: int, now: datetime) -> bool:
    """Apply the list rule again after something outside credit changed (a late repayment)."""
    policy = current_credit_policy()
    row = db.session.get(MerchantScore, enterprise_id, with_for_update=True, populate_existing=True)
    if row is not None:
        _sync_trusted(row, now, policy)
        return row.trusted
    # No credit history: the merchant stands at the base score; only the flag can be wrong.
    grade = policy.grade_for(policy.base_score)
    should = engine.trusted(grade, False, has_overdue_recovery(enterprise_id), policy)
    sync_enterprise_flag(enterprise_id, should)
    return should


def write_state(row: MerchantScore, state: ScoreState, now: datetime, policy: CreditPolicy):
    grade = policy.grade_for(state.score, state.serious_since is not None)
    changed = (row.score, row.grade, row.next_expiry_at, row.serious_list_since) != (
        state.score,
        grade,
        state.next_expiry_at,
        state.serious_since,
    )
    if changed:
        old_grade, old_serious = row.grade, row.serious_list_since
        row.score, row.grade = state.score, grade
        row.next_expiry_at, row.serious_list_since = state.next_expiry_at, state.serious_since
        row.version = (row.version or 0) + 1
        _announce_changes(row, old_grade, old_serious, now)
    row.updated_at = now
    _sync_trusted(row, now, policy)
    db.session.flush()


def _announce_changes(row: MerchantScore, old_grade, old_serious, now: datetime) -> None:
    from complaints import events

    if old_grade != row.grade:
        events.publish(events.GradeChanged(row.enterprise_id, old_grade, row.grade, row.score, now))
    if (old_serious is None) != (row.serious_list_since is None):
        events.publish(
            events.SeriousListChanged(
                row.enterprise_id, row.serious_list_since is not None, row.serious_list_since, now
            )
        )


def _sync_trusted(row: MerchantScore, now: datetime, policy: CreditPolicy) -> None:
    serious = row.serious_list_since is not None
    # Short-circuit: the recovery look-up runs only for merchants the grade would let in.
    good_grade = row.grade in policy.trusted_grades and not serious
    overdue = good_grade and has_overdue_recovery(row.enterprise_id)
    should = engine.trusted(row.grade, serious, overdue, policy)
    if should != row.trusted:
        row.trusted = should
        row.version = (row.version or 0) + 1
        db.session.add(
            TrustedListChange(
                enterprise_id=row.enterprise_id,
                joined=should,
                grade=row.grade,
                reason=list_reason(row.grade, serious, overdue, policy),
                changed_at=now,
            )
        )
    # Always, not only on a change: compensation may have set the flag itself (overdue tick).
    sync_enterprise_flag(row.enterprise_id, should)


def list_reason(grade: str, serious: bool, overdue: bool, policy: CreditPolicy) -> str:
    """A stable code; the portal translates it (see presenters.LIST_REASONS)."""
    if serious:
        return "serious_list"
    if overdue:
        return "overdue_recovery"
    if grade not in policy.trusted_grades:
        return "grade_too_low"
    return "meets_rules"


def sync_enterprise_flag(enterprise_id: int, trusted: bool) -> None:
    """`Enterprise.trusted` is what compensation eligibility reads; this rule is its source.

    Conditional, so an agreeing flag costs one indexed no-op and takes no row lock.
    """
    db.session.execute(
        update(Enterprise)
        .where(Enterprise.id == enterprise_id, Enterprise.trusted != trusted)
        .values(trusted=trusted)
    )


def _state_of(row: MerchantScore) -> ScoreState:
    return ScoreState(row.score, row.next_expiry_at, row.serious_list_since)


def _events_of(enterprise_id: int):
    return db.session.scalars(
        select(CreditEvent).where(CreditEvent.enterprise_id == enterprise_id)
    ).all()


def locked_score_row(enterprise_id: int, now: datetime, policy: CreditPolicy) -> MerchantScore:
    """The merchant's row, created at the base score on its first event, locked until commit."""
    base = policy.base_score
    values = {
        "enterprise_id": enterprise_id,
        "score": base,
        "grade": policy.grade_for(base),
        "updated_at": now,
        # Start from the list the merchant is on now, so the first change recorded is a real one.
        "trusted": select(Enterprise.trusted)
        .where(Enterprise.id == enterprise_id)
        .scalar_subquery(),
        "version": 1,
    }
    _insert_ignore(MerchantScore, values, ["enterprise_id"])
    return db.session.execute(
        select(MerchantScore)
        .where(MerchantScore.enterprise_id == enterprise_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()


def _insert_ignore(model, values: dict, conflict: list[str], returning=None):
    """INSERT ... ON CONFLICT DO NOTHING on both databases: races end in one row, not an error."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(model).values(**values).on_conflict_do_nothing(index_elements=conflict)
    if returning is None:
        db.session.execute(statement)
        return None
    return db.session.execute(statement.returning(returning)).scalar_one_or_none()


# ---------------------------------------------------------------------------------------------
# From case transitions. Every trigger of workflows.machine.CASE_TRANSITIONS is listed, so a new
# trigger fails tests/credit until someone decides what it means for credit.

# fmt: off
CASE_TRIGGER_EFFECTS: dict[str, str | None] = {
    # Routing says nothing about conduct: a complaint is an allegation, not a fact.
    "route_to_merchant": None,
    "route_to_regulator": None,
    # The merchant settled in its own turn: in time is rewarded, late counts as a missed deadline.
    "merchant_refund": "settled",
    # The tourist took the merchant's offer: judged by when the merchant made the offer.
    "tourist_accept_offer": "settled",  # judged by the merchant's first offer
    # An offer, a rejected offer or a dispute in good faith are part of a fair process.
    "merchant_offer": None,
    "tourist_reject_offer": None,
    "merchant_dispute": None,
    # The merchant let its answer deadline pass; the regulator now has to act.
    "merchant_deadline_passed": K.DEADLINE_MISSED,
    # The merchant made an offer and the tourist did not answer it: not the merchant's silence.
    "offer_unanswered": None,
    # Regulator housekeeping, neither for nor against the merchant.
    "assign": None,
    "accept": None,  # accepting means within remit, not that the complaint is true
    "transfer": None,
    "pause_for_appraisal": None,
    "resume_after_appraisal": None,
    "escalate": None,  # the regulator was late, not the merchant
    # Not accepted (Art. 15): nothing was shown against the merchant, so nothing negative.
    "decline": None,
    # Order 121: the tourist never verified their identity, so the case was never accepted.
    "identity_not_verified": None,
    # Mediation produced an agreement: the merchant owed a remedy it had not given before.
    "record_agreement": K.COMPLAINT_SUBSTANTIATED,
    # Mediation ended: only "a party refused without good reason" is a finding of conduct.
    "terminate": "terminated",
    # The tourist's own choices and the case's bookkeeping (duplicates merged: one complaint).
    "withdraw": None,
    "merge_into": None,
    "absorb_duplicate": None,
    "close": None,
    "reopen": None,
}
# fmt: on


def on_case_transition(case: Case, trigger: str, now: datetime) -> CreditEvent | None:
    """Called by complaints.cases.workflow.fire after every transition, in its transaction."""
    effect = CASE_TRIGGER_EFFECTS.get(trigger)
    if effect is None:
        return None
    if effect == "settled":
        return _settled(case, trigger, now)
    if effect == "terminated":
        ground = _latest(case.id, "terminate", CaseEvent.ground)
        if ground != TerminationGround.PARTY_REFUSED:
            return None
        kind, reason = K.MEDIATION_REFUSED, f"Mediation refused on case {case.number}"
    elif effect == K.DEADLINE_MISSED:
        kind, reason = effect, f"Merchant answer deadline passed on case {case.number}"
    else:
        kind, reason = K(effect), f"Settled only in mediation, case {case.number}"
    return record_credit_event(case.enterprise_id, kind, case_id=case.id, reason=reason, now=now)


def _settled(case: Case, trigger: str, now: datetime) -> CreditEvent | None:
    """In time means the merchant first acted (offer or refund) before its own deadline.

    That is the first merchant-response deadline of the case: an offer restarts the clock, but
    only to give the tourist time to answer, so it does not extend the merchant's.
    """
    first_offer = _first(case.id, "merchant_offer", CaseEvent.created_at)
    acted_at = min(first_offer, now) if first_offer is not None else now
    due_at = db.session.scalar(
        select(CaseDeadline.due_at)
        .where(
            CaseDeadline.case_id == case.id,
            CaseDeadline.kind == DeadlineKind.MERCHANT_RESPONSE,
        )
        .order_by(CaseDeadline.id)
        .limit(1)
    )
    if due_at is None or acted_at <= due_at:
        kind, reason = (
            K.SETTLED_IN_TIME,
            f"Settled within the merchant deadline, case {case.number}",
        )
    else:
        kind, reason = K.DEADLINE_MISSED, f"Settled after the merchant deadline, case {case.number}"
    return record_credit_event(case.enterprise_id, kind, case_id=case.id, reason=reason, now=now)


def _first(case_id: int, trigger: str, column):
    return db.session.scalar(
        select(column)
        .where(CaseEvent.case_id == case_id, CaseEvent.trigger == trigger)
        .order_by(CaseEvent.seq)
        .limit(1)
    )


def _latest(case_id: int, trigger: str, column):
    return db.session.scalar(
        select(column)
        .where(CaseEvent.case_id == case_id, CaseEvent.trigger == trigger)
        .order_by(CaseEvent.seq.desc())
        .limit(1)
    )


# ---------------------------------------------------------------------------------------------
# From advance compensation (complaints.compensation calls these in its own transaction, after
# the claim or recovery order's state is written, so the trusted-list rule reads the new state).


def on_compensation_paid(enterprise_id: int, case_id: int, now: datetime) -> CreditEvent | None:
    return record_credit_event(
        enterprise_id,
        K.COMPENSATION_PAID,
        case_id=case_id,
        reason="The compensation fund paid the tourist on the merchant's behalf",
        now=now,
    )


def on_recovery_repaid(
    enterprise_id: int, case_id: int, now: datetime, *, on_time: bool = True
) -> CreditEvent | None:
    """On time earns points; late repayment earns none but may let the merchant back on the list."""
    if not on_time:
        reevaluate_trusted(enterprise_id, now)
        return None
    return record_credit_event(
        enterprise_id,
        K.RECOVERY_REPAID_ON_TIME,
        case_id=case_id,
        reason="The merchant repaid the compensation fund on time",
        now=now,
    )


def on_recovery_overdue(enterprise_id: int, case_id: int, now: datetime) -> CreditEvent | None:
    return record_credit_event(
        enterprise_id,
        K.RECOVERY_OVERDUE,
        case_id=case_id,
        reason="The merchant did not repay the compensation fund by the due date",
        now=now,
    )
