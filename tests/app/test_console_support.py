"""Builders shared by the console tests (this module holds no tests of its own)."""

import io
import secrets
from datetime import timedelta

from PIL import Image
from sqlalchemy import select

from complaints.accounts.seed import DEMO_PASSWORD
from complaints.cases.models import Case, CaseSource, Evidence, EvidenceKind, Remedy
from complaints.cases.services import ComplaintInput, file_complaint
from complaints.cases.workflow import route
from complaints.extensions import db
from complaints.merchants.models import Outlet
from tests.app_fixtures import hidden_fields

SANYA_HANDLER = "handler.sanya@anxin.demo"
SANYA_SUPERVISOR = "supervisor.sanya@anxin.demo"
SANYA_FUND = "fund.sanya@anxin.demo"
HAIKOU_HANDLER = "handler.haikou@anxin.demo"

TAXI = "Taxi Qiong B·T1234"  # Sanya, Jiyang district, merchant outside the scheme
AH_HAI = "Ah Hai Seafood Kitchen"  # Sanya, Tianya district, answers first
QILOU = "Qilou coconut chicken"  # Haikou


def outlet(name_en: str) -> Outlet:
    return db.session.scalar(select(Outlet).where(Outlet.name_en == name_en))


def file_case(
    outlet_name: str,
    now,
    *,
    description="Charged 880 yuan for a taxi ride that the meter showed as 88.",
    routed=True,
) -> Case:
    """A complaint through the real filing service, routed by the real workflow, committed."""
    place = outlet(outlet_name)
    data = ComplaintInput(
        enterprise_id=place.enterprise_id,
        outlet_id=place.id,
        category=place.category,
        description=description,
        occurred_on=(now - timedelta(days=1)).date(),
        amount_paid_fen=88000,
        amount_claimed_fen=79200,
        remedy=Remedy.PARTIAL_REFUND,
        tourist_name="Alice Tourist",
        tourist_phone="+447911123456",
        language="en",
        contact_consent=False,
        source=CaseSource.QR,
        submission_key=secrets.token_urlsafe(24),
    )
    case = file_complaint(
        data, secret_key="test", public_base_url="http://anxin.test", now=now
    ).case
    if routed:
        route(case, now)
    db.session.commit()
    return case


def attach_photo(app, case: Case) -> Evidence:
    image = io.BytesIO()
    Image.new("RGB", (32, 24), (20, 120, 200)).save(image, "JPEG")
    name = f"{secrets.token_hex(16)}.jpg"
    with open(f"{app.config['UPLOAD_DIR']}/{name}", "wb") as out:
        out.write(image.getvalue())
    evidence = Evidence(
        case_id=case.id,
        kind=EvidenceKind.PHOTO,
        stored_name=name,
        content_type="image/jpeg",
        size_bytes=len(image.getvalue()),
        sha256=secrets.token_hex(32),
        original_name="receipt.jpg",
    )
    db.session.add(evidence)
    db.session.commit()
    return evidence


def sign_in(client, email: str = SANYA_HANDLER) -> None:
    page = client.get("/login")
    data = hidden_fields(page.get_data(as_text=True))
    data.update(email=email, password=DEMO_PASSWORD)
    response = client.post("/login", data=data)
    assert response.status_code == 303, response.get_data(as_text=True)


def case_page(client, number: str):
    return client.get(f"/console/cases/{number}?lang=en")


def act(client, number: str, trigger: str, **fields):
    """Post one action form as the page renders it: prefixed fields and its CSRF token."""
    page = case_page(client, number).get_data(as_text=True)
    token = hidden_fields(page).get("csrf_token") or _any_csrf_token(page)
    data = {f"{trigger}-csrf_token": token}
    data.update({f"{trigger}-{name}": value for name, value in fields.items()})
    return client.post(f"/console/cases/{number}/actions/{trigger}?lang=en", data=data)


def _any_csrf_token(page: str) -> str:
    tokens = [value for name, value in hidden_fields(page).items() if name.endswith("csrf_token")]
    assert tokens, "no CSRF token on the page"
    return tokens[0]


def reload(case: Case) -> Case:
    db.session.expire_all()
    return db.session.get(Case, case.id)
