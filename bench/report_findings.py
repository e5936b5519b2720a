"""The findings of `make bench`'s report: what limits each scenario, from the same run."""

from bench.loadgen import WrkResult
from bench.report import (
    SCAN_EXPERIMENT,
    SCAN_EXPERIMENT_COMMIT,
    SCAN_EXPERIMENT_DATE,
    _lock_wait,
)


def _avoidable(statements: list[str]) -> list[str]:
    """Recommendations read off the statements this run's submission actually sent."""

    def count(fragment: str) -> int:
        return sum(fragment in sql for sql in statements)

    items = []
    if count("FROM cases WHERE cases.submission_key_hash") >= 2:
        items.append(
            "the second submission-key lookup (`services.case_for_submission` in "
            "`file_complaint`; the view's `_existing_submission` already ran it)"
        )
    if count("SELECT evidence."):
        items.append("`stage_uploads`' `SELECT` of staged evidence when the POST has no file")
    if count("UPDATE evidence"):
        items.append("`file_complaint`'s `UPDATE evidence` when nothing was staged")
    if count("SELECT case_events.seq"):
        items.append(
            "`append_event`'s `SELECT` of the chain head for a case created in the same "
            "transaction (always seq 1 on the genesis hash)"
        )
    opt_outs = count("sms_opt_outs")
    if opt_outs >= 2:
        items.append(
            f"{opt_outs - count('INSERT INTO notifications')} of the {opt_outs} SMS opt-out "
            "lookups for the one phone number (checked when queuing and again when delivering)"
        )
    routing = count("FROM divisions") + count("FROM routing_rules") + count("FROM agencies")
    lines = []
    if items:
        lines.append(
            "- Drop the statements that cannot find anything new: " + "; ".join(items) + "."
        )
    if routing:
        lines.append(
            "- Cache the routing reference data in memory: "
            f"{routing} statements per submission read divisions (the ancestry one level per "
            "query), routing rules and agencies, which change only by migration or admin "
            "action."
        )
    return lines


def _bound(result: WrkResult, ceiling: WrkResult) -> str:
    busy = min(result.cpu.get("machine_busy", 0), ceiling.cpu.get("machine_busy", 0))
    if busy >= 0.9:
        return f"Both runs kept the CPU busy ({busy:.0%}), so rate follows CPU per request. "
    return f"The CPU was not saturated in both runs (down to {busy:.0%} busy). "


def _waiter(result: WrkResult) -> str:
    total = sum(result.lock_waiters.values())
    if not total:
        return ""
    statement, count = max(result.lock_waiters.items(), key=lambda item: item[1])
    return f"; the waiting statement in {count / total:.0%} of those samples: `{statement}…`"


def _history(costs) -> str:
    history = costs.get("scan_history")
    if history is None:
        return ""
    return (
        f" It also grows with the merchant's history: for the submission outlet's merchant, "
        f"with {history.note} complaints by then, a scan takes {history.ms_per_request:.1f} ms "
        f"in one process against {costs['scan'].ms_per_request:.1f} ms, because "
        "`complaints/credit/queries.py: _last_year` fetches one row per case of the last 12 "
        "months and aggregates them in Python."
    )


def findings(results, v, costs, profiles, workers) -> list[str]:
    scan_ratio, scan_rate_ok, scan_p99_ok = v["scan"]
    sub_ratio, sub_rate_ok, sub_p99_ok = v["submission"]
    scan, trivial = results["scan"], results["trivial"]
    q_ratio, q_rate_ok, q_p99_ok = v["submission_queued"]
    sub, insert = results["submission"], results["insert"]
    queued = results["submission_queued"]
    lines = [
        "## Findings",
        "",
        f"**Scan page: {scan_ratio:.0%} of the trivial endpoint, p99 {scan.p99_ms:.0f} ms: "
        f"target {'met' if scan_rate_ok and scan_p99_ok else 'missed'}.** "
        + _bound(scan, trivial)
        + f"A scan costs {scan.cpu['app']:.1f} ms of app CPU and "
        f"{scan.cpu['postgres']:.1f} ms of PostgreSQL CPU against {trivial.cpu['app']:.2f} ms "
        f"for the trivial endpoint. In one process it is {costs['scan'].ms_per_request:.1f} ms "
        f"and {costs['scan'].statements:.0f} SQL statements (listed with the profile below: "
        "the outlet, what the view and the template lazy-load, and the merchant's standing "
        "from `complaint_record` → `public_standing`) plus the pre-ping, BEGIN and ROLLBACK "
        "round trips, then three templates with about a dozen translated strings. The "
        "profile puts most of it in SQLAlchemy and psycopg: ORM round trips of a few hundred "
        "µs of Python each, for a page whose content changes a few times a day." + _history(costs),
        "",
        f"**Submission, embedded default: {sub_ratio:.0%} of the one-row insert, p99 "
        f"{sub.p99_ms:.0f} ms (target ≥ 30%: "
        f"{'met' if sub_rate_ok and sub_p99_ok else 'missed'}). With Redis on and one worker "
        f"delivering: {q_ratio:.0%}, p99 {queued.p99_ms:.0f} ms (target ≥ 50%: "
        f"{'met' if q_rate_ok and q_p99_ok else 'missed'}).** A filing costs "
        f"{queued.cpu['app']:.1f} ms of app CPU and {queued.cpu['postgres']:.1f} ms of "
        f"PostgreSQL CPU with Redis on, and the worker beside it spent "
        f"{queued.cpu.get('worker', 0.0):.1f} ms per filing on the same cores during the rush "
        f"({sub.cpu['app']:.1f} + {sub.cpu['postgres']:.1f} ms "
        "without, where each web process also delivers the texts) against "
        f"{insert.cpu['app']:.1f} + {insert.cpu['postgres']:.1f} ms for the insert. In one "
        f"process it sends {costs['submission_redis'].statements:.0f} SQL statements and "
        f"{costs['submission_redis'].commits:.0f} commit with Redis on (without Redis the "
        "counts include the relay thread delivering in the same process). Row locks: on "
        f"average {_lock_wait(queued):.2f} of the {workers} workers' backends waited on one "
        "during the run" + _waiter(queued) + ". CPU per request is the limit: the statements "
        "are few, but each is built, bound and hydrated by SQLAlchemy, and the form, the "
        "session and the CSRF check cost as much again (the profile below). The texts are "
        "rendered by the receipt and phone-code jobs after the commit: on the worker's CPU, "
        "which shares these cores during the rush (next section).",
        "",
        "## What would fix it (and what was applied)",
        "",
        "Scan page (`complaints/merchants/views.py: scan`, `complaints/merchants/services.py: "
        "resolve_scan_token`, `complaint_record`):",
        "",
        "1. Applied: the rendered scan page is kept (Flask-Caching, Redis when `REDIS_URL` is "
        "set; never for signed-in staff) until something it shows changes: it is stored with "
        "its merchant's version token, and the commit of any change to the merchant, its "
        "outlets, its score or its cases drops the token (`complaints/merchants/scan_cache.py`), "
        "so a new grade or a rotated code shows on the next scan, not up to 15 s later. A hit "
        "costs one cache round trip and no SQL; brotli and gzip bodies are prepared once.",
        "2. Independently of the cache: load the outlet with "
        "`joinedload(Outlet.enterprise), joinedload(Outlet.division)` in "
        "`resolve_scan_token` (three queries become one); cache the standing "
        "(`complaint_record`) per enterprise for a minute, and let `_last_year` aggregate in "
        "SQL (`count(*)`, `count(*) FILTER (...)`, `percentile_cont(0.5)` over the durations) "
        "so one row comes back whatever the merchant's history. That alone is not enough:",
        "",
        f"One-off experiment on a patched copy of the app at commit {SCAN_EXPERIMENT_COMMIT} "
        "(when the scan page made 4 queries and showed a plain 12-month count), same harness "
        f"and machine ({SCAN_EXPERIMENT_DATE}, not part of `make bench`):",
        "",
        "| scan view | app CPU per scan | scan ÷ trivial req/s |",
        "|---|---:|---:|",
        *[f"| {what} | {cpu} ms | {ratio} |" for what, cpu, ratio in SCAN_EXPERIMENT],
        "",
        "Submission (`complaints/cases/views.py: _file`, `complaints/cases/services.py: "
        "file_complaint`, the CaseFiled subscribers in `complaints/subscriptions.py`):",
        "",
        *_avoidable(profiles["submission"].statements),
        "- Applied: one transaction and one commit; the case number drawn inside the case's "
        "INSERT; no delivery in the request; reference data from an in-process cache; the "
        "receipt, the first phone code and the duplicate check outbox jobs after the commit; "
        "the case INSERT built once per process and executed with parameters "
        "(`complaints.database.bound_values`).",
        "- Left: the remaining cost is Python per statement and per request: the ORM's unit of "
        "work for the audit event, the deadline and the outbox rows, the form (WTForms), the "
        "session and the CSRF check. On two cores shared with PostgreSQL and the worker, the "
        "filing's whole CPU (request, PostgreSQL, the worker's jobs) sets the rush's rate.",
    ]
    return lines
