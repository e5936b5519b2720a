"""Relaying the outbox off the request path.

Two loops share one shape (wait for a nudge or a short timeout, then relay what is due):
- the worker's relay thread (production, `flask worker`): woken by PostgreSQL's
  `NOTIFY anxin_outbox`, which a statement trigger on outbox_messages sends at commit (no
  extra statement in the filing), with a short poll as the fallback and on SQLite;
- the embedded background thread (no Redis, `make run`): woken in-process by the request
  that just committed, and by the same short poll, running the jobs in this process.
The tick's relay stays as the safety net for both.
"""

from __future__ import annotations

import logging
import os
import threading
import time

from flask import Flask, current_app

from complaints.extensions import db
from complaints.pg_listen import listen

log = logging.getLogger(__name__)

CHANNEL = "anxin_outbox"
POLL_SECONDS = 2.0
# How often the worker's relay asks Redis about relayed messages that are not done yet.
LOST_JOB_CHECK_SECONDS = 10.0
# After a nudge, wait this long for more commits before relaying: in a rush every filing
# nudges, and relaying each filing's two messages as a job of their own made RQ's per-job
# bookkeeping most of the worker's CPU. A tenth of a second is nothing to a text message.
GATHER_SECONDS = 0.1


class RelayLoop:
    def __init__(self, app: Flask, *, poll_seconds: float | None = None) -> None:
        self.app = app
        self.poll_seconds = poll_seconds or app.config.get("OUTBOX_POLL_SECONDS", POLL_SECONDS)
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
                check_every = min(LOST_JOB_CHECK_SECONDS, self.poll_seconds * 5)
                if time.monotonic() - self.last_lost_check >= check_every:
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

    def listen_for_notifications(self) -> None:
        """PostgreSQL only: nudge the loop on every committed batch of outbox rows."""
        with self.app.app_context():
            url = db.engine.url.render_as_string(hide_password=False)
        listen(
            url,
            CHANNEL,
            self.stopping,
            on_listening=self.nudge.set,  # whatever arrived while we were not listening
            on_notify=self.nudge.set,
            name="outbox listener",
        )


def start_relay_threads(app: Flask, *, poll_seconds: float | None = None) -> RelayLoop:
    loop = RelayLoop(app, poll_seconds=poll_seconds).start()
    with app.app_context():
        is_postgres = db.engine.dialect.name == "postgresql"
    if is_postgres:
        threading.Thread(
            target=loop.listen_for_notifications, name="anxin-outbox-listen", daemon=True
        ).start()
    return loop


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
                loop = _background[key] = RelayLoop(app).start()
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
