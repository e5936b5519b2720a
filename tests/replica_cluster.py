"""A private PostgreSQL primary and its streaming replica (initdb + pg_basebackup), for tests.

Started on free ports in a directory of its own, with trust authentication on 127.0.0.1, and
stopped and removed afterwards: the machine's own PostgreSQL is never touched. As root (CI and
these machines) the server runs as the `postgres` user, since PostgreSQL refuses to run as root.
"""

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def postgres_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_basebackup"))
    if found:
        return found[-1].parent
    which = shutil.which("pg_basebackup")
    return Path(which).parent if which else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrimaryWithReplica:
    def __init__(self, bin_dir: Path):
        self.bin = bin_dir
        self.dir = Path(tempfile.mkdtemp(prefix="anxin-replica-"))
        self.primary_port, self.replica_port = free_port(), free_port()
        self.as_postgres = os.geteuid() == 0
        if self.as_postgres:
            shutil.chown(self.dir, "postgres", "postgres")

    def _run(self, *args: str) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        # PostgreSQL's own programs, with arguments built here.
        subprocess.run(  # noqa: S603
            command, check=True, capture_output=True, timeout=60, cwd=self.dir
        )

    def _start(self, name: str, port: int, *settings: str) -> None:
        options = f"-p {port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        options += "".join(f" -c {s}" for s in settings)
        self._run("pg_ctl", "-D", str(self.dir / name), "-l", str(self.dir / f"{name}.log"),
                  "-w", "-o", options, "start")  # fmt: skip

    def start(self) -> "PrimaryWithReplica":
        self._run("initdb", "-D", str(self.dir / "primary"), "-A", "trust", "-U", "postgres",
                  "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")  # fmt: skip
        self._start("primary", self.primary_port)
        self._run("pg_basebackup", "-h", "127.0.0.1", "-p", str(self.primary_port),
                  "-U", "postgres", "-D", str(self.dir / "replica"), "-R", "-X", "stream",
                  "--checkpoint=fast", "--no-sync")  # fmt: skip
        self._start("replica", self.replica_port, "hot_standby=on")
        return self

    def url(self, which: str, database: str = "postgres") -> str:
        port = self.primary_port if which == "primary" else self.replica_port
        return f"postgresql+psycopg://postgres@127.0.0.1:{port}/{database}"

    def sql(self, which: str, statement: str, database: str = "postgres"):
        import psycopg

        url = self.url(which, database).replace("+psycopg", "")
        with psycopg.connect(url, autocommit=True) as conn:
            cursor = conn.execute(statement)
            return cursor.fetchone() if cursor.description else None

    def wait_for_replay(self, timeout: float = 20) -> None:
        """Until the replica has replayed everything the primary has written so far."""
        (target,) = self.sql("primary", "SELECT pg_current_wal_lsn()::text")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            (done,) = self.sql("replica", f"SELECT pg_last_wal_replay_lsn() >= '{target}'")
            if done:
                return
            time.sleep(0.05)
        raise TimeoutError("the replica did not catch up")

    def stop(self) -> None:
        for name in ("replica", "primary"):
            if (self.dir / name / "postmaster.pid").exists():
                with contextlib.suppress(subprocess.CalledProcessError):
                    self._run("pg_ctl", "-D", str(self.dir / name), "-m", "immediate", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)
