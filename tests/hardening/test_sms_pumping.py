"""Issue 11.8: SMS pumping. Filings count in the per-number code window, texts a visitor can
cause have a per-number budget, and only mobile numbers of allowed calling codes are texted."""

from sqlalchemy import select

from complaints.database import utcnow
from complaints.extensions import db
from complaints.notices.models import DeliveryStatus, Notification
from complaints.notices.services import SMS_BUDGET_SPENT
from complaints.verification.models import PhoneVerification
from complaints.verification.services import SendResult, send_new_code
from tests.app.helpers import complaint_form_data, outlet_named, token_for
from tests.app.test_notices_support import TOURIST_PHONE, file_case
from tests.app_fixtures import error_for


def test_filings_count_in_the_per_number_code_window(app, seeded, monkeypatch):
    monkeypatch.setitem(app.config, "VERIFY_SENDS_PER_NUMBER", 2)
    now = utcnow()
    file_case(now=now)
    file_case(now=now)
    third, _ = file_case(now=now)  # no third code: the window is spent
    codes = db.session.scalars(
        select(PhoneVerification).where(PhoneVerification.phone == TOURIST_PHONE)
    ).all()
    assert len(codes) == 2
    assert send_new_code(third, now=now) is SendResult.RATE_LIMITED


def test_texts_a_visitor_can_cause_have_a_per_number_budget(app, seeded, monkeypatch):
    monkeypatch.setitem(app.config, "SMS_PER_NUMBER_PER_HOUR", 4)
    monkeypatch.setitem(app.config, "VERIFY_SENDS_PER_NUMBER", 100)
    for _ in range(4):
        file_case()
    texts = db.session.scalars(
        select(Notification).where(
            Notification.recipient == TOURIST_PHONE, Notification.channel == "sms"
        )
    ).all()
    sent = [n for n in texts if n.status is DeliveryStatus.SENT]
    held = [n for n in texts if n.error_code == SMS_BUDGET_SPENT]
    assert len(sent) == 4
    assert len(held) == 4
    assert all(n.status is DeliveryStatus.FAILED for n in held)
    assert all("/t/" not in n.body for n in held)  # no tracking link kept in a held message


def test_only_mobile_numbers_of_allowed_calling_codes_are_accepted(app, client, seeded):
    token = token_for(outlet_named("Ah Hai"))
    for premium in ("+44 909 879 0000", "+1 900 555 1234", "+86 400 810 8888"):
        data = complaint_form_data(client, token, phone=premium)
        page = client.post(f"/s/{token}/complain?lang=en", data=data)
        assert page.status_code == 422
        assert error_for(page.text, "phone") == [
            "Enter a mobile number: we send your case link and code by text message."
        ]
    app.config["SMS_ALLOWED_COUNTRY_CODES"] = frozenset({86, 852})
    try:
        data = complaint_form_data(client, token, phone="+44 7911 123456")
        page = client.post(f"/s/{token}/complain?lang=en", data=data)
        assert page.status_code == 422
        assert "+44 numbers" in error_for(page.text, "phone")[0]
        data = complaint_form_data(client, token, phone="+86 138 1234 5678")
        assert client.post(f"/s/{token}/complain", data=data).status_code == 303
    finally:
        app.config["SMS_ALLOWED_COUNTRY_CODES"] = frozenset()


def test_a_workers_batch_reads_its_numbers_once_and_keeps_their_budgets(app, seeded, monkeypatch):
    """The worker's batch of a rush's receipts (or codes) reads every number's opt-out and
    hourly count in one statement, not one per tourist, and holds back what it would hold
    back one filing at a time."""
    from complaints.notices.events import base_event
    from complaints.notices.jobs import send_receipt
    from complaints.notices.optouts import OPTED_OUT, record_opt_out
    from complaints.notices.services import RECEIPT_JOB
    from complaints.outbox.models import OutboxMessage
    from complaints.verification.services import FIRST_CODE_JOB, send_first_code
    from tests.app import helpers
    from tests.app.test_filing_cost import Counter

    monkeypatch.setitem(app.config, "SMS_PER_NUMBER_PER_HOUR", 3)
    monkeypatch.setitem(app.config, "VERIFY_SENDS_PER_NUMBER", 100)
    opted_out, twice, once = "+8613800000001", "+8613800000002", "+8613800000003"
    record_opt_out(opted_out, "test")
    db.session.commit()
    outlet, now = outlet_named("Ah Hai"), utcnow()
    for phone in (opted_out, twice, twice, once):
        helpers.file_case(outlet, now=now, phone=phone, run_jobs=False)

    def calls(job):
        query = select(OutboxMessage.payload).where(OutboxMessage.job == job)
        return [payload["args"] for payload in db.session.scalars(query.order_by(OutboxMessage.id))]

    counter = Counter(db.engine)
    try:
        receipts, codes = calls(RECEIPT_JOB), calls(FIRST_CODE_JOB)
        counter.reset()
        assert send_receipt.batch(receipts) == {}
        assert send_first_code.batch(codes) == {}
    finally:
        counter.close()
    fact_reads = [s for s in counter.statements if "sms_opt_outs" in s]
    assert len(fact_reads) == 2  # one per batch form, for all four filings

    def texts(phone):
        query = select(Notification).where(
            Notification.recipient == phone, Notification.channel == "sms"
        )
        return db.session.scalars(query).all()

    assert [n.error_code for n in texts(opted_out)] == [OPTED_OUT, OPTED_OUT]
    # Two receipts and two codes against a budget of three: the last code is held back.
    held = [n for n in texts(twice) if n.error_code == SMS_BUDGET_SPENT]
    assert len(texts(twice)) == 4
    assert [base_event(n.event_key) for n in held] == ["phone_code"]
    assert {n.status for n in texts(once)} == {DeliveryStatus.PENDING}
    assert len(texts(once)) == 2
