"""Fault runs: real PostgreSQL, a PRIVATE redis-server this suite starts and stops, worker
processes it kills, and the fake Twilio counting what reaches it."""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from redis import Redis
from redis.exceptions import RedisError

from tests import services as test_services
from tests.fakes import closed_port

ROOT = Path(__file__).resolve().parents[2]


class PrivateRedis:
    """redis-server on a free port, without persistence: a restart forgets every job, as a
    crashed Redis without AOF does."""

    def __init__(self) -> None:
        self.port = closed_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603 (a fixed command line)
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = Redis.from_url(self.url, socket_connect_timeout=1)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except RedisError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        client.close()

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def private_redis():
    if not shutil.which("redis-server"):
        test_services.missing("redis-server is not installed (apt-get install redis-server)")
    redis = PrivateRedis()
    redis.start()
    try:
        yield redis
    finally:
        redis.stop()


class WorkerProcess:
    """`flask --app wsgi worker` in a process of its own, as systemd runs it."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env = env
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with self.log_path.open("ab") as log:  # the child keeps its own descriptor
            self.process = subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "wsgi", "worker"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def worker_env(app, database_url, private_redis, tmp_path):
    def build(queue: str, twilio_settings: dict[str, str]) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if not key.startswith("TWILIO_")}
        env.update(
            ANXIN_ENV="test",
            DATABASE_URL=database_url,
            REDIS_URL=private_redis.url,
            RQ_QUEUE=queue,
            SECRET_KEY=app.config["SECRET_KEY"],
            QR_SIGNING_KEY=app.config["QR_SIGNING_KEY"],
            PUBLIC_BASE_URL=app.config["PUBLIC_BASE_URL"],
            UPLOAD_DIR=str(tmp_path / "uploads"),
            SMS_BACKEND="twilio_sms",
            EMAIL_BACKEND="console_email",
            OUTBOX_POLL_SECONDS="0.2",
            OUTBOX_LOST_CHECK_SECONDS="3",
            OUTBOX_STARTED_TIMEOUT_SECONDS="6",
            **twilio_settings,
        )
        return env

    return build
