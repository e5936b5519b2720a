"""The duplicate check of new cases, run from the outbox after their filing committed."""

from sqlalchemy import select

from complaints.cases.models import Case
from complaints.duplicates.services import flag_possible_duplicates
from complaints.extensions import db


def flag_duplicates_of(case_id: int) -> None:
    """Takes an id; safe to run twice. The windows count back from the filing (the case's
    created_at), not from whenever the job runs."""
    _flag_batch([[case_id]])


def _flag_batch(calls: list[list]) -> dict[int, Exception]:
    """The worker's batch form: the checks of a rush's filings in one SELECT of the cases,
    one candidates query each and one INSERT of all their flags."""
    case_ids = [case_id for case_id, *_ in calls]
    cases = db.session.scalars(select(Case).where(Case.id.in_(case_ids)).order_by(Case.id)).all()
    flag_possible_duplicates(list(cases))
    db.session.commit()
    return {}


flag_duplicates_of.batch = _flag_batch
