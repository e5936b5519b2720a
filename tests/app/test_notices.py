"""announce(): who hears about which case event, in which language, exactly once."""

import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from complaints.cases.audit import append_event
from complaints.clock import LOCAL_ZONE
from complaints.database import utcnow
from complaints.extensions import db
from complaints.notices.events import EVENTS
from complaints.notices.history import (
    ResendRefused,
    delivery_log,
    failed_first_log,
    resend,
)
from complaints.notices.models import Audience, DeliveryStatus, Notification, SmsOptOut
from complaints.notices.services import DELIVER_JOB, announce
from complaints.outbox.models import OutboxMessage
from complaints.outbox.services import relay_pending
from tests.app.test_notices_support import PUBLIC, TOURIST_PHONE, file_case
from tests.app.test_notices_support import fake_servers as fake_servers
from tests.app.test_notices_support import fakes as fakes
from workflows.states import CaseState, Role

CONTEXT = {"due_at": utcnow() + timedelta(days=2), "amount_fen": 79200}


def _routed(case):
    append_event(
        case,
        trigger="route_to_merchant",
        from_state=CaseState.SUBMITTED,
        to_state=CaseState.MERCHANT_RESPONSE,
        role=Role.SYSTEM,
        actor_id=None,
        now=utcnow(),
    )
    db.session.flush()


def _rows(case, event_key):
    return db.session.scalars(
        select(Notification)
        .where(Notification.case_id == case.id, Notification.event_key == event_key)
        .order_by(Notification.id)
    ).all()


@pytest.mark.parametrize("language", ["en", "zh"])
def test_every_event_names_the_case_and_links_each_party_to_its_page(seeded, language):
    case, tracking_url = file_case(language=language, relay=False)
    case.enterprise.notify_language = language
    _routed(case)
    number = case.number
    for event_key in EVENTS:
        announce(case, event_key, tracking_url=tracking_url, **CONTEXT)
        notifications = _rows(case, event_key)
        assert notifications, event_key
        for n in notifications:
            text = f"{n.subject or ''}\n{n.body}"
            assert number in text, (event_key, n.audience, n.channel)
            if n.audience is Audience.MERCHANT:
                assert f"{PUBLIC}/merchant/cases/{number}" in n.body
                assert n.language == language
            elif n.audience is Audience.REGULATOR:
                assert f"{PUBLIC}/console/cases/{number}" in n.body
                assert n.recipient == case.agency.notify_email
                assert n.language == "zh"
            elif event_key == "case_received":
                assert tracking_url in n.body
            else:
                # Only its hash is stored: later messages cannot carry the tracking link.
                assert "http" not in n.body
                if language == "en" and event_key != "close":
                    assert "reply with the case number" in n.body
            if n.channel == "sms":
                assert n.body.startswith("【安心】")
            else:
                assert n.subject
                assert "\n" not in n.subject
    db.session.commit()
    # One delivery job per notification (the filing's duplicate check is a job of its own).
    deliveries = select(func.count(OutboxMessage.id)).where(OutboxMessage.job == DELIVER_JOB)
    assert db.session.scalar(deliveries) == db.session.scalar(select(func.count(Notification.id)))


def test_recipient_language_picks_names_and_numbers(seeded):
    case, _ = file_case(language="en")
    case.enterprise.notify_language = "zh"
    (tourist_sms,) = announce(case, "merchant_offer")
    merchant_sms, merchant_email = announce(case, "route_to_merchant", **CONTEXT)
    assert case.enterprise.name_en in tourist_sms.body
    assert case.enterprise.name_zh not in tourist_sms.body
    assert case.outlet.name_zh in merchant_sms.body
    assert merchant_email.recipient == case.enterprise.contact_email
    assert merchant_sms.recipient == case.enterprise.contact_phone
    local_due = CONTEXT["due_at"].astimezone(LOCAL_ZONE)
    assert local_due.strftime("%Y-%m-%d %H:%M") in merchant_email.body
    assert "¥792.00" in merchant_email.body
    assert "¥880.00" in merchant_email.body


def test_announce_is_idempotent_but_reminders_repeat_with_a_discriminator(seeded):
    case, _ = file_case()
    assert len(announce(case, "accept")) == 3  # tourist SMS, merchant SMS and email
    assert announce(case, "accept") == []
    first = announce(case, "merchant_reminder:2026-11-26T10:00:00+00:00", **CONTEXT)
    second = announce(case, "merchant_reminder:2026-11-27T10:00:00+00:00", **CONTEXT)
    assert len(first) == len(second) == 2
    assert all(n.expires_at == CONTEXT["due_at"] for n in first + second)
    db.session.commit()
    assert len(_rows(case, "accept")) == 3


def test_unknown_event_sends_nothing_and_says_so_at_debug(seeded, caplog):
    case, _ = file_case()
    before = db.session.scalar(select(func.count(Notification.id)))
    with caplog.at_level(logging.DEBUG, logger="complaints.notices.services"):
        assert announce(case, "teleport") == []
    assert "teleport" in caplog.text
    assert db.session.scalar(select(func.count(Notification.id))) == before


def test_who_is_told_depends_on_addresses_and_on_routing(seeded):
    case, _ = file_case()
    # Before routing neither merchant nor regulator has seen the case.
    assert [n.audience for n in announce(case, "withdraw")] == [Audience.TOURIST]
    _routed(case)
    case.enterprise.contact_email = None
    case.agency.notify_email = None
    rows = announce(case, "tourist_reject_offer")
    assert sorted((n.audience.value, n.channel) for n in rows) == [
        ("merchant", "sms"),
        ("tourist", "sms"),
    ]
    other, _ = file_case(phone="+8613800138000")
    _routed(other)
    assert {(n.audience, n.channel) for n in announce(other, "withdraw")} == {
        (Audience.TOURIST, "sms"),
        (Audience.MERCHANT, "sms"),
    }


def test_decline_states_the_legal_basis_recorded_with_the_event(seeded):
    case, _ = file_case()
    append_event(
        case,
        trigger="decline",
        from_state=CaseState.REGULATOR_REVIEW,
        to_state=CaseState.DECLINED,
        role=Role.HANDLER,
        actor_id="7",
        reason="Already decided by the Sanya arbitration commission.",
        ground="handled_elsewhere",
        now=utcnow(),
    )
    tourist_sms, merchant_email = announce(case, "decline")
    # Received after 2026-04-15: Order 121 applies (issue 12 item 9), its ground traced to
    # the Order 20 article it continues.
    assert "SAMR Order 121 (formerly Order 20, Art. 15(2))" in tourist_sms.body
    assert "arbitration commission" in tourist_sms.body
    # The merchant reads Chinese: the same article, cited the Chinese way.
    assert "市场监管总局令第121号（原第20号令第15条第（2）项）" in merchant_email.body


def test_a_complaint_received_before_order_121_cites_order_20(seeded):
    case, _ = file_case()
    case.created_at = datetime(2026, 4, 14, 15, 0, tzinfo=UTC)  # 23:00 on 14 April in Hainan
    append_event(
        case,
        trigger="decline",
        from_state=CaseState.REGULATOR_REVIEW,
        to_state=CaseState.DECLINED,
        role=Role.HANDLER,
        actor_id="7",
        reason="Already decided by the Sanya arbitration commission.",
        ground="handled_elsewhere",
        now=utcnow(),
    )
    tourist_sms, merchant_email = announce(case, "decline")
    assert "SAMR Order 20, Art. 15(2)" in tourist_sms.body
    assert "市场监管总局令第20号第15条第（2）项" in merchant_email.body


def test_opted_out_tourist_is_recorded_as_not_told_and_never_queued(seeded):
    case, _ = file_case()
    db.session.add(SmsOptOut(phone=TOURIST_PHONE, source="STOP"))
    (row,) = announce(case, "merchant_offer")
    assert row.status is DeliveryStatus.FAILED
    assert row.error_code == "opted_out"
    db.session.commit()
    payloads = [m.payload["args"] for m in db.session.scalars(select(OutboxMessage))]
    assert [row.id] not in payloads


def test_delivery_logs_and_resend(seeded, fakes):
    case, _ = file_case(phone="+15005550001")  # Twilio's magic "invalid number": 21211
    announce(case, "route_to_merchant", **CONTEXT)
    db.session.commit()
    relay_pending()
    log = delivery_log(case.id)
    assert [n.event_key for n in log][:1] == ["case_received"]
    failed = [n for n in log if n.status is DeliveryStatus.FAILED]
    assert {n.error_code for n in failed} == {"21211"}
    received = next(n for n in failed if n.event_key == "case_received")

    page = failed_first_log(limit=len(failed))
    assert {n.id for n in page} == {n.id for n in failed}
    rest = failed_first_log(limit=50, before_id=page[-1].id)
    assert rest
    assert all(n.status is not DeliveryStatus.FAILED for n in rest)
    assert [n.id for n in rest] == sorted((n.id for n in rest), reverse=True)

    with pytest.raises(ResendRefused, match="Only a failed"):
        resend(rest[0].id, "account:1")
    code = next(n for n in failed if n.event_key.startswith("phone_code"))
    with pytest.raises(ResendRefused, match="code"):
        resend(code.id, "account:1")

    copy = resend(received.id, "account:7")
    assert copy.event_key == "case_received#r1"
    assert copy.requested_by == "account:7"
    assert copy.resend_of_id == received.id
    assert "/t/" in copy.body
    assert "/t/" not in received.body
    with pytest.raises(ResendRefused, match="already"):
        resend(received.id, "account:8")
    db.session.commit()
    relay_pending()
    db.session.refresh(copy)
    assert copy.status is DeliveryStatus.FAILED  # still an invalid number
    # Handled failures leave the top of the list; the copy's own failure is new.
    assert received.id not in {n.id for n in failed_first_log(limit=len(failed))}
    assert failed_first_log(limit=1)[0].id == copy.id
    assert resend(copy.id, "account:7").event_key == "case_received#r2"


def test_resend_refuses_opted_out_and_expired(seeded, fakes):
    case, _ = file_case(phone="+15005550004")  # Twilio's magic "unsubscribed": 21610
    received = _rows(case, "case_received")[0]
    assert received.status is DeliveryStatus.FAILED
    with pytest.raises(ResendRefused, match="START"):
        resend(received.id, "account:1")
    reminder, _ = announce(case, "merchant_reminder:x", due_at=utcnow() + timedelta(hours=1))
    reminder.status = DeliveryStatus.FAILED
    with pytest.raises(ResendRefused, match="out of date"):
        resend(reminder.id, "account:1", now=utcnow() + timedelta(hours=2))
