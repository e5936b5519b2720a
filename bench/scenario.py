"""One measured load of `make bench`: wrk against the gunicorn under test, the server's CPU
and PostgreSQL's waits sampled meanwhile, and the complaint form as bench/submit.lua posts it."""

import os
import time
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from bench import harness, loadgen, profiling
from bench.harness import ROOT, http_get

log = harness.logger("bench")
WORKERS = int(os.environ.get("BENCH_WORKERS", "4"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "16"))
THREADS = int(os.environ.get("BENCH_THREADS", "2"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
WARMUP = int(os.environ.get("BENCH_WARMUP", "3"))


def complaint_fields(hidden: dict[str, str], outlet_code: str) -> dict[str, str]:
    """The form as a tourist fills it: no photos, a Chinese mobile number."""
    yesterday = datetime.now(ZoneInfo("Asia/Shanghai")).date() - timedelta(days=1)
    fields = dict(hidden)
    fields.pop("submission_key", None)
    fields.update(
        outlet_code=outlet_code,
        category="catering",
        description="海鲜加工费按斤收了880元，店里价目表写的是88元一份，老板不肯退差价。",
        occurred_on=yesterday.isoformat(),
        amount_paid="880.00",
        amount_claimed="792.00",
        remedy="partial_refund",
        tourist_name="王小明",
        phone="13812345678",
        language="zh",
        contact_consent="y",
    )
    return fields


def form_sessions(port: int, token: str, outlet_code: str, count: int) -> list[str]:
    """One line per wrk thread: cookie, body up to the phone number, body up to the key.

    submit.lua adds a new phone number (another tourist: no 'same phone' duplicate flags)
    and a new submission_key to every request."""
    lines = []
    for _ in range(count):
        status, headers, html = http_get(port, f"/s/{token}/complain")
        if status != 200:
            raise RuntimeError(f"complaint form: {status}")
        cookies = [v.split(";", 1)[0] for k, v in headers if k.lower() == "set-cookie"]
        session = next(c for c in cookies if c.startswith("session="))
        fields = complaint_fields(profiling._Hidden.fields(html), outlet_code)
        fields.pop("phone")
        lines.append(f"{session}\t{urlencode(fields)}&phone=\t&submission_key=")
    return lines


def settle(db, counted_sql: str | None, p99_ms: float, limit: float = 15.0) -> int | None:
    """The row count once requests still in flight have finished: unchanged for a while."""
    quiet = max(1.0, 2 * p99_ms / 1000)
    if not counted_sql:
        time.sleep(quiet)
        return None
    deadline = time.monotonic() + limit
    count, since = db.scalar(counted_sql), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.25)
        now = db.scalar(counted_sql)
        if now != count:
            count, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            break
    return count


def load(name, server, path, script, args, db, *, counted_sql=None, probe=None):
    def wrk(seconds: int, phase: str) -> list[str]:
        return loadgen.wrk_command(
            f"http://127.0.0.1:{server.port}{path}",
            threads=THREADS,
            connections=CONNECTIONS,
            seconds=seconds,
            script=script,
            args=args(phase),
        )

    log(f"{name}: warm-up {WARMUP}s")
    warmed = loadgen.run_wrk(wrk(WARMUP, "warm"), cwd=str(ROOT))
    before = settle(db, counted_sql, warmed.p99_ms)
    command = wrk(SECONDS, "main")
    log(f"{name}: {' '.join(command)}")
    if probe:
        probe.start()
    with (
        loadgen.WaitSampler(db.url, db.name) as sampler,
        loadgen.CpuMeter(
            server.process.pid, db.url, db.name, probe.worker.process.pid if probe else None
        ) as cpu,
    ):
        result = loadgen.run_wrk(command, cwd=str(ROOT))
    if probe:
        probe.rush_ended()
    result.waits = sampler.shares()
    result.lock_waiters = dict(sampler.lock_waiters.most_common(3))
    result.cpu = cpu.per_request_ms(result.requests)
    # Requests in flight when wrk stopped still finish on the server: wait for them.
    after = settle(db, counted_sql, result.p99_ms)
    rows_added = after - before if counted_sql else None
    log(
        f"{name}: {result.rps:.0f} req/s, p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms,"
        f" statuses {result.statuses}, cpu/request {result.cpu}"
    )
    if result.first_bad:
        log(f"{name}: first unexpected response: {result.first_bad[:600]}")
    return result, rows_added


SUBMIT_SCRIPT = str(ROOT / "bench" / "submit.lua")


class Submissions:
    """bench/submit.lua's load: one session per wrk thread, a new tourist and key per post."""

    def __init__(self, token: str, sessions: Path, nonce: str, phone_series: dict[str, str]):
        self.path = f"/s/{token}/complain"
        self.sessions, self.nonce, self.phone_series = sessions, nonce, phone_series

    def args(self, phase: str) -> tuple[str, str, str]:
        return (str(self.sessions), f"{self.nonce}{phase}", self.phone_series[phase])

    def load(self, name: str, server, db, *, probe=None):
        return load(
            name,
            server,
            self.path,
            SUBMIT_SCRIPT,
            self.args,
            db,
            counted_sql="SELECT count(*) FROM cases",
            probe=probe,
        )
