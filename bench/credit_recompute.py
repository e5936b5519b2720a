"""Credit at Hainan's scale: rebuild 250,000 merchants' scores from events, and one event's cost.

    .venv/bin/python bench/credit_recompute.py

Creates a throw-away PostgreSQL database on BENCH_DATABASE_ADMIN_URL (127.0.0.1 only), migrates
it, bulk-loads merchants and credit events with COPY, then times:

    build     `recompute_all` with no score rows: every row computed and inserted
    verify    `recompute_all(fix=False)` over the built rows: must find no difference
    events    10,000 `record_credit_event` calls, each committed like a request would
    o(1)      the same for one merchant with 4 events and one with 5,000 (fresh rows)

and writes a "Credit recompute" section into bench/RESULTS.md (replacing its own section if
present, leaving everything else as bench/run.py wrote it). The database is dropped on the way
out, also on failure. Settings: BENCH_CREDIT_MERCHANTS, BENCH_CREDIT_EVENTS_PER_MERCHANT.
"""

import os
import platform
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import harness  # noqa: E402
from bench.harness import RESULTS  # noqa: E402

log = harness.logger("credit-bench")
MERCHANTS = int(os.environ.get("BENCH_CREDIT_MERCHANTS", "250000"))
EVENTS_PER_MERCHANT = float(os.environ.get("BENCH_CREDIT_EVENTS_PER_MERCHANT", "4"))
INCREMENTAL = 10_000
SECTION = "## Credit recompute"
NOW = datetime.now(UTC).replace(microsecond=0)


def load(url: str, rng: random.Random) -> dict:
    """COPY merchants and events straight in: the bench measures recompute, not the loader."""
    import psycopg

    from complaints.credit.engine import NEUTRALISING_KINDS, CreditEventKind, CreditPolicy

    policy = CreditPolicy()
    kinds = sorted(set(CreditEventKind) - NEUTRALISING_KINDS)
    weights = [1 if k == CreditEventKind.SERIOUS_LISTED else 20 for k in kinds]
    started = time.perf_counter()
    events = repairs = 0
    with psycopg.connect(url) as conn:
        conn.execute(
            "INSERT INTO divisions (code, name_zh, name_en) VALUES ('460200', '三亚市', 'Sanya')"
        )
        with conn.cursor().copy(
            "COPY enterprises (id, uscc, name_zh, name_en, division_code, answers_first,"
            " notify_language, created_at, trusted) FROM STDIN"
        ) as copy:
            for i in range(1, MERCHANTS + 1):
                created = NOW - timedelta(days=1200)
                copy.write_row(
                    (i, f"BENCH{i:013d}", f"商户{i}", f"Merchant {i}", "460200", True, "zh",
                     created, True)
                )  # fmt: skip
        with conn.cursor().copy(
            "COPY credit_events (id, enterprise_id, kind, points, reason, occurred_at,"
            " expires_at, recorded_at, actor, neutralises_id) FROM STDIN"
        ) as copy:
            next_id = 1
            for merchant in range(1, MERCHANTS + 1):
                count = rng.randint(0, round(2 * EVENTS_PER_MERCHANT))
                for _ in range(count):
                    kind = rng.choices(kinds, weights)[0]
                    rule = policy.rule(kind)
                    at = NOW - timedelta(seconds=rng.randint(60, 3 * 365 * 86400))
                    expires = at + timedelta(days=rule.expiry_days)
                    copy.write_row(
                        (next_id, merchant, kind.value, rule.points, "bench", at, expires, at,
                         "bench", None)
                    )  # fmt: skip
                    target, next_id, events = next_id, next_id + 1, events + 1
                    if rule.points < 0 and expires > NOW and rng.random() < 0.05:
                        repaired = max(at, NOW - timedelta(days=30))
                        copy.write_row(
                            (next_id, merchant, "repair_granted", -rule.points, "bench",
                             repaired, expires, repaired, "bench", target)
                        )  # fmt: skip
                        next_id, events, repairs = next_id + 1, events + 1, repairs + 1
        conn.execute("SELECT setval('credit_events_id_seq', (SELECT max(id) FROM credit_events))")
        conn.execute("SELECT setval('enterprises_id_seq', (SELECT max(id) FROM enterprises))")
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE enterprises")
        conn.execute("VACUUM ANALYZE credit_events")
    return {"events": events, "repairs": repairs, "load_s": time.perf_counter() - started}


def timed(function, *args, **kwargs):
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - started


def count_statements(engine):
    from sqlalchemy import event

    counter = {"n": 0}

    def before(*_):
        counter["n"] += 1

    event.listen(engine, "before_cursor_execute", before)
    return counter, lambda: event.remove(engine, "before_cursor_execute", before)


def incremental(app, rng: random.Random) -> dict:
    from complaints.credit.engine import CreditEventKind
    from complaints.credit.services import record_credit_event
    from complaints.extensions import db

    kinds = [CreditEventKind.SETTLED_IN_TIME, CreditEventKind.DEADLINE_MISSED]
    durations = []
    with app.app_context():
        counter, stop = count_statements(db.engine)
        for i in range(INCREMENTAL):
            merchant = rng.randint(1, MERCHANTS)
            started = time.perf_counter()
            record_credit_event(
                merchant, rng.choice(kinds), reason="bench", now=NOW, dedupe_key=f"inc:{i}"
            )
            db.session.commit()
            durations.append(time.perf_counter() - started)
        stop()
        db.session.remove()
    return {
        "total_s": sum(durations),
        "p50_ms": statistics.median(durations) * 1000,
        "p99_ms": statistics.quantiles(durations, n=100)[98] * 1000,
        "statements": counter["n"] / INCREMENTAL,
    }


def constant_time(app) -> dict:
    """Per-event cost for a merchant with few events and one with 5,000: it must not grow."""
    from sqlalchemy import insert

    from complaints.credit.engine import CreditEventKind
    from complaints.credit.models import CreditEvent
    from complaints.credit.recompute import recompute_all
    from complaints.credit.services import record_credit_event
    from complaints.extensions import db

    small, big = 1, 2
    kind = CreditEventKind.COMPLAINT_FREE_PERIOD  # 365 days: nothing expires during the run
    with app.app_context():
        past = NOW - timedelta(days=1)
        rows = [
            {"enterprise_id": big, "kind": kind, "points": 5, "reason": "bulk",
             "occurred_at": past, "expires_at": past + timedelta(days=365),
             "recorded_at": past, "actor": "bench"}
            for _ in range(5000)
        ]  # fmt: skip
        db.session.execute(insert(CreditEvent), rows)
        db.session.commit()
        recompute_all(NOW)  # fresh rows for both merchants
        db.session.commit()
        durations: dict[str, list[float]] = {"few": [], "5000": []}
        counter, stop = count_statements(db.engine)
        for i in range(300):  # interleaved, so drift on a shared machine hits both alike
            for label, merchant in (("few", small), ("5000", big)):
                started = time.perf_counter()
                record_credit_event(
                    merchant, kind, reason="bench", now=NOW, dedupe_key=f"o1:{label}:{i}"
                )
                db.session.commit()
                durations[label].append(time.perf_counter() - started)
        stop()
        result = {label: statistics.median(values) * 1000 for label, values in durations.items()}
        result["statements"] = counter["n"] / 600
        db.session.remove()
    return result


def main() -> None:
    harness.clean_up_on_signals()
    from flask_migrate import upgrade

    from complaints import create_app
    from complaints.credit.recompute import recompute_all
    from complaints.extensions import db

    rng = random.Random(20260415)
    with harness.ScratchDatabase(prefix="anxin_bench_credit", log=log) as scratch:
        os.environ.setdefault("ANXIN_ENV", "development")
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": scratch.url.replace(
                    "postgresql://", "postgresql+psycopg://", 1
                ),
                "REDIS_URL": "",
            }
        )
        with app.app_context():
            upgrade()
            db.engine.dispose()
        log(f"loading {MERCHANTS:,} merchants and their events")
        loaded = load(scratch.url, rng)
        log(f"loaded {loaded['events']:,} events in {loaded['load_s']:.1f} s")
        with app.app_context():
            build, build_s = timed(recompute_all, NOW)
            db.session.commit()
            log(f"build: {build_s:.1f} s, {build.written:,} rows written")
            verify, verify_s = timed(recompute_all, NOW, fix=False)
            db.session.rollback()
            log(f"verify: {verify_s:.1f} s, {len(verify.differences)} differences")
            db.session.remove()
        inc = incremental(app, rng)
        log(f"incremental: p50 {inc['p50_ms']:.2f} ms, {inc['statements']:.1f} statements/event")
        with app.app_context():
            after, after_s = timed(recompute_all, NOW, fix=False)
            db.session.rollback()
            db.session.remove()
        log(f"verify after events: {after_s:.1f} s, {len(after.differences)} differences")
        o1 = constant_time(app)
        log(f"o(1): few {o1['few']:.2f} ms, 5,000 events {o1['5000']:.2f} ms")
        with app.app_context():
            db.engine.dispose()
        write_results(
            scratch.version, loaded, (build, build_s), (verify, verify_s), inc, (after, after_s), o1
        )
    if verify.differences or after.differences:
        raise SystemExit(1)


def write_results(version, loaded, built, verified, inc, rechecked, o1) -> None:
    (build, build_s), (verify, verify_s), (after, after_s) = built, verified, rechecked
    rate = build.checked / build_s if build_s else 0
    lines = [
        SECTION,
        "",
        f"Written by `bench/credit_recompute.py` on {NOW:%Y-%m-%d %H:%M} UTC: "
        f"{os.cpu_count()} CPUs ({platform.processor() or platform.machine()}), "
        f"Python {platform.python_version()}, PostgreSQL {version} on 127.0.0.1 "
        "(a fresh database, migrated, loaded with COPY, dropped afterwards).",
        "",
        f"- Data: {MERCHANTS:,} merchants (Hainan's list, RULES.md), {loaded['events']:,} "
        f"credit events (0-{round(2 * EVENTS_PER_MERCHANT)} per merchant, "
        f"{loaded['events'] / MERCHANTS:.1f} on average, over 3 years, every kind, "
        f"{loaded['repairs']:,} repairs), loaded in {loaded['load_s']:.0f} s. The recompute "
        f"walks all {MERCHANTS:,} in id order; the ones without a single event need no row.",
        "",
        "| run | time | merchants with credit data | result |",
        "|---|---:|---:|---|",
        f"| build: `recompute_all` with no score rows | {build_s:.1f} s | {build.checked:,} | "
        f"{build.written:,} rows inserted, {build.list_changes:,} trusted-list changes, "
        f"{rate:,.0f} merchants/s |",
        f"| verify: `recompute_all(fix=False)` | {verify_s:.1f} s | {verify.checked:,} | "
        f"{len(verify.differences)} differences |",
        f"| verify after {INCREMENTAL:,} incremental events | {after_s:.1f} s | "
        f"{after.checked:,} | {len(after.differences)} differences |",
        "",
        f"- One event (`record_credit_event` + commit, {INCREMENTAL:,} on random merchants): "
        f"p50 {inc['p50_ms']:.2f} ms, p99 {inc['p99_ms']:.2f} ms, "
        f"{inc['statements']:.1f} SQL statements per event (commit included).",
        f"- Constant time: median per event {o1['few']:.2f} ms for a merchant with a handful of "
        f"events, {o1['5000']:.2f} ms for one with 5,000 (fresh rows; a row whose entry has "
        "expired is rebuilt once, by the tick or by its next event).",
        "",
    ]
    harness.write_section(SECTION, lines)
    log(f"wrote the {SECTION!r} section of {RESULTS}")


if __name__ == "__main__":
    main()
