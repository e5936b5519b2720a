"""The case page's panels fed by other features, and the routes that act on them."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from complaints.cases.models import CaseEvent, EvidenceKind
from complaints.console import deliveries
from complaints.database import utcnow
from complaints.duplicates.models import DuplicateFlag, DuplicateResolution
from complaints.extensions import db
from complaints.merchants.services import rotate_outlet_code
from complaints.notices.models import Audience, DeliveryStatus, Notification
from complaints.outbox.services import relay_after_commit, relay_pending
from complaints.portal import services as portal
from complaints.portal.models import CaseMessage, DisputeEvidence
from complaints.portal.ratings import rate_case
from tests.app.helpers import outlet_named
from tests.app.test_console_extras_support import (
    AH_HAI_OWNER,
    MISSING,
    NEW_ROUTES,
    account,
    disputed_case,
    main_of,
    merchant_case,
    merge_post,
    page_html,
    request_route,
    section,
    token,
)
from tests.app.test_console_extras_support import sanya_things as sanya_things
from tests.app.test_console_extras_support import twins as twins
from tests.app.test_console_support import (
    HAIKOU_HANDLER,
    QILOU,
    SANYA_FUND,
    TAXI,
    reload,
    sign_in,
)
from tests.app_fixtures import error_for
from tests.fakes.twilio_server import fake_twilio as fake_twilio
from workflows.states import CaseState

TWILIO_INVALID_NUMBER = 21211


# --- panels -----------------------------------------------------------------------------------


def test_dispute_evidence_is_shown_and_served_only_once_submitted(app, client, seeded):
    case = disputed_case(app, utcnow())
    receipt, photo = portal.submitted_dispute_evidence(case)
    draft = DisputeEvidence(  # a file staged later, never submitted: the merchant's draft
        case_id=case.id,
        enterprise_id=case.enterprise_id,
        kind=EvidenceKind.OTHER,
        stored_name="draft-never-shown.jpg",
        content_type="image/jpeg",
        size_bytes=1,
        sha256="0" * 64,
        uploaded_by=account(AH_HAI_OWNER).id,
    )
    db.session.add(draft)
    db.session.commit()
    sign_in(client)
    panel = section(page_html(client, case.number), "dispute-evidence")
    base = f"/console/cases/{case.number}/dispute-evidence"
    assert f'src="{base}/{receipt.id}"' in panel
    assert f'src="{base}/{photo.id}"' in panel
    assert "Receipt" in panel
    assert "receipt note" in panel
    assert f"{base}/{draft.id}" not in panel
    served = client.get(f"{base}/{receipt.id}")
    assert served.status_code == 200
    assert served.mimetype == "image/jpeg"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    served.close()
    other = merchant_case("Ah Hai", utcnow(), phone="+8613899990000")
    for url in (f"{base}/{draft.id}", f"/console/cases/{other.number}/dispute-evidence/{photo.id}"):
        missing = client.get(url)
        assert missing.status_code == 404, url
        missing.close()


@pytest.mark.parametrize(
    ("visibility", "tourist", "merchant"),
    [
        ("everyone", True, True),
        ("merchant", False, True),
        ("tourist", True, False),
        ("regulators", False, False),
    ],
)
def test_a_message_reaches_only_the_chosen_audience(client, seeded, visibility, tourist, merchant):
    case = merchant_case("Ah Hai", utcnow())
    sign_in(client)
    posted = client.post(
        f"/console/cases/{case.number}/messages?lang=en",
        data={
            "message-csrf_token": token(client, f"/console/cases/{case.number}"),
            "message-body": f"Please call us ({visibility}).",
            "message-visibility": visibility,
        },
    )
    assert posted.status_code == 303
    case = reload(case)
    readers = {a: [m.body for m in portal.messages_for(case, a)] for a in Audience}
    body = f"Please call us ({visibility})."
    assert readers[Audience.REGULATOR] == [body]
    assert (readers[Audience.TOURIST] == [body]) is tourist
    assert (readers[Audience.MERCHANT] == [body]) is merchant
    (message,) = db.session.scalars(select(CaseMessage).where(CaseMessage.case_id == case.id))
    assert message.author_account_id == account("handler.sanya@anxin.demo").id
    thread = section(page_html(client, case.number), "messages")
    assert body in thread
    assert "Li Na" in thread


def test_an_empty_message_is_refused_next_to_its_field(client, seeded):
    case = merchant_case("Ah Hai", utcnow())
    sign_in(client)
    refused = client.post(
        f"/console/cases/{case.number}/messages?lang=en",
        data={
            "message-csrf_token": token(client, f"/console/cases/{case.number}"),
            "message-body": "  ",
            "message-visibility": "everyone",
        },
    )
    assert refused.status_code == 422
    assert error_for(refused.get_data(as_text=True), "message-body") == ["Write a message first."]
    assert db.session.scalar(select(func.count(CaseMessage.id))) == 0


def test_rating_and_code_rotations_of_the_merchant_are_shown(client, seeded):
    now = utcnow()
    case = merchant_case("Ah Hai", now)
    owner = account(AH_HAI_OWNER)
    sign_in(client)
    assert "has not rated" in section(page_html(client, case.number), "rating")
    portal.refund(case, owner, 79200, now)
    rate_case(case, 4, "Refunded on the spot, but only after I complained.", now)
    rotate_outlet_code(outlet_named("Ah Hai"), actor=f"merchant:{owner.id}", reason="Poster torn")
    db.session.commit()
    page = page_html(client, case.number)
    rating = section(page, "rating")
    assert "4 of 5" in rating
    assert "only after I complained" in rating
    rotations = section(page, "code-rotations")
    assert "Poster torn" in rotations
    assert "Chen Hai (Ah Hai Seafood Kitchen)" in rotations
    assert "version 1 → 2" in rotations


def test_delivery_log_masks_phones_and_shows_failures(client, seeded):
    case = merchant_case("Ah Hai", utcnow(), phone="+447911123456")
    relay_pending()
    failed = db.session.scalar(  # the tourist's receipt: a text that can be sent again
        select(Notification)
        .where(
            Notification.case_id == case.id,
            Notification.channel == "sms",
            ~Notification.event_key.startswith("phone_code"),
        )
        .order_by(Notification.id)
    )
    failed.status, failed.error_code, failed.error_reason = (
        DeliveryStatus.FAILED,
        "21211",
        "not a valid phone number",
    )
    code = db.session.scalar(
        select(Notification).where(
            Notification.case_id == case.id, Notification.event_key.startswith("phone_code")
        )
    )
    code.status = DeliveryStatus.FAILED  # a code is never resent: no button for it
    db.session.commit()
    sign_in(client)
    log = section(page_html(client, case.number), "deliveries")
    assert f"/console/notifications/{code.id}/resend" not in log
    assert "Phone confirmation code" in log
    assert "+4479****3456" in log
    assert "+447911123456" not in log
    assert "21211" in log
    assert "Not a valid phone number." in log  # in words, whatever Twilio said
    assert f"/console/notifications/{failed.id}/resend" in log
    rows = re.findall(r'data-id="(\d+)"', log)
    expected = db.session.scalars(
        select(Notification.id).where(Notification.case_id == case.id).order_by(Notification.id)
    )
    assert [int(i) for i in rows] == list(expected)
    assert len(rows) >= 3  # tourist SMS, merchant SMS and email


# --- duplicates -------------------------------------------------------------------------------


def test_duplicates_panel_offers_both_merges_only_from_the_older_case(client, twins):
    first, second, _flag = twins
    sign_in(client)
    older = section(page_html(client, first.number), "duplicates")
    assert f'href="/console/cases/{second.number}"' in older
    assert "Same phone number within a week" in older
    assert "Text similarity: 100%" in older
    assert f"Merge this case into {second.number}" in older
    assert f"Merge {second.number} into this case" in older
    assert "Not a duplicate" in older
    newer = section(page_html(client, second.number), "duplicates")
    assert f"Merge this case into {first.number}" in newer
    assert f"Merge {first.number} into this case" not in newer


def test_merge_through_http_closes_the_copy_and_keeps_the_audit_chain(client, runner, twins):
    first, second, flag = twins
    sign_in(client)
    assert merge_post(client, first.number, flag.id, keep="HN-nobody").status_code == 400
    merged = merge_post(client, first.number, flag.id, keep=first.number)
    assert merged.status_code == 303
    assert merged.headers["Location"].endswith(f"/console/cases/{first.number}")
    copy, survivor = reload(second), reload(first)
    assert copy.state is CaseState.CLOSED
    assert (copy.events[-1].trigger, copy.events[-1].reason) == (
        "merge_into",
        f"Merged into {first.number}",
    )
    assert survivor.state is CaseState.REGULATOR_REVIEW
    assert survivor.events[-1].trigger == "absorb_duplicate"
    assert db.session.get(DuplicateFlag, flag.id).resolution is DuplicateResolution.MERGED
    assert "No possible duplicates" in section(page_html(client, first.number), "duplicates")
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output


def test_a_refused_merge_answers_409_with_the_reason_and_changes_nothing(client, twins):
    first, second, flag = twins
    sign_in(client, SANYA_FUND)  # the table lets only handlers and supervisors merge
    assert "Merge this case" not in section(page_html(client, first.number), "duplicates")
    refused = merge_post(client, first.number, flag.id, keep=first.number)
    assert refused.status_code == 409
    assert "only handler, supervisor may fire it" in refused.get_data(as_text=True)
    assert reload(second).state is CaseState.REGULATOR_REVIEW
    assert db.session.get(DuplicateFlag, flag.id).resolution is None


def test_not_a_duplicate_dismisses_the_flag_and_keeps_both_open(client, twins):
    first, second, flag = twins
    sign_in(client)
    data = {"csrf_token": token(client)}
    url = f"/console/cases/{second.number}/duplicates/{flag.id}/dismiss?lang=en"
    assert client.post(url, data=data).status_code == 303
    stored = db.session.get(DuplicateFlag, flag.id)
    assert stored.resolution is DuplicateResolution.DISMISSED
    assert stored.resolved_by == str(account("handler.sanya@anxin.demo").id)
    assert {reload(first).state, reload(second).state} == {CaseState.REGULATOR_REVIEW}
    assert client.post(url, data={"csrf_token": token(client)}).status_code == 409


def test_a_case_of_another_agency_is_named_but_not_linked_nor_mergeable(client, seeded):
    sanya = merchant_case(TAXI, utcnow() - timedelta(hours=1))
    haikou = merchant_case(QILOU, utcnow())
    (flag,) = db.session.scalars(select(DuplicateFlag))
    sign_in(client)
    panel = section(page_html(client, sanya.number), "duplicates")
    assert haikou.number in panel
    assert "another agency" in panel
    assert f'href="/console/cases/{haikou.number}"' not in panel
    assert "/merge" not in panel
    assert "/dismiss" not in panel
    assert merge_post(client, sanya.number, flag.id, keep=sanya.number).status_code == 404


# --- notifications ----------------------------------------------------------------------------


def test_resend_a_failed_sms_after_twilio_refused_it(app, client, seeded, monkeypatch, fake_twilio):
    case = merchant_case(TAXI, utcnow(), phone="+447911123456")
    relay_after_commit()  # what filing sent (the receipt job, then its text) went through
    monkeypatch.setitem(app.config, "SMS_BACKEND", "twilio_sms")
    monkeypatch.setitem(
        app.config, "NOTIFICATION_SETTINGS", fake_twilio.settings(TWILIO_VERIFY_SERVICE_SID="")
    )
    fake_twilio.fail_next(400, code=TWILIO_INVALID_NUMBER)
    sign_in(client)
    page = page_html(client, case.number)
    accepted = client.post(
        f"/console/cases/{case.number}/actions/accept?lang=en",
        data={"accept-csrf_token": token(client, f"/console/cases/{case.number}")},
    )
    assert accepted.status_code == 303, page
    failed = db.session.scalar(
        select(Notification).where(
            Notification.case_id == case.id,
            Notification.event_key == "accept",
            Notification.audience == Audience.TOURIST,
        )
    )
    assert (failed.status, failed.error_code) == (DeliveryStatus.FAILED, "21211")
    assert f"/console/notifications/{failed.id}/resend" in section(
        page_html(client, case.number), "deliveries"
    )

    fake_twilio.reset()
    resent = client.post(
        f"/console/notifications/{failed.id}/resend?lang=en", data={"csrf_token": token(client)}
    )
    assert resent.status_code == 303
    copy = db.session.scalar(select(Notification).where(Notification.resend_of_id == failed.id))
    assert copy.status is DeliveryStatus.SENT
    assert copy.requested_by == f"account:{account('handler.sanya@anxin.demo').id}"
    assert [m.to for m in fake_twilio.messages] == ["+447911123456"]
    log = section(page_html(client, case.number), "deliveries")
    assert f"/console/notifications/{failed.id}/resend" not in log
    assert "sent again" in log
    again = client.post(
        f"/console/notifications/{failed.id}/resend?lang=en", data={"csrf_token": token(client)}
    )
    assert again.status_code == 409
    assert "already sent again" in again.get_data(as_text=True)


def test_agency_log_pages_failures_first_and_only_its_own(client, seeded, monkeypatch):
    now = utcnow()
    sanya = [merchant_case(TAXI, now, phone=f"+86138000000{i:02d}") for i in range(2)]
    haikou = merchant_case(QILOU, now, phone="+8613800000099")
    relay_pending()
    ours = list(
        db.session.scalars(
            select(Notification.id)
            .where(Notification.case_id.in_([c.id for c in sanya]))
            .order_by(Notification.id)
        )
    )
    failed_ids = ours[:2]
    db.session.execute(
        update(Notification)
        .where(Notification.id.in_(failed_ids))
        .values(status=DeliveryStatus.FAILED, error_code="550")
    )
    db.session.commit()
    monkeypatch.setattr(deliveries, "LOG_PAGE_SIZE", 2)
    sign_in(client)
    assert 'href="/console/notifications"' in client.get("/console/").get_data(as_text=True)
    seen, url = [], "/console/notifications?lang=en"
    while url:
        response = client.get(url)
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        seen += [int(i) for i in re.findall(r'data-id="(\d+)"', html)]
        found = re.search(r'rel="next" href="([^"]+)"', html)
        url = found.group(1).replace("&amp;", "&") if found else None
    rest = sorted(set(ours) - set(failed_ids), reverse=True)
    assert seen == sorted(failed_ids, reverse=True) + rest
    assert haikou.number not in html
    haikou_note = db.session.scalar(
        select(Notification.id).where(Notification.case_id == haikou.id).limit(1)
    )
    assert client.get(f"/console/notifications?before={haikou_note}").status_code == 400


# --- scope ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "route"), NEW_ROUTES, ids=[f"{m} {r}" for m, r in NEW_ROUTES])
def test_haikou_gets_404_on_every_new_route_of_a_sanya_case(client, sanya_things, method, route):
    sign_in(client, HAIKOU_HANDLER)
    csrf = token(client)
    foreign = request_route(client, method, route, sanya_things, csrf)
    missing = request_route(client, method, route, MISSING, csrf)
    assert foreign.status_code == missing.status_code == 404
    assert main_of(foreign) == main_of(missing)
    case = reload(sanya_things["case"])
    assert case.state is CaseState.REGULATOR_REVIEW
    assert db.session.scalar(select(func.count(CaseMessage.id))) == 0
    assert db.session.get(DuplicateFlag, sanya_things["flag"]).resolution is None
    assert (
        db.session.scalar(select(func.count()).where(Notification.resend_of_id.is_not(None))) == 0
    )
    assert "merge_into" not in {e.trigger for e in db.session.scalars(select(CaseEvent))}
    assert case.number not in client.get("/console/notifications").get_data(as_text=True)


# The routes that name a row (a file, a flag) under a case number: the row must hang off it.
ROW_ROUTES = [NEW_ROUTES[0][1], NEW_ROUTES[2][1], NEW_ROUTES[3][1]]


@pytest.mark.parametrize("route", ROW_ROUTES)
def test_a_flag_or_file_of_another_case_of_the_same_agency_is_404(client, sanya_things, route):
    other = merchant_case("Ah Hai", utcnow(), phone="+8613877776666")
    sign_in(client)
    method = "GET" if "dispute-evidence" in route else "POST"
    elsewhere = {**sanya_things, "number": other.number}
    assert request_route(client, method, route, elsewhere, token(client)).status_code == 404
    assert db.session.get(DuplicateFlag, sanya_things["flag"]).resolution is None
