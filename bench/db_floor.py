"""The database's share of a filing: the SQL one real filing sends, replayed by pgbench.

    make bench-db

The ratio targets of `make bench` compare a whole filing (Flask, the form, SQLAlchemy,
PostgreSQL, the worker's jobs) with a one-row insert through the same app. This scenario takes
Python out: it captures the statements of one real filing (Redis on, so the request only
commits) and of one `/bench/insert`, renders them with their values, and lets pgbench run each
as a transaction at 16 connections. What PostgreSQL alone spends on a filing bounds what any
app on these two cores can reach: the section also serves the app's one-row insert under
gunicorn, as `make bench` does, and works out what the ratio target leaves per filing.

The captured case gets an id far above the seeded ones, so the replay can swap that id for
the id its own first statement returns (`\\gset`); the submission and tracking key hashes,
unique per case, become fresh random values in every transaction.
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness, loadgen, scenario
from bench.profiling import _submitter
from bench.run import SUBMIT_OUTLET, create_bench_table, seeded_outlets
from bench.scenario import CONNECTIONS, SECONDS, THREADS, WARMUP, WORKERS, complaint_fields

TITLE = "## The database's share of a filing (`make bench-db`)"
CAPTURED_CASE_ID = 987_654_321  # far above any seeded case: found again in the captured SQL
WARM_FILINGS = 5
FRESH_HASH = "md5(random()::text) || md5(random()::text)"
PGBENCH = shutil.which("pgbench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
log = harness.logger("bench-db")


def outside_literals(sql: str, replace) -> str:
    """Apply replace() to the parts of sql outside single-quoted literals ('' inside a
    literal splits it into two literals with an empty part between: still in step)."""
    parts = sql.split("'")
    return "'".join(replace(part) if i % 2 == 0 else part for i, part in enumerate(parts))


def replay_script(statements: list[str], case_id: int, unique_literals: list[str]) -> str:
    """A pgbench script: one transaction; the row of the statement that inserts the case kept
    as variables, the captured case id after it replaced by that row's :id, the unique keys
    by fresh random values."""
    lines = ["BEGIN;"]
    number = re.compile(rf"\b{case_id}\b")
    case_inserted = False
    for statement in statements:
        for literal in unique_literals:
            statement = statement.replace(f"'{literal}'", FRESH_HASH)
        ending = ";"
        if case_inserted:
            statement = outside_literals(statement, lambda part: number.sub(":id", part))
        elif "INSERT INTO cases " in statement:
            case_inserted, ending = True, " \\gset"
        lines.append(" ".join(statement.split()) + ending)
    lines.append("END;")
    return "\n".join(lines) + "\n"


def capture(env: dict, token: str, outlet_code: str, redis_url: str):
    """([filing statements], [insert statements], [unique literals]) with their values."""
    from psycopg import ClientCursor
    from sqlalchemy import event, text

    from bench.ceiling import add_ceiling_routes
    from complaints import create_app
    from complaints.extensions import db

    os.environ.update(env)
    app = create_app({"REDIS_URL": redis_url})
    add_ceiling_routes(app)
    recorded: list[tuple[str, object]] = []
    request_thread = threading.get_ident()

    def record(_conn, _cursor, statement, parameters, *_args):
        if threading.get_ident() == request_thread:  # not the cache's listener
            recorded.append((statement, parameters))

    client = app.test_client(use_cookies=False)
    fields = lambda hidden: complaint_fields(hidden, outlet_code)  # noqa: E731
    submit = _submitter(client, f"/s/{token}/complain", fields, "db")
    for _ in range(WARM_FILINGS):  # the lookup cache filled, as in a running app
        submit()
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", record)
        db.session.execute(
            text("SELECT setval(pg_get_serial_sequence('cases', 'id'), :id - 1)"),
            {"id": CAPTURED_CASE_ID},
        )
        db.session.commit()
    recorded.clear()
    if submit().status_code != 303:
        raise RuntimeError("the captured filing was not accepted")
    filing = list(recorded)
    recorded.clear()
    if client.post("/bench/insert").status_code != 201:
        raise RuntimeError("the captured insert failed")
    insert = list(recorded)
    with app.app_context():
        case = db.session.execute(
            text("SELECT id, submission_key_hash, tracking_key_hash FROM cases WHERE id = :id"),
            {"id": CAPTURED_CASE_ID},
        ).one()
        raw = db.engine.raw_connection()
        try:
            cursor = ClientCursor(raw.driver_connection)
            rendered = [
                [cursor.mogrify(sql, params) for sql, params in statements]
                for statements in (filing, insert)
            ]
        finally:
            raw.close()
        db.session.remove()
        db.engine.dispose()
    return rendered[0], rendered[1], [case.submission_key_hash, case.tracking_key_hash]


def pgbench(url: str, script: Path, seconds: int) -> int:
    """Transactions pgbench completed in `seconds` at CONNECTIONS connections (prepared, as
    psycopg prepares a statement from its fifth run on)."""
    completed = subprocess.run(  # noqa: S603 - Debian's pgbench
        [
            PGBENCH,
            "-n",
            "-M",
            "prepared",
            f"-c{CONNECTIONS}",
            f"-j{THREADS}",
            f"-T{seconds}",
            "-f",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=seconds + 60,
    )
    found = re.search(r"number of transactions actually processed: (\d+)", completed.stdout)
    failed = re.search(r"number of failed transactions: (\d+)", completed.stdout)
    if completed.returncode != 0 or not found or (failed and int(failed.group(1))):
        raise RuntimeError(f"pgbench {script.name} failed:\n{completed.stdout}{completed.stderr}")
    return int(found.group(1))


class ServerCpu:
    """CPU seconds of the whole PostgreSQL server: the postmaster, its live children and the
    children it has reaped. pgbench's backends start and exit within a run, so they are gone
    from /proc by its end; their time is then in the postmaster's cutime and cstime."""

    def __init__(self, url: str):
        with psycopg.connect(url) as conn:  # the backend's parent, read while it lives
            backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
            self.postmaster = loadgen.process_ticks(backend)[0]
        self.tick = os.sysconf("SC_CLK_TCK")

    def seconds(self) -> float:
        ticks = 0
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                stat = loadgen.process_ticks(int(entry))
                if stat and (stat[0] == self.postmaster or int(entry) == self.postmaster):
                    ticks += stat[1]
        ticks += loadgen.process_ticks(self.postmaster)[2]
        return ticks / self.tick


def measure(db: harness.ScratchDatabase, script: Path) -> dict:
    pgbench(db.url, script, WARMUP)
    server = ServerCpu(db.url)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    postgres, (busy, total) = server.seconds(), loadgen.machine_ticks()
    transactions = pgbench(db.url, script, SECONDS)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    postgres = server.seconds() - postgres
    busy_after, total_after = loadgen.machine_ticks()
    client = (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
    return {
        "tps": transactions / SECONDS,
        "postgres_ms": postgres * 1000 / transactions,
        "pgbench_ms": client * 1000 / transactions,
        "busy": (busy_after - busy) / max(total_after - total, 1),
    }


def budget(app_insert, filing_postgres_ms: float, target: float = 0.5) -> list[str]:
    """What `make bench`'s Redis-on target leaves per filing, from the app's one-row insert
    served by gunicorn in this run and the filing SQL's PostgreSQL CPU measured here."""
    cores = harness.machine()["nproc"]
    rate = target * app_insert.rps
    whole_ms = cores * 1000 / rate
    insert_ms = app_insert.cpu["app"] + app_insert.cpu["postgres"]
    left_ms = whole_ms - filing_postgres_ms - insert_ms
    return [
        f"The app's one-row insert, served by gunicorn in the same run "
        f"({WORKERS} sync workers, wrk -c{CONNECTIONS} as in `make bench`): "
        f"{app_insert.rps:,.0f} req/s, {app_insert.cpu['app']:.2f} ms of app and "
        f"{app_insert.cpu['postgres']:.2f} ms of PostgreSQL CPU each. The Redis-on target, "
        f"{target} × that rate = {rate:,.0f} filings/s on {cores} cores, leaves "
        f"**{whole_ms:.2f} ms of CPU per filing** for everything on the machine (app, "
        "PostgreSQL, worker, load generator). PostgreSQL's share for the filing's SQL alone is "
        f"{filing_postgres_ms:.2f} ms and the app's cheapest write costs {insert_ms:.2f} ms, "
        f"so **{left_ms:.2f} ms** remain for all else a filing does: its form, CSRF check and "
        "session, the ORM work of four INSERTs, and the worker's texts and duplicate check "
        "(`make bench` measures those).",
    ]


def section(results: dict, filing: list[str], insert: list[str]) -> list[str]:
    ceiling = results["insert"]["tps"]
    rows = {
        "insert": "one-row insert (`/bench/insert`'s SQL)",
        "filing": "filing (the SQL of one real filing, one transaction)",
        "filing_notify": "filing with the outbox's former NOTIFY trigger (migration perf_03"
        " dropped it)",
    }
    lines = [
        TITLE,
        "",
        f"Written by `bench/db_floor.py` on {harness.machine()['date']}. pgbench "
        f"(`-M prepared -c{CONNECTIONS} -j{THREADS} -T{SECONDS}`, after {WARMUP} s of warm-up) "
        "replays the statements below with no Python in the way, on a fresh migrated and "
        "seeded database; CPU per transaction from /proc as in the load bench.",
        "",
        "| script | transactions/s | vs one-row insert | PostgreSQL CPU | pgbench CPU"
        " | machine busy |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for key, label in rows.items():
        r = results[key]
        lines.append(
            f"| {label} | {r['tps']:,.0f} | {r['tps'] / ceiling:.3f} | "
            f"{r['postgres_ms']:.2f} ms | {r['pgbench_ms']:.2f} ms | {r['busy']:.0%} |"
        )
    lines += [
        "",
        *budget(results["app_insert"], results["filing"]["postgres_ms"]),
        "",
        "The filing's statements, in order (values as captured):",
        "",
    ]
    lines += [f"{n}. `{' '.join(sql.split())[:160]}…`" for n, sql in enumerate(filing, 1)]
    lines += ["", "The insert's:", ""]
    lines += [f"{n}. `{' '.join(sql.split())[:160]}`" for n, sql in enumerate(insert, 1)]
    return lines


def app_insert_ceiling(env: dict, db, workdir: Path):
    """`make bench`'s one-row insert ceiling, measured in this run by the same code."""
    port = harness.free_port()
    with harness.Gunicorn(env, port, workdir / "gunicorn.log", WORKERS, log=log) as server:
        result, _ = scenario.load(
            "app insert",
            server,
            "/bench/insert",
            str(harness.ROOT / "bench" / "count.lua"),
            lambda _phase: ("POST",),
            db,
            counted_sql="SELECT count(*) FROM bench_rows",
        )
    return result


def main() -> int:
    if PGBENCH is None:
        raise SystemExit("pgbench not found: apt-get install postgresql-client")
    harness.clean_up_on_signals()
    workdir = Path(tempfile.mkdtemp(prefix="anxin-bench-db-"))
    with harness.ScratchDatabase(prefix="anxin_bench_db", log=log) as db:
        env = harness.app_env(db.url, UPLOAD_DIR=str(workdir / "uploads"))
        harness.flask_cli(env, "db", "upgrade")
        harness.flask_cli({**env, "ANXIN_ENV": "development"}, "seed")
        create_bench_table(db.url)
        outlet_code, token = seeded_outlets(env)[SUBMIT_OUTLET]
        with harness.RedisScratch(REDIS_URL, log=log) as redis_url:
            if redis_url is None:
                raise SystemExit(f"needs an empty Redis database at {REDIS_URL}")
            filing, insert, unique = capture(env, token, outlet_code, redis_url)
        scripts = {
            "insert": replay_script(insert, CAPTURED_CASE_ID, []),
            "filing": replay_script(filing, CAPTURED_CASE_ID, unique),
        }
        for name, body in scripts.items():
            (workdir / f"{name}.sql").write_text(body)
        results = {"app_insert": app_insert_ceiling(env, db, workdir)}
        for name in ("insert", "filing"):
            log(f"pgbench {name}")
            results[name] = measure(db, workdir / f"{name}.sql")
        # What the outbox's former NOTIFY trigger cost (migration perf_03 dropped it): the
        # same replay with that migration's downgrade applied, then undone.
        harness.flask_cli(env, "db", "downgrade", "perf_02")
        log("pgbench filing with the former NOTIFY trigger")
        results["filing_notify"] = measure(db, workdir / "filing.sql")
        harness.flask_cli(env, "db", "upgrade")
    harness.write_section(TITLE, section(results, filing, insert))
    log(f"wrote {harness.RESULTS}")
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
