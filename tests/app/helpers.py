"""Small builders shared by app tests."""

import io
from datetime import timedelta

from PIL import Image
from sqlalchemy import select

from complaints.clock import local_today
from complaints.extensions import db
from complaints.merchants.models import Outlet
from complaints.merchants.services import scan_token
from tests.app_fixtures import hidden_fields


def outlet_named(name_en_part: str) -> Outlet:
    return db.session.scalar(select(Outlet).where(Outlet.name_en.contains(name_en_part)))


def complaint_form_data(client, token: str, **overrides) -> dict:
    page = client.get(f"/s/{token}/complain")
    assert page.status_code == 200, page.status_code
    data = hidden_fields(page.get_data(as_text=True))
    data.update(
        category="catering",
        description="Charged 880 yuan for seafood priced at 88 on the board.",
        occurred_on=(local_today() - timedelta(days=1)).isoformat(),
        amount_paid="880.00",
        amount_claimed="792.00",
        remedy="partial_refund",
        tourist_name="Alice Tourist",
        phone="+44 7911 123456",
        language="en",
        contact_consent="y",
    )
    data.update(overrides)
    return data


def photo_bytes(fmt: str = "JPEG", *, with_gps: bool = False, size=(64, 48)) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    out = io.BytesIO()
    if with_gps:
        exif = Image.Exif()
        exif[0x010F] = "PhoneMaker"  # Make
        gps = exif.get_ifd(0x8825)
        gps[1] = "N"
        gps[2] = (18.0, 15.0, 0.0)
        gps[3] = "E"
        gps[4] = (109.0, 30.0, 0.0)
        image.save(out, fmt, exif=exif)
    else:
        image.save(out, fmt)
    return out.getvalue()


def token_for(outlet: Outlet) -> str:
    return scan_token(outlet)


def file_case(
    outlet: Outlet,
    *,
    now,
    key: str | None = None,
    phone: str = "+8613812345678",
    description: str = "Charged far more than the posted price for the same dish.",
    run_jobs: bool = True,
):
    """A complaint filed through the real service, as the form would, committed."""
    import secrets as _secrets

    from complaints.cases.models import CaseSource, Remedy
    from complaints.cases.services import ComplaintInput, file_complaint

    data = ComplaintInput(
        enterprise_id=outlet.enterprise_id,
        outlet_id=outlet.id,
        category=outlet.category,
        description=description,
        occurred_on=now.date() - timedelta(days=1),
        amount_paid_fen=88000,
        amount_claimed_fen=79200,
        remedy=Remedy.PARTIAL_REFUND,
        tourist_name="Test Tourist",
        tourist_phone=phone,
        language="en",
        contact_consent=False,
        source=CaseSource.QR,
        submission_key=key or _secrets.token_urlsafe(24),
    )
    filed = file_complaint(
        data,
        secret_key="test-secret-key-not-for-production",
        public_base_url="http://anxin.test",
        now=now,
    )
    db.session.commit()
    if filed.created and run_jobs:
        run_filing_jobs()
    return filed.case


def run_filing_jobs() -> None:
    """The worker's part of a filing that tests read at once: the receipt, the first phone
    code and the duplicate check, queued in the outbox by CaseFiled's subscribers. The texts
    they queue stay queued, as they are after a real filing until the relay runs."""
    from complaints.duplicates.services import FLAG_JOB
    from complaints.notices.services import RECEIPT_JOB
    from complaints.outbox.models import OutboxMessage
    from complaints.outbox.services import process_outbox_message
    from complaints.verification.services import FIRST_CODE_JOB

    pending = (
        select(OutboxMessage.id)
        .where(
            OutboxMessage.job.in_([RECEIPT_JOB, FIRST_CODE_JOB, FLAG_JOB]),
            OutboxMessage.done_at.is_(None),
        )
        .order_by(OutboxMessage.id)
    )
    for message_id in db.session.scalars(pending).all():
        process_outbox_message(message_id)
