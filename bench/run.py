"""`make bench`: the app under gunicorn against PostgreSQL, measured with wrk, in one run.

Creates a throw-away database on BENCH_DATABASE_ADMIN_URL, migrates and seeds it, starts one
gunicorn (sync workers) from bench/ceiling_app.py and loads, in turn:

    trivial     GET  /bench/trivial            ceiling for the scan page
    scan        GET  /s/<token>                a tourist scanning a printed code
    insert      POST /bench/insert             ceiling for a submission: one row, one commit
    submission  POST /s/<token>/complain       a complete complaint: case, audit event,
                                               notifications, outbox (no Redis: a relay thread
                                               in each gunicorn worker delivers)

then the submission again on a second gunicorn with REDIS_URL set and one `flask worker`
delivering (bench/drain.py: how long the worker takes to drain the rush), then profiles scan and submission in one process and writes bench/RESULTS.md. The database is
dropped and gunicorn stopped on the way out, also on failure or Ctrl-C.

Settings (environment): BENCH_DATABASE_ADMIN_URL, BENCH_WORKERS, BENCH_CONNECTIONS,
BENCH_THREADS, BENCH_SECONDS, BENCH_WARMUP.
"""

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import drain, flamegraph, harness, loadgen, profiling, report, summary  # noqa: E402
from bench.harness import BIN, RESULTS, RedisScratch, flask_cli, free_port  # noqa: E402
from bench.scenario import (  # noqa: E402
    CONNECTIONS,
    SECONDS,
    SUBMIT_SCRIPT,
    THREADS,
    WARMUP,
    WORKERS,
    Submissions,
    complaint_fields,
    form_sessions,
    load,
    log,
)

FLAME = ROOT / "bench" / "flame-submission.svg"
# An empty Redis database for one in-process comparison (the outbox relay enqueueing to RQ
# instead of running the SMS job inline); emptied afterwards. Set it to "" to skip.
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/11")
# Two seeded outlets of two merchants, so the scan page's merchant does not collect the
# submissions' complaints halfway through (its standing is read on every scan).
SCAN_OUTLET = "椰风海景酒店前台"  # Coconut Breeze Hotel front desk, Sanya
SUBMIT_OUTLET = "阿海海鲜加工店"  # Ah Hai Seafood Kitchen, Sanya: a catering stall


# --- the app's side of the load ----------------------------------------------------------


def app_env(database_url: str, port: int, upload_dir: str) -> dict:
    return harness.app_env(
        # https: production refuses a plain-http base URL (it only shapes links here).
        database_url,
        PUBLIC_BASE_URL=f"https://127.0.0.1:{port}",
        UPLOAD_DIR=upload_dir,
    )


def create_bench_table(database_url: str) -> None:
    from sqlalchemy import create_engine

    from bench.ceiling import metadata

    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    metadata.create_all(engine)
    engine.dispose()


# Mobile numbers 138 <series digit> <wrk thread> <6-digit counter>: new for every request.
PHONE_SERIES = {"warm": "1", "main": "5", "flame": "7"}
FLAME_SECONDS = int(os.environ.get("BENCH_FLAME_SECONDS", "5"))

MERCHANT_CASES = (
    "SELECT count(*) FROM cases"
    " WHERE enterprise_id = (SELECT enterprise_id FROM outlets WHERE code = %s)"
)


def seeded_outlets(env: dict) -> dict[str, tuple[str, str]]:
    """{outlet name: (outlet code, scan token)}, as `flask outlets list --json` prints them."""
    outlets = {}
    for line in flask_cli(env, "outlets", "list", "--json").splitlines():
        row = json.loads(line)
        outlets[row["outlet"]] = (row["code"], row["url"].rsplit("/s/", 1)[1])
    for name in (SCAN_OUTLET, SUBMIT_OUTLET):
        if name not in outlets:
            raise RuntimeError(f"seed has no outlet {name}")
    return outlets


# --- one scenario ------------------------------------------------------------------------


def record_flame(server, path, script, args) -> None:
    """A run of its own under py-spy, after the measured one: sampling costs CPU, so the
    measured numbers are taken without it."""
    command = loadgen.wrk_command(
        f"http://127.0.0.1:{server.port}{path}",
        threads=THREADS,
        connections=CONNECTIONS,
        seconds=FLAME_SECONDS,
        script=script,
        args=args("flame"),
    )
    with flamegraph.Recording(server.process.pid, FLAME_SECONDS, FLAME, log):
        loadgen.run_wrk(command, cwd=str(ROOT))


def machine_info(db: harness.ScratchDatabase) -> dict:
    wrk_version = subprocess.run(  # noqa: S603 - fixed binary
        [loadgen.WRK, "--version"], capture_output=True, text=True, check=False
    ).stdout.splitlines()[0]
    gunicorn_version = subprocess.run(  # noqa: S603 - our venv's gunicorn
        [str(BIN / "gunicorn"), "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    return {
        **harness.machine(),
        "postgresql": db.scalar("SHOW server_version"),
        "synchronous_commit": db.scalar("SHOW synchronous_commit"),
        "wrk": wrk_version,
        "gunicorn": gunicorn_version,
    }


def main() -> int:
    # Clean up (gunicorn, database) on Ctrl-C and on SIGTERM, also when started in the
    # background, where a shell leaves SIGINT ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    workdir = Path(tempfile.mkdtemp(prefix="anxin-bench-"))
    gunicorn_log = workdir / "gunicorn.log"
    nonce = secrets.token_hex(4)
    settings = {
        "workers": WORKERS,
        "connections": CONNECTIONS,
        "threads": THREADS,
        "seconds": SECONDS,
        "warmup": WARMUP,
    }
    try:
        with harness.ScratchDatabase(prefix="anxin_bench", log=log) as db:
            port = free_port()
            env = app_env(db.url, port, str(workdir / "uploads"))
            log("migrating and seeding")
            flask_cli(env, "db", "upgrade")
            # A production seed has reference data only; the demo merchants (and their
            # demo complaints) come from a development-mode seed of the same database.
            flask_cli({**env, "ANXIN_ENV": "development"}, "seed")
            create_bench_table(db.url)
            outlets = seeded_outlets(env)
            scan_code, token = outlets[SCAN_OUTLET]
            outlet_code, submit_token = outlets[SUBMIT_OUTLET]
            scan_history = db.scalar(MERCHANT_CASES, (scan_code,))
            machine = machine_info(db)
            sessions_file = workdir / "sessions.tsv"
            results = {}
            checks = {}
            with harness.Gunicorn(env, port, gunicorn_log, WORKERS, log=log) as server:
                settings["gunicorn"] = " ".join(server.command[1:])
                count = str(ROOT / "bench" / "count.lua")
                results["trivial"], _ = load(
                    "trivial", server, "/bench/trivial", count, lambda _phase: (), db
                )
                results["scan"], _ = load("scan", server, f"/s/{token}", count, lambda _p: (), db)
                results["insert"], checks["insert"] = load(
                    "insert",
                    server,
                    "/bench/insert",
                    count,
                    lambda _phase: ("POST",),
                    db,
                    counted_sql="SELECT count(*) FROM bench_rows",
                )
                sessions_file.write_text(
                    "\n".join(form_sessions(port, submit_token, outlet_code, THREADS)) + "\n"
                )
                submitting = Submissions(submit_token, sessions_file, nonce, PHONE_SERIES)
                results["submission"], checks["submission"] = submitting.load(
                    "submission", server, db
                )
                record_flame(server, submitting.path, SUBMIT_SCRIPT, submitting.args)
                settings["wrk_submission"] = (
                    f"wrk -t{THREADS} -c{CONNECTIONS} -d{SECONDS}s --timeout 5s --latency"
                    " -s bench/submit.lua http://127.0.0.1:<port>/s/<token>/complain"
                    " -- <sessions file> <nonce> <phone series>"
                )
            (
                results["submission_queued"],
                checks["submission_queued"],
                drained,
            ) = drain.queued_rush(env, db, workdir, submit_token, outlet_code, nonce)
            db_state = {
                "scan_merchant_cases": scan_history,
                "cases": db.scalar("SELECT count(*) FROM cases"),
                "case_events": db.scalar("SELECT count(*) FROM case_events"),
                "outbox_pending": db.scalar(
                    "SELECT count(*) FROM outbox_messages WHERE done_at IS NULL"
                ),
                "outbox_total": db.scalar("SELECT count(*) FROM outbox_messages"),
                "notifications_sent": db.scalar(
                    "SELECT count(*) FROM notifications WHERE status = 'sent'"
                ),
                "sequence_rows": db.scalar("SELECT count(*) FROM case_number_sequences"),
                "duplicate_flags": (
                    db.scalar("SELECT count(*) FROM duplicate_flags")
                    if db.scalar("SELECT to_regclass('duplicate_flags') IS NOT NULL")
                    else None
                ),
            }
            gunicorn_log_bytes = gunicorn_log.stat().st_size
            log("profiling scan and submission in one process")
            with RedisScratch(REDIS_URL, log=log) as redis_url:
                costs, profiles, console_us = profiling.measure(
                    env,
                    token,
                    submit_token,
                    outlet_code,
                    lambda hidden: complaint_fields(hidden, outlet_code),
                    log_path=str(workdir / "profile-stdout.log"),
                    redis_url=redis_url,
                )
        text = report.render(
            machine=machine,
            settings=settings,
            results=results,
            checks=checks,
            db_state=db_state,
            costs=costs,
            profiles=profiles,
            console_us=console_us,
            gunicorn_log_bytes=gunicorn_log_bytes,
        )
        text = text.rstrip() + "\n\n" + "\n".join(drain.section(drained, SECONDS))
        text = text.rstrip() + "\n\n" + "\n".join(summary.flame_section(FLAME)) + "\n"
        # Other bench scripts add sections of their own to the same file: keep them.
        existing = RESULTS.read_text() if RESULTS.exists() else ""
        RESULTS.write_text(report.merge(existing, text))
        log(f"wrote {RESULTS.relative_to(ROOT)}")
        print(summary.ratio_table(results), flush=True)
        problems = report.problems(results, checks, CONNECTIONS)
        print(drain.summary_line(drained), flush=True)
        for problem in problems:
            log(f"CHECK FAILED: {problem}")
        return 1 if problems else 0
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
