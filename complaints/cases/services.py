"""Filing a complaint: one case, one audit event, one outbox message, in one transaction."""

import functools
import hashlib
import hmac
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import String, bindparam, exists, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased

from complaints import lookups
from complaints.cases.audit import append_event
from complaints.cases.models import Case, CaseSource, Evidence, Remedy, TrackingKey
from complaints.cases.numbering import case_number_sql, draw_sqlite_case_number, number_prefix
from complaints.categories import Category
from complaints.database import bound_params, bound_values
from complaints.events import CaseFiled, PhoneVerified, publish
from complaints.extensions import db
from complaints.geo.models import Division
from complaints.merchants.models import Enterprise, Outlet
from complaints.timers.services import start_deadline
from workflows.machine import FILING_STARTS_DEADLINE
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
    harm_known_on: date | None = None
    contract_ended_on: date | None = None
    merchant_first: bool = True
    tourist_address: str = ""
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
    """One INSERT claims the submission key: a retried or double-tapped submission finds the
    case the first one made (created=False) without a separate look-up on the way in.

    Everything happens in the caller's transaction and flushes only: the case (its number
    drawn inside the INSERT), the staged evidence, the first audit event, and CaseFiled's
    subscribers (receipt, phone code, duplicate flags, their outbox rows).
    """
    tracking_key = tracking_key_for(data.submission_key, secret_key)
    enterprise = lookups.get(Enterprise, data.enterprise_id)
    outlet = lookups.get(Outlet, data.outlet_id) if data.outlet_id else None
    division_code = outlet.division_code if outlet else enterprise.division_code
    division = lookups.get(Division, division_code)
    agency = lookups.routed_agency(division_code, data.category)
    submission_key_hash = hash_key(data.submission_key)

    values = dict(
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
        harm_known_on=data.harm_known_on,
        contract_ended_on=data.contract_ended_on,
        merchant_first=data.merchant_first,
        tourist_address=data.tourist_address,
        amount_paid_fen=data.amount_paid_fen,
        amount_claimed_fen=data.amount_claimed_fen,
        remedy=data.remedy,
        tourist_name=data.tourist_name,
        tourist_phone=data.tourist_phone,
        tourist_email=data.tourist_email,
        language=data.language,
        contact_consent=data.contact_consent,
        tracking_key_hash=hash_key(tracking_key),
        submission_key_hash=submission_key_hash,
        created_at=now,
    )
    case = _insert_case(values, number_prefix(division.city_code, now))
    if case is None:
        return FiledComplaint(case_for_submission(data.submission_key), tracking_key, False)
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
    # Order 121: the time to verify the complainant's identity starts now.
    start_deadline(case.id, FILING_STARTS_DEADLINE, CaseState.SUBMITTED, now, flush=False)
    publish(
        CaseFiled(case=case, tracking_url=public_base_url + tracking_path(tracking_key), now=now)
    )
    db.session.flush()
    return FiledComplaint(case, tracking_key, created=True)


def _insert_case(values: dict, prefix: str) -> Case | None:
    """The case, claiming its submission key (None when a retry finds it taken), and the
    evidence staged for it. PostgreSQL: one statement, the UPDATE riding on the INSERT as a
    data-modifying CTE; SQLite: two."""
    if db.session.get_bind().dialect.name != "postgresql":
        insert_case = (
            insert_for(Case)
            .values(number=draw_sqlite_case_number(prefix), **values)
            .on_conflict_do_nothing(index_elements=[Case.submission_key_hash])
        )
        case = db.session.scalars(
            insert_case.returning(Case), execution_options={"populate_existing": True}
        ).one_or_none()
        if case is not None:
            db.session.execute(
                update(Evidence)
                .where(
                    Evidence.submission_key_hash == values["submission_key_hash"],
                    Evidence.case_id.is_(None),
                )
                .values(case_id=case.id)
                .execution_options(synchronize_session=False)
            )
        return case
    return db.session.scalars(
        _postgresql_filing(tuple(values)),
        bound_params(values) | {"number_prefix": prefix},
        execution_options={"populate_existing": True},
    ).one_or_none()


@functools.cache
def _postgresql_filing(columns: tuple[str, ...]):
    """The filing's statement, built once per process with a bound parameter per column:
    constructing this CTE anew for every filing cost more Python than the rest of the filing's
    SQL together (bench/RESULTS.md). The case number is drawn inside it from the day's
    sequence (complaints.cases.numbering)."""
    table = Case.__table__
    values = bound_values(table, columns)
    values["number"] = case_number_sql(bindparam("number_prefix", type_=String))
    new_case = (
        postgresql.insert(Case)
        .values(**values)
        .on_conflict_do_nothing(index_elements=[Case.submission_key_hash])
        .returning(*table.c)
        .cte("new_case")
    )
    attach = (
        update(Evidence.__table__)
        .where(
            Evidence.submission_key_hash == values["submission_key_hash"],
            Evidence.case_id.is_(None),
            exists(select(new_case.c.id)),
        )
        .values(case_id=select(new_case.c.id).scalar_subquery())
        .cte("attached_evidence")
    )
    return select(aliased(Case, new_case)).add_cte(attach)


def insert_for(model):
    """INSERT with ON CONFLICT for the session's database."""
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(model)


def phone_verified(case: Case, now: datetime) -> None:
    """Order 121: a complaint is handled once the complainant's identity is verified.

    Published as PhoneVerified; the workflow's subscriber routes a case still waiting for it.
    """
    first_time = case.phone_verified_at is None
    case.phone_verified_at = now
    if first_time:
        publish(PhoneVerified(case=case, now=now))
