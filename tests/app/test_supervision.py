"""Code-based supervision: an inspector's scan opens the dossier; inspections feed credit."""

import io
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import select

from complaints.cases.models import Case, CaseSource
from complaints.credit.engine import CreditEventKind
from complaints.credit.models import CreditEvent, MerchantScore
from complaints.database import utcnow
from complaints.extensions import db
from complaints.supervision.models import Inspection, InspectionResult
from complaints.supervision.services import mark_overdue_rectifications
from tests.app.helpers import token_for
from tests.app.test_console_support import AH_HAI, file_case, outlet, sign_in
from tests.app_fixtures import hidden_fields
from workflows.states import CaseState

INSPECTOR = "inspector.sanya@anxin.demo"


def jpeg() -> io.BytesIO:
    data = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 40, 40)).save(data, "JPEG")
    data.seek(0)
    return data


def inspect(client, code, **fields):
    page = client.get(f"/supervision/outlets/{code}/inspect?lang=en").get_data(as_text=True)
    data = {"csrf_token": hidden_fields(page)["csrf_token"], **fields}
    return client.post(
        f"/supervision/outlets/{code}/inspect?lang=en",
        data=data,
        content_type="multipart/form-data",
    )


@pytest.fixture
def inspector(client, seeded):
    sign_in(client, INSPECTOR)
    return client


def test_an_inspector_scanning_a_code_lands_on_the_dossier(inspector):
    place = outlet(AH_HAI)
    file_case(AH_HAI, utcnow())
    scan = inspector.get(f"/s/{token_for(place)}?lang=en")
    assert scan.status_code == 303
    assert scan.headers["Location"].endswith(f"/supervision/outlets/{place.code}")
    page = inspector.get(scan.headers["Location"] + "?lang=en").get_data(as_text=True)
    assert place.enterprise.uscc in page
    assert "Open cases (1)" in page
    assert "Why this grade" in page


def test_a_rectification_order_costs_credit_and_the_tick_marks_it_overdue(inspector):
    place = outlet(AH_HAI)
    due = (utcnow() + timedelta(days=3)).date()
    response = inspect(
        inspector,
        place.code,
        checklist=["licence_displayed", "prices_marked"],
        findings="Scale reads 10% heavy.",
        result="rectify",
        rectify_by=due.isoformat(),
        photos=[(jpeg(), "scale.jpg")],
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    inspection = db.session.scalar(select(Inspection))
    assert inspection.result is InspectionResult.RECTIFY
    assert inspection.checklist["licence_displayed"] is True
    assert inspection.checklist["scales_verified"] is False
    assert len(inspection.photos) == 1
    kinds = db.session.scalars(
        select(CreditEvent.kind).where(CreditEvent.enterprise_id == place.enterprise_id)
    ).all()
    assert CreditEventKind.INSPECTION_RECTIFY in kinds
    score = db.session.get(MerchantScore, place.enterprise_id).score
    assert score == 95

    assert mark_overdue_rectifications(utcnow()) == 0  # not due yet
    later = utcnow() + timedelta(days=5)
    assert mark_overdue_rectifications(later) == 1
    assert mark_overdue_rectifications(later) == 0  # once
    db.session.expire_all()
    assert db.session.get(MerchantScore, place.enterprise_id).score == 85


def test_rectify_needs_a_date_and_findings_are_required(inspector):
    place = outlet(AH_HAI)
    response = inspect(inspector, place.code, findings="", result="rectify")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Write down what you found." in html
    assert "Give the date by which it must be put right." in html
    assert db.session.scalar(select(Inspection)) is None


def test_an_inspection_can_open_a_case_in_the_agency_queue(inspector):
    place = outlet(AH_HAI)
    response = inspect(
        inspector,
        place.code,
        findings="Menu prices differ from the bill.",
        result="refer",
        open_case="y",
        contact_phone="13812345678",
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    case = db.session.scalar(select(Case).where(Case.source == CaseSource.INSPECTION))
    assert case.state is not CaseState.SUBMITTED  # routed
    assert db.session.scalar(select(Inspection)).case_id == case.id


def test_other_staff_cannot_use_supervision(client, seeded):
    sign_in(client)
    assert client.get("/supervision/?lang=en").status_code == 403
