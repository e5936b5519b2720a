"""bench/RESULTS.md from one run's measurements."""

from bench.loadgen import WrkResult

# Issue 13's targets: the scan page at 0.7 of the trivial endpoint (its cache invalidated on
# change), a submission at 0.5 of the one-row insert with Redis on (requests only commit; a
# worker delivers) and at 0.3 in the embedded default (no Redis: a relay thread in each web
# process delivers).
RATIO_TARGET = {"scan": 0.7, "submission": 0.3, "submission_queued": 0.5}
P99_MS = 100.0
ORDER = ("trivial", "scan", "insert", "submission", "submission_queued")
EXPECTED = {"trivial": 200, "scan": 200, "insert": 201, "submission": 303, "submission_queued": 303}
LABELS = {
    "trivial": "trivial `GET /bench/trivial` (ceiling)",
    "scan": "scan page `GET /s/<token>`",
    "insert": "one-row insert `POST /bench/insert` (ceiling)",
    "submission": "complaint submission `POST /s/<token>/complain`, embedded default (no Redis)",
    "submission_queued": "the same with `REDIS_URL` set and one worker delivering",
}
CEILING = {"scan": "trivial", "submission": "insert", "submission_queued": "insert"}

# A one-off experiment, not part of `make bench`: the scan view patched three ways in a copy
# of the app, measured with this harness (6 s runs) on the same machine.
SCAN_EXPERIMENT = [
    ("as is (outlet, enterprise, division, 12-month count: 4 queries)", "3.2-3.6", "0.08-0.20"),
    ("outlet loaded with joinedload(enterprise, division): 2 queries", "3.0", "0.07"),
    ("... and complaint_record cached per enterprise for 60 s: 1 query", "2.3", "0.18"),
    ("rendered page cached per (token, locale) for 30 s after the HMAC check", "0.5", "0.62"),
]
SCAN_EXPERIMENT_DATE = "2026-11-25"
SCAN_EXPERIMENT_COMMIT = "35c9263"


def verdicts(results: dict[str, WrkResult]) -> dict[str, tuple[float, bool, bool]]:
    """{scenario: (ratio to its ceiling, throughput target met, p99 target met)}"""
    out = {}
    for name, ceiling in CEILING.items():
        ratio = results[name].rps / results[ceiling].rps
        out[name] = (ratio, ratio >= RATIO_TARGET[name], results[name].p99_ms < P99_MS)
    return out


def problems(results: dict[str, WrkResult], checks: dict, connections: int) -> list[str]:
    found = []
    for name, result in results.items():
        unexpected = {s: n for s, n in result.statuses.items() if s != EXPECTED[name]}
        if unexpected or result.non_2xx_3xx:
            found.append(f"{name}: unexpected statuses {unexpected} ({result.first_bad})")
        if result.errors:
            found.append(f"{name}: socket errors {result.socket_errors}")
    for name, added in checks.items():
        answered = results[name].statuses.get(EXPECTED[name], 0)
        if not 0 <= added - answered <= connections:
            found.append(f"{name}: {added} rows added for {answered} {EXPECTED[name]} responses")
    return found


def _ms(value: float) -> str:
    return f"{value:.1f} ms" if value < 100 else f"{value:.0f} ms"


def _cpu(result: WrkResult) -> float:
    """CPU ms per request spent by the server side (app + PostgreSQL)."""
    return result.cpu.get("app", 0.0) + result.cpu.get("postgres", 0.0)


def _disturbed(results) -> list[str]:
    worst = max(ORDER, key=lambda name: results[name].cpu.get("others_share", 0.0))
    share = results[worst].cpu.get("others_share", 0.0)
    if share < 0.15:
        return []
    return [
        f"**Disturbed run:** other processes on the machine used up to {share:.0%} of its CPU "
        f"during a measured run ({worst}; see 'others' below), so absolute rates are low and "
        "the req/s ratios noisy; the CPU-per-request ratios below are the steadier reading.",
        "",
    ]


def _waits(result: WrkResult, top: int = 4) -> str:
    if not result.waits:
        return "none active"
    active = sum(result.waits.values())
    parts = [f"{name} {share:.2f}" for name, share in list(result.waits.items())[:top]]
    return f"{active:.2f} active: " + ", ".join(parts)


def _lock_wait(result: WrkResult) -> float:
    return sum(share for name, share in result.waits.items() if name.startswith("Lock:"))


def render(
    *,
    machine,
    settings,
    results,
    checks,
    db_state,
    costs,
    profiles,
    console_us,
    gunicorn_log_bytes,
) -> str:
    v = verdicts(results)
    lines = [
        "# Anxin load benchmark",
        "",
        "Written by `make bench` (`bench/run.py`). Every number is from one run on the machine "
        "below; these machines are noisy, so compare the ratios within one run, not absolute "
        "rates across runs.",
        "",
        "## Machine and date",
        "",
        "| | |",
        "|---|---|",
        f"| date (`date -u`) | {machine['date']} |",
        f"| CPU | {machine['nproc']} cores (nproc), {machine['cpu']} |",
        f"| memory | {machine['memory']} |",
        f"| kernel | {machine['kernel']} |",
        f"| load average at start (1, 5, 15 min) | {machine['loadavg']} |",
        f"| Python | {machine['python']} |",
        f"| PostgreSQL | {machine['postgresql']} on 127.0.0.1, "
        f"synchronous_commit={machine['synchronous_commit']} |",
        f"| gunicorn | {machine['gunicorn']} |",
        f"| load generator | {machine['wrk']}, on the same cores |",
        "",
        "## Settings (identical for all four scenarios)",
        "",
        f"- One gunicorn serves everything: `gunicorn {settings['gunicorn']}`. "
        "`bench/ceiling_app.py` is the real `create_app()` plus the two ceiling routes, so "
        "config, extensions (CSRF, Babel, limiter, SQLAlchemy pool with pre-ping) and error "
        "handlers are the same for the ceilings and the real pages. Sync workers per "
        "TECH-NOTES; no access log. `/bench/insert` is CSRF-exempt and inserts one row into "
        "`bench_rows`, a table created for the benchmark only.",
        f"- wrk: `-t{settings['threads']} -c{settings['connections']} -d{settings['seconds']}s "
        f"--latency --timeout 5s` after a {settings['warmup']} s warm-up, per scenario. Closed "
        "loop, so latency includes queueing for a free worker. Submission: "
        f"`{settings['wrk_submission']}`: `bench/submit.lua` posts the urlencoded form "
        "(no photos) with a session cookie + CSRF token fetched from the real form (one per "
        "wrk thread) and a new `submission_key` on every request (a repeated key would take "
        "the cheaper dedup path).",
        "- App: `ANXIN_ENV=production` on a fresh PostgreSQL database (migrated with "
        "`flask db upgrade`, seeded with `flask seed`, dropped afterwards); "
        "`RATELIMIT_ENABLED=0` (the limiter would cap one client IP at 20 posts an hour); "
        "`REDIS_URL` unset for all but the last scenario (the embedded default: a relay "
        "thread in each gunicorn worker delivers the texts); the last runs a second gunicorn "
        "with `REDIS_URL` set, where requests only commit, and one `flask worker` beside it.",
        f"- SMS: `SMS_BACKEND=console_sms`; gunicorn's stdout/stderr go to a file "
        f"({gunicorn_log_bytes / 1e6:.1f} MB during the run), never a terminal. Writing one "
        f"console SMS to a file costs {console_us:.0f} µs (flush included, measured "
        "separately): "
        + (
            "not a measurable share of a submission."
            if console_us < 100
            else "a measurable share of a submission."
        ),
        "- Data: `flask seed` run with `ANXIN_ENV=development` (a production seed has no "
        "merchants), so the demo merchants and their demo complaints are there. Scan: one "
        "seeded outlet, 椰风海景酒店前台 (a Sanya hotel; its merchant has "
        f"{db_state['scan_merchant_cases']} complaint(s)). Submission: another, 阿海海鲜加工店 "
        "(a Sanya seafood stall), so the "
        "scan page's merchant does not collect the run's complaints, and every submission "
        "draws its case number from the same `case_number_sequences` row "
        f"({db_state['sequence_rows']} row(s) at the end).",
        "",
        "## Results",
        "",
        "| scenario | req/s | p50 | p99 | ratio vs its ceiling | target met? |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for name in ORDER:
        r = results[name]
        if name in CEILING:
            ratio, rate_ok, p99_ok = v[name]
            ratio_text = f"{ratio:.2f} of {CEILING[name]}"
            met = (
                f"**{'yes' if rate_ok and p99_ok else 'no'}** "
                f"(≥ {RATIO_TARGET[name]:.2f}: {'yes' if rate_ok else 'no'}; "
                f"p99 < 100 ms: {'yes' if p99_ok else 'no'})"
            )
        else:
            ratio_text, met = "ceiling", "-"
        lines.append(
            f"| {LABELS[name]} | {r.rps:,.0f} | {_ms(r.p50_ms)} | {_ms(r.p99_ms)} | "
            f"{ratio_text} | {met} |"
        )
    lines += [
        "",
        *_disturbed(results),
        "Targets: scan page ≥ 70% of the trivial endpoint's throughput; a complete submission "
        "(case, audit event, deadline, notifications, outbox) ≥ 50% of the one-row insert's "
        "with Redis on, ≥ 30% in the embedded default; p99 under 100 ms at those rates. "
        "wrk runs a closed loop of "
        f"{settings['connections']} connections over {settings['workers']} sync workers, so a "
        "request's latency is about connections ÷ rate: a slow endpoint's p99 is mostly "
        "queueing for a worker, and it falls with its CPU cost.",
        "",
        "### CPU per request during the same runs",
        "",
        "From /proc, before and after each measured run: the app is gunicorn's master and "
        "workers; PostgreSQL is the backends of the bench database plus the server's "
        "background processes (WAL writer, checkpointer, ...); the worker is the `flask "
        "worker` delivering beside the app (Redis on only). 'Others' is CPU used by anything "
        "else on the machine meanwhile (a disturbed run shows there).",
        "",
        "| scenario | app | PostgreSQL | worker | wrk | machine busy | others |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name in ORDER:
        c = results[name].cpu
        worker = f"{c['worker']:.2f} ms" if c.get("worker") else "-"
        lines.append(
            f"| {name} | {c['app']:.2f} ms | {c['postgres']:.2f} ms | {worker} | "
            f"{c['wrk']:.2f} ms | {c['machine_busy']:.0%} | {c['others_share']:.0%} |"
        )
    lines += [
        "",
        (
            "Every run kept the cores busy, so throughput is CPU per request: "
            if all(results[n].cpu.get("machine_busy", 0) >= 0.9 for n in ORDER)
            else "Not every run saturated the CPU (see 'machine busy'); per request, "
        )
        + f"scan costs {_cpu(results['scan']) / max(_cpu(results['trivial']), 1e-9):.1f}× the "
        f"trivial endpoint's server CPU, a submission "
        f"{_cpu(results['submission']) / max(_cpu(results['insert']), 1e-9):.1f}× the "
        "one-row insert's (a cross-check on the req/s ratios that is less sensitive to "
        "neighbours).",
        "",
        "### Checks",
        "",
    ]
    for name in ORDER:
        r = results[name]
        statuses = ", ".join(f"{s}: {n}" for s, n in sorted(r.statuses.items()))
        lines.append(
            f"- {name}: {r.requests} responses in {r.seconds:.1f} s ({statuses}); "
            f"non-2xx/3xx {r.non_2xx_3xx}; socket errors {r.errors}."
        )
    lines += [
        f"- Rows written during the measured runs: {checks['insert']} `bench_rows` for "
        f"{results['insert'].statuses.get(201, 0)} responses 201; {checks['submission']} cases "
        f"for {results['submission'].statuses.get(303, 0)} responses 303. The difference (at "
        "most the connection count) is requests in flight when wrk stopped: the server "
        "finishes them, wrk no longer counts them.",
        f"- After the load: {db_state['cases']} cases, {db_state['case_events']} audit events, "
        f"{db_state['outbox_total']} outbox messages of which {db_state['outbox_pending']} "
        f"pending, {db_state['notifications_sent']} SMS notifications sent (console)"
        + (
            f", {db_state['duplicate_flags']} possible-duplicate flags (every submission has "
            "the same text at the same outlet, so the duplicate check, an outbox job after "
            "the filing, flags most of its 20 closest candidates: a busy stall's worst case; "
            "the phone number is new on every request)."
            if db_state.get("duplicate_flags") is not None
            else "."
        ),
        "",
        "### What PostgreSQL backends were doing",
        "",
        "pg_stat_activity sampled every 50 ms during each measured run: the average number of "
        "active backends of the bench database in each wait state. `CPU` is running; "
        "`IO:WALSync` and `LWLock:WALWrite` are commit fsyncs; `Lock:transactionid` is waiting "
        "for a row lock another transaction holds; `Client:ClientRead` is idle inside a "
        "transaction, waiting for the app's next statement.",
        "",
        "| scenario | backends |",
        "|---|---|",
    ]
    for name in ORDER:
        lines.append(f"| {name} | {_waits(results[name])} |")
    lines += [
        "",
        "## Cost per request in one process",
        "",
        "The same app and database, driven by the Flask test client after gunicorn stopped "
        "(no network, no concurrency, no cProfile); SQL statements and commits counted with "
        "SQLAlchemy engine events (pool pre-ping, BEGIN and ROLLBACK are extra round trips "
        "not counted as statements). Statement and commit counts are exact; milliseconds are "
        "wall time and move with whatever else the machine is doing.",
        "",
        "| scenario | ms per request | SQL statements | commits |",
        "|---|---:|---:|---:|",
    ]
    names = {
        "submission": "submission, no Redis (this process's relay thread delivers meanwhile)",
        "submission_redis": "submission, `REDIS_URL` set (the request only commits)",
    }
    if "scan_history" in costs:
        names["scan_history"] = (
            f"scan of the submission outlet: a merchant with {costs['scan_history'].note} "
            "complaints in 12 months"
        )
    for name, c in costs.items():
        lines.append(
            f"| {names.get(name, name)} | {c.ms_per_request:.2f} | {c.statements:.1f} | "
            f"{c.commits:.1f} |"
        )
    from bench.report_findings import findings  # it uses this module's helpers

    lines += ["", *findings(results, v, costs, profiles, settings["workers"]), ""]
    for name in ("scan", "submission"):
        _ratio, rate_ok, p99_ok = v[name]
        lines += _profile_section(name, profiles[name], costs[name], rate_ok and p99_ok)
    return "\n".join(lines).rstrip() + "\n"


def _profile_section(name, profile, cost, met: bool) -> list[str]:
    heading = "target met, for reference" if met else "target missed"
    lines = [
        f"## Profile: {name} ({heading})",
        "",
        f"cProfile of {cost.requests} requests in one process (wall time; cProfile inflates "
        "pure-Python work more than waits on PostgreSQL, so read shares, not milliseconds).",
        "",
        "Where a request's time goes (cumulative; indented rows are part of the row above):",
        "",
        "| part | ms per request | share |",
        "|---|---:|---:|",
    ]
    for label, ms, share in profile.breakdown:
        indent = (len(label) - len(label.lstrip())) // 2
        text = "&nbsp;&nbsp;" * indent + label.strip()
        lines.append(f"| {text} | {ms:.2f} | {share:.0%} |")
    lines += [
        "",
        "Own time by package (psycopg's share is mostly waiting for PostgreSQL's answer):",
        "",
        "| package | ms per request | share |",
        "|---|---:|---:|",
    ]
    for package, ms, share in profile.by_package:
        lines.append(f"| {package} | {ms:.2f} | {share:.0%} |")
    lines += ["", f"The SQL of one {name} request, in order:", ""]
    lines += [f"{i}. `{sql[:110]}`" for i, sql in enumerate(profile.statements, start=1)]
    lines += [
        "",
        "Top 15 entries by cumulative time:",
        "",
        "```",
        profile.top_cumulative,
        "```",
        "",
    ]
    return lines


def _sections(text: str) -> list[tuple[str, str]]:
    """[(heading key, text)] for each '## ' section; the key drops a '(...)' suffix."""
    out: list[tuple[str, str]] = []
    current: list[str] = []
    key = ""
    fenced = False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        if line.startswith("## ") and not fenced:
            if current:
                out.append((key, "\n".join(current)))
            key, current = line[3:].split(" (")[0].strip(), [line]
        else:
            current.append(line)
    if current:
        out.append((key, "\n".join(current)))
    return out


def merge(existing: str, ours: str) -> str:
    """Our report, followed by any section another script added (e.g. '## Credit recompute')."""
    mine = {key for key, _ in _sections(ours)}
    foreign = [body for key, body in _sections(existing) if key and key not in mine]
    text = ours.rstrip() + "\n"
    for body in foreign:
        text += "\n" + body.strip() + "\n"
    return text
