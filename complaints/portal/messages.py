"""A message thread per case between tourist, merchant and regulator.

Each message says which audiences may read it. The author's own audience always can; a
merchant may keep a note between itself and the regulator; the tourist writes to everyone.
"""

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from complaints.accounts.models import Account
from complaints.cases.models import Case
from complaints.events import MessagePosted, publish
from complaints.extensions import db
from complaints.notices.models import Audience
from complaints.portal.models import CaseMessage
from workflows.states import CaseState, Role

MAX_MESSAGE = 2000
# Nobody is listening on a withdrawn or closed case; an appeal reopens it and the thread.
THREAD_CLOSED_STATES = frozenset({CaseState.WITHDRAWN, CaseState.CLOSED})
FLAG = {
    Audience.TOURIST: CaseMessage.visible_to_tourist,
    Audience.MERCHANT: CaseMessage.visible_to_merchant,
    Audience.REGULATOR: CaseMessage.visible_to_regulator,
}


class MessageRefused(ValueError):
    def __init__(self, message) -> None:
        super().__init__(str(message))
        self.message = message


def audience_of(role: Role) -> Audience:
    if role is Role.TOURIST:
        return Audience.TOURIST
    if role is Role.MERCHANT:
        return Audience.MERCHANT
    return Audience.REGULATOR


def can_post(case: Case) -> bool:
    return case.state not in THREAD_CLOSED_STATES


def post_message(
    case: Case,
    author_role: Role,
    body: str,
    *,
    now: datetime,
    author: Account | None = None,
    audiences: frozenset[Audience] | None = None,
) -> CaseMessage:
    """Add a message; `audiences` defaults to all three. Flushes only.

    The regulator console may call this too (author_role handler or supervisor, author the
    signed-in account). A tourist always writes to everyone: a complaint is not a secret
    from the merchant it is about.
    """
    body = (body or "").strip()
    if not body:
        raise MessageRefused(_l("Write a message first."))
    if len(body) > MAX_MESSAGE:
        raise MessageRefused(_l("Keep a message under %(n)d characters.", n=MAX_MESSAGE))
    if not can_post(case):
        raise MessageRefused(_l("This case is closed; messages can no longer be added."))
    if author_role is Role.SYSTEM:
        raise MessageRefused("the system does not write messages")  # a programming error
    chosen = set(Audience) if audiences is None or author_role is Role.TOURIST else set(audiences)
    chosen.add(audience_of(author_role))
    message = CaseMessage(
        case_id=case.id,
        author_role=author_role,
        author_account_id=author.id if author is not None else None,
        body=body,
        visible_to_tourist=Audience.TOURIST in chosen,
        visible_to_merchant=Audience.MERCHANT in chosen,
        visible_to_regulator=Audience.REGULATOR in chosen,
        created_at=now,
    )
    db.session.add(message)
    db.session.flush()
    notify = tuple(sorted(chosen - {audience_of(author_role)}))
    publish(MessagePosted(case=case, message=message, now=now, notify=notify))
    return message


def messages_for(case: Case, audience: Audience) -> list[CaseMessage]:
    """The thread as `audience` may read it, oldest first."""
    return list(
        db.session.scalars(
            select(CaseMessage)
            .where(CaseMessage.case_id == case.id, FLAG[Audience(audience)].is_(True))
            .order_by(CaseMessage.created_at, CaseMessage.id)
        )
    )
