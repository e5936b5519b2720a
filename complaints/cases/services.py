"""Filing a complaint: one case, one audit event, one outbox message, in one transaction."""

import hashlib
import hmac
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select, update

from complaints.agencies.routing import route_agency
from complaints.cases.audit import append_event
from complaints.cases.models import Case, CaseSource, Evidence, Remedy, TrackingKey
from complaints.cases.numbering import next_case_number
from complaints.categories import Category
from complaints.duplicates.services import flag_possible_duplicates
from complaints.extensions import db
from complaints.geo.models import Division
from complaints.merchants.models import Enterprise, Outlet
from complaints.notices.services import notify_case_received
from workflows.states import CaseState, Role


@dataclass(frozen=True)
class ComplaintInput:
    enterprise_id: int
    outlet_id: int | None
    category: Category
    description: str
    occurred_on: date
    amount_paid_fen: int
    amount_claimed_fen: int
    remedy: Remedy
    tourist_name: str
    tourist_phone: str  # E.164
    language: str
    contact_consent: bool
    source: CaseSource
    submission_key: str
    tourist_email: str | None = None  # the e-mail fallback for texts (foreign numbers)


@dataclass(frozen=True)
class FiledComplaint:
    case: Case
    tracking_key: str
    created: bool


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def tracking_key_for(submission_key: str, secret_key: str) -> str:
    """Derived, not stored: a retried submission can show the same link again, while the
    database holds only hashes of both keys."""
    digest = hmac.new(secret_key.encode(), b"tracking:" + submission_key.encode(), "sha256")
    return digest.hexdigest()[:32]


def case_for_tracking_key(tracking_key: str) -> Case | None:
    """The first link (derived at filing) or any later one from "find my complaint"."""
    key_hash = hash_key(tracking_key)
    case = db.session.scalar(select(Case).where(Case.tracking_key_hash == key_hash))
    if case is None:
        later = select(TrackingKey.case_id).where(TrackingKey.key_hash == key_hash)
        case = db.session.scalar(select(Case).where(Case.id.in_(later)))
    return case


def case_for_submission(submission_key: str) -> Case | None:
    return db.session.scalar(
        select(Case).where(Case.submission_key_hash == hash_key(submission_key))
    )


def tracking_path(tracking_key: str) -> str:
    return f"/t/{tracking_key}"


def file_complaint(
    data: ComplaintInput, *, secret_key: str, public_base_url: str, now: datetime
) -> FiledComplaint:
    tracking_key = tracking_key_for(data.submission_key, secret_key)
    existing = case_for_submission(data.submission_key)
    if existing is not None:
        return FiledComplaint(existing, tracking_key, created=False)

    enterprise = db.session.get(Enterprise, data.enterprise_id)
    outlet = db.session.get(Outlet, data.outlet_id) if data.outlet_id else None
    division_code = outlet.division_code if outlet else enterprise.division_code
    division = db.session.get(Division, division_code)
    agency = route_agency(division_code, data.category)

    case = Case(
        number=next_case_number(division.city_code, now),
        state=CaseState.SUBMITTED,
        state_entered_at=now,
        source=data.source,
        enterprise_id=enterprise.id,
        outlet_id=outlet.id if outlet else None,
        agency_id=agency.id if agency else None,
        division_code=division_code,
        category=data.category,
        description=data.description,
        occurred_on=data.occurred_on,
        amount_paid_fen=data.amount_paid_fen,
        amount_claimed_fen=data.amount_claimed_fen,
        remedy=data.remedy,
        tourist_name=data.tourist_name,
        tourist_phone=data.tourist_phone,
        tourist_email=data.tourist_email,
        language=data.language,
        contact_consent=data.contact_consent,
        tracking_key_hash=hash_key(tracking_key),
        submission_key_hash=hash_key(data.submission_key),
        created_at=now,
    )
    db.session.add(case)
    db.session.flush()
    db.session.execute(
        update(Evidence)
        .where(Evidence.submission_key_hash == case.submission_key_hash, Evidence.case_id.is_(None))
        .values(case_id=case.id)
    )
    append_event(
        case,
        trigger="submit",
        from_state=None,
        to_state=CaseState.SUBMITTED,
        role=Role.TOURIST,
        actor_id=None,
        now=now,
        first=True,
    )
    notify_case_received(case, tracking_url=public_base_url + tracking_path(tracking_key))
    flag_possible_duplicates(case, now)
    db.session.flush()
    return FiledComplaint(case, tracking_key, created=True)
