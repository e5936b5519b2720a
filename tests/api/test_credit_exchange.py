"""Credit data exchange: list changes as an API feed, signed daily CSV/JSON exports, webhooks."""

import csv
import io
import json
from datetime import timedelta

from sqlalchemy import select

from complaints.agencies.models import Agency
from complaints.clock import local_today
from complaints.credit.engine import CreditEventKind
from complaints.credit.services import record_credit_event
from complaints.credit_exchange import exports
from complaints.database import utcnow
from complaints.extensions import db
from complaints.hooks_out import services as hooks
from complaints.hooks_out.models import WebhookEvent
from tests.api.support import ahhai, ahhai_uscc, auth, key_for


def _serious_listing(now):
    record_credit_event(
        ahhai().enterprise_id, CreditEventKind.SERIOUS_LISTED, reason="SAMR penalty", now=now
    )
    db.session.commit()


def test_serious_listing_reaches_the_api_feed_and_webhook_events(seeded, client):
    agency = db.session.scalar(select(Agency).where(Agency.slug == "amr-460100"))
    hooks.create_endpoint(url="http://127.0.0.1:9/x", event_types=["*"], agency_id=agency.id)
    db.session.commit()  # another city's agency: list events are public
    _serious_listing(utcnow())
    raw = key_for(partner="credit platform", scopes=("credit:read",))
    serious = client.get("/api/v1/credit/serious", headers=auth(raw)).get_json()["data"]
    assert [e["uscc"] for e in serious] == [ahhai_uscc()]
    assert serious[0]["since"] is not None
    changes = client.get("/api/v1/credit/changes", headers=auth(raw)).get_json()["data"]
    assert {"grade_changed", "serious_list_entered"} <= {c["kind"] for c in changes}
    trusted = client.get("/api/v1/credit/trusted", headers=auth(raw)).get_json()["data"]
    assert ahhai_uscc() not in [e["uscc"] for e in trusted]
    types = set(db.session.scalars(select(WebhookEvent.type)))
    assert {"merchant.grade_changed", "merchant.serious_list_entered"} <= types


def test_daily_export_is_signed_and_written_once_by_the_tick(seeded, app, tmp_path, runner):
    app.config["CREDIT_EXPORT_DIR"] = str(tmp_path)
    yesterday = utcnow() - timedelta(days=1)
    _serious_listing(yesterday)
    assert exports.export_if_due(utcnow()) == 1
    assert exports.export_if_due(utcnow()) == 0  # once a day
    day = local_today() - timedelta(days=1)
    data = (tmp_path / f"credit-{day:%Y%m%d}.json").read_bytes()
    signature = (tmp_path / f"credit-{day:%Y%m%d}.json.sig").read_text()
    assert exports.verify(data, signature)
    assert not exports.verify(data + b" ", signature)
    document = json.loads(data)
    assert document["format"] == "anxin-credit-lists"
    assert [e["uscc"] for e in document["serious"]] == [ahhai_uscc()]
    assert any(c["kind"] == "serious_list_entered" for c in document["changes"])
    rows = list(csv.DictReader(io.StringIO((tmp_path / f"credit-{day:%Y%m%d}.csv").read_text())))
    assert {"list": "serious", "uscc": ahhai_uscc()}.items() <= rows[0].items()
    result = runner.invoke(args=["credit-exchange", "export", "--date", day.isoformat()])
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1].startswith("exported credit lists")
