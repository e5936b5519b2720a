"""The tourist's rating of how a case ended: a score of 1 to 5 and a comment, once.

The score lives in notices' satisfaction_ratings, which also takes the digit a tourist texts
back to the "case closed" SMS, so a case has one score wherever it came from. The comment,
which an SMS answer does not have, is kept beside it in rating_comments.
"""

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from complaints.cases.models import Case
from complaints.extensions import db
from complaints.notices.models import SatisfactionRating
from complaints.notices.optouts import insert_unless_exists
from complaints.portal.models import RatingComment
from workflows.states import CaseState

RATEABLE_STATES = frozenset({CaseState.RESOLVED, CaseState.CLOSED})
MAX_COMMENT = 1000


class RatingRefused(ValueError):
    def __init__(self, message) -> None:
        super().__init__(str(message))
        self.message = message


@dataclass(frozen=True)
class RatingView:
    score: int
    comment: str
    rated_at: datetime


def rating_for(case: Case) -> RatingView | None:
    """The tourist's rating of the case, for the regulator console and the tracking page."""
    rating = db.session.scalar(
        select(SatisfactionRating).where(SatisfactionRating.case_id == case.id)
    )
    if rating is None:
        return None
    comment = db.session.scalar(select(RatingComment.body).where(RatingComment.case_id == case.id))
    return RatingView(rating.score, comment or "", rating.created_at)


def can_rate(case: Case) -> bool:
    return case.state in RATEABLE_STATES and rating_for(case) is None


def rate_case(case: Case, score: int, comment: str, now: datetime) -> RatingView:
    """Record the rating, once: a second one (or a double tap) is refused. Flushes only."""
    if case.state not in RATEABLE_STATES:
        raise RatingRefused(_l("You can rate the outcome once the case is resolved or closed."))
    if not 1 <= score <= 5:
        raise RatingRefused(_l("Choose from 1 to 5 stars."))
    comment = (comment or "").strip()[:MAX_COMMENT]
    # One atomic insert decides between two taps; the loser learns it was already rated.
    inserted = insert_unless_exists(
        SatisfactionRating.__table__,
        {"case_id": case.id, "score": score, "created_at": now, "updated_at": now},
    )
    if inserted is None:
        raise RatingRefused(_l("You have already rated this case. Thank you."))
    if comment:
        db.session.add(RatingComment(case_id=case.id, body=comment, created_at=now))
    db.session.flush()
    return RatingView(score, comment, now)
