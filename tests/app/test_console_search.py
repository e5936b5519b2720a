"""The queue's text and merchant filters: looked up once per request, through pg_trgm indexes."""

import pytest
from sqlalchemy import event, text

from complaints.console import search
from complaints.database import utcnow
from complaints.extensions import db
from tests import services as test_services
from tests.app.test_console_queue import numbers
from tests.app.test_console_support import AH_HAI, TAXI, file_case, sign_in


@pytest.fixture
def described(seeded):
    now = utcnow()
    rare = file_case(TAXI, now, description="出租车绕路多收费，司机拒开发票")
    common = [file_case(AH_HAI, now, description=f"海鲜称重短斤少两 第{n}单") for n in range(4)]
    return rare, common


class Statements:
    def __init__(self):
        self.sent: list[str] = []

    def __enter__(self):
        event.listen(db.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *exc):
        event.remove(db.engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn, _cursor, statement, *_args):
        self.sent.append(statement)


def test_a_rare_word_finds_its_case_through_one_id_lookup(client, described):
    rare, _ = described
    sign_in(client)
    with Statements() as statements:
        page = client.get("/console/?q=拒开发票").get_data(as_text=True)
    assert numbers(page) == [rare.number]
    lookups = [s for s in statements.sent if "ILIKE" in s.upper() or "LIKE" in s.upper()]
    if db.engine.dialect.name == "postgresql":
        # The text is searched once (the id lookup); the per-state statements read by id.
        assert len(lookups) == 1
    else:
        assert len(lookups) > 1  # SQLite: no trigram index, every statement filters


def test_a_common_word_is_left_to_the_ordered_walk(client, described, monkeypatch):
    _, common = described
    monkeypatch.setattr(search, "MAX_IDS", 2)
    sign_in(client)
    page = client.get("/console/?q=短斤少两").get_data(as_text=True)
    assert sorted(numbers(page)) == sorted(c.number for c in common)


def test_short_words_and_wildcards_still_search(client, described):
    rare, _ = described
    sign_in(client)
    assert numbers(client.get("/console/?q=绕路").get_data(as_text=True)) == [rare.number]
    assert numbers(client.get("/console/?q=%25%25%25").get_data(as_text=True)) == []
    assert numbers(client.get("/console/?q=___").get_data(as_text=True)) == []


def test_a_two_character_word_is_looked_up_once_through_the_bigram_index(client, described):
    """Most Chinese words are two characters, too short for a trigram (issue 13)."""
    rare, common = described
    sign_in(client)
    with Statements() as statements:
        page = client.get("/console/?q=发票").get_data(as_text=True)
    assert numbers(page) == [rare.number]
    if db.engine.dialect.name == "postgresql":
        assert sum("anxin_bigrams" in s for s in statements.sent) == 1
        assert not any("LIKE" in s.upper() for s in statements.sent)
    assert sorted(numbers(client.get("/console/?q=海鲜").get_data(as_text=True))) == sorted(
        c.number for c in common
    )
    with Statements() as statements:
        assert numbers(client.get("/console/?q=退货").get_data(as_text=True)) == []
    if db.engine.dialect.name == "postgresql":  # absent: answered by the lookup alone
        assert not any("case_deadlines" in s for s in statements.sent)


def test_a_two_character_word_the_statistics_call_common_is_left_to_the_walk(
    client, described, monkeypatch
):
    _, common = described
    if db.engine.dialect.name != "postgresql":
        test_services.missing("DATABASE_URL is not a PostgreSQL URL")
    monkeypatch.setattr(search, "MAX_IDS", 2)
    monkeypatch.setattr(search, "BIGRAM_STATS_SECONDS", 0)  # read the statistics afresh
    with db.engine.begin() as conn:
        conn.execute(text("ANALYZE cases"))  # what autovacuum does to a real table
    sign_in(client)
    with Statements() as statements:
        page = client.get("/console/?q=海鲜").get_data(as_text=True)
    assert sorted(numbers(page)) == sorted(c.number for c in common)
    assert not any("anxin_bigrams" in s for s in statements.sent)  # no lookup: the walk
    with Statements() as statements:  # a word the statistics do not list: looked up
        client.get("/console/?q=绕路")
    assert sum("anxin_bigrams" in s for s in statements.sent) == 1


def test_a_phrase_of_common_bigrams_skips_its_lookup_and_a_rare_one_keeps_it(
    client, described, monkeypatch
):
    """A Chinese phrase whose every bigram is common is walked without a lookup that would
    stop at MAX_IDS + 1 matches only to be dropped; a phrase with a rare bigram is looked up."""
    rare, common = described
    if db.engine.dialect.name != "postgresql":
        test_services.missing("DATABASE_URL is not a PostgreSQL URL")
    monkeypatch.setattr(search, "MAX_IDS", 2)
    monkeypatch.setattr(search, "COMMON_PHRASE_MARGIN", 1)
    monkeypatch.setattr(search, "BIGRAM_STATS_SECONDS", 0)
    with db.engine.begin() as conn:
        conn.execute(text("ANALYZE cases"))
    sign_in(client)
    with Statements() as statements:
        page = client.get("/console/?q=短斤少两").get_data(as_text=True)
    assert sorted(numbers(page)) == sorted(c.number for c in common)
    # No lookup: every statement is a per-state walk filtering by the phrase itself.
    looked_up = [s for s in statements.sent if "LIKE" in s.upper() and "case_deadlines" not in s]
    assert looked_up == []
    with Statements() as statements:
        page = client.get("/console/?q=拒开发票").get_data(as_text=True)
    assert numbers(page) == [rare.number]
    assert sum("LIKE" in s.upper() for s in statements.sent) == 1  # the lookup, then by id


def test_merchant_names_are_looked_up_once_per_request(client, described):
    rare, _ = described
    sign_in(client)
    with Statements() as statements:
        page = client.get("/console/?merchant=taxi").get_data(as_text=True)
    assert rare.number in numbers(page)
    assert sum("FROM enterprises" in s and "LIKE" in s.upper() for s in statements.sent) == 1


def test_postgres_answers_substring_searches_from_trigram_and_bigram_indexes(app_ctx):
    if db.engine.dialect.name != "postgresql":
        test_services.missing("DATABASE_URL is not a PostgreSQL URL")
    queries = {
        "ix_cases_description_trgm": "SELECT id FROM cases WHERE description ILIKE '%拒开发票%'",
        "ix_cases_number_trgm": "SELECT id FROM cases WHERE number ILIKE '%20261204%'",
        "ix_enterprises_name_zh_trgm": "SELECT id FROM enterprises WHERE name_zh ILIKE '%海鲜店%'",
        "ix_enterprises_name_en_trgm": "SELECT id FROM enterprises WHERE name_en ILIKE '%seafood%'",
    }
    queries["ix_cases_description_bigrams"] = (
        "SELECT id FROM cases WHERE anxin_bigrams(description) @> ARRAY['发票']"
    )
    with db.engine.begin() as conn:
        # New, empty tables: earlier tests' deleted rows leave page counts that can make
        # another index of enterprises look cheaper.
        conn.execute(text("TRUNCATE cases, enterprises CASCADE"))
        conn.execute(text("SET LOCAL enable_seqscan = off"))  # tiny tables: ask what it can use
        for index, query in queries.items():
            plan = "\n".join(conn.execute(text(f"EXPLAIN {query}")).scalars())
            assert f"Bitmap Index Scan on {index}" in plan, plan


def test_a_search_that_finds_nothing_sends_no_queue_statement(client, described):
    sign_in(client)
    with Statements() as statements:
        page = client.get("/console/?q=无此内容的投诉&merchant=taxi").get_data(as_text=True)
    assert numbers(page) == []
    if db.engine.dialect.name == "postgresql":
        assert not any("case_deadlines" in s for s in statements.sent)
    with Statements() as statements:
        page = client.get("/console/?merchant=no-such-merchant-name").get_data(as_text=True)
    assert numbers(page) == []
    assert not any("case_deadlines" in s for s in statements.sent)


def test_cases_found_by_lookup_come_in_queue_order_in_one_statement(client, seeded, monkeypatch):
    """merchant= resolves to case ids: one statement, same order and pages as the walk."""
    from complaints.console import queries
    from tests.app.test_console_queue import all_pages, expected_order

    monkeypatch.setattr(queries, "PAGE_SIZE", 4)
    monkeypatch.setattr(queries.queue_page, "__defaults__", (4,))
    now = utcnow()
    cases = [file_case(TAXI, now, description=f"Taxi {n}") for n in range(6)]
    cases += [file_case(AH_HAI, now, description="Seafood") for _ in range(3)]
    sign_in(client)
    with Statements() as statements:
        pages = all_pages(client, "/console/?lang=en&merchant=taxi")
    listed = [n for page in pages for n in page]
    taxi = {c.number for c in cases if c.description.startswith("Taxi")}
    assert listed == [n for n in expected_order() if n in taxi]
    assert [len(p) for p in pages] == [4, 2]
    queue_reads = [s for s in statements.sent if "case_deadlines" in s]
    assert len(queue_reads) == len(pages)  # one per page, not one per state and segment
