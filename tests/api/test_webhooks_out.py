"""Outbound webhooks: Standard Webhooks signatures verified by the reference library, a
receiver down for an hour gets every event afterwards, once, in order per case."""

from collections import defaultdict
from datetime import timedelta

import pytest
from sqlalchemy import select

from complaints.agencies.models import Agency
from complaints.database import utcnow
from complaints.extensions import db
from complaints.hooks_out import delivery as hook_delivery
from complaints.hooks_out import services as hooks
from complaints.hooks_out.models import DeliveryState, WebhookDelivery, WebhookEvent
from complaints.periodic import run_periodic
from complaints.portal.messages import post_message
from tests.api.receiver import running_receiver
from tests.api.support import SANYA, routed_case
from workflows.states import Role


@pytest.fixture
def receiver(seeded, app, tmp_path):
    app.config["CREDIT_EXPORT_DIR"] = str(tmp_path / "exports")
    with running_receiver() as running:
        yield running


def _sanya_endpoint(receiver, **kw):
    agency = db.session.scalar(select(Agency).where(Agency.slug == SANYA))
    endpoint = hooks.create_endpoint(
        url=receiver.url, event_types=["*"], agency_id=agency.id, owner_email="ops@sanya.test", **kw
    )
    db.session.commit()
    receiver.secret = endpoint.secret
    return endpoint


def test_deliveries_verify_with_the_standardwebhooks_library(receiver):
    _sanya_endpoint(receiver)
    case = routed_case()
    run_periodic(utcnow())
    run_periodic(utcnow())
    types = [r["payload"]["type"] for r in receiver.received]
    assert types == ["case.filed", "case.routed"]
    assert receiver.rejected == 0
    assert receiver.received[0]["payload"]["data"]["case_number"] == case.number
    assert "tourist" not in receiver.received[0]["raw"]["data"]  # no personal data leaves


def test_receiver_down_for_an_hour_gets_everything_once_in_order(receiver):
    endpoint = _sanya_endpoint(receiver)
    receiver.down = True
    start = utcnow()
    first, second = routed_case(), routed_case(phone="+8613900000000")
    for minutes in range(0, 61, 5):
        now = start + timedelta(minutes=minutes)
        if minutes == 20:
            post_message(first, Role.HANDLER, "We are looking into it.", now=now)
            db.session.commit()
        run_periodic(now)
    assert receiver.received == []
    attempts = db.session.scalars(select(WebhookDelivery.attempts)).all()
    assert max(attempts) >= 4  # it kept trying, backing off
    receiver.down = False
    for minutes in range(65, 65 + 6 * 60, 15):
        run_periodic(start + timedelta(minutes=minutes))
    sent = db.session.scalars(
        select(WebhookEvent).where(WebhookEvent.agency_id == endpoint.agency_id)
    ).all()
    ids = [r["id"] for r in receiver.received]
    assert sorted(ids) == sorted(e.msg_id for e in sent)  # every event, once
    assert len(ids) == len(set(ids))
    per_case = defaultdict(list)
    for item in receiver.received:
        per_case[item["payload"]["data"]["case_number"]].append(item["id"])
    order = {e.msg_id: e.id for e in sent}
    for case_number, msg_ids in per_case.items():
        assert [order[m] for m in msg_ids] == sorted(order[m] for m in msg_ids), case_number
    assert {first.number, second.number} <= set(per_case)
    states = set(db.session.scalars(select(WebhookDelivery.state)))
    assert states == {DeliveryState.SUCCEEDED}


def test_three_days_of_failure_disables_and_emails_the_owner(receiver, capsys):
    endpoint = _sanya_endpoint(receiver)
    receiver.down = True
    start = utcnow()
    routed_case()
    now = start
    while now < start + timedelta(days=3, hours=13):
        run_periodic(now)
        now += timedelta(hours=6)
    db.session.refresh(endpoint)
    assert not endpoint.active
    assert "three days" in endpoint.disabled_reason
    assert "ops@sanya.test" in capsys.readouterr().out  # the console e-mail backend printed it
    # Back on: what waited (and the failed ones, by replay) go out in order.
    receiver.down = False
    for failed in db.session.scalars(
        select(WebhookDelivery).where(WebhookDelivery.state == DeliveryState.FAILED)
    ):
        hooks.replay(failed, now)
    hooks.enable(endpoint, now)
    db.session.commit()
    run_periodic(now)
    run_periodic(now + timedelta(minutes=1))
    events = db.session.scalars(select(WebhookEvent).order_by(WebhookEvent.id)).all()
    assert [r["id"] for r in receiver.received] == [e.msg_id for e in events]
    assert [e.type for e in events][:2] == ["case.filed", "case.routed"]


def test_rotation_signs_with_both_secrets_during_the_overlap(receiver):
    endpoint = _sanya_endpoint(receiver)
    old = endpoint.secret
    hooks.rotate_secret(endpoint, utcnow())
    db.session.commit()
    receiver.secret = old  # a receiver not yet switched still verifies
    routed_case()
    run_periodic(utcnow())
    run_periodic(utcnow())
    assert len(receiver.received) == 2
    assert receiver.rejected == 0
    signatures = hook_delivery.signing.headers(
        hooks.secrets_in_use(endpoint, utcnow()), "msg_x", 1, "{}"
    )["webhook-signature"].split()
    assert len(signatures) == 2


def test_backoff_spreads_retries_over_three_days():
    waits = [hook_delivery.backoff(n) for n in range(1, 40)]
    assert waits[0] == timedelta(minutes=1)
    assert waits[1] == timedelta(minutes=2)
    assert max(waits) == timedelta(hours=12)
    total, tries = timedelta(0), 0
    while total < hook_delivery.GIVE_UP_AFTER:
        tries += 1
        total += hook_delivery.backoff(tries)
    assert 10 <= tries <= 20


def test_production_refuses_plain_http_and_private_addresses(app, app_ctx, monkeypatch):
    monkeypatch.setitem(app.config, "ANXIN_ENV", "production")
    with app.test_request_context():
        for url in ("http://partner.example/hook", "https://10.0.0.5/hook", "https://localhost/x"):
            with pytest.raises(hooks.EndpointError):
                hooks.check_url(url)
        assert hooks.check_url("https://partner.example/hook") == "https://partner.example/hook"
