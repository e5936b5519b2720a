"""Analytics page and queue export at a million cases.

    .venv/bin/python bench/analytics_scale.py      (or `make bench-analytics`)

Reuses the queue benchmark's throw-away PostgreSQL database and COPY loader
(bench/queue_keyset.py: 1,000,000 cases over three years, about 40% Sanya's, with their
deadlines), builds the daily rollups from them with one INSERT ... SELECT per table (the bench
data has no case events; the tick builds the same rows from events a day at a time, and the
time of one such day is measured too), then through the Flask test client as a Sanya
supervisor measures:

    GET /console/analytics/ (default range: last 30 days) and a 366-day range, p50/p95
    GET /console/export.csv and /console/export.xlsx of Sanya's whole queue (~400,000 rows):
        seconds, rows, bytes, and the process's peak RSS growth while streaming

Appends (replaces) a section "Analytics and export at a million cases" in bench/RESULTS.md.
Settings: BENCH_DATABASE_ADMIN_URL, BENCH_QUEUE_CASES, BENCH_ANALYTICS_REPEATS.
"""

import os
import random
import re
import secrets
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.harness import (  # noqa: E402 - after the path is set
    ADMIN_URL,
    ScratchDatabase,
    app_env,
    flask_cli,
    percentile,
    wait_for_other_bench,
    write_section,
)
from bench.queue_data import BASE_URL, CASES, SANYA, load  # noqa: E402

REPEATS = int(os.environ.get("BENCH_ANALYTICS_REPEATS", "20"))
SECTION = "## Analytics and export at a million cases"
EMAIL = "analytics.bench.supervisor@anxin.example"

ROLLUP_SQL = [
    # received: the day a case was filed (routing follows at once), Hainan days (UTC+8)
    """INSERT INTO case_rollups (day, agency_id, division_code, category, metric, n)
       SELECT (created_at AT TIME ZONE 'Asia/Shanghai')::date, agency_id, division_code,
              category, 'received', count(*)
       FROM cases WHERE agency_id IS NOT NULL GROUP BY 1, 2, 3, 4""",
    # outcomes: the day the case entered its current final state
    """INSERT INTO case_rollups (day, agency_id, division_code, category, metric, n)
       SELECT (state_entered_at AT TIME ZONE 'Asia/Shanghai')::date, agency_id, division_code,
              category, state, count(*)
       FROM cases WHERE agency_id IS NOT NULL
         AND state IN ('resolved', 'declined', 'terminated', 'withdrawn', 'closed')
       GROUP BY 1, 2, 3, 4, 5""",
    # stages: closed deadlines by duration bucket (the same edges as rollups.BUCKET_HOURS)
    """INSERT INTO stage_rollups (day, agency_id, kind, bucket, n, within)
       SELECT (d.closed_at AT TIME ZONE 'Asia/Shanghai')::date, c.agency_id, d.kind,
              width_bucket(extract(epoch FROM d.closed_at - d.started_at) / 3600.0,
                           ARRAY[1,2,4,8,12,24,48,72,120,168,240,360,480,720,1080,1440]::float8[]),
              count(*), sum(CASE WHEN d.closed_at <= d.due_at THEN 1 ELSE 0 END)
       FROM case_deadlines d JOIN cases c ON c.id = d.case_id
       WHERE d.closed_at IS NOT NULL AND c.agency_id IS NOT NULL
         AND d.kind IN ('merchant_response', 'acceptance_decision', 'mediation')
       GROUP BY 1, 2, 3, 4""",
]


def log(message: str) -> None:
    print(f"[analytics-bench] {message}", flush=True)


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def build_rollups(url: str) -> dict:
    import psycopg

    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in ROLLUP_SQL:
            conn.execute(statement)
        # Long-lived rollups are vacuumed by autovacuum; a fresh bulk load is not yet, and
        # without a visibility map the page's index-only scans would visit the heap.
        for table in ("case_rollups", "stage_rollups"):
            conn.execute(f"VACUUM ANALYZE {table}")
        counts = {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
            for table in ("case_rollups", "stage_rollups")
        }
    counts["build_s"] = time.perf_counter() - started
    return counts


def sign_in(client, password: str) -> None:
    page = client.get("/login", base_url=BASE_URL).get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = client.post(
        "/login",
        base_url=BASE_URL,
        data={"csrf_token": token, "email": EMAIL, "password": password, "next": ""},
        headers={"Referer": f"{BASE_URL}/login"},
    )
    if response.status_code != 303:
        raise RuntimeError(f"sign-in failed: {response.status_code}")


def timed_get(client, path: str) -> float:
    started = time.perf_counter()
    response = client.get(path, base_url=BASE_URL)
    response.get_data()
    if response.status_code != 200:
        raise RuntimeError(f"GET {path} answered {response.status_code}")
    return (time.perf_counter() - started) * 1000


def stream(client, path: str) -> dict:
    before = peak = rss_kib()
    started = time.perf_counter()
    response = client.get(path, base_url=BASE_URL, buffered=False)
    size, lines = 0, 0
    for chunk in response.response:
        size += len(chunk)
        lines += chunk.count(b"\n") if path.endswith(".csv") else chunk.count(b"<row>")
        peak = max(peak, rss_kib())
    response.close()
    return {
        "s": time.perf_counter() - started,
        "bytes": size,
        "rows": lines - 1 if path.endswith(".csv") else None,
        "rss_growth_mib": (peak - before) / 1024,
    }


def measure(env: dict, password: str) -> dict:
    os.environ.update(env)
    from complaints import create_app
    from complaints.analytics.rollups import local_day, refresh_day
    from complaints.database import utcnow
    from complaints.extensions import db

    app = create_app()
    client = app.test_client()
    sign_in(client, password)
    today = local_day(utcnow())
    year = f"/console/analytics/?start={today.replace(year=today.year - 1).isoformat()}"
    pages = {
        "analytics, last 30 days": "/console/analytics/",
        "analytics, 366 days": year,
        "queue first page (tab counts, handler loads)": "/console/",
        "queue sorted by amount claimed": "/console/?sort=amount",
    }
    for path in pages.values():
        for _ in range(3):
            timed_get(client, path)
    samples = {name: [] for name in pages}
    for _ in range(REPEATS):
        for name, path in pages.items():
            samples[name].append(timed_get(client, path))
    with app.app_context():
        started = time.perf_counter()
        refresh_day(today)
        db.session.rollback()  # measured only: keep the bench's INSERT ... SELECT rows
        refresh_s = time.perf_counter() - started
    log("exporting")
    exports = {fmt: stream(client, f"/console/export.{fmt}") for fmt in ("csv", "xlsx")}
    with app.app_context():
        db.engine.dispose()
    return {"samples": samples, "refresh_s": refresh_s, "exports": exports}


def write(loaded: dict, rollups: dict, results: dict, total_s: float) -> None:
    lines = [
        SECTION,
        "",
        f"Written by `bench/analytics_scale.py` (`make bench-analytics`) on "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: {os.cpu_count()} CPUs, "
        f"PostgreSQL on 127.0.0.1, the queue bench's data ({CASES:,} cases, loaded in "
        f"{loaded['load_s']:.0f} s). Rollups built by INSERT ... SELECT in "
        f"{rollups['build_s']:.1f} s: {rollups['case_rollups']:,} `case_rollups` rows, "
        f"{rollups['stage_rollups']:,} `stage_rollups` rows. Whole run {total_s / 60:.1f} min.",
        "",
        "| request (Sanya supervisor, test client, whole request) | p50 ms | p95 ms | n |",
        "|---|---|---|---|",
    ]
    for name, values in results["samples"].items():
        lines.append(
            f"| {name} | {percentile(values, 50):.1f} | {percentile(values, 95):.1f} "
            f"| {len(values)} |"
        )
    lines += [
        "",
        f"- The tick's rebuild of today's rollup rows (one day, from events and deadlines): "
        f"{results['refresh_s'] * 1000:.0f} ms.",
    ]
    for fmt, e in results["exports"].items():
        rows = f"{e['rows']:,} rows, " if e["rows"] is not None else ""
        lines.append(
            f"- Export {fmt.upper()} of Sanya's whole queue: {rows}{e['bytes'] / 2**20:.0f} MiB in "
            f"{e['s']:.0f} s; peak RSS growth while streaming {e['rss_growth_mib']:.0f} MiB."
        )
    write_section(SECTION, lines)
    print("\n".join(lines))


def main() -> None:
    began = time.perf_counter()
    wait_for_other_bench(log)
    with ScratchDatabase(ADMIN_URL, prefix="anxin_analytics_bench", log=log) as scratch:
        env = app_env(scratch.url, PUBLIC_BASE_URL=BASE_URL)  # production wants https
        flask_cli(env, "db", "upgrade")
        flask_cli(env, "seed")
        log(f"loading {CASES:,} cases")
        loaded = load(scratch.url, random.Random(20261204))
        rollups = build_rollups(scratch.url)
        log(f"rollups built in {rollups['build_s']:.1f} s")
        password = secrets.token_urlsafe(24)
        flask_cli(
            env, "accounts", "create", "--email", EMAIL, "--name", "Analytics bench",
            "--role", "supervisor", "--agency-slug", SANYA, "--password", password,
        )  # fmt: skip
        results = measure(env, password)
        write(loaded, rollups, results, time.perf_counter() - began)


if __name__ == "__main__":
    main()
