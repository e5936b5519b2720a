"""Staff decisions made safely: irreversible ones ask first, the merchant's answer comes first
on its case page, the tourist sees by when to answer an offer, and a new message reaches the
other parties."""

import re

from sqlalchemy import select

from complaints.cases.workflow import Actor, fire
from complaints.database import utcnow
from complaints.extensions import db
from complaints.notices.models import Notification
from tests.app.test_portal_support import (
    AH_HAI_OWNER,
    act,
    csrf,
    merchant_case,
    sign_in,
    tourist_post,
    tracking_page,
)
from workflows.states import Role

SANYA_HANDLER = "handler.sanya@anxin.demo"


def _form_attrs(page: str, form_id: str) -> str:
    return re.search(rf'<form [^>]*id="{form_id}"[^>]*>', page).group(0)


def test_merchant_answers_first_and_rotation_asks_first(app, client, seeded):
    case, _key = merchant_case(utcnow())
    sign_in(client, AH_HAI_OWNER)
    page = client.get(f"/merchant/cases/{case.number}?lang=en").get_data(as_text=True)
    assert page.index('id="actions"') < page.index('id="complaint"')
    assert page.index('id="actions"') < page.index('id="timeline"')
    assert "confirm.js" in page
    outlets = client.get("/merchant/outlets?lang=en").get_data(as_text=True)
    assert 'data-confirm="Replace this code? Every printed poster' in outlets


def test_decline_and_terminate_ask_for_confirmation(app, client, seeded):
    case, _key = merchant_case(utcnow())
    fire(case, "merchant_dispute", Actor(Role.MERCHANT, "1"), now=utcnow(), reason="not true")
    db.session.commit()
    sign_in(client, SANYA_HANDLER)
    page = client.get(f"/console/cases/{case.number}?lang=en").get_data(as_text=True)
    assert "Decline this complaint?" in _form_attrs(page, "action-decline")
    assert "data-confirm" not in _form_attrs(page, "action-assign")


def test_the_offer_card_says_by_when_to_answer(app, client, seeded):
    case, key = merchant_case(utcnow())
    sign_in(client, AH_HAI_OWNER)
    act(client, case.number, "merchant_offer", amount="300.00", terms="Free dinner")
    page = tracking_page(app.test_client(), key)
    answer_by = re.search(r'id="offer-answer-by"><strong>(.*?)</strong>', page).group(1)
    assert "Answer by" in answer_by
    assert "Beijing time" in answer_by


def test_a_new_message_notifies_the_other_parties(app, client, seeded):
    case, key = merchant_case(utcnow())
    tourist = app.test_client()
    tourist_post(tourist, key, "messages", body="When will I hear back?")

    def keys():
        return sorted(
            (n.event_key.partition(":")[0], n.audience.value, n.channel)
            for n in db.session.scalars(
                select(Notification).where(Notification.event_key.like("message_for_%"))
            )
        )

    assert keys() == [
        ("message_for_merchant", "merchant", "email"),
        ("message_for_merchant", "merchant", "sms"),
        ("message_for_regulator", "regulator", "email"),
    ]
    sign_in(client, AH_HAI_OWNER)
    client.post(
        f"/merchant/cases/{case.number}/messages?lang=en",
        data={"csrf_token": csrf(client, f"/merchant/cases/{case.number}"), "body": "Today."},
    )
    assert ("message_for_tourist", "tourist", "sms") in keys()
    sms = db.session.scalar(
        select(Notification).where(Notification.event_key.like("message_for_tourist:%"))
    )
    assert case.number in sms.body
