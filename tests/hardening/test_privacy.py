"""Issue 11.17: retention of tourists' personal data (`privacy purge`, run by the tick), the
tourist's requests to see or erase their data where the law allows, PII out of logs."""

import io
import json
import logging
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from complaints.cases.models import Case, Evidence
from complaints.cases.workflow import Actor, fire
from complaints.database import utcnow
from complaints.extensions import db
from complaints.notices.models import Audience, Notification
from complaints.periodic import run_periodic
from complaints.privacy.services import PURGED, RetentionPolicy
from complaints.verification.models import PhoneVerification
from tests.app.helpers import complaint_form_data, outlet_named, photo_bytes, token_for
from tests.app.test_portal_support import merchant_case
from tests.app_fixtures import hidden_fields
from workflows.states import Role

PHONE = "+8613812345678"


def _filed_with_photo(client, app):
    token = token_for(outlet_named("Ah Hai"))
    data = complaint_form_data(client, token, phone=PHONE, tourist_name="Zhang Wei")
    data["evidence"] = [(io.BytesIO(photo_bytes()), "receipt.jpg")]
    response = client.post(f"/s/{token}/complain", data=data, content_type="multipart/form-data")
    assert response.status_code == 303
    case = db.session.scalar(select(Case).order_by(Case.id.desc()))
    stored = Path(app.config["UPLOAD_DIR"]) / case.evidence[0].stored_name
    assert stored.exists()
    return case, response.headers["Location"].split("?")[0], stored


def _withdraw(case, when):
    fire(case, "withdraw", Actor(Role.TOURIST), now=when, reason="Settled at the counter")
    db.session.commit()


def test_the_tick_purges_personal_data_after_the_retention_period(app, client, seeded, caplog):
    case, _tracking, stored = _filed_with_photo(client, app)
    ended = utcnow()
    _withdraw(case, ended)
    caplog.set_level(logging.INFO)
    assert run_periodic(ended + timedelta(days=3 * 365 - 1))["personal_data_purged"] == 0
    assert run_periodic(ended + timedelta(days=3 * 365 + 1))["personal_data_purged"] == 1
    db.session.refresh(case)
    assert (case.tourist_name, case.tourist_phone) == (PURGED, "")
    assert case.personal_data_purged_at is not None
    assert not stored.exists()
    assert db.session.scalars(select(Evidence).where(Evidence.case_id == case.id)).all() == []
    texts = db.session.scalars(
        select(Notification).where(
            Notification.case_id == case.id, Notification.audience == Audience.TOURIST
        )
    ).all()
    assert texts
    assert all(PHONE not in n.recipient + n.body for n in texts)
    assert not db.session.scalars(
        select(PhoneVerification).where(PhoneVerification.case_id == case.id)
    ).all()
    assert [e.trigger for e in case.events] == ["submit", "withdraw"]  # the archive stays
    assert "Zhang Wei" not in caplog.text
    assert PHONE not in caplog.text
    assert run_periodic(ended + timedelta(days=3 * 366))["personal_data_purged"] == 0


def test_never_confirmed_complaints_are_purged_after_90_days(runner, app, client, seeded):
    case, _tracking, _stored = _filed_with_photo(client, app)
    assert case.phone_verified_at is None
    result = runner.invoke(args=["privacy", "purge"])
    assert result.exit_code == 0
    assert result.output.strip().splitlines()[-1].startswith("purged personal data of 0 cases")
    db.session.execute(
        Case.__table__.update()
        .where(Case.id == case.id)
        .values(created_at=utcnow() - timedelta(days=91))
    )
    db.session.commit()
    result = runner.invoke(args=["privacy", "purge"])
    assert "of 1 cases (0 ended, 1 never confirmed), removed 1 files" in result.output
    db.session.refresh(case)
    assert case.tourist_phone == ""


def test_the_tourist_sees_their_data_and_erases_it_once_the_law_allows(app, client, seeded):
    case, tracking, stored = _filed_with_photo(client, app)
    download = client.get(f"{tracking}/my-data")
    assert download.status_code == 200
    data = json.loads(download.text)
    assert (data["name"], data["phone"]) == ("Zhang Wei", PHONE)
    assert data["photos"][0]["name"] == "receipt.jpg"
    assert download.headers["Cache-Control"] == "no-store"
    page = client.get(f"{tracking}?lang=en").text
    token = hidden_fields(page)["csrf_token"]
    refused = client.post(f"{tracking}/erase", data={"csrf_token": token})
    assert refused.status_code == 303
    assert "real-name complaints" in client.get(f"{tracking}?lang=en").text
    db.session.refresh(case)
    assert case.tourist_name == "Zhang Wei"  # still handled: the regulator needs it
    _withdraw(case, utcnow())
    assert client.post(f"{tracking}/erase", data={"csrf_token": token}).status_code == 303
    db.session.refresh(case)
    assert case.tourist_name == PURGED
    assert not stored.exists()
    assert "were removed from this case" in client.get(f"{tracking}?lang=en").text


def test_retention_periods_are_configurable_and_checked(app, tmp_path):
    assert RetentionPolicy.from_mapping({"ended_case_days": 30}).ended_case_days == 30
    with pytest.raises(ValueError, match="unknown keys"):
        RetentionPolicy.from_mapping({"forever": 1})
    from complaints import create_app
    from complaints.config import ConfigError

    with pytest.raises(ConfigError, match="RETENTION_POLICY"):
        create_app(
            {
                "SQLALCHEMY_DATABASE_URI": "sqlite://",
                "UPLOAD_DIR": str(tmp_path),
                "RETENTION_POLICY": {"ended_case_days": 0},
            }
        )


def test_a_case_with_an_open_claim_keeps_its_payee(seeded):
    from complaints.privacy.services import may_erase

    case, _key = merchant_case(utcnow())
    assert may_erase(case) == "open"
