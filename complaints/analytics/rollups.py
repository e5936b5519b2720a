"""Building the daily rollups from case events and deadlines, one local day at a time.

A day is a Hainan calendar day (UTC+8, no daylight saving). Each day's rows are deleted and
written again from the source tables in one transaction, so running the tick on several
machines, or a rebuild over a range, can never count a case twice.

Stage durations are kept as counts per bucket (BUCKET_HOURS); the analytics page reads the
median as the upper edge of the bucket holding the middle stage, i.e. "half ended within".
"""

import bisect
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import delete, func, insert, select

from complaints.analytics.models import CaseRollup, StageRollup
from complaints.cases.models import Case, CaseEvent
from complaints.extensions import db
from complaints.timers.models import CaseDeadline
from workflows.states import CaseState, DeadlineKind

HAINAN = timedelta(hours=8)
RECEIVED_TRIGGERS = ("route_to_merchant", "route_to_regulator")
OUTCOMES = (
    CaseState.RESOLVED,
    CaseState.DECLINED,
    CaseState.TERMINATED,
    CaseState.WITHDRAWN,
    CaseState.CLOSED,
)
# The legal limits the page reports on: merchant stage, acceptance decision, mediation.
STAGES = (
    DeadlineKind.MERCHANT_RESPONSE,
    DeadlineKind.ACCEPTANCE_DECISION,
    DeadlineKind.MEDIATION,
)
BUCKET_HOURS = (1, 2, 4, 8, 12, 24, 48, 72, 120, 168, 240, 360, 480, 720, 1080, 1440)


def local_day(moment: datetime) -> date:
    return (moment.astimezone(UTC) + HAINAN).date()


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC instants a Hainan day starts and ends at."""
    start = datetime.combine(day, time(), tzinfo=UTC) - HAINAN
    return start, start + timedelta(days=1)


def bucket_of(duration: timedelta) -> int:
    return bisect.bisect_left(BUCKET_HOURS, duration / timedelta(hours=1))


def bucket_upper_hours(bucket: int) -> int | None:
    """The bucket's upper edge in hours; None for the open-ended last bucket."""
    return BUCKET_HOURS[bucket] if bucket < len(BUCKET_HOURS) else None


def refresh_day(day: date) -> int:
    """Replace the day's rollup rows; flushes, the caller commits. Returns rows written."""
    start, end = day_bounds(day)
    db.session.execute(delete(CaseRollup).where(CaseRollup.day == day))
    db.session.execute(delete(StageRollup).where(StageRollup.day == day))
    rows = _case_rows(day, start, end) + _stage_rows(day, start, end)
    for model, values in rows:
        db.session.execute(insert(model), [values])
    db.session.flush()
    return len(rows)


def refresh_days(days: Iterable[date]) -> int:
    written = 0
    for day in days:
        written += refresh_day(day)
        db.session.commit()
    return written


def refresh_recent(now: datetime) -> int:
    """The tick's step: today and yesterday (events land late around midnight)."""
    today = local_day(now)
    return refresh_days([today - timedelta(days=1), today])


def _case_rows(day, start, end) -> list:
    in_day = (CaseEvent.created_at >= start, CaseEvent.created_at < end)
    group = (Case.agency_id, Case.division_code, Case.category)
    received = db.session.execute(
        select(*group, func.count(CaseEvent.id))
        .join(Case, Case.id == CaseEvent.case_id)
        .where(*in_day, CaseEvent.trigger.in_(RECEIVED_TRIGGERS), Case.agency_id.is_not(None))
        .group_by(*group)
    ).all()
    outcomes = db.session.execute(
        select(*group, CaseEvent.to_state, func.count(CaseEvent.id))
        .join(Case, Case.id == CaseEvent.case_id)
        .where(
            *in_day,
            CaseEvent.to_state.in_(OUTCOMES),
            CaseEvent.from_state.is_distinct_from(CaseEvent.to_state),
            Case.agency_id.is_not(None),
        )
        .group_by(*group, CaseEvent.to_state)
    ).all()
    rows = []
    for agency_id, division, category, n in received:
        rows.append((CaseRollup, _case_values(day, agency_id, division, category, "received", n)))
    for agency_id, division, category, state, n in outcomes:
        metric = CaseState(state).value
        rows.append((CaseRollup, _case_values(day, agency_id, division, category, metric, n)))
    return rows


def _case_values(day, agency_id, division, category, metric, n) -> dict:
    return {
        "day": day,
        "agency_id": agency_id,
        "division_code": division,
        "category": category,
        "metric": metric,
        "n": n,
    }


def _stage_rows(day, start, end) -> list:
    ended = db.session.execute(
        select(
            Case.agency_id,
            CaseDeadline.kind,
            CaseDeadline.started_at,
            CaseDeadline.due_at,
            CaseDeadline.closed_at,
        )
        .join(Case, Case.id == CaseDeadline.case_id)
        .where(
            CaseDeadline.closed_at >= start,
            CaseDeadline.closed_at < end,
            CaseDeadline.kind.in_(STAGES),
            Case.agency_id.is_not(None),
        )
    ).all()
    counts: Counter = Counter()
    within: Counter = Counter()
    for agency_id, kind, started_at, due_at, closed_at in ended:
        key = (agency_id, kind, bucket_of(closed_at - started_at))
        counts[key] += 1
        within[key] += closed_at <= due_at
    return [
        (
            StageRollup,
            {
                "day": day,
                "agency_id": agency_id,
                "kind": kind,
                "bucket": bucket,
                "n": n,
                "within": within[(agency_id, kind, bucket)],
            },
        )
        for (agency_id, kind, bucket), n in counts.items()
    ]
