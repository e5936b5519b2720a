"""The console-queue benchmark's measurements: the data described, pages timed, plans explained."""

import html
import re
import statistics
import time

from bench.harness import logger
from bench.queue_data import (
    BASE_URL,
    BRAND,
    DEPTHS,
    RARE_WORD,
    REPEATS,
    SANYA,
    STATE_MIX,
    TEXT_WORD,
    WARMUPS,
)

log = logger("queue-bench")


def describe_data(url: str) -> dict:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        sanya = conn.execute("SELECT id FROM agencies WHERE slug = %s", (SANYA,)).fetchone()[0]
        by_state = dict(
            conn.execute(
                "SELECT state, count(*) FROM cases WHERE agency_id = %s GROUP BY state", (sanya,)
            ).fetchall()
        )
        running = conn.execute(
            "SELECT count(*) FILTER (WHERE c.agency_id = %s), count(*) FROM case_deadlines d"
            " JOIN cases c ON c.id = d.case_id AND c.state = d.state WHERE d.closed_at IS NULL",
            (sanya,),
        ).fetchone()
        sizes = {
            table: conn.execute("SELECT pg_total_relation_size(%s::regclass)", (table,)).fetchone()[
                0
            ]
            for table in ("cases", "case_deadlines")
        }
        division = conn.execute(
            "SELECT division_code, count(*) FROM cases WHERE agency_id = %s"
            " GROUP BY 1 ORDER BY 2 DESC LIMIT 1",
            (sanya,),
        ).fetchone()
        merchant = conn.execute(
            "SELECT e.name_zh, count(*), count(*) FILTER (WHERE c.state IN"
            " ('submitted', 'merchant_response', 'regulator_review', 'mediation'))"
            " FROM cases c JOIN enterprises e ON e.id = c.enterprise_id"
            " WHERE c.agency_id = %s GROUP BY e.id, e.name_zh ORDER BY 2 DESC, e.id"
            " OFFSET 200 LIMIT 1",
            (sanya,),
        ).fetchone()
        brand = BRAND[0][0] + BRAND[23][0]  # 椰湾: a word typed for "the coconut bay place"
        brand_merchants = conn.execute(
            "SELECT count(*) FROM enterprises WHERE name_zh LIKE %s", (f"%{brand}%",)
        ).fetchone()[0]
        number = conn.execute(
            "SELECT number FROM cases WHERE agency_id = %s AND state = 'closed'"
            " ORDER BY id OFFSET 5000 LIMIT 1",
            (sanya,),
        ).fetchone()[0]
        word_share, rare_share = conn.execute(
            "SELECT avg((description LIKE %s)::int), avg((description LIKE %s)::int)"
            " FROM cases WHERE agency_id = %s",
            (f"%{TEXT_WORD}%", f"%{RARE_WORD}%", sanya),
        ).fetchone()
        description_chars = conn.execute(
            "SELECT avg(char_length(description)) FROM cases"
        ).fetchone()[0]
        ended_pages = _ended_pages(conn, sanya, sum(by_state.values()))
    return {
        "sanya_id": sanya,
        "by_state": by_state,
        "sanya_cases": sum(by_state.values()),
        "running_sanya": running[0],
        "running_all": running[1],
        "sizes": sizes,
        "division": division,
        "merchant": merchant,
        "brand": brand,
        "brand_merchants": brand_merchants,
        "number": number,
        "word_share": float(word_share),
        "rare_share": float(rare_share),
        "description_chars": float(description_chars),
        "ended_pages": ended_pages,
    }


ENDED_WITHOUT_DEADLINE = (
    "FROM cases c WHERE c.agency_id = %s AND c.state IN"
    " ('resolved', 'declined', 'terminated', 'withdrawn', 'closed') AND NOT EXISTS"
    " (SELECT 1 FROM case_deadlines d WHERE d.case_id = c.id AND d.closed_at IS NULL"
    " AND d.state = c.state)"
)


def _ended_pages(conn, sanya: int, total: int) -> dict:
    """{page: the case id its `after` cursor names} for a page half-way through the last
    segment (ended cases without a running deadline, by id) and for the queue's last page.
    Walking there would take thousands of requests; the cursor the app would hand out at
    that row is (segment 3, no due time, the id of the row before): we build it instead."""
    ended = conn.execute("SELECT count(*) " + ENDED_WITHOUT_DEADLINE, (sanya,)).fetchone()[0]
    before = total - ended  # the three segments in front of it
    pages = {}
    for page in ((before + ended // 2) // 25 + 1, -(-total // 25)):
        offset = 25 * (page - 1) - 1 - before  # the last row of the page before, in segment 3
        if offset >= 0:
            pages[page] = conn.execute(
                "SELECT c.id " + ENDED_WITHOUT_DEADLINE + " ORDER BY c.id OFFSET %s LIMIT 1",
                (sanya, offset),
            ).fetchone()[0]
    return {"pages": pages, "ended": ended, "before": before}


# --- measuring through the console -------------------------------------------------------


class Probe:
    """Counts SQL statements and their time, and times `queries.queue_page`, per request."""

    def __init__(self, engine, queries):
        from sqlalchemy import event

        self.statements = 0
        self.sql_s = 0.0
        self.queue_s = 0.0
        self.captured: list[tuple[str, object]] | None = None
        self._started = 0.0
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)
        real = queries.queue_page

        def timed_queue_page(*args, **kwargs):
            started = time.perf_counter()
            try:
                return real(*args, **kwargs)
            finally:
                self.queue_s += time.perf_counter() - started

        queries.queue_page = timed_queue_page
        self.real_queue_page = real

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        self.statements += 1
        if self.captured is not None and "ORDER BY" in statement and "FROM cases" in statement:
            self.captured.append((statement, parameters))
        self._started = time.perf_counter()

    def _after(self, *args):
        self.sql_s += time.perf_counter() - self._started

    def reset(self):
        self.statements, self.sql_s, self.queue_s = 0, 0.0, 0.0


class Console:
    def __init__(self, app, probe):
        self.client = app.test_client()
        self.probe = probe

    def get(self, path: str) -> dict:
        self.probe.reset()
        started = time.perf_counter()
        response = self.client.get(path, base_url=BASE_URL)
        elapsed = time.perf_counter() - started
        body = response.get_data(as_text=True)
        if response.status_code != 200:
            raise RuntimeError(f"GET {path} answered {response.status_code}")
        found = re.search(r'<a class="button" rel="next" href="([^"]+)"', body)
        return {
            "ms": elapsed * 1000,
            "queue_ms": self.probe.queue_s * 1000,
            "sql_ms": self.probe.sql_s * 1000,
            "statements": self.probe.statements,
            "rows": body.count('class="queue-row'),
            "next": html.unescape(found.group(1)) if found else None,
        }

    def sign_in(self, email: str, password: str) -> None:
        page = self.client.get("/login", base_url=BASE_URL).get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
            r'name="csrf_token"[^>]*value="([^"]+)"', page
        )
        response = self.client.post(
            "/login",
            base_url=BASE_URL,
            data={"csrf_token": token.group(1), "email": email, "password": password, "next": ""},
            headers={"Referer": f"{BASE_URL}/login"},
        )
        if response.status_code != 303 or "/console/" not in response.headers["Location"]:
            raise RuntimeError(f"sign-in failed: {response.status_code}")


def walk(console: Console) -> tuple[dict[int, str], list[float]]:
    """Follow `next` from the first page to the deepest page wanted; per-page latencies."""
    urls, latencies, url = {1: "/console/"}, [], "/console/"
    for page in range(1, max(DEPTHS) + 1):
        result = console.get(url)
        latencies.append(result["ms"])
        if page in DEPTHS:
            urls[page] = url
        if result["next"] is None:
            raise RuntimeError(f"the queue ended at page {page}")
        url = result["next"]
        if page % 250 == 0:
            log(f"walked to page {page} ({statistics.median(latencies[-250:]):.1f} ms p50)")
    return urls, latencies


def measure(console: Console, scenarios: list[tuple[str, str]]) -> dict[str, list[dict]]:
    for _ in range(WARMUPS):
        for _, path in scenarios:
            console.get(path)
    samples: dict[str, list[dict]] = {name: [] for name, _ in scenarios}
    for round_ in range(REPEATS):
        for name, path in scenarios:  # interleaved: drift on a shared machine hits all alike
            samples[name].append(console.get(path))
        if (round_ + 1) % 5 == 0:
            log(f"round {round_ + 1}/{REPEATS}")
    return samples


def explain(app, probe, queries, agency_id, filters, cursor) -> list[dict]:
    """EXPLAIN (ANALYZE, BUFFERS) of exactly the statements `queue_page` sends."""
    from complaints.extensions import db

    with app.app_context():
        probe.captured = []
        probe.real_queue_page(agency_id, filters, cursor)
        captured, probe.captured = probe.captured, None
        db.session.rollback()
        db.session.remove()
    return explain_statements(app, captured)


def explain_statements(app, statements: list[tuple[str, object]]) -> list[dict]:
    import json

    from complaints.extensions import db

    with app.app_context():
        raw = db.engine.raw_connection()
        try:
            cur = raw.cursor()
            plans = []
            for statement, parameters in statements:
                cur.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement, parameters)
                document = cur.fetchone()[0]
                document = json.loads(document) if isinstance(document, str) else document
                cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
                text = "\n".join(row[0] for row in cur.fetchall())
                plans.append(summarise(statement, parameters, document[0], text))
            raw.rollback()
        finally:
            raw.close()
    return plans


def experiments(app, plans: dict, mid_ended: int) -> list[dict]:
    """The slowest statements again, each with one change to its SQL text or one more index
    (in the scratch database, not in the app): what a fix would buy, on the same data."""
    found = []
    for label in (f"page {DEPTHS[0]}", f"page {max(DEPTHS)}"):
        slowest = max(plans[label], key=lambda p: p["ms"])
        pattern = r" AND cases\.state = %\(state_\d+\)s"
        changed, n = re.subn(pattern, "", slowest["statement"])
        if n == 1 and slowest["kind"] == "running deadline":
            found.append(
                {
                    "what": f"{label}, the {slowest['state']} statement without `cases.state = "
                    f"'{slowest['state']}'` (implied: a running deadline belongs to the case's "
                    "current state)",
                    "before": slowest,
                    "after": explain_statements(app, [(changed, slowest["parameters"])])[0],
                    "label": label,
                }
            )
    ended = max(plans[f"page {mid_ended}"], key=lambda p: p["ms"])
    bound = re.search(r"cases\.id > %\((\w+)\)s", ended["statement"])
    if bound and ended["kind"] == "no running deadline":
        changed, n = re.subn(
            r"case_deadlines\.case_id = cases\.id",
            rf"case_deadlines.case_id = cases.id AND case_deadlines.case_id > %({bound.group(1)})s",
            ended["statement"],
        )
        if n == 1:
            found.append(
                {
                    "what": f"page {mid_ended}, the {ended['state']} statement with the cursor's "
                    "`id > ...` repeated inside its NOT EXISTS (`case_deadlines.case_id > ...`)",
                    "before": ended,
                    "after": explain_statements(app, [(changed, ended["parameters"])])[0],
                }
            )
    if ended["kind"] == "no running deadline":  # last: it changes the (scratch) schema
        from complaints.extensions import db

        with app.app_context(), db.engine.begin() as conn:
            started = time.perf_counter()
            conn.exec_driver_sql(
                "CREATE INDEX bench_running_by_case ON case_deadlines (case_id)"
                " WHERE closed_at IS NULL"
            )
            built = time.perf_counter() - started
        found.append(
            {
                "what": f"page {mid_ended}, the {ended['state']} statement unchanged, with one "
                "more index: `CREATE INDEX ON case_deadlines (case_id) WHERE closed_at IS NULL` "
                f"(built in {built:.1f} s)",
                "before": ended,
                "after": explain_statements(app, [(ended["statement"], ended["parameters"])])[0],
                "index": True,
            }
        )
    return found


STATES = set(STATE_MIX)


def _nodes(node: dict):
    yield node
    for child in node.get("Plans", ()):
        yield from _nodes(child)


def summarise(statement: str, parameters, document: dict, text: str) -> dict:
    values = parameters.values() if isinstance(parameters, dict) else parameters or ()
    state = next((v for v in values if isinstance(v, str) and v in STATES), "?")
    top = document["Plan"]
    scans, indexes, removed, deadline_rows = set(), set(), 0, 0
    for node in _nodes(top):
        kind = node["Node Type"]
        if node.get("Relation Name") == "case_deadlines" and "Actual Rows" in node:
            read = node["Actual Rows"] + node.get("Rows Removed by Filter", 0)
            deadline_rows += round(read * node.get("Actual Loops", 1))
        if node.get("Index Name"):
            indexes.add(node["Index Name"])
            scans.add(f"{kind} {node['Index Name']}")
        elif kind == "Seq Scan":
            scans.add(f"Seq Scan {node['Relation Name']}")
        loops = node.get("Actual Loops", 1)
        for key in ("Rows Removed by Filter", "Rows Removed by Join Filter"):
            removed += round(node.get(key, 0) * loops)
    return {
        "state": state,
        "kind": "running deadline" if "JOIN case_deadlines" in statement else "no running deadline",
        "indexes": sorted(indexes),
        "scans": sorted(scans),
        "removed": removed,
        "hit": top.get("Shared Hit Blocks", 0),
        "read": top.get("Shared Read Blocks", 0),
        "ms": document["Execution Time"],
        "order": _order(top, statement, parameters),
        "deadline_rows": deadline_rows,
        "statement": statement,
        "parameters": parameters,
        "plan": text,
    }


def _order(top: dict, statement: str, parameters) -> str:
    """How the statement got its rows in queue order: walking an index, or sorting them all."""
    for node in _nodes(top):
        if node["Node Type"] == "Sort":
            child = node["Plans"][0]
            rows = child["Actual Rows"] * child["Actual Loops"]
            estimated = top["Plans"][0]["Plan Rows"] if top.get("Plans") else node["Plan Rows"]
            return f"sort of {rows:,} rows (planner expected {estimated:,})"
    name = re.search(r"LIMIT %\((\w+)\)s", statement)
    limit = parameters.get(name.group(1)) if name and isinstance(parameters, dict) else None
    if isinstance(limit, int) and top["Actual Rows"] < limit:
        return f"index order, ran out after {top['Actual Rows']} of {limit} rows"
    return "index order, stopped at the limit"


def trim(plan: str) -> str:
    """The plan without costs, planner buffers and per-worker or cache details."""
    lines, skip = [], False
    for line in plan.splitlines():
        stripped = line.strip()
        if stripped == "Planning:":
            skip = True  # its Buffers line follows
            continue
        if skip and stripped.startswith("Buffers:"):
            skip = False
            continue
        if stripped.startswith(("Worker ", "Cache Mode:", "Hits:", "Heap Blocks:", "Buckets:")):
            continue
        line = re.sub(r"  \(cost=[^)]*\)", "", line)
        lines.append(line if len(line) <= 170 else line[:167] + "...")
    return "\n".join(lines)
