"""Relaying the outbox off the request path.

Two loops share one shape (wait for a nudge or a timeout, then relay what is due):
- the worker's relay thread (production, `flask worker`): polls every OUTBOX_POLL_SECONDS
  (a quarter of a second). It is not woken by NOTIFY: PostgreSQL serialises the commits of
  all transactions that NOTIFY (a database-wide lock held through the commit's WAL flush), and
  a trigger on outbox_messages made every filing one of them (`make bench-db` measures the
  difference; bench/RESULTS.md). An idle poll is one index probe;
- the embedded background thread (no Redis, `make run`): woken in-process by the request
  that just committed, polling every EMBEDDED_POLL_SECONDS for other processes' rows, running
  the jobs in this process.
The tick's relay stays as the safety net for both.
"""

from __future__ import annotations

import logging
import os
import threading
import time

from flask import Flask, current_app

from complaints.extensions import db

log = logging.getLogger(__name__)

# The embedded relay is nudged by its own process's commits; this poll finds the rows other
# web processes (or the tick) wrote.
EMBEDDED_POLL_SECONDS = 2.0
# After a nudge, wait this long for more commits before relaying: in a rush every filing
# nudges, and relaying each filing's two messages as a job of their own made RQ's per-job
# bookkeeping most of the worker's CPU. A tenth of a second is nothing to a text message.
GATHER_SECONDS = 0.1


class RelayLoop:
    def __init__(self, app: Flask, *, poll_seconds: float) -> None:
        self.app = app
        self.poll_seconds = poll_seconds
        # Relayed messages not done yet have their RQ jobs looked up at half the window after
        # which they count as lost, so a lost one is relayed again within 1.5 windows.
        self.lost_check_seconds = app.config["OUTBOX_LOST_CHECK_SECONDS"] / 2
        self.nudge = threading.Event()
        self.stopping = threading.Event()
        self.relayed = 0
        self.last_lost_check = 0.0
        self.thread: threading.Thread | None = None  # set by start(), to wait for

    def start(self) -> RelayLoop:
        self.thread = threading.Thread(target=self.run, name="anxin-outbox-relay", daemon=True)
        self.thread.start()
        return self

    def run(self) -> None:
        while True:
            if self.nudge.wait(self.poll_seconds):
                self.stopping.wait(GATHER_SECONDS)
            if self.stopping.is_set():
                return
            self.nudge.clear()
            self.relay_once()

    def relay_once(self) -> int:
        from complaints.outbox.services import recover_lost_jobs, relay_pending

        with self.app.app_context():
            try:
                if time.monotonic() - self.last_lost_check >= self.lost_check_seconds:
                    self.last_lost_check = time.monotonic()
                    recover_lost_jobs()
                count = relay_pending()
                while count and not self.stopping.is_set():  # a backlog: on until empty
                    self.relayed += count
                    count = relay_pending()
            except Exception:
                db.session.rollback()
                log.exception("outbox relay failed; retrying in %.1fs", self.poll_seconds)
            finally:
                db.session.remove()
        return self.relayed

    def stop(self) -> None:
        self.stopping.set()
        self.nudge.set()


def start_relay_threads(app: Flask) -> RelayLoop:
    """The worker's relay loop, polling the outbox."""
    return RelayLoop(app, poll_seconds=app.config["OUTBOX_POLL_SECONDS"]).start()


_background: dict[int, RelayLoop] = {}
_background_lock = threading.Lock()


def wake_background_relay() -> None:
    """The embedded mode's relay: one thread per process, started on first use (after a fork
    the parent's thread is gone, so the process id is the key)."""
    app = current_app._get_current_object()
    key = os.getpid()
    loop = _background.get(key)
    if loop is None or loop.app is not app:
        with _background_lock:
            loop = _background.get(key)
            if loop is None or loop.app is not app:
                if loop is not None:
                    loop.stop()
                loop = RelayLoop(app, poll_seconds=EMBEDDED_POLL_SECONDS)
                _background[key] = loop.start()
    loop.nudge.set()


def stop_background_relays(timeout: float = 5.0) -> None:
    """Stop this process's embedded relays and wait for a relay in progress to finish, so the
    caller may close or drop the database behind them."""
    with _background_lock:
        loops = list(_background.values())
        _background.clear()
    for loop in loops:
        loop.stop()
    for loop in loops:
        if loop.thread is not None and loop.thread is not threading.current_thread():
            loop.thread.join(timeout)
