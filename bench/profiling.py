"""Per-request cost in one process, without a network: the same app, the same PostgreSQL.

Two passes per scenario through the Flask test client: a plain timed pass that also counts
SQL statements and commits per request, and a cProfile pass for the scenarios that missed
their target. Run after the load (gunicorn stopped) so nothing else competes for the CPU.
"""

import contextlib
import cProfile
import io
import os
import pstats
import re
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import event, text

PROFILE_ROWS = 15
ROOT = str(Path(__file__).resolve().parent.parent) + "/"

# (label, path suffix, function): where a request's wall time goes, read off the profile.
BREAKDOWN = [
    ("whole request (Flask.wsgi_app)", "flask/app.py", "wsgi_app"),
    ("SQL statements (psycopg Cursor.execute)", "psycopg/cursor.py", "execute"),
    ("commits (psycopg Connection.commit)", "psycopg/connection.py", "commit"),
    ("pool checkout + pre-ping", "sqlalchemy/pool/base.py", "_checkout"),
    ("template rendering (render_template)", "flask/templating.py", "render_template"),
    ("form parsing + validation (Form.validate)", "wtforms/form.py", "validate"),
    ("CSRF check (CSRFProtect.protect)", "flask_wtf/csrf.py", "protect"),
    ("file_complaint (case, event, notification, outbox)", "cases/services.py", "file_complaint"),
    ("  case INSERT (number from the day's sequence)", "cases/services.py", "_insert_case"),
    ("  append_event (audit chain)", "cases/audit.py", "append_event"),
    ("  notify_case_received", "notices/services.py", "notify_case_received"),
    ("relay_after_commit (inline outbox relay)", "outbox/services.py", "relay_after_commit"),
    ("  _claim (UPDATE + COMMIT per message)", "outbox/services.py", "_claim"),
    ("  deliver_notification (job, inline)", "notices/jobs.py", "deliver_notification"),
    ("    console SMS send (print to stdout)", "notifications/console.py", "send"),
    ("complaint_record (merchant standing)", "merchants/views.py", "complaint_record"),
    ("resolve_scan_token", "merchants/services.py", "resolve_scan_token"),
]


@dataclass
class Cost:
    ms_per_request: float
    statements: float
    commits: float
    requests: int
    note: str = ""


@dataclass
class Profile:
    top_cumulative: str
    breakdown: list[tuple[str, float, float]]  # label, ms per request, share of the request
    by_package: list[tuple[str, float, float]]  # package, own time ms per request, share
    statements: list[str]  # the SQL of one request, first line of each statement


class _Hidden:
    """Hidden inputs of the complaint form (csrf_token, submission_key, ...)."""

    pattern = re.compile(r"<input[^>]*>")

    @classmethod
    def fields(cls, html: str) -> dict[str, str]:
        fields = {}
        for tag in cls.pattern.findall(html):
            if 'type="hidden"' not in tag:
                continue
            name = re.search(r'name="([^"]*)"', tag)
            value = re.search(r'value="([^"]*)"', tag)
            if name:
                fields[name.group(1)] = value.group(1) if value else ""
        return fields


def _session_cookie(response) -> str:
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith("session="):
            return header.split(";", 1)[0]
    raise RuntimeError("the complaint form set no session cookie")


def _shorten(text: str) -> str:
    text = re.sub(r"\S*/site-packages/", "", text)
    return text.replace(ROOT, "")


def _package(filename: str) -> str:
    if match := re.search(r"site-packages/([^/]+)", filename):
        return match.group(1).split(".")[0]
    if "/templates/" in filename:
        return "templates (compiled Jinja)"
    if filename.startswith(ROOT):
        return f"app: {filename[len(ROOT) :].split('/')[0]}/"
    if filename.startswith(("~", "<")):
        return "builtins"
    return "stdlib"


def _by_package(stats: pstats.Stats, requests: int) -> list[tuple[str, float, float]]:
    totals: dict[str, float] = {}
    for (filename, _line, _name), value in stats.stats.items():
        totals[_package(filename)] = totals.get(_package(filename), 0.0) + value[2]
    whole = sum(totals.values()) or 1.0
    ranked = sorted(totals.items(), key=lambda item: -item[1])
    return [(name, t * 1000 / requests, t / whole) for name, t in ranked if t / whole >= 0.01]


def _breakdown(stats: pstats.Stats, requests: int) -> list[tuple[str, float, float]]:
    table = stats.stats  # {(file, line, func): (cc, nc, tt, ct, callers)}
    whole = None
    rows = []
    for label, suffix, func in BREAKDOWN:
        matches = [
            value[3]
            for (filename, _line, name), value in table.items()
            if name == func and filename.endswith(suffix)
        ]
        if not matches:
            continue
        ms = max(matches) * 1000 / requests
        if whole is None:
            whole = ms
        rows.append((label, ms, ms / whole if whole else 0.0))
    return rows


def _submitter(client, form_path: str, complaint_fields, tag: str):
    """A callable posting one new complaint per call, with a real session and CSRF token."""
    form = client.get(form_path)
    if form.status_code != 200:
        raise RuntimeError(f"complaint form: {form.status_code}")
    cookie = _session_cookie(form)
    visible = complaint_fields(_Hidden.fields(form.get_data(as_text=True)))
    serial = iter(range(10**9))

    def submit():
        n = next(serial)
        key = f"profile-{tag}-{os.getpid()}-{n:09d}"
        series = {"inline": 1, "redis": 2}.get(tag, 3)
        phone = f"139{series}{n % 10_000_000:07d}"  # another tourist each time
        return client.post(
            form_path,
            data=urlencode(dict(visible, phone=phone, submission_key=key)),
            content_type="application/x-www-form-urlencoded",
            headers={"Cookie": cookie},
        )

    return submit


class _Counters:
    """SQL statements and commits, counted on an engine with SQLAlchemy events."""

    def __init__(self):
        self.statements = 0
        self.commits = 0
        self.recorded: list[str] | None = None

    def watch(self, engine) -> None:
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "commit", self._commit)

    def _statement(self, _conn, _cursor, statement, *_args):
        self.statements += 1
        if self.recorded is not None:
            self.recorded.append(" ".join(statement.split()))

    def record(self, call) -> list[str]:
        self.recorded = []
        try:
            call()
            return self.recorded
        finally:
            self.recorded = None

    def _commit(self, *_args):
        self.commits += 1


def _time(call, expected: int, name: str, count: int, counters: _Counters) -> Cost:
    for _ in range(20):  # warm caches: compiled templates, statement cache, pool
        _check(call(), expected, name)
    counters.statements = counters.commits = 0
    start = time.perf_counter()
    for _ in range(count):
        _check(call(), expected, name)
    elapsed = time.perf_counter() - start
    return Cost(
        ms_per_request=elapsed * 1000 / count,
        statements=counters.statements / count,
        commits=counters.commits / count,
        requests=count,
    )


def _profile(call, expected: int, name: str, count: int, counters: _Counters) -> Profile:
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(count):
        _check(call(), expected, name)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(PROFILE_ROWS)
    listing = out.getvalue()
    listing = listing[listing.find("   ncalls") :]
    return Profile(
        top_cumulative=_shorten(listing.rstrip()),
        breakdown=_breakdown(stats, count),
        by_package=_by_package(stats, count),
        statements=counters.record(call),
    )


def measure(
    env, scan_token, submit_token, submit_code, complaint_fields, *, log_path, redis_url=None
):
    """Cost per request for each scenario; cProfile of scan and submission.

    complaint_fields(hidden) -> dict of the form fields to post. With redis_url, also the
    submission on an app whose outbox relay only enqueues to RQ (the production setting).
    Returns ({scenario: Cost}, {scenario: Profile}, console_send_us).
    """
    os.environ.update(env)
    from bench.ceiling_app import app
    from complaints import create_app
    from complaints.extensions import db
    from complaints.outbox.relay import stop_background_relays

    counters = _Counters()
    apps = [app]
    with app.app_context():
        counters.watch(db.engine)
    client = app.test_client(use_cookies=False)
    form_path = f"/s/{submit_token}/complain"
    costs, profiles = {}, {}
    with open(log_path, "a") as log, contextlib.redirect_stdout(log):
        submit = _submitter(client, form_path, complaint_fields, "inline")
        scenarios = {
            "trivial": (lambda: client.get("/bench/trivial"), 200, 600),
            "insert": (lambda: client.post("/bench/insert"), 201, 400),
            "scan": (lambda: client.get(f"/s/{scan_token}"), 200, 400),
            "submission": (submit, 303, 200),
        }
        for name, (call, expected, count) in scenarios.items():
            costs[name] = _time(call, expected, name, count, counters)
        # The submission outlet's merchant now has every complaint of the run: its scan page
        # shows what the standing query costs for a merchant with a real history.
        with app.app_context():
            complaints = db.session.execute(
                text(
                    "SELECT count(*) FROM cases WHERE enterprise_id ="
                    " (SELECT enterprise_id FROM outlets WHERE code = :code)"
                ),
                {"code": submit_code},
            ).scalar_one()
            db.session.remove()
        costs["scan_history"] = _time(
            lambda: client.get(f"/s/{submit_token}"), 200, "scan", 200, counters
        )
        costs["scan_history"].note = f"{complaints:,}"
        if redis_url:
            queued = create_app({"REDIS_URL": redis_url})
            apps.append(queued)
            with queued.app_context():
                counters.watch(db.engine)
            queued_submit = _submitter(
                queued.test_client(use_cookies=False), form_path, complaint_fields, "redis"
            )
            # Timed alone: the first app's relay thread would deliver its own backlog meanwhile
            # and be counted as this request's statements.
            stop_background_relays()
            costs["submission_redis"] = _time(queued_submit, 303, "submission", 200, counters)
        for name in ("scan", "submission"):
            call, expected, count = scenarios[name]
            profiles[name] = _profile(call, expected, name, count, counters)
        console_us = _console_send_cost()
    stop_background_relays()  # before the database they relay from is dropped
    for each in apps:
        with each.app_context():
            db.session.remove()
            db.engine.dispose()
    return costs, profiles, console_us


def _check(response, expected: int, name: str) -> None:
    if response.status_code != expected:
        body = response.get_data(as_text=True)[:1500]
        raise RuntimeError(f"{name}: expected {expected}, got {response.status_code}: {body}")


def _console_send_cost(messages: int = 2000) -> float:
    """Microseconds per console SMS written to the (redirected) stdout, flush included."""
    from notifications.base import OutgoingMessage
    from notifications.console import ConsoleSMS

    channel = ConsoleSMS()
    message = OutgoingMessage(
        channel="sms",
        to="+8613812345678",
        body="【安心】您的投诉 HN-4602-20250101-000001 已受理。查看进度：http://x/t/abc" * 2,
        reference="1",
    )
    start = time.perf_counter()
    for _ in range(messages):
        channel.send(message)
    return (time.perf_counter() - start) * 1e6 / messages
