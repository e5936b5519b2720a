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
