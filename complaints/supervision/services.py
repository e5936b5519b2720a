"""Recording an inspection and what follows from it: the credit event (through the credit
policy), an optional case, and the rectification deadline the tick watches. Flush only."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from complaints.analytics.rollups import local_day
from complaints.cases.evidence import EvidenceRejected, clean_image
from complaints.cases.models import Case, CaseSource, Remedy
from complaints.cases.services import ComplaintInput, file_complaint
from complaints.cases.workflow import route
from complaints.credit.engine import CreditEventKind
from complaints.credit.services import record_credit_event
from complaints.database import stamp_once
from complaints.extensions import db
from complaints.merchants.models import Outlet
from complaints.supervision.checklists import checklist_for
from complaints.supervision.models import Inspection, InspectionPhoto, InspectionResult

RESULT_CREDIT = {
    InspectionResult.COMPLIANT: CreditEventKind.INSPECTION_PASSED,
    InspectionResult.RECTIFY: CreditEventKind.INSPECTION_RECTIFY,
    InspectionResult.REFER: CreditEventKind.INSPECTION_REFERRED,
}
MAX_PHOTOS = 6


@dataclass(frozen=True)
class InspectionInput:
    checklist: dict[str, bool]
    findings: str
    result: InspectionResult
    rectify_by: date | None
    open_case: bool
    contact_phone: str | None  # the inspector's work phone, on record for an opened case


def record_inspection(outlet: Outlet, inspector, data: InspectionInput, photos, now) -> Inspection:
    inspection = Inspection(
        outlet_id=outlet.id,
        enterprise_id=outlet.enterprise_id,
        agency_id=inspector.agency_id,
        inspector_id=inspector.id,
        checklist={k: bool(data.checklist.get(k)) for k in checklist_for(outlet.category)},
        findings=data.findings,
        result=data.result,
        rectify_by=data.rectify_by if data.result is InspectionResult.RECTIFY else None,
        created_at=now,
    )
    db.session.add(inspection)
    db.session.flush()
    _store_photos(inspection, photos)
    record_credit_event(
        outlet.enterprise_id,
        RESULT_CREDIT[data.result],
        reason=f"Inspection {inspection.id} at {outlet.code}: {data.findings}"[:500],
        now=now,
        actor=f"inspector:{inspector.id}",
        dedupe_key=f"inspection:{inspection.id}",
    )
    if data.open_case:
        inspection.case_id = _open_case(outlet, inspector, data, inspection, now).id
    db.session.flush()
    return inspection


def _store_photos(inspection: Inspection, photos) -> None:
    upload_dir = Path(current_app.config["UPLOAD_DIR"])
    max_bytes = current_app.config["EVIDENCE_MAX_FILE_BYTES"]
    for storage in [p for p in photos if p and p.filename][:MAX_PHOTOS]:
        image = clean_image(storage.stream.read(max_bytes + 1), storage.filename, max_bytes)
        name = f"{secrets.token_hex(16)}.{image.extension}"
        (upload_dir / name).write_bytes(image.data)
        db.session.add(
            InspectionPhoto(
                inspection_id=inspection.id,
                stored_name=name,
                content_type=image.content_type,
                size_bytes=len(image.data),
                sha256=hashlib.sha256(image.data).hexdigest(),
            )
        )


def _open_case(outlet, inspector, data, inspection, now) -> Case:
    complaint = ComplaintInput(
        enterprise_id=outlet.enterprise_id,
        outlet_id=outlet.id,
        category=outlet.category,
        description=f"On-site inspection {inspection.id}: {data.findings}",
        occurred_on=local_day(now),
        amount_paid_fen=0,
        amount_claimed_fen=0,
        remedy=Remedy.OTHER,
        tourist_name=inspector.name,
        tourist_phone=data.contact_phone or "",
        language="zh",
        contact_consent=False,
        source=CaseSource.INSPECTION,
        submission_key=f"inspection-{inspection.id}-{secrets.token_urlsafe(12)}",
    )
    config = current_app.config
    case = file_complaint(
        complaint,
        secret_key=config["SECRET_KEY"],
        public_base_url=config["PUBLIC_BASE_URL"],
        now=now,
    ).case
    route(case, now)
    return case


def mark_rectified(inspection: Inspection, now: datetime) -> bool:
    if inspection.result is not InspectionResult.RECTIFY or inspection.rectified_at is not None:
        return False
    inspection.rectified_at = now
    db.session.flush()
    return True


def mark_overdue_rectifications(now: datetime, limit: int = 200) -> int:
    """The tick's step: each rectification past its date, claimed once by a conditional
    UPDATE, costs the merchant its credit event. Commits per item."""
    today = local_day(now)
    due = db.session.scalars(
        select(Inspection.id)
        .where(
            Inspection.result == InspectionResult.RECTIFY,
            Inspection.rectified_at.is_(None),
            Inspection.overdue_at.is_(None),
            Inspection.rectify_by < today,
        )
        .limit(limit)
    ).all()
    marked = 0
    for inspection_id in due:
        if stamp_once(db.session, Inspection.overdue_at, inspection_id, now):
            inspection = db.session.get(Inspection, inspection_id)
            record_credit_event(
                inspection.enterprise_id,
                CreditEventKind.RECTIFICATION_OVERDUE,
                reason=f"Inspection {inspection_id}: not rectified by {inspection.rectify_by}",
                now=now,
                dedupe_key=f"rectification_overdue:{inspection_id}",
            )
            marked += 1
        db.session.commit()
    return marked


__all__ = ["EvidenceRejected", "InspectionInput", "mark_overdue_rectifications"]
