"""The duplicate check of a new case, run from the outbox after the filing committed."""

from datetime import datetime

from complaints.cases.models import Case
from complaints.duplicates.services import flag_possible_duplicates
from complaints.extensions import db


def flag_duplicates_of(case_id: int, filed_at: str) -> None:
    """Takes an id and the filing time (the windows count back from the filing, not from
    whenever the job runs); safe to run twice."""
    case = db.session.get(Case, case_id)
    if case is not None:
        flag_possible_duplicates(case, datetime.fromisoformat(filed_at))
    db.session.commit()
