"""Duplicate candidates are bounded per filing; on PostgreSQL the closest stories come first."""

from datetime import UTC, datetime, timedelta

from complaints.duplicates import services as duplicates
from complaints.duplicates.services import open_flags_for
from complaints.extensions import db
from tests.app.helpers import file_case, outlet_named

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
STORY = "Charged far more than the posted price for the same dish."


def _file(outlet, at, phone, description):
    return file_case(outlet, now=at, phone=phone, description=description)


def test_a_busy_stall_compares_the_closest_stories_not_only_the_latest(seeded, monkeypatch):
    monkeypatch.setattr(duplicates, "MAX_CANDIDATES", 3)
    outlet = outlet_named("Ah Hai")
    original = _file(outlet, NOW, "+8613800000000", STORY)
    for n in range(4):  # newer, other stories, other phones: the newest 3 are not the original
        _file(outlet, NOW + timedelta(minutes=n + 1), f"+861380000001{n}", f"Lost luggage {n} x")
    again = _file(outlet, NOW + timedelta(hours=1), "+8613899999999", STORY)
    flagged = {f.earlier_case_id for f in open_flags_for(again.id) if f.case_id == again.id}
    if db.engine.dialect.name == "postgresql":
        assert original.id in flagged  # ranked first by pg_trgm similarity
    else:
        assert original.id not in flagged  # SQLite: the newest 3 only (the stated fallback)
    assert len(duplicates._candidates(again, NOW + timedelta(hours=1))) <= 2 * 3


def _scanned_rows(plan: dict) -> list[tuple[str, int]]:
    """(index or scan kind, rows it returned over all loops) for every scan of `cases`."""
    found = []
    if plan.get("Relation Name") == "cases":
        found.append((plan.get("Index Name", plan["Node Type"]), plan["Actual Rows"]))
    for child in plan.get("Plans", []):
        found.extend(_scanned_rows(child))
    return found


def _copies(conn, case_id: int, count: int, *, outlet, start, spacing: str) -> None:
    """`count` copies of a case at an outlet, one every `spacing` from `start`, in one INSERT."""
    from sqlalchemy import text

    from complaints.cases.models import Case

    copied = [c.name for c in Case.__table__.columns if c.name not in (*RENEWED, "id")]
    selected = [f":{name}" if name in ("outlet_id", "enterprise_id") else name for name in copied]
    conn.execute(
        text(
            f"INSERT INTO cases ({', '.join(copied + list(RENEWED))})"  # noqa: S608 - model's columns
            f" SELECT {', '.join(selected)},"
            " 'C' || :outlet_id || '-' || g || '-' || :start_n, md5(random()::text),"
            " md5(random()::text), CAST(:start AS timestamptz) + g * CAST(:spacing AS interval)"
            " FROM cases, generate_series(1, :count) AS g WHERE cases.id = :id"
        ),
        {
            "id": case_id,
            "count": count,
            "outlet_id": outlet.id,
            "enterprise_id": outlet.enterprise_id,
            "start": start,
            "start_n": int(start.timestamp()),
            "spacing": spacing,
        },
    )


def test_a_rush_at_a_stall_the_statistics_call_quiet_reads_a_bounded_number_of_rows(
    seeded, monkeypatch
):
    """The candidates of a filing at a stall come from its newest RECENT_AT_PLACE cases, read
    in index order, even when PostgreSQL's statistics predate the rush (ANALYZE runs later):
    without every equality in the index key it read and sorted all of the stall's cases."""
    from sqlalchemy import text

    from tests import services as test_services

    if db.engine.dialect.name != "postgresql":
        test_services.missing("DATABASE_URL is not a PostgreSQL URL")
    monkeypatch.setattr(duplicates, "RECENT_AT_PLACE", 20)
    stall, other = outlet_named("Ah Hai"), outlet_named("Coconut")
    quiet = [_file(stall, NOW, f"+86138000002{n:02d}", STORY) for n in range(3)]
    week_ago = NOW - timedelta(days=7)
    with db.engine.begin() as conn:  # a province's other complaints, then the statistics
        _copies(conn, quiet[0].id, 6000, outlet=other, start=week_ago, spacing="100 s")
        conn.execute(text("ANALYZE cases"))  # the stall had 3 complaints
        _copies(conn, quiet[0].id, 3000, outlet=stall, start=NOW, spacing="2 s")
    again = _file(stall, NOW + timedelta(hours=2), "+8613899999990", STORY)
    statement = duplicates._candidate_query("postgresql", True)
    connection = db.session.connection()
    compiled = statement.compile(dialect=connection.dialect)
    parameters = duplicates.candidate_parameters(again, NOW + timedelta(hours=2))
    cursor = connection.connection.driver_connection.cursor()
    cursor.execute(
        "EXPLAIN (ANALYZE, FORMAT JSON) " + str(compiled),
        {name: parameters.get(name, value) for name, value in compiled.params.items()},
    )
    scans = _scanned_rows(cursor.fetchone()[0][0]["Plan"])
    print(scans)
    assert max(rows for _index, rows in scans) <= 40, scans


RENEWED = ("number", "submission_key_hash", "tracking_key_hash", "created_at")
