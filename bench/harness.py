"""What every benchmark scenario shares: the throw-away database, the app's environment and
command line, gunicorn, the machine's description, percentiles and bench/RESULTS.md sections.

A scenario is a short script of its own (bench/run.py, bench/queue_keyset.py,
bench/credit_recompute.py) that imports this module, so setting up a database or writing its
section of the results is written once.
"""

from __future__ import annotations

import http.client
import os
import platform
import secrets
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
RESULTS = Path(os.environ.get("BENCH_RESULTS") or ROOT / "bench" / "RESULTS.md")
ADMIN_URL = os.environ.get(
    "BENCH_DATABASE_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
LOAD_BENCH = "bench/run.py"  # loads every core: the others wait for it


def clean_up_on_signals() -> None:
    """Ctrl-C and SIGTERM raise KeyboardInterrupt, so `with ScratchDatabase` drops its database,
    also when started in the background, where a shell leaves SIGINT ignored."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)


def logger(prefix: str):
    def log(message: str) -> None:
        print(f"[{prefix}] {message}", flush=True)

    return log


def plain_url(url: str) -> str:
    """psycopg wants postgresql://, SQLAlchemy postgresql+psycopg://."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def sqlalchemy_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


class ScratchDatabase:
    """A database of our own on the admin URL's (local) server, dropped on the way out."""

    def __init__(self, admin_url: str = ADMIN_URL, prefix: str = "anxin_bench", log=print):
        self.admin_url = plain_url(admin_url)
        host = urlsplit(self.admin_url).hostname
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise SystemExit(f"refusing a non-local database host {host!r}")
        self.name = f"{prefix}_{secrets.token_hex(6)}"
        self.url = urlunsplit(urlsplit(self.admin_url)._replace(path=f"/{self.name}"))
        self.log = log

    def __enter__(self):
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{self.name}"')
            self.version = conn.execute("SHOW server_version").fetchone()[0]
            self.settings = {
                name: conn.execute(f"SHOW {name}").fetchone()[0]
                for name in ("shared_buffers", "work_mem", "effective_cache_size")
            }
        self.log(f"created database {self.name}")
        return self

    def __exit__(self, *exc):
        import psycopg

        from complaints.lookups import stop_listeners

        stop_listeners(self.name)  # an app this process made would try the dropped database
        with psycopg.connect(self.admin_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        self.log(f"dropped database {self.name}")

    def scalar(self, sql: str, params=None):
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            return conn.execute(sql, params).fetchone()[0]


def app_env(database_url: str, **overrides: str) -> dict:
    """The production config on the scratch database: no Redis, Twilio or SMTP of the caller's."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("REDIS_", "TWILIO_", "SMTP_", "BENCH_", "DATABASE_"))
    }
    env.update(
        ANXIN_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(48),
        QR_SIGNING_KEY=secrets.token_urlsafe(48),
        PUBLIC_BASE_URL="https://127.0.0.1:5000",  # production refuses plain http
        DATABASE_URL=sqlalchemy_url(database_url),
        RATELIMIT_ENABLED="0",  # the limiter would throttle one client IP to 20 posts an hour
        SMS_BACKEND="console_sms",
        EMAIL_BACKEND="console_email",
        PYTHONPATH=str(ROOT),
    )
    env.update(overrides)
    return env


def flask_cli(env: dict, *args: str, timeout: float = 180) -> str:
    completed = subprocess.run(  # noqa: S603 - our venv's flask
        [str(BIN / "flask"), "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed:\n{completed.stderr[-2000:]}")
    return completed.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_get(port: int, path: str):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.getheaders(), response.read().decode()
    finally:
        conn.close()


class Gunicorn:
    """`bench.ceiling_app:app` under gunicorn sync workers, output to a file, stopped on exit."""

    def __init__(self, env: dict, port: int, log_path: Path, workers: int, log=print):
        self.command = [
            str(BIN / "gunicorn"),
            *("--workers", str(workers), "--worker-class", "sync"),
            *("--bind", f"127.0.0.1:{port}", "--backlog", "2048"),
            *("--timeout", "30", "--graceful-timeout", "5"),
            "bench.ceiling_app:app",
        ]
        self.env, self.port, self.log_path, self.workers = env, port, log_path, workers
        self.process = None
        self.log = log

    def __enter__(self):
        self._log = open(self.log_path, "ab")
        # stdout and stderr (console SMS, app logging) go to a file, never a terminal.
        self.process = subprocess.Popen(  # noqa: S603 - our venv's gunicorn
            self.command,
            cwd=ROOT,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._wait_healthy()
        self.log(
            f"gunicorn pid {self.process.pid} on 127.0.0.1:{self.port} ({self.workers} workers)"
        )
        return self

    def _wait_healthy(self, timeout: float = 30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {self.log_path}")
            try:
                if http_get(self.port, "/healthz")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn not healthy after {timeout}s; see {self.log_path}")

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()] if children.exists() else []

    def __exit__(self, *exc):
        if self.process and self.process.poll() is None:
            self.process.terminate()  # the master stops its own workers
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)  # the group we started
                self.process.wait(timeout=5)
            self.log(f"gunicorn pid {self.process.pid} stopped")
        self._log.close()


def machine() -> dict:
    """CPU, memory, kernel, load and Python of this run (for the results' header)."""
    cpu = memory = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal"):
            memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    return {
        "date": datetime.now(UTC).strftime("%a %b %d %H:%M:%S UTC %Y"),
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": cpu,
        "memory": memory,
        "kernel": f"{platform.system()} {platform.release()}",
        "loadavg": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
        "python": platform.python_version(),
    }


def git_commit() -> str:
    done = subprocess.run(
        ["/usr/bin/git", "log", "-1", "--format=%h %s"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() or "unknown"


def percentile(values: list[float], pct: int) -> float:
    """Linear interpolation between the closest ranks (numpy's default)."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * pct / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def other_bench_running(script: str = LOAD_BENCH) -> list[str]:
    found = subprocess.run(  # noqa: S603 - a fixed pgrep
        ["/usr/bin/pgrep", "-f", script], capture_output=True, text=True, check=False
    )
    return [pid for pid in found.stdout.split() if pid != str(os.getpid())]


def wait_for_other_bench(log=print, limit_s: float = 1800, script: str = LOAD_BENCH) -> float:
    """Seconds waited for another `bench/run.py` to finish (it loads all cores)."""
    started = time.monotonic()
    while pids := other_bench_running(script):
        if time.monotonic() - started > limit_s:
            raise SystemExit(f"{script} still running after {limit_s:.0f} s: giving up")
        if time.monotonic() - started < 1:
            log(f"{script} is running (pid {', '.join(pids)}): waiting for it to finish")
        time.sleep(5)
    waited = time.monotonic() - started
    if waited > 1:
        log(f"waited {waited:.0f} s for {script}")
    return waited


def write_section(title: str, lines: list[str], results: Path = RESULTS) -> None:
    """Replace (or append) the section starting with `title` ("## ...") in RESULTS.md,
    leaving the other scenarios' sections alone."""
    text = results.read_text() if results.exists() else ""
    body = "\n".join(lines).rstrip() + "\n"
    if title in text:
        head, _, rest = text.partition(title)
        following = rest.find("\n## ")
        tail = rest[following + 1 :] if following >= 0 else ""
        text = head.rstrip() + "\n\n" + body + ("\n" + tail if tail else "")
    else:
        text = (text.rstrip() + "\n\n" if text else "") + body
    results.write_text(text)


class RedisScratch:
    """REDIS_URL's database if it is reachable and empty (else None); flushed on the way out."""

    def __init__(self, url: str, log=print):
        self.url = url
        self.client = None
        self.log = log

    def __enter__(self) -> str | None:
        if not self.url:
            return None
        from redis import Redis
        from redis.exceptions import RedisError

        client = Redis.from_url(self.url, socket_connect_timeout=2)
        try:
            if client.dbsize():
                self.log(f"{self.url} is not empty: skipping the Redis comparison")
                client.close()
                return None
        except RedisError as exc:
            self.log(f"{self.url} unreachable ({exc}): skipping the Redis comparison")
            client.close()
            return None
        self.client = client
        return self.url

    def __exit__(self, *exc):
        if self.client is not None:
            self.client.flushdb()  # only our RQ jobs: the database was empty when we began
            self.client.close()
