"""Append-only, hash-chained case events: any edit or deletion breaks the chain visibly."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from complaints.cases.models import Case, CaseEvent
from complaints.extensions import db
from workflows.states import CaseState, Role


def event_digest(event: CaseEvent) -> str:
    return event.digest()


def append_event(
    case: Case,
    *,
    trigger: str,
    from_state: CaseState | None,
    to_state: CaseState,
    role: Role,
    actor_id: str | None,
    reason: str = "",
    ground: str | None = None,
    now: datetime,
    first: bool = False,
) -> CaseEvent:
    """`first` for a case created in this transaction: nothing to look up before it."""
    event = CaseEvent(
        case_id=case.id,
        trigger=trigger,
        from_state=from_state,
        to_state=to_state,
        actor_role=role,
        actor_id=actor_id,
        reason=reason,
        ground=ground,
        created_at=now,
    )
    return event.append(first=first)


@dataclass(frozen=True)
class BrokenLink:
    case_id: int
    seq: int
    problem: str


def verify_case_chain(events: list[CaseEvent]) -> BrokenLink | None:
    broken = CaseEvent.first_break(events)
    return BrokenLink(events[0].case_id, *broken) if broken else None


def verify_all_chains(batch_size: int = 500):
    """Yield the first broken link of every case whose chain is broken."""
    last_id = 0
    while True:
        case_ids = db.session.scalars(
            select(Case.id).where(Case.id > last_id).order_by(Case.id).limit(batch_size)
        ).all()
        if not case_ids:
            return
        events = db.session.scalars(
            select(CaseEvent)
            .where(CaseEvent.case_id.in_(case_ids))
            .order_by(CaseEvent.case_id, CaseEvent.seq)
        ).all()
        by_case: dict[int, list[CaseEvent]] = {case_id: [] for case_id in case_ids}
        for event in events:
            by_case[event.case_id].append(event)
        for case_id, chain in by_case.items():
            if not chain:
                yield BrokenLink(case_id, 0, "case has no events")
                continue
            broken = verify_case_chain(chain)
            if broken:
                yield broken
        last_id = case_ids[-1]
