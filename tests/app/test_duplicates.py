"""Possible duplicates are flagged on arrival and a handler can merge them, keeping both timelines."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from complaints.cases.workflow import Actor, route
from complaints.duplicates.jobs import flag_duplicates_of
from complaints.duplicates.models import DuplicateResolution
from complaints.duplicates.services import MergeRefused, dismiss, merge, open_flags_for
from complaints.extensions import db
from tests.app.helpers import file_case, outlet_named, run_filing_jobs
from workflows.states import CaseState, Role

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
HANDLER = Actor(Role.HANDLER, "7")


def test_same_phone_within_a_week_is_flagged(seeded):
    first = file_case(outlet_named("Ah Hai"), now=NOW, phone="+8613811112222")
    second = file_case(
        outlet_named("Coconut Breeze"), now=NOW + timedelta(days=2), phone="+8613811112222"
    )
    flags = open_flags_for(second.id)
    assert [(f.case_id, f.earlier_case_id) for f in flags] == [(second.id, first.id)]
    assert "same_phone" in flags[0].reasons


def test_same_outlet_and_similar_story_is_flagged_across_phones(seeded):
    first = file_case(outlet_named("Ah Hai"), now=NOW, phone="+8613811112222")
    second = file_case(outlet_named("Ah Hai"), now=NOW + timedelta(hours=5), phone="+8613833334444")
    (flag,) = open_flags_for(second.id)
    assert flag.earlier_case_id == first.id
    assert flag.reasons == "same_outlet_similar_text"
    assert flag.text_similarity >= 0.6


def test_a_story_filed_again_word_for_word_scores_one_without_the_sequence_search(monkeypatch):
    from difflib import SequenceMatcher

    from complaints.duplicates import services
    from complaints.duplicates.services import text_similarity

    story, retyped = "Charged 880 for a dish priced 88.", "CHARGED 880 for a dish priced 88."
    searched = []
    monkeypatch.setattr(
        services, "SequenceMatcher", lambda *a: searched.append(a) or SequenceMatcher(*a)
    )
    assert text_similarity(story, retyped) == 1.0 == SequenceMatcher(None, story, story).ratio()
    assert searched == []  # equal texts: no search at all
    other = "Charged 880 for a dish priced 88 and refused a receipt."
    expected = SequenceMatcher(None, story.casefold(), other.casefold()).ratio()
    assert text_similarity(story, other) == expected < 1.0
    assert len(searched) == 1  # different texts: searched, as before


def test_checks_that_run_after_later_filings_flag_each_pair_once(seeded):
    # The check is an outbox job after the filing's commit: a busy worker may run it once
    # later complaints are in. The earlier case's check must not flag the later one.
    first = file_case(outlet_named("Ah Hai"), now=NOW, phone="+8613811112222", run_jobs=False)
    at = NOW + timedelta(hours=1)
    second = file_case(outlet_named("Ah Hai"), now=at, phone="+8613811112222", run_jobs=False)
    assert open_flags_for(second.id) == []  # nothing compared during the filings
    run_filing_jobs()
    pairs = [(f.case_id, f.earlier_case_id) for f in open_flags_for(first.id)]
    assert pairs == [(second.id, first.id)]
    # A job run twice (its worker died before the outbox heard it was done) adds nothing.
    flag_duplicates_of(second.id)
    assert len(open_flags_for(second.id)) == 1


def test_a_rushs_flags_are_written_by_one_insert_statement(seeded):
    """A bus at one stall: every filing meets the earlier ones. The batch's flags go to the
    database as one multi-row INSERT, not as psycopg's executemany of one INSERT per flag,
    and a second run adds (and counts) none."""
    from sqlalchemy import event

    from complaints.cases.models import Case
    from complaints.duplicates.services import flag_possible_duplicates

    phones = [f"+86138111100{n:02d}" for n in range(5)]
    filed = [
        file_case(outlet_named("Ah Hai"), now=NOW + timedelta(minutes=n), phone=phone,
                  run_jobs=False)
        for n, phone in enumerate(phones)
    ]  # fmt: skip
    cases = db.session.scalars(select(Case).where(Case.id.in_([c.id for c in filed]))).all()
    inserts: list = []

    def record(_conn, _cursor, statement, parameters, *_args):
        if statement.startswith("INSERT INTO duplicate_flags"):
            inserts.append(parameters)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert flag_possible_duplicates(cases) == 10  # each pair of the five, once
        assert flag_possible_duplicates(cases) == 0  # a job run twice adds none
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    # Each run: one statement holding the ten rows' five values each (executemany got a list
    # of ten rows).
    assert [len(parameters) for parameters in inserts] == [10 * 5, 10 * 5]


def test_unrelated_cases_are_not_flagged(seeded):
    file_case(outlet_named("Ah Hai"), now=NOW, phone="+8613811112222")
    later = file_case(
        outlet_named("Coconut Breeze"), now=NOW + timedelta(days=8), phone="+8613811112222"
    )
    assert open_flags_for(later.id) == []


def test_merge_closes_the_copy_and_keeps_both_timelines(seeded, runner):
    taxi = outlet_named("Taxi Qiong B·T1234")  # goes straight to the regulator
    first = file_case(taxi, now=NOW, phone="+8613811112222")
    second = file_case(taxi, now=NOW + timedelta(hours=1), phone="+8613811112222")
    for case in (first, second):
        route(case, NOW + timedelta(hours=1))
    db.session.commit()
    merge(second, first, HANDLER, now=NOW + timedelta(hours=2))
    db.session.commit()
    assert second.state is CaseState.CLOSED
    assert first.state is CaseState.REGULATOR_REVIEW
    assert second.events[-1].trigger == "merge_into"
    assert first.number in second.events[-1].reason
    assert first.events[-1].trigger == "absorb_duplicate"
    assert open_flags_for(first.id) == []
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0


def test_merge_across_agencies_is_refused(seeded):
    sanya = file_case(outlet_named("Taxi Qiong B·T1234"), now=NOW, phone="+8613811112222")
    haikou = file_case(outlet_named("Qilou"), now=NOW, phone="+8613811112222")
    with pytest.raises(MergeRefused, match="same agency"):
        merge(haikou, sanya, HANDLER, now=NOW)


def test_dismissing_a_flag_keeps_both_cases_open(seeded):
    from complaints.duplicates.models import DuplicateFlag

    file_case(outlet_named("Ah Hai"), now=NOW, phone="+8613811112222")
    second = file_case(outlet_named("Ah Hai"), now=NOW, phone="+8613811112222")
    (flag,) = open_flags_for(second.id)
    dismiss(flag, HANDLER, now=NOW)
    db.session.commit()
    stored = db.session.scalar(select(DuplicateFlag))
    assert stored.resolution is DuplicateResolution.DISMISSED
    assert stored.resolved_by == "7"
    assert open_flags_for(second.id) == []
