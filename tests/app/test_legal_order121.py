"""Issue 12 item 9: Order 20 -> Order 121 by date of receipt; unverified complaints lapse."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from complaints.cases.services import phone_verified
from complaints.cases.workflow import Actor, fire, route
from complaints.extensions import db
from complaints.notices.models import Notification
from complaints.timers.services import open_deadline_for
from complaints.timers.tick import run_tick
from complaints.verification.reminders import send_confirmation_reminders
from tests.app.helpers import file_case, outlet_named
from workflows.machine import RefusalCode, TransitionRefused
from workflows.states import CaseState, DeadlineKind, Role

FILED_AT = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
BEFORE_121 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
HANDLER = Actor(Role.HANDLER, "1")


def _keys(case) -> list[str]:
    return list(
        db.session.scalars(select(Notification.event_key).where(Notification.case_id == case.id))
    )


def test_an_unverified_complaint_is_reminded_then_not_accepted(seeded):
    case = file_case(outlet_named("Ah Hai"), now=FILED_AT)
    deadline = open_deadline_for(case.id)
    assert deadline.kind is DeadlineKind.IDENTITY_VERIFICATION
    assert deadline.due_at == FILED_AT + timedelta(hours=72)
    # The tourist has the 1 h and 24 h confirmation reminders: the deadline adds no third
    # text saying the same halfway; it warns once, 2 hours before the complaint lapses.
    assert send_confirmation_reminders(FILED_AT + timedelta(hours=2)) == 1
    assert send_confirmation_reminders(FILED_AT + timedelta(hours=25)) == 1
    assert run_tick(FILED_AT + timedelta(hours=37)).reminders == 0
    assert {"phone_reminder:1h", "phone_reminder:24h"} <= set(_keys(case))
    assert not any(key.startswith("verify_reminder") for key in _keys(case))
    assert run_tick(FILED_AT + timedelta(hours=70, minutes=1)).reminders == 1
    assert sum(key.startswith("verify_reminder") for key in _keys(case)) == 1
    assert case.state is CaseState.SUBMITTED
    assert run_tick(FILED_AT + timedelta(hours=73)).expired == 1
    db.session.refresh(case)
    assert case.state is CaseState.DECLINED
    last = case.events[-1]
    assert (last.trigger, last.ground, last.actor_role) == (
        "identity_not_verified",
        "false_identity",
        Role.SYSTEM,
    )
    assert "identity_not_verified" in _keys(case)
    assert open_deadline_for(case.id).kind is DeadlineKind.APPEAL_WINDOW


def test_a_verified_complaint_does_not_lapse(seeded):
    case = file_case(outlet_named("Taxi Qiong B·T1234"), now=FILED_AT)
    phone_verified(case, FILED_AT + timedelta(hours=1))
    db.session.commit()
    assert case.state is CaseState.REGULATOR_REVIEW
    run_tick(FILED_AT + timedelta(hours=73))
    db.session.refresh(case)
    assert case.state is CaseState.REGULATOR_REVIEW
    assert not any(e.trigger == "identity_not_verified" for e in case.events)


def test_before_order_121_the_ground_is_missing_materials(seeded):
    case = file_case(outlet_named("Ah Hai"), now=BEFORE_121)
    run_tick(BEFORE_121 + timedelta(hours=73))
    db.session.refresh(case)
    assert case.events[-1].ground == "materials_missing"


def test_false_identity_cannot_be_cited_for_a_complaint_received_under_order_20(seeded):
    old = file_case(outlet_named("Taxi Qiong B·T1234"), now=BEFORE_121)
    route(old, BEFORE_121)
    db.session.commit()
    with pytest.raises(TransitionRefused) as refused:
        fire(old, "decline", HANDLER, now=BEFORE_121, ground="false_identity")
    assert refused.value.code is RefusalCode.GUARD_FAILED
    db.session.rollback()
    new = file_case(outlet_named("Taxi Qiong B·T1234"), now=FILED_AT)
    route(new, FILED_AT)
    fire(new, "decline", HANDLER, now=FILED_AT, ground="false_identity")
    db.session.commit()
    assert new.state is CaseState.DECLINED
