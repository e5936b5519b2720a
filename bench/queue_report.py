"""The console-queue benchmark's section of bench/RESULTS.md: tables and plans."""

import os
import platform
import statistics
import subprocess
from pathlib import Path

from bench.harness import RESULTS, ROOT, logger, percentile, write_section
from bench.queue_data import (
    DEPTHS,
    NOW,
    OPEN,
    RARE_WORD,
    REPEATS,
    SANYA,
    SECTION,
    STATE_MIX,
    TEXT_WORD,
    WARMUPS,
)
from bench.queue_findings import SLOW_MS, _statement, _stats, findings
from bench.queue_measure import trim

log = logger("queue-bench")

# --- the report ---------------------------------------------------------------------------


def write_results(scratch, loaded, data, results, load_average, waited, others_during) -> None:
    lines = report_lines(scratch, loaded, data, results, load_average, waited, others_during)
    write_section(SECTION, lines)
    log(f"wrote the {SECTION!r} section of {RESULTS}")


def code_version() -> str:
    """The commit of the app code measured, and whether it had uncommitted changes."""

    def git(*args: str) -> str:
        done = subprocess.run(  # noqa: S603 - read-only git
            ["/usr/bin/git", *args], cwd=ROOT, capture_output=True, text=True, check=False
        )
        return done.stdout.strip()

    head = git("log", "-1", "--format=%h %s")
    if not head:
        return "unknown (no git)"
    dirty = git("status", "--porcelain", "--", "complaints", "workflows", "migrations")
    return f"`{head}`" + (" plus uncommitted changes" if dirty else "")


def memory_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 1024 / 1024
    return 0.0


def cpu_name() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def report_lines(scratch, loaded, data, results, load_average, waited, others_during) -> list:
    samples, plans, walk_ms = results["samples"], results["plans"], results["walk_ms"]
    stats = {name: _stats(values) for name, values in samples.items()}
    by_state = data["by_state"]
    open_sanya = sum(by_state.get(s, 0) for s in OPEN)
    sanya = data["sanya_cases"]
    mb = {table: size / 1024 / 1024 for table, size in data["sizes"].items()}
    note = (
        f" Waited {waited:.0f} s for another `bench/run.py` to finish before loading and measuring."
        if waited > 1
        else " No other benchmark ran meanwhile."
    )
    if others_during:
        note += " A `bench/run.py` started during the measurement: the numbers are disturbed."
    deep, mid, last = max(DEPTHS), results["mid_ended"], results["last_page"]
    cursor = results["cursors"][deep]
    ended = data["ended_pages"]
    merchant_name, merchant_cases, merchant_open = data["merchant"]
    lines = [
        SECTION,
        "",
        f"Written by `bench/queue_keyset.py` (`make bench-queue`) on {NOW:%Y-%m-%d %H:%M} UTC: "
        f"{os.cpu_count()} CPUs ({cpu_name()}), {memory_gib():.1f} GiB, load average at start "
        f"{' '.join(f'{x:.2f}' for x in load_average)}, Python {platform.python_version()}, "
        f"PostgreSQL {scratch.version} on 127.0.0.1 (shared_buffers "
        f"{scratch.settings['shared_buffers']}, work_mem {scratch.settings['work_mem']}, "
        f"effective_cache_size {scratch.settings['effective_cache_size']}): a fresh database "
        "migrated with `flask db upgrade` and seeded with `flask seed` (ANXIN_ENV=production: "
        "reference data only), loaded with COPY, `VACUUM ANALYZE`d, dropped afterwards. "
        f"App code measured: {code_version()}. "
        f"The whole run took {results['total_s'] / 60:.1f} minutes.{note}",
        "",
        f"- Data: {loaded['cases']:,} cases over the 19 agencies, {sanya:,} "
        f"({sanya / loaded['cases']:.0%}) in Sanya's (`{SANYA}`), filed over three years, ids in "
        "filing order. Sanya's by state: "
        + ", ".join(f"{s} {by_state.get(s, 0):,}" for s in STATE_MIX)
        + f" ({open_sanya / sanya:.1%} open). {loaded['deadlines']:,} `case_deadlines` rows, one "
        "per step each case went through (merchant response, acceptance decision, mediation, "
        "termination notice, appeal window), closed when it moved on: "
        f"{data['running_all']:,} running, {data['running_sanya']:,} of them Sanya's (its open "
        "cases', and the appeal windows and termination notices of recently ended ones). "
        f"{loaded['merchants']:,} merchants (a long tail: a few get many complaints), "
        f"{loaded['outlets']:,} outlets; descriptions {data['description_chars']:.0f} characters "
        f"on average. `cases` {mb['cases']:,.0f} MB and `case_deadlines` "
        f"{mb['case_deadlines']:,.0f} MB with their indexes. Loaded in {loaded['load_s']:.0f} s "
        f"(COPY with every index and foreign key in place {loaded['copy_s']:.0f} s, then "
        "VACUUM ANALYZE).",
        "- How: the Flask test client, signed in through `POST /login` as a Sanya handler made "
        "with `flask accounts create`, against `create_app()` with the production config on the "
        "bench database. Each number is a whole `GET /console/...` (session and account load, "
        "filter form, `queries.queue_page`, the template with its rows); `queue_page` is the "
        "time spent inside that function (its SQL and building the rows); statements are all "
        "SQL statements of the request and their time is from sending each to having its "
        f"result (psycopg). {REPEATS} interleaved rounds after {WARMUPS} warm-ups; "
        "p95 is interpolated from those samples (about the second slowest).",
        f"- Pages {', '.join(str(d) for d in DEPTHS)}: reached by following each page's `Next "
        f"page` link (its signed `after` cursor) from the first page; page {deep} starts at row "
        f"{(deep - 1) * 25 + 1:,} (its cursor: segment {cursor.segment}, "
        + (f"due {cursor.due_at:%Y-%m-%d %H:%M}, " if cursor.due_at else "")
        + f"case {cursor.case_id:,}). The queue's last {ended['ended']:,} rows are ended cases "
        f"without a running deadline, in id order: page {mid} (half-way through them) and page "
        f"{last} (the last page) would take thousands of requests to walk to, so their cursor "
        "is built the way the app builds it (segment 3, the id of the previous page's last row, "
        "found with SQL) and signed with `encode_cursor`.",
        f"- Filters: `{merchant_name}` is a mid-sized Sanya merchant ({merchant_cases} cases, "
        f"{merchant_open} open); `{data['brand']}` is part of {data['brand_merchants']} "
        f"merchants' names. `q=<case number>` is `{data['number']}`, an old closed Sanya case; "
        f"`{TEXT_WORD}` is in {data['word_share']:.1%} of the descriptions, `{RARE_WORD}` in "
        f"{data['rare_share']:.1%}.",
        "",
        "| scenario | request p50 | request p95 | `queue_page` p50 | `queue_page` p95 "
        "| SQL statements | their time p50 | rows |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, _path in results["scenarios"]:
        st = stats[name]
        flag = " **slow**" if st["p95"] > SLOW_MS else ""
        lines.append(
            f"| {name}{flag} | {st['p50']:.1f} ms | {st['p95']:.1f} ms | {st['q50']:.1f} ms | "
            f"{st['q95']:.1f} ms | {st['statements']:.0f} | {st['sql50']:.1f} ms | "
            f"{st['rows']} |"
        )
    stretches = [
        f"{statistics.median(walk_ms[i : i + 100]):.0f}" for i in range(0, len(walk_ms), 100)
    ]
    lines += [
        "",
        f"**slow**: p95 over {SLOW_MS} ms. Walking pages 1 to {deep} one after the other took "
        f"{results['walk_s']:.0f} s: per page p50 {statistics.median(walk_ms):.1f} ms, p95 "
        f"{percentile(walk_ms, 95):.1f} ms, max {max(walk_ms):.1f} ms; p50 of each run of 100 "
        f"pages (1-100, 101-200, ...): {', '.join(stretches)} ms.",
        "",
        *findings(stats, plans, data, results),
        *fixes_tried(results["experiments"]),
        *plan_lines(plans, results),
    ]
    return lines


FULL_PLANS = ("first page", "page ")  # one table row per statement; the filters get a summary


def plan_lines(plans: dict, results: dict) -> list[str]:
    deep, mid = max(DEPTHS), results["mid_ended"]
    lines = [
        "### Plans",
        "",
        "`queue_page` reads the queue in four segments (open cases with a running deadline by "
        "(due_at, id); open ones without, by id; then the same two for ended cases), one "
        "statement per state of a segment, each `LIMIT 26`, merged in Python; a page stops at "
        "the first segment that fills it. Below, the statements of one call, captured as the "
        "view sends them and run again under `EXPLAIN (ANALYZE, BUFFERS)`. *Order* says whether "
        "PostgreSQL walked an index in queue order and stopped after 26 rows, or fetched every "
        "match and sorted them (and how many it expected). Rows removed count every loop.",
        "",
    ]
    for label, statements in plans.items():
        total = sum(p["ms"] for p in statements)
        lines += [
            f"**{label}**: {len(statements)} statements, {total:.1f} ms of execution in all.",
            "",
        ]
        if not label.startswith(FULL_PLANS):
            for p in sorted(statements, key=lambda p: -p["ms"])[:3]:
                lines.append(f"- {_statement(p)}")
            lines.append("")
            continue
        lines += [
            "| state | segment | order | scans | rows removed by filters | shared buffers "
            "hit / read | execution |",
            "|---|---|---|---|---:|---:|---:|",
        ]
        for p in statements:
            scans = ", ".join(f"`{s}`" for s in p["scans"]) or "-"
            lines.append(
                f"| {p['state']} | {p['kind']} | {p['order']} | {scans} | {p['removed']:,} | "
                f"{p['hit']:,} / {p['read']:,} | {p['ms']:.2f} ms |"
            )
        lines.append("")
    for label in ("first page", f"page {deep}", f"page {mid}"):
        slowest = max(plans[label], key=lambda p: p["ms"])
        lines += [
            f"{label}, its slowest statement ({slowest['state']}, {slowest['kind']}), trimmed "
            "(costs, planner buffers and per-worker lines left out):",
            "",
            "```",
            trim(slowest["plan"]),
            "```",
            "",
        ]
    return lines


def fixes_tried(tried: list[dict]) -> list[str]:
    if not tried:
        return []
    lines = [
        "### Fixes tried on the same data",
        "",
        "The slowest statements again under `EXPLAIN ANALYZE`, right after the measurement, "
        "with one change to their SQL text or one more index in the scratch database (the app "
        "and its migrations are not changed):",
        "",
        "| statement | as the app sends it | changed |",
        "|---|---|---|",
    ]
    for t in tried:
        before, after = t["before"], t["after"]
        lines.append(
            f"| {t['what']} | {before['ms']:.1f} ms, {before['order']}, "
            f"{before['deadline_rows']:,} `case_deadlines` rows read | {after['ms']:.1f} ms, "
            f"{after['order']}, {after['deadline_rows']:,} rows read |"
        )
    return [*lines, ""]
