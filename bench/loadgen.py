"""Running wrk and reading its report; sampling what PostgreSQL backends wait on meanwhile."""

import os
import re
import resource
import subprocess
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

WRK = "/usr/bin/wrk"

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


@dataclass
class WrkResult:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p75_ms: float
    p90_ms: float
    p99_ms: float
    non_2xx_3xx: int
    socket_errors: dict[str, int]
    statuses: dict[int, int]
    first_bad: str | None
    raw: str
    waits: dict[str, float] = field(default_factory=dict)
    lock_waiters: dict[str, int] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)

    @property
    def errors(self) -> int:
        return sum(self.socket_errors.values())


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not match:
        raise ValueError(f"unreadable wrk duration {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_wrk(output: str) -> WrkResult:
    def grab(pattern: str) -> re.Match:
        match = re.search(pattern, output, re.MULTILINE)
        if not match:
            raise ValueError(f"wrk output lacks {pattern!r}:\n{output}")
        return match

    done = grab(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m)")
    percentiles = {
        p: _ms(grab(rf"^\s*{p}%\s+(\S+)\s*$").group(1)) for p in ("50", "75", "90", "99")
    }
    non_ok = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", output)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    socket_errors = dict(
        zip(
            ("connect", "read", "write", "timeout"),
            (int(n) for n in sockets.groups()) if sockets else (0, 0, 0, 0),
            strict=True,
        )
    )
    statuses: dict[int, int] = {}
    status_line = re.search(r"^BENCH_STATUSES (.*)$", output, re.MULTILINE)
    if status_line:
        for part in status_line.group(1).split():
            code, count = part.split("=")
            statuses[int(code)] = int(count)
    bad = re.search(r"^BENCH_FIRST_BAD (.*)$", output, re.MULTILINE)
    return WrkResult(
        requests=int(done.group(1)),
        seconds=_ms(done.group(2) + done.group(3)) / 1000,
        rps=float(grab(r"^Requests/sec:\s+([\d.]+)").group(1)),
        p50_ms=percentiles["50"],
        p75_ms=percentiles["75"],
        p90_ms=percentiles["90"],
        p99_ms=percentiles["99"],
        non_2xx_3xx=int(non_ok.group(1)) if non_ok else 0,
        socket_errors=socket_errors,
        statuses=statuses,
        first_bad=bad.group(1) if bad else None,
        raw=output,
    )


def wrk_command(
    url: str, *, threads: int, connections: int, seconds: int, script: str, args=()
) -> list[str]:
    command = [
        WRK,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "5s",
        "--latency",
        "-s",
        script,
        url,
    ]
    if args:
        command += ["--", *args]
    return command


def run_wrk(command: list[str], *, cwd: str) -> WrkResult:
    # wrk stops by itself after -d; the timeout only guards against a wedged client.
    seconds = int(next(a for a in command if a.startswith("-d"))[2:-1])
    completed = subprocess.run(  # noqa: S603 - fixed binary, arguments built above
        command, cwd=cwd, capture_output=True, text=True, timeout=seconds + 30, check=False
    )
    if completed.returncode != 0:
        raise RuntimeError(f"wrk failed ({completed.returncode}):\n{completed.stderr}")
    return parse_wrk(completed.stdout)


class WaitSampler:
    """Polls pg_stat_activity for the bench database while a load runs (bounded by stop()).

    Counts, over all samples, the active backends by what they wait on: 'CPU' (running, or
    waiting for the client), 'Lock:transactionid' (a row lock another transaction holds),
    'IO:WALSync' (the commit's fsync), ... The shares show where the database time goes.
    """

    def __init__(self, conninfo: str, database: str, interval: float = 0.05):
        self.conninfo = conninfo
        self.database = database
        self.interval = interval
        self.samples = 0
        self.counts: Counter[str] = Counter()
        self.lock_waiters: Counter[str] = Counter()  # statement text of lock waiters
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self):
        import psycopg

        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            while not self._stop.is_set():
                rows = conn.execute(
                    "SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU'),"
                    " left(regexp_replace(query, '\\s+', ' ', 'g'), 60)"
                    " FROM pg_stat_activity"
                    " WHERE datname = %s AND state = 'active' AND pid <> pg_backend_pid()",
                    (self.database,),
                ).fetchall()
                self.samples += 1
                self.counts.update(row[0] for row in rows)
                self.lock_waiters.update(row[1] for row in rows if row[0].startswith("Lock:"))
                self._stop.wait(self.interval)

    def shares(self) -> dict[str, float]:
        """Average number of active backends in each wait state (0.5 = half a backend)."""
        if not self.samples:
            return {}
        return {name: count / self.samples for name, count in self.counts.most_common() if count}


def _stat_fields(stat: str) -> list[str]:
    """The fields of a /proc/<pid>/stat text after the command name: [1] is ppid, [11] and
    [12] utime and stime, [13] and [14] the reaped children's cutime and cstime."""
    return stat[stat.rindex(")") + 2 :].split()


def stat_ticks(stat: str) -> tuple[int, int]:
    """(ppid, utime + stime in clock ticks) from the text of a /proc/<pid>/stat file."""
    fields = _stat_fields(stat)
    return int(fields[1]), int(fields[11]) + int(fields[12])


def process_ticks(pid: int) -> tuple[int, int, int] | None:
    """(ppid, utime + stime, the reaped children's cutime + cstime) in clock ticks, None once
    the process has exited."""
    try:
        fields = _stat_fields(Path(f"/proc/{pid}/stat").read_text())
    except OSError:
        return None
    return int(fields[1]), int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14])


def machine_ticks() -> tuple[int, int]:
    """(busy, all) clock ticks of the whole machine since boot; busy is all but idle and
    iowait."""
    with open("/proc/stat") as stat:
        cpu = [int(n) for n in stat.readline().split()[1:9]]
    return sum(cpu) - cpu[3] - cpu[4], sum(cpu)


class CpuMeter:
    """CPU seconds spent during a run by the app (gunicorn master and workers), PostgreSQL
    (the backends connected to the bench database plus the server's own background processes:
    WAL writer, checkpointer, ...; not other databases' backends) and wrk (this process's
    waited-for children), the `flask worker` when one delivers beside the app, and how busy
    the whole machine was. Read from /proc before and after the run, per process, so a backend
    that appears meanwhile counts from zero."""

    def __init__(self, gunicorn_pid: int, conninfo: str, database: str, worker_pid=None):
        self.gunicorn_pid = gunicorn_pid
        self.worker_pid = worker_pid
        self.conninfo = conninfo
        self.database = database
        self.tick = os.sysconf("SC_CLK_TCK")

    @staticmethod
    def _processes() -> dict[int, tuple[int, float]]:
        """{pid: (ppid, utime + stime in ticks)}"""
        found = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    text = stat.read()
            except OSError:
                continue  # exited meanwhile
            found[int(entry)] = stat_ticks(text)
        return found

    def _postgres_pids(self) -> set[int]:
        import psycopg

        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s OR datname IS NULL",
                (self.database,),
            ).fetchall()
        return {row[0] for row in rows}

    def _snapshot(self) -> dict:
        postgres = self._postgres_pids()
        processes = self._processes()
        app = {self.gunicorn_pid}
        while True:
            children = {pid for pid, (ppid, _t) in processes.items() if ppid in app}
            if children <= app:
                break
            app |= children
        children_usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        busy, total = machine_ticks()
        return {
            "app": {pid: processes[pid][1] for pid in app if pid in processes},
            "postgres": {pid: processes[pid][1] for pid in postgres if pid in processes},
            "worker": {pid: processes[pid][1] for pid in (self.worker_pid,) if pid in processes},
            "wrk": children_usage.ru_utime + children_usage.ru_stime,
            "busy": busy / self.tick,
            "all": total / self.tick,
        }

    def __enter__(self):
        self.before = self._snapshot()
        return self

    def __exit__(self, *exc):
        self.after = self._snapshot()

    def _seconds(self, group: str) -> float:
        before, after = self.before[group], self.after[group]
        return sum(t - before.get(pid, 0) for pid, t in after.items()) / self.tick

    def per_request_ms(self, requests: int) -> dict[str, float]:
        spent = {
            "app": self._seconds("app"),
            "postgres": self._seconds("postgres"),
            "worker": self._seconds("worker"),
            "wrk": self.after["wrk"] - self.before["wrk"],
        }
        out = {key: value * 1000 / max(requests, 1) for key, value in spent.items()}
        total = (self.after["all"] - self.before["all"]) or 1.0
        busy = self.after["busy"] - self.before["busy"]
        out["machine_busy"] = busy / total
        # Anything else on the machine (other users' tests, browsers): a disturbed run shows.
        out["others_share"] = max(busy - sum(spent.values()), 0.0) / total
        return out
