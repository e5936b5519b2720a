"""Builders and fixtures for the console panel tests (this module holds no tests of its own)."""

import io
import re
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from complaints.accounts.models import Account
from complaints.cases.models import Case, EvidenceKind
from complaints.cases.workflow import route
from complaints.database import utcnow
from complaints.duplicates.models import DuplicateFlag
from complaints.extensions import db
from complaints.notices.models import DeliveryStatus, Notification
from complaints.portal.evidence import stage_item
from complaints.portal.services import submit_dispute, submitted_dispute_evidence
from tests.app.helpers import file_case, outlet_named
from tests.app.test_console_support import TAXI, case_page
from tests.app_fixtures import hidden_fields

AH_HAI_OWNER = "owner.ahhai@anxin.demo"
SHARED_PHONE = "+8613811112222"  # one phone: every case filed in a test is a possible duplicate


def account(email: str) -> Account:
    return db.session.scalar(select(Account).where(Account.email == email))


def merchant_case(outlet: str, now, *, phone: str = SHARED_PHONE) -> Case:
    """Filed through the real service and routed by the real workflow, committed."""
    case = file_case(outlet_named(outlet), now=now, phone=phone)
    route(case, now)
    db.session.commit()
    return case


def disputed_case(app, now, *, kinds=(EvidenceKind.RECEIPT, EvidenceKind.PHOTO)) -> Case:
    """An Ah Hai case the owner disputed with one cleaned photo per kind, committed."""
    case = merchant_case("Ah Hai", now)
    owner = account(AH_HAI_OWNER)
    for number, kind in enumerate(kinds):
        stage_item(
            case,
            owner,
            FileStorage(stream=_jpeg((10 * number, 80, 160)), filename=f"{kind.value}.jpg"),
            kind,
            f"{kind.value} note",
            upload_dir=app.config["UPLOAD_DIR"],
            max_bytes=1_000_000,
        )
    submit_dispute(case, owner, "The price was on the board.", now + timedelta(minutes=5))
    db.session.commit()
    return case


def _jpeg(colour) -> io.BytesIO:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), colour).save(out, "JPEG")
    out.seek(0)
    return out


def section(html: str, section_id: str) -> str:
    """One <section id=...> of the case page."""
    found = re.search(rf'<section class="card" id="{section_id}">(.*?)</section>', html, re.S)
    assert found, f"no section {section_id}"
    return found.group(1)


def token(client, path: str = "/console/") -> str:
    page = client.get(path).get_data(as_text=True)
    tokens = [v for k, v in hidden_fields(page).items() if k.endswith("csrf_token")]
    assert tokens, f"no CSRF token on {path}"
    return tokens[0]


def page_html(client, number) -> str:
    response = case_page(client, number)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def main_of(response) -> str:
    return re.search(r"<main.*</main>", response.get_data(as_text=True), re.S).group(0)


@pytest.fixture
def twins(seeded):
    """Two Sanya taxi complaints from one phone, an hour apart, both with the regulator."""
    now = utcnow()
    first = merchant_case(TAXI, now - timedelta(hours=1))
    second = merchant_case(TAXI, now)
    (flag,) = db.session.scalars(select(DuplicateFlag))
    assert (flag.case_id, flag.earlier_case_id) == (second.id, first.id)
    return first, second, flag


def merge_post(client, number, flag_id, keep):
    data = {"csrf_token": token(client, f"/console/cases/{number}"), "keep": keep}
    return client.post(f"/console/cases/{number}/duplicates/{flag_id}/merge?lang=en", data=data)


NEW_ROUTES = [
    ("GET", "/console/cases/{number}/dispute-evidence/{item}"),
    ("POST", "/console/cases/{number}/messages"),
    ("POST", "/console/cases/{number}/duplicates/{flag}/merge"),
    ("POST", "/console/cases/{number}/duplicates/{flag}/dismiss"),
    ("POST", "/console/notifications/{notification}/resend"),
]
MISSING = {
    "number": "HN-460200-20260101-999999",
    "item": 999999,
    "flag": 999999,
    "notification": 999999,
}


@pytest.fixture
def sanya_things(app, seeded):
    """A disputed Sanya case with its evidence, a flag and a failed message."""
    case = disputed_case(app, utcnow() - timedelta(hours=1))
    twin = merchant_case("Ah Hai", utcnow())
    flag = db.session.scalar(select(DuplicateFlag).where(DuplicateFlag.case_id == twin.id))
    notification = db.session.scalar(
        select(Notification).where(
            Notification.case_id == case.id, ~Notification.event_key.startswith("phone_code")
        )
    )
    notification.status = DeliveryStatus.FAILED  # one a Sanya handler could resend
    db.session.commit()
    return {
        "case": case,
        "number": case.number,
        "item": submitted_dispute_evidence(case)[0].id,
        "flag": flag.id,
        "notification": notification.id,
    }


def request_route(client, method, route, target, csrf):
    url = route.format(**target) + "?lang=en"
    if method == "GET":
        response = client.get(url)
        response.get_data()
        response.close()
        return response
    data = {
        "csrf_token": csrf,
        "keep": target["number"],
        "message-body": "Hello",
        "message-visibility": "everyone",
    }
    return client.post(url, data=data)
