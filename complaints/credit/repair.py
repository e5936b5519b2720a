"""The serious list (SAMR Order No. 44) and credit repair (NDRC measures), as new events.

Neither ever edits history. Marking a merchant serious records a `serious_listed` event, which
expires after 3 years (automatic removal) and holds the grade at D meanwhile; early removal after
1 year records a `serious_list_removed` event. A granted repair records a `repair_granted`
event. Both cancel exactly one earlier event: the same points with the opposite sign, expiring
when that event would have, so from the decision on the pair adds up to zero and nothing is
left over once both have expired (a flat bonus would over- or under-correct).
"""

from datetime import datetime

from sqlalchemy import or_, select

from complaints.clock import LOCAL_ZONE
from complaints.credit import engine
from complaints.credit.engine import CreditEventKind, Tier
from complaints.credit.models import (
    CreditEvent,
    CreditRepairApplication,
    MerchantScore,
    RepairState,
)
from complaints.credit.policy import current_credit_policy
from complaints.credit.services import N_, CreditRuleError, locked_score_row, record_credit_event
from complaints.extensions import db

K = CreditEventKind


def _local_date(moment: datetime) -> str:
    # An ISO date reads the same in every language, and a job has no request to format for.
    return moment.astimezone(LOCAL_ZONE).date().isoformat()


def _required(text: str | None, message) -> str:
    if not text or not text.strip():
        raise CreditRuleError(message)
    return text.strip()


def current_listing(enterprise_id: int, now: datetime) -> CreditEvent | None:
    """The serious-list entry in force now, if any."""
    listings = db.session.scalars(
        select(CreditEvent)
        .where(CreditEvent.enterprise_id == enterprise_id, CreditEvent.kind == K.SERIOUS_LISTED)
        .order_by(CreditEvent.occurred_at.desc())
    ).all()
    removed = set(
        db.session.scalars(
            select(CreditEvent.neutralises_id).where(
                CreditEvent.enterprise_id == enterprise_id,
                CreditEvent.kind == K.SERIOUS_LIST_REMOVED,
            )
        )
    )
    for listing in listings:
        if engine.is_active(listing, now) and listing.id not in removed:
            return listing
    return None


def mark_serious(enterprise_id: int, actor: str, reason: str, now: datetime) -> CreditEvent:
    """A regulator puts the merchant on the serious illegal and dishonest list."""
    reason = _required(reason, N_("Give the decision that puts this merchant on the list."))
    # Serialise list decisions per merchant on its score row (its first event creates it).
    locked_score_row(enterprise_id, now, current_credit_policy())
    if current_listing(enterprise_id, now) is not None:
        raise CreditRuleError(N_("This merchant is already on the serious list."))
    return record_credit_event(enterprise_id, K.SERIOUS_LISTED, reason=reason, now=now, actor=actor)


def remove_from_serious_list(
    enterprise_id: int, actor: str, reason: str, now: datetime
) -> CreditEvent:
    """Early removal: after one year, once the penalty is performed and the harm remedied."""
    reason = _required(reason, N_("Say how the penalty was performed and the harm remedied."))
    db.session.get(MerchantScore, enterprise_id, with_for_update=True)
    listing = current_listing(enterprise_id, now)
    if listing is None:
        raise CreditRuleError(N_("This merchant is not on the serious list."))
    policy = current_credit_policy()
    earliest = policy.early_removal_from(listing.occurred_at)
    if now < earliest:
        raise CreditRuleError(
            N_("Early removal is possible only after one year on the list, from %(date)s."),
            date=_local_date(earliest),
        )
    return record_credit_event(
        enterprise_id,
        K.SERIOUS_LIST_REMOVED,
        reason=reason,
        now=now,
        actor=actor,
        neutralises=listing,
    )


def apply_for_repair(
    enterprise_id: int,
    credit_event_id: int,
    *,
    corrections: str,
    commitment: str,
    actor: str,
    now: datetime,
) -> CreditRepairApplication:
    """The merchant asks to repair one negative entry, saying what it corrected and promises."""
    corrections = _required(corrections, N_("Describe what you corrected."))
    commitment = _required(commitment, N_("Make a public credit commitment."))
    target = _repairable(enterprise_id, credit_event_id, now)
    pending = db.session.scalar(
        select(CreditRepairApplication.id).where(
            CreditRepairApplication.credit_event_id == target.id,
            CreditRepairApplication.state == RepairState.REQUESTED,
        )
    )
    if pending is not None:
        raise CreditRuleError(N_("An application to repair this entry is already waiting."))
    application = CreditRepairApplication(
        enterprise_id=enterprise_id,
        credit_event_id=target.id,
        corrections=corrections,
        commitment=commitment,
        state=RepairState.REQUESTED,
        requested_by=actor,
        requested_at=now,
    )
    db.session.add(application)
    db.session.flush()
    return application


def grant_repair(
    application_id: int, *, actor: str, reason: str, now: datetime
) -> CreditEvent | None:
    """A regulator grants: a `repair_granted` event cancels the entry from now on.

    An entry of the serious tier needs two people (maker-checker): the first grant is recorded
    on the application and returns None; a different person's grant takes effect."""
    reason = _required(reason, N_("Give the reason for this decision."))
    application = _open_application(application_id)
    target = _repairable(application.enterprise_id, application.credit_event_id, now)
    # Checked before the maker-checker step too: no approval of an unperformed penalty.
    _require_penalty_performed(application.enterprise_id, target)
    if current_credit_policy().rule(target.kind).tier is Tier.SERIOUS:
        if application.first_approved_by is None:
            application.first_approved_by = actor
            application.first_approved_at = now
            application.first_approval_reason = reason
            db.session.flush()
            return None
        if application.first_approved_by == actor:
            raise CreditRuleError(
                N_("You approved this repair already: a second person must grant it.")
            )
    event = record_credit_event(
        application.enterprise_id,
        K.REPAIR_GRANTED,
        reason=reason,
        now=now,
        actor=actor,
        neutralises=target,
    )
    _decide(application, RepairState.GRANTED, actor, reason, now)
    application.grant_event_id = event.id
    db.session.flush()
    return event


def refuse_repair(
    application_id: int, *, actor: str, reason: str, now: datetime
) -> CreditRepairApplication:
    reason = _required(reason, N_("Give the reason for this decision."))
    application = _open_application(application_id)
    _decide(application, RepairState.REFUSED, actor, reason, now)
    db.session.flush()
    return application


def _require_penalty_performed(enterprise_id: int, target: CreditEvent) -> None:
    """NDRC measures: repair needs the penalty performed. Money the fund paid on the entry's
    case must be back (repaid, deducted or returned), and nothing may be overdue at all."""
    from complaints.compensation.models import Claim, RecoveryOrder, RecoveryState

    cleared = (RecoveryState.REPAID, RecoveryState.DEDUCTED, RecoveryState.RETURNED)
    owed = (
        select(RecoveryOrder.id)
        .join(Claim, Claim.id == RecoveryOrder.claim_id)
        .where(RecoveryOrder.enterprise_id == enterprise_id, RecoveryOrder.state.not_in(cleared))
    )
    blocking = owed.where(
        or_(RecoveryOrder.overdue_at.is_not(None), Claim.case_id == target.case_id)
    )
    if db.session.scalar(blocking.limit(1)) is not None:
        raise CreditRuleError(
            N_("The penalty has not been performed: money the fund paid is still owed.")
        )


def _decide(application, state: RepairState, actor: str, reason: str, now: datetime) -> None:
    application.state = state
    application.decided_by = actor
    application.decided_at = now
    application.decision_reason = reason


def _open_application(application_id: int) -> CreditRepairApplication:
    application = db.session.get(CreditRepairApplication, application_id, with_for_update=True)
    if application is None:
        raise CreditRuleError(N_("No such repair application."))
    if application.state is not RepairState.REQUESTED:
        raise CreditRuleError(N_("This application has already been decided."))
    return application


def _repairable(enterprise_id: int, credit_event_id: int, now: datetime) -> CreditEvent:
    policy = current_credit_policy()
    target = db.session.get(CreditEvent, credit_event_id)
    if target is None or target.enterprise_id != enterprise_id:
        raise CreditRuleError(N_("No such entry in this merchant's credit record."))
    if target.kind is K.SERIOUS_LISTED:
        raise CreditRuleError(
            N_("The serious list has its own rule: early removal after one year.")
        )
    if not engine.is_repairable_kind(target.kind, policy):
        raise CreditRuleError(N_("Only negative entries can be repaired."))
    if not engine.is_active(target, now):
        raise CreditRuleError(N_("This entry no longer counts; there is nothing to repair."))
    already = db.session.scalar(
        select(CreditEvent.id).where(CreditEvent.neutralises_id == target.id)
    )
    if already is not None:
        raise CreditRuleError(N_("This entry has already been repaired."))
    available = engine.repair_available_from(target, policy)
    if now < available:
        raise CreditRuleError(
            N_(
                "The minimum period for this entry has not been served; repair is possible from %(date)s."
            ),
            date=_local_date(available),
        )
    return target
