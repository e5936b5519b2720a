"""Credit rules on a real database: recompute = incremental, expiry, lists, repair, periods."""

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from complaints.credit.engine import NEUTRALISING_KINDS, CreditEventKind
from complaints.credit.models import (
    CreditEvent,
    CreditRepairApplication,
    MerchantScore,
    RepairState,
    TrustedListChange,
)
from complaints.credit.recompute import (
    grant_complaint_free_periods,
    recompute_all,
    refresh_expired_scores,
    run_credit_tick,
)
from complaints.credit.repair import (
    apply_for_repair,
    grant_repair,
    mark_serious,
    refuse_repair,
    remove_from_serious_list,
)
from complaints.credit.services import (
    CreditRuleError,
    on_recovery_overdue,
    on_recovery_repaid,
    record_credit_event,
)
from complaints.database import utcnow
from complaints.extensions import db
from complaints.merchants.models import Enterprise
from tests.app.helpers import file_case, outlet_named

K = CreditEventKind
T0 = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)
REGULATOR = "handler:7"


def merchants(n=3) -> list[int]:
    return list(db.session.scalars(select(Enterprise.id).order_by(Enterprise.id).limit(n)))


def score(enterprise_id) -> MerchantScore:
    return db.session.get(MerchantScore, enterprise_id, populate_existing=True)


def record(enterprise_id, kind, at, key):
    event = record_credit_event(enterprise_id, kind, reason="test", now=at, dedupe_key=key)
    db.session.commit()
    return event


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_recompute_agrees_with_incremental_after_random_sequences(seeded, seed):
    rng = random.Random(seed)
    ids = merchants()
    kinds = sorted(set(K) - NEUTRALISING_KINDS - {K.SERIOUS_LISTED})
    at = T0
    for i in range(60):
        at += timedelta(hours=rng.randint(1, 24 * 30))
        enterprise_id = rng.choice(ids)
        if rng.random() < 0.15:
            refresh_expired_scores(at)  # the tick ran; sometimes it did not
        event = record(enterprise_id, rng.choice(kinds), at, f"random:{i}")
        if event.points < 0 and rng.random() < 0.2:
            later = at + timedelta(hours=rng.randint(0, 24 * 60))
            if later < event.expires_at:
                at = later
                record_credit_event(
                    enterprise_id, K.REPAIR_GRANTED, reason="r", now=at, neutralises=event
                )
                db.session.commit()
    report = recompute_all(at, batch=2, fix=False)
    assert report.differences == []
    assert report.checked == len({e.enterprise_id for e in db.session.scalars(select(CreditEvent))})
    # A full rebuild (what the tick would do) leaves nothing stale and still agrees.
    recompute_all(at)
    db.session.commit()
    assert recompute_all(at, fix=False).refreshed == 0


def test_the_tick_refreshes_a_score_when_its_entry_expires(seeded):
    [enterprise_id] = merchants(1)
    record(enterprise_id, K.MEDIATION_REFUSED, T0, "m")
    assert (score(enterprise_id).score, score(enterprise_id).grade) == (85, "B")
    expiry = T0 + timedelta(days=365)
    assert run_credit_tick(expiry - timedelta(seconds=1)).refreshed == 0
    report = run_credit_tick(expiry)
    assert report.refreshed == 1
    assert report.errors == []
    row = score(enterprise_id)
    assert (row.score, row.grade, row.next_expiry_at) == (100, "A", None)


def test_recompute_cli_reports_a_tampered_score_and_exits_1(runner, seeded):
    [enterprise_id] = merchants(1)
    record(enterprise_id, K.DEADLINE_MISSED, utcnow() - timedelta(days=1), "d")
    assert runner.invoke(args=["credit", "recompute"]).exit_code == 0
    db.session.execute(
        update(MerchantScore).where(MerchantScore.enterprise_id == enterprise_id).values(score=7)
    )
    db.session.commit()
    checked = runner.invoke(args=["credit", "recompute", "--check-only"])
    assert checked.exit_code == 1
    assert f"merchant {enterprise_id}: stored state differs" in checked.output
    fixed = runner.invoke(args=["credit", "recompute"])
    assert fixed.exit_code == 1  # it reports what it found, and repairs it
    assert runner.invoke(args=["credit", "recompute"]).exit_code == 0
    assert score(enterprise_id).score == 95


def test_serious_list_early_removal_after_one_year_and_automatic_after_three(seeded):
    [enterprise_id] = merchants(1)
    with pytest.raises(CreditRuleError):
        mark_serious(enterprise_id, REGULATOR, "  ", T0)
    listing = mark_serious(enterprise_id, REGULATOR, "Penalty decision 2026-001", T0)
    db.session.commit()
    row = score(enterprise_id)
    assert (row.grade, row.trusted, row.serious_list_since) == ("D", False, T0)
    assert db.session.get(Enterprise, enterprise_id).trusted is False
    with pytest.raises(CreditRuleError, match="already on the serious list"):
        mark_serious(enterprise_id, REGULATOR, "again", T0 + timedelta(days=1))
    with pytest.raises(CreditRuleError, match="only after one year"):
        remove_from_serious_list(enterprise_id, REGULATOR, "fine paid", T0 + timedelta(days=364))
    db.session.rollback()
    removal = remove_from_serious_list(
        enterprise_id, REGULATOR, "Fine paid, tourists refunded", T0 + timedelta(days=366)
    )
    db.session.commit()
    assert removal.neutralises_id == listing.id
    assert removal.points == -listing.points
    row = score(enterprise_id)
    assert (row.score, row.grade, row.trusted, row.serious_list_since) == (100, "A", True, None)

    [_, other] = merchants(2)
    mark_serious(other, REGULATOR, "Penalty decision 2026-002", T0)
    db.session.commit()
    # Three calendar years, and 2028 has a 29 February: 1095 days are one day short.
    run_credit_tick(T0 + timedelta(days=1095))
    assert score(other).grade == "D"
    run_credit_tick(T0.replace(year=2029))
    row = score(other)
    assert (row.grade, row.serious_list_since, row.trusted) == ("A", None, True)
    assert [
        c.joined
        for c in db.session.scalars(
            select(TrustedListChange)
            .where(TrustedListChange.enterprise_id == other)
            .order_by(TrustedListChange.id)
        )
    ] == [False, True]


def test_repair_needs_the_minimum_period_a_reason_and_never_edits_history(seeded):
    [enterprise_id] = merchants(1)
    refused = record(enterprise_id, K.MEDIATION_REFUSED, T0, "mr")  # general tier: 90 days
    settled = record(enterprise_id, K.SETTLED_IN_TIME, T0, "s")
    kwargs = {"corrections": "Retrained staff", "commitment": "We will mediate", "actor": "m:1"}
    with pytest.raises(CreditRuleError, match="minimum period"):
        apply_for_repair(enterprise_id, refused.id, now=T0 + timedelta(days=89), **kwargs)
    with pytest.raises(CreditRuleError, match="Only negative entries"):
        apply_for_repair(enterprise_id, settled.id, now=T0 + timedelta(days=100), **kwargs)
    with pytest.raises(CreditRuleError, match="commitment"):
        apply_for_repair(
            enterprise_id,
            refused.id,
            now=T0 + timedelta(days=100),
            corrections="x",
            commitment="",
            actor="m:1",
        )
    first = apply_for_repair(enterprise_id, refused.id, now=T0 + timedelta(days=91), **kwargs)
    db.session.commit()
    with pytest.raises(CreditRuleError, match="already waiting"):
        apply_for_repair(enterprise_id, refused.id, now=T0 + timedelta(days=92), **kwargs)
    refuse_repair(
        first.id, actor=REGULATOR, reason="No evidence of retraining", now=T0 + timedelta(days=95)
    )
    db.session.commit()
    assert first.state is RepairState.REFUSED
    second = apply_for_repair(enterprise_id, refused.id, now=T0 + timedelta(days=96), **kwargs)
    with pytest.raises(CreditRuleError, match="reason"):
        grant_repair(second.id, actor=REGULATOR, reason="", now=T0 + timedelta(days=97))
    before = score(enterprise_id).score
    grant = grant_repair(
        second.id, actor=REGULATOR, reason="Certificates seen", now=T0 + timedelta(days=97)
    )
    db.session.commit()
    assert before == 100 - 15 + 2  # stored before day 90, stale since the +2 expired
    assert score(enterprise_id).score == 100  # rebuilt on landing: -15 + 15, the +2 expired
    assert (grant.kind, grant.points, grant.expires_at) == (
        K.REPAIR_GRANTED,
        15,
        refused.expires_at,
    )
    db.session.refresh(refused)
    assert (refused.points, refused.reason) == (-15, "test")  # the original entry is untouched
    assert db.session.get(CreditRepairApplication, second.id).grant_event_id == grant.id
    with pytest.raises(CreditRuleError, match="already been repaired"):
        apply_for_repair(enterprise_id, refused.id, now=T0 + timedelta(days=98), **kwargs)
    refused.points = 0
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()


def test_complaint_free_periods_are_granted_once_per_period(seeded):
    ids = merchants(2)
    db.session.execute(update(Enterprise).where(Enterprise.id.in_(ids)).values(created_at=T0))
    db.session.commit()
    quiet, complained = ids
    outlet = db.session.scalar(select(Enterprise).where(Enterprise.id == complained)).outlets[0]
    file_case(outlet, now=T0 + timedelta(days=100))
    now = T0 + timedelta(days=200)
    first = grant_complaint_free_periods(now)
    again = grant_complaint_free_periods(now + timedelta(days=1))
    assert (first.complaint_free, again.complaint_free) == (1, 0)
    assert score(quiet).score == 105
    assert score(complained) is None  # only 100 days since its complaint
    assert grant_complaint_free_periods(T0 + timedelta(days=100 + 182)).complaint_free == 1
    assert score(complained).score == 105


def test_overdue_recovery_takes_a_merchant_off_the_trusted_list_until_repaid(seeded):
    from complaints.compensation.models import Claim, Fund, RecoveryOrder, RecoveryState
    from workflows.states import CompensationState

    outlet = outlet_named("Ah Hai")
    enterprise_id = outlet.enterprise_id
    case = file_case(outlet, now=T0)
    fund = db.session.scalar(select(Fund).where(Fund.division_code == "460200"))
    if fund is None:
        fund = Fund(division_code="460200", name_zh="三亚基金", name_en="Sanya fund")
        db.session.add(fund)
        db.session.flush()
    claim = Claim(
        case_id=case.id,
        fund_id=fund.id,
        enterprise_id=enterprise_id,
        state=CompensationState.OVERDUE,
        amount_fen=100,
        tourist_phone=case.tourist_phone,
    )
    db.session.add(claim)
    db.session.flush()
    order = RecoveryOrder(
        claim_id=claim.id,
        enterprise_id=enterprise_id,
        amount_fen=100,
        state=RecoveryState.OVERDUE,
        due_at=T0 + timedelta(days=10),
    )
    db.session.add(order)
    db.session.flush()
    record_credit_event(enterprise_id, K.SETTLED_IN_TIME, case_id=case.id, reason="x", now=T0)
    row = score(enterprise_id)
    assert (row.grade, row.trusted) == ("A", False)  # a good grade is not enough
    on_recovery_overdue(enterprise_id, case.id, T0 + timedelta(days=11))
    order.state = RecoveryState.REPAID
    db.session.flush()
    on_recovery_repaid(enterprise_id, case.id, T0 + timedelta(days=12), on_time=False)
    db.session.commit()
    row = score(enterprise_id)
    assert (row.score, row.grade, row.trusted) == (77, "B", True)
    assert db.session.get(Enterprise, enterprise_id).trusted is True
    changes = db.session.scalars(
        select(TrustedListChange.reason)
        .where(TrustedListChange.enterprise_id == enterprise_id)
        .order_by(TrustedListChange.id)
    ).all()
    assert changes == ["overdue_recovery", "meets_rules"]
