"""Possible duplicates: flagged when a complaint arrives, merged or dismissed by a handler.

A tourist who got no answer often files again, or files once per outlet; a merchant may be
the subject of the same incident twice. Merging keeps both timelines: the copy is closed with
a pointer, the surviving case records what it absorbed.
"""

import functools
from datetime import datetime, timedelta
from difflib import SequenceMatcher

from sqlalchemy import Row, bindparam, func, or_, select, union, update
from sqlalchemy.dialects import postgresql, sqlite

from complaints.cases.models import Case
from complaints.cases.workflow import Actor, fire
from complaints.duplicates.models import DuplicateFlag, DuplicateResolution
from complaints.extensions import db
from complaints.outbox.services import add_outbox_message

SAME_PHONE_WINDOW = timedelta(days=7)
SAME_OUTLET_WINDOW = timedelta(days=3)
SIMILAR_TEXT = 0.6
MAX_CANDIDATES = 20
RECENT_AT_PLACE = 200  # the newest cases at the same place that are ranked by similarity


def N_(message: str) -> str:
    """Marks a message for extraction; the view that shows it translates it (gettext)."""
    return message


class MergeRefused(ValueError):
    """The message says why these two cases cannot be merged."""


def text_similarity(a: str, b: str) -> float:
    a, b = a.casefold(), b.casefold()
    if a == b:  # a story filed twice word for word: what ratio() finds, without its search
        return 1.0
    return SequenceMatcher(None, a, b).ratio()


FLAG_JOB = "complaints.duplicates.jobs.flag_duplicates_of"


def queue_duplicate_check(case: Case, now: datetime) -> None:
    """Flags are for the handler who opens the case, not for the tourist waiting on the
    form: the comparison runs after the filing commits, from the outbox (its own job), so a
    busy stall's filings do not wait for their 20 closest stories to be compared."""
    add_outbox_message(FLAG_JOB, case.id)


def flag_possible_duplicates(cases: list[Case]) -> int:
    """Compare each case with a bounded set of cases filed before it, found through indexes
    (see _candidates), counting its windows back from its own filing; returns how many flags
    were added (a flag already there is not).

    Reads only the columns compared and writes every flag of the batch in one INSERT: at a
    busy stall a filing meets its 20 closest stories, and loading 20 whole cases and flushing
    20 objects used to cost a third of the filing's time.
    """
    flags = [flag for case in cases for flag in _flags_for(case, case.created_at)]
    if not flags:
        return 0
    # A job run twice (its worker died before the outbox heard it was done) adds nothing.
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    table = DuplicateFlag.__table__
    # With RETURNING, SQLAlchemy sends the rows as multi-row INSERTs ("insertmanyvalues");
    # without it, psycopg's executemany ran one INSERT per flag, and a bus at one stall gives
    # each filing about 20 (6% of the worker's CPU per filing, make bench's rush).
    added = db.session.execute(
        dialect.insert(table)
        .on_conflict_do_nothing(index_elements=[table.c.case_id, table.c.earlier_case_id])
        .returning(table.c.id),
        flags,
    ).all()
    return len(added)


def _flags_for(case: Case, now: datetime) -> list[dict]:
    flags = []
    for earlier in _candidates(case, now):
        same_phone = earlier.tourist_phone == case.tourist_phone
        at_same_place = (
            (earlier.outlet_id or 0) == (case.outlet_id or 0)
            and earlier.enterprise_id == case.enterprise_id
            and earlier.category == case.category
            and earlier.created_at >= now - SAME_OUTLET_WINDOW
        )
        if not (same_phone or at_same_place):
            continue  # no reason can apply: the texts need not be compared
        similarity = text_similarity(case.description, earlier.description)
        reasons = ["same_phone"] if same_phone else []
        if at_same_place and similarity >= SIMILAR_TEXT:
            reasons.append("same_outlet_similar_text")
        if reasons:
            flags.append(
                {
                    "case_id": case.id,
                    "earlier_case_id": earlier.id,
                    "reasons": ",".join(reasons),
                    "text_similarity": round(similarity, 3),
                    "created_at": now,
                }
            )
    return flags


COMPARED = (
    Case.id,
    Case.description,
    Case.tourist_phone,
    Case.outlet_id,
    Case.enterprise_id,
    Case.category,
    Case.created_at,
)


def _candidates(case: Case, now: datetime) -> list[Row]:
    """At most MAX_CANDIDATES by phone and MAX_CANDIDATES at the same place, in one statement
    built once per database and kind of place (`_candidate_query`)."""
    statement = _candidate_query(db.session.get_bind().dialect.name, case.outlet_id is not None)
    return list(db.session.execute(statement, candidate_parameters(case, now)))


def candidate_parameters(case: Case, now: datetime) -> dict:
    return {
        "case_id": case.id,
        "phone": case.tourist_phone,
        "phone_since": now - SAME_PHONE_WINDOW,
        "enterprise_id": case.enterprise_id,
        "outlet_id": case.outlet_id,
        "category": case.category,
        "place_since": now - SAME_OUTLET_WINDOW,
        "description": case.description,
        "max_candidates": MAX_CANDIDATES,
        "recent_at_place": RECENT_AT_PLACE,
    }


@functools.cache
def _candidate_query(dialect_name: str, at_outlet: bool):
    """Same phone in the last week, newest first (`ix_cases_tourist_phone`). Same outlet and
    category in the last 3 days (`ix_cases_place_created`): on PostgreSQL the most similar
    texts among the newest RECENT_AT_PLACE first (pg_trgm `similarity`), so a rush at one
    stall compares the closest stories, not merely the latest; elsewhere the newest first.
    """
    # Filed before this one (ids follow filing order). The check runs after the commit, when
    # later filings may already be there: each pair is flagged once, by the later case's check.
    earlier = Case.id < bindparam("case_id")
    since = Case.created_at.type
    by_phone = (
        select(Case.id)
        .where(
            earlier,
            Case.tourist_phone == bindparam("phone"),
            Case.created_at >= bindparam("phone_since", type_=since),
        )
        .order_by(Case.created_at.desc())
        .limit(bindparam("max_candidates"))
    )
    at_place = (
        select(Case.id, Case.description, Case.created_at)
        .where(
            earlier,
            Case.enterprise_id == bindparam("enterprise_id"),
            Case.outlet_id == bindparam("outlet_id") if at_outlet else Case.outlet_id.is_(None),
            Case.category == bindparam("category", type_=Case.category.type),
            Case.created_at >= bindparam("place_since", type_=since),
        )
        .order_by(Case.created_at.desc())
    )
    if dialect_name == "postgresql":
        # Ranked among the newest RECENT_AT_PLACE only: an outlet with a flood of complaints
        # (an attraction's ticket office on a holiday) must not make each filing compare them
        # all (1 s per filing with 260,000 at one outlet in 3 days, in bench-api).
        recent = at_place.limit(bindparam("recent_at_place")).subquery()
        by_place = (
            select(recent.c.id)
            .order_by(
                func.similarity(recent.c.description, bindparam("description")).desc(),
                recent.c.created_at.desc(),
            )
            .limit(bindparam("max_candidates"))
        )
    else:
        by_place = select(at_place.limit(bindparam("max_candidates")).subquery().c.id)
    ids = union(select(by_phone.subquery().c.id), by_place)
    return select(*COMPARED).where(Case.id.in_(ids)).order_by(Case.created_at.desc())


def open_flags_for(case_id: int) -> list[DuplicateFlag]:
    return list(
        db.session.scalars(
            select(DuplicateFlag)
            .where(
                or_(DuplicateFlag.case_id == case_id, DuplicateFlag.earlier_case_id == case_id),
                DuplicateFlag.resolution.is_(None),
            )
            .order_by(DuplicateFlag.id)
        )
    )


def merge(duplicate: Case, into: Case, actor: Actor, *, now: datetime) -> None:
    if duplicate.id == into.id:
        raise MergeRefused(N_("A case cannot be merged into itself."))
    if duplicate.agency_id != into.agency_id:
        raise MergeRefused(N_("Transfer one case first: both must be with the same agency."))
    fire(duplicate, "merge_into", actor, now=now, reason=f"Merged into {into.number}")
    fire(into, "absorb_duplicate", actor, now=now, reason=f"Absorbed duplicate {duplicate.number}")
    _resolve(duplicate.id, into.id, DuplicateResolution.MERGED, actor, now)


def dismiss(flag: DuplicateFlag, actor: Actor, *, now: datetime) -> None:
    _resolve(flag.case_id, flag.earlier_case_id, DuplicateResolution.DISMISSED, actor, now)


def _resolve(a: int, b: int, resolution: DuplicateResolution, actor: Actor, now) -> None:
    db.session.execute(
        update(DuplicateFlag)
        .where(
            or_(
                (DuplicateFlag.case_id == a) & (DuplicateFlag.earlier_case_id == b),
                (DuplicateFlag.case_id == b) & (DuplicateFlag.earlier_case_id == a),
            ),
            DuplicateFlag.resolution.is_(None),
        )
        .values(resolution=resolution, resolved_by=actor.id, resolved_at=now)
    )
