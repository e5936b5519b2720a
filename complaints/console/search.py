"""The queue's merchant-name, case-number and free-text filters, each resolved once per request.

Each filter first looks up the matching case ids of the agency (at most MAX_IDS) and the
queue's per-state statements then read those cases by primary key; a filter matching nothing
answers with NOTHING and the queue sends no statement at all.

Both are substring searches (`ILIKE '%...%'`), which no btree answers. On PostgreSQL the
`pg_trgm` GIN indexes (`ix_cases_description_trgm`, `ix_cases_number_trgm`,
`ix_enterprises_name_*_trgm`) answer them for three characters or more. A text search first looks
up the agency's matching case ids through those indexes (one statement, at most MAX_IDS rows),
and the queue's per-state statements then read those cases by id: a rare word no longer makes
every statement walk all of the agency's cases. A word so common that more than MAX_IDS cases
contain it is left as a filter on the queue's ordered walk, which meets a match every few rows;
for Chinese words and phrases the bigram index's statistics tell that before any lookup.

A trigram needs three characters. Two-character words with a character beyond ASCII (most
Chinese words: 退货, 发票) are looked up in a bigram GIN index instead
(`ix_cases_description_bigrams` on `anxin_bigrams(description)`, migration search_02): for two
characters, "its bigrams include the word" is exactly "contains it". Case numbers are ASCII, so
such a word cannot be part of one. One character, and two ASCII characters, still filter the
ordered walk (fast for a common one, slow for a rare one). SQLite (development) has neither
index and always filters. A search that matches nothing is answered by the lookup alone
(`false()`: the queue sends no statement).
"""

import time
from typing import NamedTuple

from flask import current_app
from sqlalchemy import ColumnElement, false, func, literal, or_, select
from sqlalchemy import text as sql
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import Text

from complaints.cases.models import Case
from complaints.extensions import db
from complaints.merchants.models import Enterprise

# More matches than this: a common word, which the queue's ordered walk meets every few rows;
# a lookup that stops early costs little (the bench: a phrase in 1 of 15 texts).
MAX_IDS = 500
NOTHING = false()  # what a lookup that found nothing returns (the queue then sends nothing)
TRIGRAM = 3
BIGRAM = 2
# A phrase of three characters or more whose rarest bigram is in more cases than
# MAX_IDS * COMMON_PHRASE_MARGIN is left to the walk without a lookup (see `_common_phrase`).
COMMON_PHRASE_MARGIN = 20
# The bigram index's statistics (ANALYZE's most common elements) are read at most this often.
BIGRAM_STATS_SECONDS = 600
BIGRAM_STATS = sql(
    "SELECT s.most_common_elems::text::text[], s.most_common_elem_freqs, c.reltuples"
    " FROM pg_stats s, pg_class c"
    " WHERE s.tablename = 'ix_cases_description_bigrams' AND c.relname = 'cases'"
)


class Match(NamedTuple):
    """A filter's WHERE condition and, when the lookup resolved it, the matching case ids."""

    condition: ColumnElement
    ids: frozenset[int] | None = None


def contains(column, text: str) -> ColumnElement:
    """Case-insensitive substring, wildcards searched literally; `ILIKE` on PostgreSQL (which
    the trigram index serves, unlike the `lower(x) LIKE` of `icontains`)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.ilike(f"%{escaped}%", escape="\\")


def _indexed() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def merchant_condition(agency_id: int, text: str) -> Match:
    """Cases of merchants whose Chinese or English name contains the text."""
    matching = select(Enterprise.id).where(
        or_(contains(Enterprise.name_zh, text), contains(Enterprise.name_en, text))
    )
    enterprise_ids = db.session.scalars(matching.limit(MAX_IDS + 1)).all()
    if len(enterprise_ids) > MAX_IDS:
        return Match(Case.enterprise_id.in_(matching))
    if not enterprise_ids:
        return Match(NOTHING, frozenset())
    # Their cases in this agency, by `ix_cases_enterprise_id`: a few merchants' cases are read
    # by id below instead of filtering the queue's walk in deadline order.
    return _by_id(
        select(Case.id).where(Case.agency_id == agency_id, Case.enterprise_id.in_(enterprise_ids)),
        otherwise=Case.enterprise_id.in_(enterprise_ids),
    )


def number_condition(agency_id: int, number: str) -> Match:
    """A whole case number: its one case of this agency, looked up in the unique index."""
    return _by_id(
        select(Case.id).where(Case.agency_id == agency_id, Case.number == number),
        otherwise=Case.number == number,
    )


def _by_id(ids_query, otherwise: ColumnElement) -> Match:
    ids = db.session.scalars(ids_query.limit(MAX_IDS + 1)).all()
    if len(ids) > MAX_IDS:
        return Match(otherwise)
    return Match(Case.id.in_(ids) if ids else NOTHING, frozenset(ids))


def _expected_matches(bigram: str) -> float:
    """How many cases PostgreSQL's statistics expect to contain the word (0 when they do not
    list it as common). A lookup for a common word would build a bitmap of tens of thousands
    of ids only to drop it (more than MAX_IDS): 150 ms p95 for a word in 6.7% of a million
    cases, against 120 ms for the walk alone."""
    read_at, expected = current_app.extensions.get("anxin_bigram_stats", (None, {}))
    if read_at is None or time.monotonic() - read_at > BIGRAM_STATS_SECONDS:
        row = db.session.execute(BIGRAM_STATS).first()
        words, frequencies, cases = row if row and row[0] else ((), (), 0.0)
        # most_common_elem_freqs ends with three summary figures: zip stops at the words.
        expected = {w: f * max(cases, 0.0) for w, f in zip(words, frequencies, strict=False)}
        current_app.extensions["anxin_bigram_stats"] = (time.monotonic(), expected)
    return expected.get(bigram, 0.0)


def _common_phrase(phrase: str) -> bool:
    """Whether a phrase beyond ASCII (a Chinese phrase: 缺斤短两) is so common that its trigram
    lookup would stop at MAX_IDS + 1 matches only to be dropped. The bench: 15 ms of a 52 ms
    page for a phrase in 1 of 15 texts, a seq scan until 501 matches of the agency.

    A description containing the phrase contains each of its bigrams, so the rarest bigram's
    count bounds the phrase's from above, never from below: a rare phrase made of common
    bigrams is walked (correct, slower). Hence the margin, and only beyond ASCII, where a
    bigram is nearly a word; English letter pairs are common in rare words alike."""
    if phrase.isascii():
        return False
    word = phrase.lower()  # as anxin_bigrams() lower-cases the description
    rarest = min(_expected_matches(word[i : i + BIGRAM]) for i in range(len(word) - 1))
    return rarest > MAX_IDS * COMMON_PHRASE_MARGIN


def text_condition(agency_id: int, text: str) -> Match:
    """Cases whose description or number contains the text."""
    text = text.strip()
    condition = or_(contains(Case.description, text), contains(Case.number, text))
    if not _indexed():
        return Match(condition)
    if len(text) == BIGRAM and not text.isascii():
        word = text.lower()  # as anxin_bigrams() lower-cases the description
        if _expected_matches(word) > MAX_IDS:
            return Match(condition)  # common: the walk meets one every few rows
        bigrams = func.anxin_bigrams(Case.description, type_=ARRAY(Text))
        has_word = bigrams.contains(literal([word], ARRAY(Text)))
        return _by_id(select(Case.id).where(Case.agency_id == agency_id, has_word), condition)
    if len(text) < TRIGRAM or _common_phrase(text):
        return Match(condition)
    return _by_id(select(Case.id).where(Case.agency_id == agency_id, condition), condition)
