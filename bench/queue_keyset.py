"""The console queue at a million cases: keyset pages and filters through the real view.

    .venv/bin/python bench/queue_keyset.py      (or `make bench-queue`)

Creates a throw-away PostgreSQL database on BENCH_DATABASE_ADMIN_URL (127.0.0.1 only), runs
`flask db upgrade` and `flask seed` against it with ANXIN_ENV=production (reference data only:
divisions, one agency per city or county, funds), COPYs in merchants, outlets, 1,000,000 cases
(about 40% in Sanya's agency, about 10% open) and their case_deadlines rows, VACUUM ANALYZEs,
creates a Sanya handler with `flask accounts create` and signs it in through /login with the
Flask test client. Then, against GET /console/ (production config, the whole request: login
check, filter form, `queries.queue_page`, template):

    first page, and pages 10, 100 and 1000 reached by following each page's `after` cursor
    each filter alone: state, category, division, merchant name contains, q = a case number
    (plus state=closed, the segment without a running deadline, and q = a word of the text)

each repeated BENCH_QUEUE_REPEATS times (interleaved, after warm-ups) for p50/p95, and the
EXPLAIN (ANALYZE, BUFFERS) of the statements `queue_page` sends for the first and a deep page.
Writes a "Console queue at a million cases" section into bench/RESULTS.md (replacing its own
section if present, leaving the others alone). The database is dropped on the way out, also on
failure. Waits first while a `bench/run.py` is running, so the two do not distort each other.
Settings: BENCH_DATABASE_ADMIN_URL, BENCH_QUEUE_CASES, BENCH_QUEUE_MERCHANTS,
BENCH_QUEUE_REPEATS.
"""

import os
import random
import secrets
import sys
import time
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import harness  # noqa: E402
from bench.harness import (  # noqa: E402
    ADMIN_URL,
    ScratchDatabase,
    app_env,
    flask_cli,
    other_bench_running,
    wait_for_other_bench,
)
from bench.queue_data import (  # noqa: E402
    CASES,
    COMMON_PHRASE,
    DEPTHS,
    HANDLER_EMAIL,
    RARE_PHRASE,
    RARE_WORD,
    REPEATS,
    SANYA,
    TEXT_WORD,
    load,
)
from bench.queue_measure import Console, Probe, describe_data, experiments, explain, measure, walk  # noqa: E402
from bench.queue_report import write_results  # noqa: E402

log = harness.logger("queue-bench")

# --- the run ------------------------------------------------------------------------------


def main() -> None:
    harness.clean_up_on_signals()
    began = time.perf_counter()
    rng = random.Random(20261125)
    load_average = os.getloadavg()
    waited = wait_for_other_bench(log)
    with ScratchDatabase(ADMIN_URL, prefix="anxin_queue_bench", log=log) as scratch:
        env = app_env(scratch.url)
        log("flask db upgrade, flask seed (production: reference data only)")
        flask_cli(env, "db", "upgrade")
        flask_cli(env, "seed")
        waited += wait_for_other_bench(log)
        log(f"loading {CASES:,} cases")
        loaded = load(scratch.url, rng)
        log(f"loaded in {loaded['load_s']:.0f} s (COPY {loaded['copy_s']:.0f} s)")
        data = describe_data(scratch.url)
        password = secrets.token_urlsafe(24)
        flask_cli(
            env, "accounts", "create", "--email", HANDLER_EMAIL, "--name",
            "Queue bench handler (Sanya)", "--role", "handler", "--agency-slug", SANYA,
            "--password", password,
        )  # fmt: skip
        waited += wait_for_other_bench(log)
        others_during = []
        results = run_measurements(env, password, data, others_during)
        results["total_s"] = time.perf_counter() - began  # without dropping the database
        write_results(scratch, loaded, data, results, load_average, waited, others_during)


def run_measurements(env: dict, password: str, data: dict, others_during: list) -> dict:
    os.environ.update(env)
    from complaints import create_app
    from complaints.console import queries
    from complaints.extensions import db

    app = create_app()
    with app.app_context():
        probe = Probe(db.engine, queries)
    console = Console(app, probe)
    console.sign_in(HANDLER_EMAIL, password)
    log("signed in; walking the queue")
    started = time.perf_counter()
    urls, walk_ms = walk(console)
    walk_s = time.perf_counter() - started
    log(f"walked {len(walk_ms)} pages in {walk_s:.0f} s")
    cursors = {}
    with app.app_context():
        for depth in DEPTHS:
            token = urlsplit(urls[depth]).query.split("after=", 1)[1].split("&")[0]
            cursors[depth] = queries.decode_cursor(unquote(token))
        for page, case_id in data["ended_pages"]["pages"].items():
            cursors[page] = queries.Cursor(3, None, case_id)
            urls[page] = f"/console/?after={quote(queries.encode_cursor(cursors[page]))}"
    merchant, brand, number = data["merchant"][0], data["brand"], data["number"]
    mid_ended, last_page = data["ended_pages"]["pages"]
    scenarios = [
        ("first page", "/console/"),
        *[(f"page {d} (cursor)", urls[d]) for d in DEPTHS],
        (f"page {mid_ended} (half-way through the ended cases)", urls[mid_ended]),
        (f"page {last_page} (the last page)", urls[last_page]),
        ("state=regulator_review", "/console/?state=regulator_review"),
        ("category=catering", "/console/?category=catering"),
        (f"division={data['division'][0]}", f"/console/?division={data['division'][0]}"),
        ("merchant=<one merchant's full name>", f"/console/?merchant={quote(merchant)}"),
        (f"merchant={brand} (part of a name)", f"/console/?merchant={quote(brand)}"),
        ("q=<case number>", f"/console/?q={quote(number)}"),
        (f"q={TEXT_WORD} (a word of the text)", f"/console/?q={quote(TEXT_WORD)}"),
        (f"q={RARE_WORD} (a word no description has)", f"/console/?q={quote(RARE_WORD)}"),
        (f"q={COMMON_PHRASE} (a phrase of the text)", f"/console/?q={quote(COMMON_PHRASE)}"),
        (f"q={RARE_PHRASE} (a phrase no description has)", f"/console/?q={quote(RARE_PHRASE)}"),
        ("state=closed (no running deadline)", "/console/?state=closed"),
    ]
    log(f"measuring {len(scenarios)} scenarios x {REPEATS}")
    samples = measure(console, scenarios)
    if other_bench_running():
        others_during.append("after the measurement")
    F = queries.QueueFilters
    sanya = data["sanya_id"]
    log("EXPLAIN (ANALYZE, BUFFERS)")
    division = data["division"][0]
    plans = {
        "first page": explain(app, probe, queries, sanya, F(), None),
        **{f"page {d}": explain(app, probe, queries, sanya, F(), cursors[d]) for d in DEPTHS},
        f"page {mid_ended}": explain(app, probe, queries, sanya, F(), cursors[mid_ended]),
        f"page {last_page}": explain(app, probe, queries, sanya, F(), cursors[last_page]),
        f"division={division}": explain(app, probe, queries, sanya, F(division=division), None),
        "merchant=<one merchant's full name>": explain(
            app, probe, queries, sanya, F(merchant=merchant), None
        ),
        "q=<case number>": explain(app, probe, queries, sanya, F(q=number), None),
        f"q={TEXT_WORD}": explain(app, probe, queries, sanya, F(q=TEXT_WORD), None),
        f"q={RARE_WORD}": explain(app, probe, queries, sanya, F(q=RARE_WORD), None),
        f"q={RARE_PHRASE}": explain(app, probe, queries, sanya, F(q=RARE_PHRASE), None),
    }
    tried = experiments(app, plans, mid_ended)
    log("tried the fixes")
    with app.app_context():
        db.engine.dispose()
    return {
        "scenarios": scenarios,
        "samples": samples,
        "walk_ms": walk_ms,
        "walk_s": walk_s,
        "cursors": cursors,
        "plans": plans,
        "experiments": tried,
        "mid_ended": mid_ended,
        "last_page": last_page,
    }


if __name__ == "__main__":
    main()
