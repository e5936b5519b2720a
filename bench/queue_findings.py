"""The console-queue benchmark's findings: what is slow, why, and what would fix it."""

import statistics

from bench.harness import percentile
from bench.queue_data import DEPTHS

SLOW_MS = 100  # a console page slower than this at p95 is called slow below


def _statement(p: dict) -> str:
    return (
        f"{p['state']}, {p['kind']}: {p['ms']:.1f} ms, {p['order']}, "
        f"{p['removed']:,} rows removed by filters; " + ", ".join(f"`{s}`" for s in p["scans"])
    )


def _stats(values: list[dict]) -> dict:
    ms = [v["ms"] for v in values]
    queue_ms = [v["queue_ms"] for v in values]
    return {
        "p50": statistics.median(ms),
        "p95": percentile(ms, 95),
        "q50": statistics.median(queue_ms),
        "q95": percentile(queue_ms, 95),
        "statements": statistics.median(v["statements"] for v in values),
        "sql50": statistics.median(v["sql_ms"] for v in values),
        "rows": values[-1]["rows"],
    }


def findings(stats, plans, data, results) -> list[str]:
    deep, mid, last = max(DEPTHS), results["mid_ended"], results["last_page"]
    first = stats["first page"]
    pages = {d: stats[f"page {d} (cursor)"] for d in DEPTHS}
    mid_st = stats[f"page {mid} (half-way through the ended cases)"]
    last_st = stats[f"page {last} (the last page)"]
    walk_ms = results["walk_ms"]
    by_hundred = [statistics.median(walk_ms[i : i + 100]) for i in range(0, len(walk_ms), 100)]
    sorted_pages = [
        label
        for label in ("first page", *(f"page {d}" for d in DEPTHS))
        if any(p["order"].startswith("sort") for p in plans[label])
    ]
    lines = ["### Findings", ""]
    indexes = sorted(
        {i for label in ("first page", f"page {deep}") for p in plans[label] for i in p["indexes"]}
    )
    lines.append(
        "- **The cursor is a seek, not an OFFSET.** It is an index condition, `(due_at, case_id) "
        "> (...)` on `ix_case_deadlines_running` (by id on `pk_cases` or "
        "`ix_cases_agency_state_id` in the segments without a deadline), never an OFFSET: "
        f"walking on, the p50 per 100 pages goes from {by_hundred[0]:.0f} ms (pages 1-100) to "
        f"{by_hundred[-1]:.0f} ms (pages {len(walk_ms) - 99}-{len(walk_ms)}); what a page costs "
        "is the plan PostgreSQL picks for each statement, not how many pages came before. "
        "Every statement "
        f"of the first page and page {deep} reads through indexes ("
        + ", ".join(f"`{i}`" for i in indexes)
        + "). The first page takes "
        f"{first['p50']:.0f} ms (p95 {first['p95']:.0f})"
        + (
            ", its statements walking the index in due order and stopping after 26 rows."
            if "first page" not in sorted_pages
            else "."
        )
    )
    first_sql = sum(p["ms"] for p in plans["first page"])
    lines.append(
        f"- **Where a fast page's time goes** (first page, p50): {first['p50']:.0f} ms for the "
        f"request, {first['q50']:.1f} ms of it in `queue_page`, {first['sql50']:.1f} ms in its "
        f"{first['statements']:.0f} SQL statements (as measured from the app, round trips "
        f"included), of which PostgreSQL executes the queue statements in {first_sql:.1f} ms "
        "(EXPLAIN). The rest is Python: SQLAlchemy building a case, its deadline, merchant and "
        "district for up to 26 rows per state (then merged down to 25), the session and "
        "account load, the filter form and the template."
    )
    deep_sorts = [
        (label, p)
        for label in sorted_pages
        if label != "first page"
        for p in plans[label]
        if p["order"].startswith("sort")
    ]
    if deep_sorts:
        label, worst = max(deep_sorts, key=lambda lp: lp[1]["ms"])
        fixed = [t for t in results["experiments"] if t.get("label")]
        slow_pages = any(pages[d]["p95"] > SLOW_MS for d in DEPTHS)
        lines.append(
            ("- **But the pages after the first are slow: " if slow_pages else "- **Pages: ")
            + ", ".join(
                f"page {d} {pages[d]['p50']:.0f} ms (p95 {pages[d]['p95']:.0f})" for d in DEPTHS
            )
            + ".** Given a cursor, PostgreSQL switches the big states' statements from the "
            "ordered walk to a bitmap scan of that state's running deadlines after the cursor, "
            "island-wide, a `pk_cases` probe for each to keep Sanya's, and a sort: "
            f"{label}'s {worst['state']} statement is a {worst['order']} ({worst['ms']:.0f} ms). "
            "Why it expects so few: `ix_case_deadlines_running` is `(state, due_at, case_id) "
            "WHERE closed_at IS NULL` over every agency's deadlines, while the agency and the "
            "case's state are on `cases`; the planner takes the chance that a running "
            f"{worst['state']} deadline's case is Sanya's and in {worst['state']} to be that of "
            f"any case (40% x a few %), when in fact the case is always in that state and 40% "
            "are Sanya's. With a handful of matches expected, reading them all and sorting "
            "looks cheaper than a walk that (it thinks) must pass most of the index before "
            "finding 26. The cost is the number of that state's running deadlines after the "
            "cursor in the whole province, so the second page is the dearest, later pages get "
            "cheaper, and all of them grow with the province's open cases."
            + (
                "".join(
                    f" Without the redundant `cases.state = ...` the {t['label']} statement "
                    f"is a {t['after']['order']}: {t['after']['ms']:.1f} ms instead of "
                    f"{t['before']['ms']:.1f} ms."
                    for t in fixed
                )
                + " That is a query change"
                if fixed
                else " A query change to try: drop the redundant `cases.state = ...` from the "
                "statement"
            )
            + " (it relies on the timers' rule that a running deadline belongs to the case's "
            "current state). The index that matches the query needs the "
            "agency next to the deadline: `agency_id` on `case_deadlines` (kept with the "
            "case's, moved on transfer) and `(agency_id, state, due_at, case_id) WHERE "
            "closed_at IS NULL`, so the walk never meets another agency's rows and the "
            "estimate is right; or the running deadline's `due_at` kept on `cases` with "
            "`(agency_id, state, running_due_at, id)`, so the queue reads one table."
        )
    ended = max(plans[f"page {mid}"], key=lambda p: p["ms"])
    tried = [t for t in results["experiments"] if t["before"] is ended]
    bound = next((t for t in tried if not t.get("index")), None)
    indexed = next((t for t in tried if t.get("index")), None)
    merge = "Merge Anti Join" in ended["plan"]
    lines.append(
        f"- **Ended cases without a running deadline** (the last {data['ended_pages']['ended']:,} "
        f"rows of the queue, by id): page {mid}, half-way through them, takes "
        f"{mid_st['p50']:.0f} ms (p95 {mid_st['p95']:.0f}); the last page {last_st['p50']:.0f} "
        f"ms. The slowest statement of page {mid} ({ended['state']}, {ended['ms']:.0f} ms) "
        f"reads {ended['deadline_rows']:,} `case_deadlines` rows to return 26 cases: "
        + (
            "PostgreSQL answers its NOT EXISTS with a Merge Anti Join whose inner side walks "
            "`ix_case_deadlines_case_id` in case order keeping `closed_at IS NULL AND state = "
            "...`, from the first case (the cursor's `id > ...` is not passed into the "
            "subquery) to the first running deadline of that state, which belongs to a "
            "recently ended case near the end of the id range. Every page of this segment "
            "pays for that walk until, near the end, a per-case probe (Nested Loop Anti Join) "
            "is chosen, hence the cheap last page."
            if merge
            else "its NOT EXISTS is answered by a scan of `case_deadlines` rather than a "
            "probe per case."
        )
        + (
            f" Repeating the bound inside the NOT EXISTS only shortens the walk: "
            f"{bound['after']['ms']:.1f} ms ({bound['after']['deadline_rows']:,} rows read)."
            if bound
            else ""
        )
        + (
            " The fix is an index on the running deadlines by case (a migration, not made "
            "here), `CREATE INDEX ON case_deadlines (case_id) WHERE closed_at IS NULL`: with "
            "it the same statement "
            f"takes {indexed['after']['ms']:.1f} ms ({indexed['after']['deadline_rows']:,} rows "
            "read), since that index holds only running deadlines, all of recent cases."
            if indexed
            else ""
        )
    )
    given: set[str] = set()
    for name, st in stats.items():
        if st["p95"] <= SLOW_MS or name.startswith(("first page", "page ")):
            continue
        label = next((k for k in plans if name.startswith(k)), None)
        detail = ""
        if label and plans[label]:  # a lookup that found nothing sends no queue statement
            worst = max(plans[label], key=lambda p: p["ms"])
            detail = (
                f" Its {len(plans[label])} statements spend "
                f"{sum(p['ms'] for p in plans[label]):.0f} ms in PostgreSQL; the slowest: "
                + _statement(worst)
                + "."
            )
        why = advice(name)
        if why and why in given:
            why, detail = "Same cause and fix as above.", ""
        given.add(why)
        lines.append(
            f"- **{name}: p50 {st['p50']:.0f} ms, p95 {st['p95']:.0f} ms** "
            f"({st['p50'] / first['p50']:.1f}x the first page).{detail} {why}"
        )
    fast = [
        name
        for name, st in stats.items()
        if st["p95"] <= SLOW_MS and not name.startswith(("first page", "page "))
    ]
    if fast:
        lines.append(f"- Under {SLOW_MS} ms at p95: " + ", ".join(f"`{n}`" for n in fast) + ".")
    return [*lines, ""]


def advice(name: str) -> str:
    if name.startswith("q=<case number>"):
        return "A whole case number is one lookup in `uq_cases_number`."
    if name.startswith("q="):
        return (
            "Text search looks the agency's matching case ids up once "
            "(`complaints/console/search.py`): the pg_trgm GIN indexes for three characters "
            "or more, the bigram GIN index on `anxin_bigrams(description)` for two-character "
            "words beyond ASCII. A word in more than 500 cases is left as a filter on the "
            "queue's ordered walk, which meets one every few rows; what it costs is that walk "
            "plus the lookup, which builds the bitmap of every match before its limit applies."
        )
    if name.startswith("merchant="):
        return (
            "Merchant ids are looked up once per request, through the pg_trgm indexes on both "
            "names for three characters or more; a two-character fragment cannot use a "
            "trigram and scans `enterprises`."
        )
    if name.startswith("division="):
        return (
            "Same plan change as the pages after the first: filters on `cases` columns cut "
            "the rows returned, not the deadlines the bitmap reads, so the fix is the same."
        )
    return ""
