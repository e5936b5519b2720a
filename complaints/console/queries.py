"""Reading cases for a regulator: the one scoped lookup and the deadline-ordered queue.

Every console read of a case goes through `case_for_regulator`, which answers 404 for a case
of another agency, so a regulator cannot even learn that it exists.
"""

import heapq
import itertools
import re
from dataclasses import dataclass, field, replace
from datetime import datetime

from flask import abort, current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import and_, exists, select, tuple_
from sqlalchemy.orm import joinedload

from complaints.accounts.models import Account
from complaints.agencies.models import Agency
from complaints.cases.models import Case, Evidence
from complaints.categories import Category
from complaints.console import search
from complaints.duplicates.models import DuplicateFlag
from complaints.extensions import db
from complaints.geo.models import Division
from complaints.notices.models import Notification
from complaints.portal.models import DisputeEvidence
from complaints.timers.models import CaseDeadline
from workflows.states import OPEN_STATES, CaseState

PAGE_SIZE = 25


CASE_NUMBER = re.compile(r"HN-\d{6}-\d{8}-\d{6}")


def case_for_regulator(number: str, account: Account) -> Case:
    """The case, if it belongs to the account's agency; otherwise 404 (never 403)."""
    case = db.session.scalar(select(Case).where(Case.number == number))
    if case is None or account.agency_id is None or case.agency_id != account.agency_id:
        abort(404)
    return case


def evidence_for_regulator(evidence_id: int, account: Account) -> Evidence:
    evidence = db.session.get(Evidence, evidence_id)
    if evidence is None or evidence.case is None:
        abort(404)
    case_for_regulator(evidence.case.number, account)
    return evidence


def handlers_of(agency_id: int) -> list[Account]:
    from complaints.accounts.models import AccountRole

    return list(
        db.session.scalars(
            select(Account)
            .where(
                Account.agency_id == agency_id,
                Account.role == AccountRole.HANDLER,
                Account.active.is_(True),
            )
            .order_by(Account.name)
        )
    )


def other_agencies(agency_id: int) -> list[Agency]:
    return list(
        db.session.scalars(select(Agency).where(Agency.id != agency_id).order_by(Agency.slug))
    )


def divisions_of(agency: Agency) -> list[Division]:
    """The districts under the agency (or its own county): the division filter's choices."""
    children = list(
        db.session.scalars(
            select(Division)
            .where(Division.parent_code == agency.division_code)
            .order_by(Division.code)
        )
    )
    return children or [db.session.get(Division, agency.division_code)]


# --- the queue ------------------------------------------------------------------------------

# The queue is read in four segments: open cases with a running deadline by (due_at, case id),
# then open cases without one by id, then the same two for cases whose handling has ended.
# A page may span segments; the cursor names where it stopped. A running deadline is an open
# one started in the case's current state (timers close the others on every state change).
SEGMENTS = ((True, True), (True, False), (False, True), (False, False))  # (open, has deadline)


class BadCursor(ValueError):
    """The `after` parameter was not made by us, or was damaged on the way."""


@dataclass(frozen=True)
class Cursor:
    segment: int
    due_at: datetime | None
    case_id: int


@dataclass(frozen=True)
class QueueFilters:
    state: CaseState | None = None
    category: Category | None = None
    division: str | None = None
    merchant: str | None = None
    q: str | None = None
    # The queue's tabs (see worklist.TABS) narrow further.
    handler_id: int | None = None
    unassigned: bool = False
    escalated: bool = False
    open_only: bool = False


@dataclass(frozen=True)
class QueueRow:
    case: Case
    deadline: CaseDeadline | None


@dataclass
class QueuePage:
    rows: list[QueueRow] = field(default_factory=list)
    next_cursor: str | None = None


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="console-queue-cursor")


def encode_cursor(cursor: Cursor) -> str:
    due = cursor.due_at.isoformat() if cursor.due_at else None
    return _serializer().dumps([cursor.segment, due, cursor.case_id])


def decode_cursor(token: str) -> Cursor:
    try:
        segment, due, case_id = _serializer().loads(token)
        due_at = datetime.fromisoformat(due) if due is not None else None
        valid = segment in range(len(SEGMENTS)) and isinstance(case_id, int)
        has_deadline = SEGMENTS[segment][1] if valid else False
        if not valid or (due_at is None) == has_deadline or (due_at and due_at.tzinfo is None):
            raise BadCursor(token)
    except (BadSignature, TypeError, ValueError, IndexError) as exc:
        raise BadCursor(token) from exc
    return Cursor(segment, due_at, case_id)


def queue_page(
    agency_id: int, filters: QueueFilters, after: Cursor | None, size: int = PAGE_SIZE
) -> QueuePage:
    page = QueuePage()
    first = after.segment if after else 0
    conditions = filter_conditions(agency_id, filters)  # once: the text and name lookups run here
    if any(condition is search.NOTHING for condition in conditions):
        return page  # the lookups found no merchant or no text: no statement to send
    if conditions.case_ids is not None:
        return _page_of_known_cases(agency_id, filters, conditions, after, size)
    for segment in range(first, len(SEGMENTS)):
        if filters.open_only and not SEGMENTS[segment][0]:
            break
        wanted = size + 1 - len(page.rows)  # one more than a page tells us a next page exists
        start = after if after and after.segment == segment else None
        page.rows.extend(_segment_rows(agency_id, filters, conditions, segment, start, wanted))
        if len(page.rows) > size:
            break
    if len(page.rows) > size:
        del page.rows[size:]
        last = page.rows[-1]
        page.next_cursor = encode_cursor(_cursor_for(last))
    return page


def _page_of_known_cases(agency_id, filters, conditions, after, size) -> QueuePage:
    """The lookups found every matching case (at most search.MAX_IDS): one statement reads them
    with their running deadline, and the queue's order and cursor are applied here."""
    stmt = (
        select(Case, CaseDeadline)
        .outerjoin(
            CaseDeadline,
            and_(
                CaseDeadline.case_id == Case.id,
                CaseDeadline.closed_at.is_(None),
                CaseDeadline.state == Case.state,
            ),
        )
        .where(Case.agency_id == agency_id, *conditions)
    )
    if filters.state is not None:
        stmt = stmt.where(Case.state == filters.state)
    rows = [QueueRow(c, d) for c, d in db.session.execute(stmt.options(*_ROW_OPTIONS))]
    keyed = sorted(((_position(row), row) for row in rows), key=lambda pair: pair[0])
    if after is not None:
        start = _position_of_cursor(after)
        keyed = [(key, row) for key, row in keyed if key > start]
    page = QueuePage(rows=[row for _, row in keyed[: size + 1]])
    if len(page.rows) > size:
        del page.rows[size:]
        page.next_cursor = encode_cursor(_cursor_for(page.rows[-1]))
    return page


def _position(row: QueueRow) -> tuple:
    cursor = _cursor_for(row)
    return _position_of_cursor(cursor)


def _position_of_cursor(cursor: Cursor) -> tuple:
    # Within a segment: (due_at, id) where deadlines run, id alone where none does.
    due = cursor.due_at.timestamp() if cursor.due_at is not None else 0.0
    return (cursor.segment, due, cursor.case_id)


def _cursor_for(row: QueueRow) -> Cursor:
    is_open = row.case.state in OPEN_STATES
    has_deadline = row.deadline is not None
    segment = SEGMENTS.index((is_open, has_deadline))
    return Cursor(segment, row.deadline.due_at if row.deadline else None, row.case.id)


def _segment_rows(agency_id, filters, conditions, segment, start, limit) -> list[QueueRow]:
    is_open, has_deadline = SEGMENTS[segment]
    states = OPEN_STATES if is_open else frozenset(CaseState) - OPEN_STATES
    if filters.state is not None:
        states = states & {filters.state}
    # Segments already split open from ended cases: a state condition again would cost the
    # index walk (see _deadline_scan).
    filters = replace(filters, open_only=False)
    # One keyset scan per state, merged here: each is a walk along an index that starts with the
    # state (see the report on indexes), which a single IN (...) query could not do in order.
    if has_deadline:
        scans = [_deadline_scan(agency_id, conditions, s, start, limit) for s in sorted(states)]
        merged = heapq.merge(*scans, key=lambda row: (row.deadline.due_at, row.case.id))
    else:
        scans = [_no_deadline_scan(agency_id, conditions, s, start, limit) for s in sorted(states)]
        merged = heapq.merge(*scans, key=lambda row: row.case.id)
    return list(itertools.islice(merged, limit))


def _running_deadline(state: CaseState):
    return and_(
        CaseDeadline.case_id == Case.id,
        CaseDeadline.closed_at.is_(None),
        CaseDeadline.state == state,
    )


_ROW_OPTIONS = (joinedload(Case.enterprise), joinedload(Case.division))


def _deadline_scan(agency_id, conditions, state, start, limit) -> list[QueueRow]:
    stmt = (
        select(Case, CaseDeadline)
        .join(CaseDeadline, _running_deadline(state))
        # No `Case.state == state`: a running deadline always belongs to its case's current
        # state (state changes close it), and the redundant condition made PostgreSQL sort
        # every running deadline of the state instead of walking the index (bench: 6 -> 0.2 ms).
        .where(Case.agency_id == agency_id, *conditions)
    )
    if start is not None:
        stmt = stmt.where(
            tuple_(CaseDeadline.due_at, CaseDeadline.case_id) > (start.due_at, start.case_id)
        )
    stmt = stmt.order_by(CaseDeadline.due_at, CaseDeadline.case_id).limit(limit)
    return [QueueRow(c, d) for c, d in db.session.execute(stmt.options(*_ROW_OPTIONS))]


def _no_deadline_scan(agency_id, conditions, state, start, limit) -> list[QueueRow]:
    stmt = select(Case).where(
        Case.agency_id == agency_id,
        Case.state == state,
        *conditions,
        ~exists().where(_running_deadline(state)),
    )
    if start is not None:
        stmt = stmt.where(Case.id > start.case_id)
    stmt = stmt.order_by(Case.id).limit(limit)
    return [QueueRow(c, None) for c in db.session.scalars(stmt.options(*_ROW_OPTIONS))]


class Conditions(list):
    """WHERE conditions on `Case`; `case_ids` when a lookup already found every matching case
    (then the queue reads those cases at once instead of walking each state's index)."""

    case_ids: frozenset[int] | None = None

    def add(self, match: search.Match) -> None:
        self.append(match.condition)
        if match.ids is not None:
            self.case_ids = match.ids if self.case_ids is None else self.case_ids & match.ids


def filter_conditions(agency_id: int, filters: QueueFilters) -> Conditions:
    """The WHERE conditions of the filters on `Case` (shared by every order and export); the
    merchant and text lookups run here, once per request. A condition may be search.NOTHING:
    the lookup found nothing, and no statement needs sending."""
    conditions = Conditions()
    if filters.open_only:
        conditions.append(Case.state.in_(OPEN_STATES))
    if filters.handler_id is not None:
        conditions.append(Case.handler_id == filters.handler_id)
    if filters.unassigned:
        conditions.append(Case.handler_id.is_(None))
    if filters.escalated:
        conditions.append(Case.escalated.is_(True))
    if filters.category is not None:
        conditions.append(Case.category == filters.category)
    if filters.division:
        conditions.append(Case.division_code == filters.division)
    if filters.merchant:
        conditions.add(search.merchant_condition(agency_id, filters.merchant))
    if filters.q and CASE_NUMBER.fullmatch(filters.q.strip().upper()):
        # A whole case number: one lookup in the unique index instead of a text scan.
        conditions.add(search.number_condition(agency_id, filters.q.strip().upper()))
    elif filters.q:
        conditions.add(search.text_condition(agency_id, filters.q))
    return conditions


# --- what the other features attach to a case -----------------------------------------------
# Each lookup first scopes the case, then requires the row to belong to it: an id that exists
# but hangs off another case answers exactly like one that does not exist.


def dispute_evidence_for_regulator(number: str, item_id: int, account: Account) -> DisputeEvidence:
    case = case_for_regulator(number, account)
    item = db.session.get(DisputeEvidence, item_id)
    # Staged files are the merchant's draft until the dispute is submitted with them.
    if item is None or item.case_id != case.id or item.submitted_at is None:
        abort(404)
    return item


def flag_for_regulator(
    number: str, flag_id: int, account: Account
) -> tuple[DuplicateFlag, Case, Case]:
    """(flag, this case, the other case) when both cases are the account's agency's, else 404."""
    case = case_for_regulator(number, account)
    flag = db.session.get(DuplicateFlag, flag_id)
    if flag is None or case.id not in (flag.case_id, flag.earlier_case_id):
        abort(404)
    other = flag.earlier_case if flag.case_id == case.id else flag.case
    return flag, case, case_for_regulator(other.number, account)


def notification_for_regulator(notification_id: int, account: Account) -> tuple[Notification, Case]:
    """The message and its case, if the case is the account's agency's; otherwise 404."""
    notification = db.session.get(Notification, notification_id)
    if notification is None:
        abort(404)
    case = db.session.get(Case, notification.case_id)
    return notification, case_for_regulator(case.number, account)
