"""The production setting of a rush: Redis on, one `flask worker` delivering beside gunicorn.

Issue 13's worker target: one worker drains the messages of a 10 s rush at full filing speed
within 30 s of its end, at no more than 5 ms of worker CPU per message. The worker runs during
the rush (its CPU competes with the filings, as it would on one machine) and the clock stops
when the outbox has nothing pending and every queued text has its answer.
"""

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from bench import harness
from bench.harness import BIN, ROOT, RedisScratch, free_port
from bench.loadgen import stat_ticks
from bench.scenario import THREADS, WORKERS, Submissions, form_sessions, log

# Mobile numbers of the queued rush (bench/submit.lua: 138 <series> <thread> <counter>), apart
# from the first submission run's, so no 'same phone' duplicate flags join them.
QUEUED_PHONE_SERIES = {"warm": "2", "main": "3"}
# An empty Redis database for the production-setting rush (requests enqueue, a worker
# delivers); emptied afterwards.
QUEUED_REDIS_URL = os.environ.get("BENCH_QUEUED_REDIS_URL", "redis://127.0.0.1:6379/12")

DRAIN_SECONDS_TARGET = 30.0
CPU_MS_PER_MESSAGE_TARGET = 5.0
# Only what the measured rush wrote (ids above those at its start): a message left in flight
# when an earlier scenario's gunicorn stopped is the tick's to recover, not this rush's.
PENDING = (
    "SELECT (SELECT count(*) FROM outbox_messages WHERE id > %s AND done_at IS NULL)"
    " + (SELECT count(*) FROM notifications WHERE id > %s"
    " AND status IN ('pending', 'retrying'))"
)
SENT = "SELECT count(*) FROM notifications WHERE id > %s AND status IN ('sent', 'delivered')"
LAST_IDS = (
    "SELECT coalesce((SELECT max(id) FROM outbox_messages), 0),"
    " coalesce((SELECT max(id) FROM notifications), 0)"
)


@dataclass
class Drain:
    messages: int  # texts delivered from the start of the measured rush until drained
    seconds_after_rush: float | None  # None: still pending at the limit
    worker_cpu_ms_per_message: float
    pending_at_end_of_rush: int

    @property
    def met(self) -> bool:
        return (
            self.seconds_after_rush is not None
            and self.seconds_after_rush <= DRAIN_SECONDS_TARGET
            and self.worker_cpu_ms_per_message <= CPU_MS_PER_MESSAGE_TARGET
        )


class Worker:
    """`flask worker` (one process, jobs in-process, the outbox relay in a thread), output to
    a file; stopped on the way out."""

    def __init__(self, env: dict, log_path: Path, log=print):
        self.env, self.log_path, self.log = env, log_path, log
        self.process = None

    def __enter__(self):
        self._out = open(self.log_path, "ab")
        self.process = subprocess.Popen(  # noqa: S603 - our venv's flask
            [str(BIN / "flask"), "--app", "wsgi", "worker"],
            cwd=ROOT,
            env=self.env,
            stdout=self._out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.log(f"worker pid {self.process.pid}")
        return self

    def cpu_seconds(self) -> float:
        """The worker process's own CPU (jobs and relay run in it; RQ's scheduler child and
        its once-a-minute tick are not message work)."""
        with open(f"/proc/{self.process.pid}/stat") as stat:
            _ppid, ticks = stat_ticks(stat.read())
        return ticks / os.sysconf("SC_CLK_TCK")

    def __exit__(self, *exc):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self._out.close()


class Probe:
    """Marks the measured rush's start and end (load() calls them around wrk), then waits for
    the backlog."""

    def __init__(self, db, worker: Worker):
        self.db, self.worker = db, worker

    def start(self) -> None:
        import psycopg

        with psycopg.connect(self.db.url, autocommit=True) as conn:
            self.outbox_from, self.notifications_from = conn.execute(LAST_IDS).fetchone()
        self.cpu_before = self.worker.cpu_seconds()

    def _pending(self) -> int:
        return self.db.scalar(PENDING, (self.outbox_from, self.notifications_from))

    def rush_ended(self) -> None:
        self.ended = time.monotonic()
        self.pending_at_end = self._pending()

    def drain(self, limit: float = 120.0) -> Drain:
        drained_after = None
        while time.monotonic() - self.ended < limit:
            if self._pending() == 0:
                drained_after = time.monotonic() - self.ended
                break
            time.sleep(0.1)
        messages = self.db.scalar(SENT, (self.notifications_from,))
        cpu = self.worker.cpu_seconds() - self.cpu_before
        return Drain(
            messages=messages,
            seconds_after_rush=drained_after,
            worker_cpu_ms_per_message=cpu * 1000 / max(messages, 1),
            pending_at_end_of_rush=self.pending_at_end,
        )


def section(drain: Drain, rush_seconds: int) -> list[str]:
    lines = ["## The worker after a rush (Redis on)", ""]
    drained = (
        f"{drain.seconds_after_rush:.1f} s"
        if drain.seconds_after_rush is not None
        else "not within the limit"
    )
    verdict = "**met**" if drain.met else "**missed**"
    return [
        *lines,
        "The submission run with `REDIS_URL` set, one `flask worker` running beside gunicorn "
        f"on the same cores. Target: the messages of a {rush_seconds} s rush delivered within "
        f"{DRAIN_SECONDS_TARGET:.0f} s of its end, at ≤ {CPU_MS_PER_MESSAGE_TARGET:.0f} ms of "
        f"worker CPU per message: {verdict}.",
        "",
        "| messages delivered | pending when the rush ended | drained after the rush | "
        "worker CPU per message |",
        "|---:|---:|---:|---:|",
        f"| {drain.messages:,} | {drain.pending_at_end_of_rush:,} | {drained} | "
        f"{drain.worker_cpu_ms_per_message:.2f} ms |",
    ]


def summary_line(drain: Drain) -> str:
    drained = (
        f"{drain.seconds_after_rush:.1f} s after the rush"
        if drain.seconds_after_rush is not None
        else "NOT drained"
    )
    return (
        f"worker: {drain.messages} messages, {drained} (<= {DRAIN_SECONDS_TARGET:.0f} s), "
        f"{drain.worker_cpu_ms_per_message:.2f} ms CPU each "
        f"(<= {CPU_MS_PER_MESSAGE_TARGET:.0f} ms)  met: {'yes' if drain.met else 'NO'}"
    )


def queued_rush(env, db, workdir: Path, submit_token: str, outlet_code: str, nonce: str):
    """The submission again in the production setting: Redis on, so requests only commit and
    one worker beside gunicorn relays and delivers. Returns (result, cases added, drain)."""
    with RedisScratch(QUEUED_REDIS_URL, log=log) as redis_url:
        if redis_url is None:
            raise SystemExit(f"make bench needs an empty Redis database at {QUEUED_REDIS_URL}")
        queued_env = {**env, "REDIS_URL": redis_url}
        port = free_port()
        with (
            harness.Gunicorn(
                queued_env, port, workdir / "gunicorn-queued.log", WORKERS, log=log
            ) as server,
            Worker(queued_env, workdir / "worker.log", log=log) as worker,
        ):
            sessions = workdir / "sessions-queued.tsv"
            sessions.write_text(
                "\n".join(form_sessions(port, submit_token, outlet_code, THREADS)) + "\n"
            )
            probe = Probe(db, worker)
            submitting = Submissions(submit_token, sessions, f"{nonce}q", QUEUED_PHONE_SERIES)
            result, added = submitting.load("submission_queued", server, db, probe=probe)
            drained = probe.drain()
            log(f"worker: {drained}")
            return result, added, drained
