"""The console queue at a million cases: keyset pages and filters through the real view.

    .venv/bin/python bench/queue_keyset.py      (or `make bench-queue`)

Creates a throw-away PostgreSQL database on BENCH_DATABASE_ADMIN_URL (127.0.0.1 only), runs
`flask db upgrade` and `flask seed` against it with ANXIN_ENV=production (reference data only:
divisions, one agency per city or county, funds), COPYs in merchants, outlets, 1,000,000 cases
(about 40% in Sanya's agency, about 10% open) and their case_deadlines rows, VACUUM ANALYZEs,
creates a Sanya handler with `flask accounts create` and signs it in through /login with the
Flask test client. Then, against GET /console/ (production config, the whole request: login
check, filter form, `queries.queue_page`, template):

    first page, and pages 10, 100 and 1000 reached by following each page's `after` cursor
    each filter alone: state, category, division, merchant name contains, q = a case number
    (plus state=closed, the segment without a running deadline, and q = a word of the text)

each repeated BENCH_QUEUE_REPEATS times (interleaved, after warm-ups) for p50/p95, and the
EXPLAIN (ANALYZE, BUFFERS) of the statements `queue_page` sends for the first and a deep page.
Writes a "Console queue at a million cases" section into bench/RESULTS.md (replacing its own
section if present, leaving the others alone). The database is dropped on the way out, also on
failure. Waits first while a `bench/run.py` is running, so the two do not distort each other.
Settings: BENCH_DATABASE_ADMIN_URL, BENCH_QUEUE_CASES, BENCH_QUEUE_MERCHANTS,
BENCH_QUEUE_REPEATS.
"""

import hashlib
import html
import os
import platform
import random
import re
import secrets
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BIN = Path(sys.executable).parent
ADMIN_URL = os.environ.get(
    "BENCH_DATABASE_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
CASES = int(os.environ.get("BENCH_QUEUE_CASES", "1000000"))
MERCHANTS = int(os.environ.get("BENCH_QUEUE_MERCHANTS", "20000"))
REPEATS = int(os.environ.get("BENCH_QUEUE_REPEATS", "20"))
WARMUPS = 3
DEPTHS = (10, 100, 1000)
RESULTS = ROOT / "bench" / "RESULTS.md"
SECTION = "## Console queue at a million cases"
SANYA = "amr-460200"
HAIKOU = "amr-460100"
NOW = datetime.now(UTC).replace(microsecond=0)
LOCAL = ZoneInfo("Asia/Shanghai")
BASE_URL = "https://localhost"  # production sets SESSION_COOKIE_SECURE
HANDLER_EMAIL = "queue.bench.handler@anxin.example"
OTHER_BENCH = "bench/run.py"

# Share of all cases per state: about 10% still open, most of the rest closed or resolved.
STATE_MIX = {
    "submitted": 0.001,  # routed within seconds: no deadline yet
    "merchant_response": 0.030,
    "regulator_review": 0.035,
    "mediation": 0.034,
    "resolved": 0.120,
    "declined": 0.040,
    "terminated": 0.020,
    "withdrawn": 0.030,
    "closed": 0.690,
}
OPEN = ("submitted", "merchant_response", "regulator_review", "mediation")
RUNNING_KIND = {
    "merchant_response": "merchant_response",
    "regulator_review": "acceptance_decision",
    "mediation": "mediation",
}
HOUR, DAY = 3600, 86400

BRAND = [
    ("椰", "Coconut"), ("海", "Sea"), ("阳", "Sun"), ("光", "Light"), ("蓝", "Blue"),
    ("天", "Sky"), ("金", "Gold"), ("银", "Silver"), ("星", "Star"), ("月", "Moon"),
    ("云", "Cloud"), ("山", "Hill"), ("湖", "Lake"), ("林", "Grove"), ("花", "Flower"),
    ("鹿", "Deer"), ("龙", "Dragon"), ("凤", "Phoenix"), ("珠", "Pearl"), ("贝", "Shell"),
    ("鲸", "Whale"), ("帆", "Sail"), ("港", "Harbour"), ("湾", "Bay"), ("岛", "Island"),
    ("泉", "Spring"), ("石", "Stone"), ("竹", "Bamboo"), ("兰", "Orchid"), ("梅", "Plum"),
    ("沙", "Sand"), ("浪", "Wave"), ("风", "Breeze"), ("南", "South"), ("东", "East"),
    ("福", "Fortune"), ("乐", "Joy"), ("安", "Peace"), ("鑫", "Prosper"), ("宝", "Treasure"),
]  # fmt: skip
# (name_zh, name_en, category, weight)
TRADES = [
    ("度假酒店", "Resort Hotel", "lodging", 3), ("民宿", "Homestay", "lodging", 2),
    ("海鲜餐厅", "Seafood Restaurant", "catering", 4),
    ("海鲜加工店", "Seafood Kitchen", "catering", 3),
    ("椰子鸡", "Coconut Chicken", "catering", 1), ("珠宝", "Jewellery", "shopping", 2),
    ("特产店", "Local Specialities", "shopping", 2),
    ("免税购物", "Duty-free Shopping", "shopping", 1), ("景区", "Scenic Area", "attractions", 1),
    ("出租汽车", "Taxi", "transport", 1), ("租车", "Car Rental", "transport", 1),
    ("旅行社", "Travel Agency", "travel_agency", 2), ("潜水", "Diving", "entertainment", 1),
    ("游艇", "Yacht Club", "entertainment", 1), ("冲浪俱乐部", "Surf Club", "entertainment", 1),
    ("美容美发", "Beauty Salon", "other", 1),
]  # fmt: skip
SUFFIXES = [("有限公司", "Co., Ltd."), ("商行", "Trading"), ("店", "Shop")]
ISSUES = [
    "结账时发现价格与标价不符", "收费明显高于菜单价格", "商品与宣传描述不一致",
    "服务态度恶劣并拒绝沟通", "预订的房间与实际入住房型不同", "被强制消费额外项目",
    "购买的珠宝鉴定后成分不符", "导游擅自更改行程并要求购物", "司机绕路且未按表计价",
    "门票已付款但无法入园", "潜水项目临时取消却不退款", "海鲜称重缺斤短两",
    "押金迟迟未退还", "食品不新鲜导致身体不适", "发票开具金额与实际付款不符",
]  # fmt: skip
DETAILS = [
    "已与商家多次协商未果", "当场拍照留存了证据", "商家承认有误但拒绝处理",
    "有同行人员可以作证", "已保留付款记录和小票", "客服电话一直无人接听",
    "商家称需要等待经理答复", "对方要求我自行承担损失",
]  # fmt: skip
ASKS = {
    "refund": "全额退款", "partial_refund": "退还多收的费用", "replacement": "更换商品",
    "compensation": "赔偿损失", "apology": "商家书面道歉", "other": "依法处理",
}  # fmt: skip
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英"
TEXT_WORD = "发票"  # in one issue of 15: the q=<word> scenario
RARE_WORD = "退货"  # "returned goods": in no description, so a search must read them all
# Three characters or more, which the pg_trgm indexes serve: one phrase of an issue (1 in 15),
# and one no description has.
COMMON_PHRASE = "缺斤短两"
RARE_PHRASE = "退货退款"
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
NULL = "\\N"  # COPY's text format


def log(message: str) -> None:
    print(f"[queue-bench] {message}", flush=True)


# --- the throw-away database and the app's command line ---------------------------------


class ScratchDatabase:
    def __init__(self, admin_url: str):
        self.admin_url = admin_url.replace("postgresql+psycopg://", "postgresql://", 1)
        host = urlsplit(self.admin_url).hostname
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise SystemExit(f"refusing a non-local database host {host!r}")
        self.name = f"anxin_queue_bench_{secrets.token_hex(6)}"
        self.url = urlunsplit(urlsplit(self.admin_url)._replace(path=f"/{self.name}"))

    def __enter__(self):
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{self.name}"')
            self.version = conn.execute("SHOW server_version").fetchone()[0]
            self.settings = {
                name: conn.execute(f"SHOW {name}").fetchone()[0]
                for name in ("shared_buffers", "work_mem", "effective_cache_size")
            }
        log(f"created database {self.name}")
        return self

    def __exit__(self, *exc):
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        log(f"dropped database {self.name}")


def app_env(database_url: str) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("REDIS_", "TWILIO_", "SMTP_", "BENCH_", "DATABASE_"))
    }
    env.update(
        ANXIN_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(48),
        QR_SIGNING_KEY=secrets.token_urlsafe(48),
        PUBLIC_BASE_URL="http://127.0.0.1:5000",
        DATABASE_URL=database_url.replace("postgresql://", "postgresql+psycopg://", 1),
        RATELIMIT_ENABLED="0",
        SMS_BACKEND="console_sms",
        EMAIL_BACKEND="console_email",
        PYTHONPATH=str(ROOT),
    )
    return env


def flask_cli(env: dict, *args: str) -> str:
    completed = subprocess.run(  # noqa: S603 - our venv's flask
        [str(BIN / "flask"), "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"flask {args[0]} failed:\n{completed.stderr[-2000:]}")
    return completed.stdout


def other_bench_running() -> list[str]:
    found = subprocess.run(  # noqa: S603 - a fixed pgrep
        ["/usr/bin/pgrep", "-f", OTHER_BENCH], capture_output=True, text=True, check=False
    )
    return [pid for pid in found.stdout.split() if pid != str(os.getpid())]


def wait_for_other_bench(limit_s: float = 1800) -> float:
    """Seconds waited for another engineer's `bench/run.py` to finish (it loads all cores)."""
    started = time.monotonic()
    while pids := other_bench_running():
        if time.monotonic() - started > limit_s:
            raise SystemExit(f"{OTHER_BENCH} still running after {limit_s:.0f} s: giving up")
        if time.monotonic() - started < 1:
            log(f"{OTHER_BENCH} is running (pid {', '.join(pids)}): waiting for it to finish")
        time.sleep(5)
    waited = time.monotonic() - started
    if waited > 1:
        log(f"waited {waited:.0f} s for {OTHER_BENCH}")
    return waited


# --- the data ---------------------------------------------------------------------------


def ts(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(sep=" ")


def load(url: str, rng: random.Random) -> dict:
    """COPY merchants, outlets, cases and deadlines straight in (text format, built here)."""
    import psycopg

    started = time.perf_counter()
    with psycopg.connect(url) as conn:
        agencies = conn.execute(
            "SELECT id, slug, division_code FROM agencies ORDER BY id"
        ).fetchall()
        names = dict(conn.execute("SELECT code, name_zh FROM divisions").fetchall())
        children: dict[str, list[str]] = {}
        for code, parent in conn.execute("SELECT code, parent_code FROM divisions"):
            children.setdefault(parent, []).append(code)
        slugs = [slug for _, slug, _ in agencies]
        weights = [0.40 if s == SANYA else 0.25 if s == HAIKOU else 0.0 for s in slugs]
        rest = sum(1 for w in weights if w == 0)
        weights = [w or 0.35 / rest for w in weights]
        agency_divisions = [sorted(children.get(code, [])) or [code] for _, _, code in agencies]

        # Merchants: spread over the agencies like the cases; one outlet, a fifth have two.
        enterprises: list[list[tuple]] = [[] for _ in agencies]  # per agency: (id, outlets)
        outlet_rows, enterprise_rows = [], []
        trade_weights = [t[3] for t in TRADES]
        next_outlet, codes = 1, set()
        enterprise_id = 0
        for a, (_, _, division) in enumerate(agencies):
            city = names[division][:2]
            wanted = max(20, round(MERCHANTS * weights[a]))
            seen = set()
            while len(seen) < wanted:
                (b1, e1), (b2, e2) = rng.sample(BRAND, 2)
                trade = rng.choices(TRADES, trade_weights)[0]
                suffix = rng.choice(SUFFIXES)
                key = (b1 + b2, trade[0], suffix[0])
                if key in seen:
                    continue
                seen.add(key)
                enterprise_id += 1
                home = rng.choice(agency_divisions[a])
                created = ts(NOW.timestamp() - rng.uniform(400, 3000) * DAY)
                enterprise_rows.append(
                    f"{enterprise_id}\t91{division}MA{enterprise_id:08d}\t"
                    f"{city}{b1}{b2}{trade[0]}{suffix[0]}\t{e1} {e2} {trade[1]} {suffix[1]}\t"
                    f"{home}\t{'t' if rng.random() < 0.7 else 'f'}\tt\tzh\t{created}\n"
                )
                outlets = []
                for n in range(1 if rng.random() < 0.8 else 2):
                    code = "".join(rng.choices(CODE_ALPHABET, k=8))
                    while code in codes:
                        code = "".join(rng.choices(CODE_ALPHABET, k=8))
                    codes.add(code)
                    where = home if n == 0 else rng.choice(agency_divisions[a])
                    branch = "" if n == 0 else "二店"
                    outlet_rows.append(
                        f"{next_outlet}\t{code}\t{enterprise_id}\t{b1}{b2}{trade[0]}{branch}\t"
                        f"{e1} {e2} {trade[1]}\t{trade[2]}\t{where}\t\t1\t{created}\n"
                    )
                    outlets.append((next_outlet, trade[2], where, f"{b1}{b2}{trade[0]}"))
                    next_outlet += 1
                enterprises[a].append((enterprise_id, outlets))
        with conn.cursor().copy(
            "COPY enterprises (id, uscc, name_zh, name_en, division_code, answers_first,"
            " trusted, notify_language, created_at) FROM STDIN"
        ) as copy:
            copy.write("".join(enterprise_rows))
        with conn.cursor().copy(
            "COPY outlets (id, code, enterprise_id, name_zh, name_en, category, division_code,"
            " address, qr_key_version, created_at) FROM STDIN"
        ) as copy:
            copy.write("".join(outlet_rows))
        log(f"{enterprise_id:,} merchants, {next_outlet - 1:,} outlets")

        # Who each case is about and when: popular merchants get more (a long tail).
        cum = []
        for members in enterprises:
            total, acc = 0.0, []
            for rank in range(len(members)):
                total += 1 / (rank + 1) ** 0.8
                acc.append(total)
            cum.append(acc)
        states = list(STATE_MIX)
        now = NOW.timestamp()
        specs = []
        agency_of = rng.choices(range(len(agencies)), weights, k=CASES)
        state_of = rng.choices(states, [STATE_MIX[s] for s in states], k=CASES)
        for a, state in zip(agency_of, state_of, strict=True):
            if state == "submitted":
                created = now - rng.uniform(5, 600)
                entered = created
            elif state == "merchant_response":
                created = now - rng.uniform(60, DAY - 60)
                entered = created
            elif state == "regulator_review":
                created = now - rng.uniform(1, 14) * DAY
                entered = min(now - 60, created + rng.uniform(0, 1.5) * DAY)
            elif state == "mediation":
                created = now - rng.uniform(5, 75) * DAY
                entered = min(now - 60, created + rng.uniform(1, 5) * DAY)
            else:  # ended: filed in the last three years, handled within weeks
                created = now - rng.uniform(3, 3 * 365) * DAY
                entered = min(now - 60, created + rng.uniform(1, 40) * DAY)
            ent, outlets = rng.choices(enterprises[a], cum_weights=cum[a])[0]
            specs.append((created, entered, a, state, ent, rng.choice(outlets)))
        specs.sort(key=lambda spec: spec[0])  # ids grow with filing time, as in production

        sequences: dict[str, int] = {}
        deadline_rows: list[str] = []
        counts = {"cases": 0, "deadlines": 0, "running": 0}
        with conn.cursor().copy(
            "COPY cases (id, number, state, state_entered_at, source, enterprise_id, outlet_id,"
            " agency_id, handler_id, division_code, category, description, occurred_on,"
            " amount_paid_fen, amount_claimed_fen, remedy, tourist_name, tourist_phone,"
            " language, contact_consent, phone_verified_at, tracking_key_hash,"
            " submission_key_hash, created_at, offer_pending, appraisal_paused, escalated,"
            " version) FROM STDIN"
        ) as copy:
            batch = []
            remedies = list(ASKS)
            for case_id, (created, entered, a, state, ent, outlet) in enumerate(specs, 1):
                outlet_id, category, division, outlet_name = outlet
                local = datetime.fromtimestamp(created, LOCAL)
                prefix = f"{agencies[a][2]}-{local:%Y%m%d}"
                sequences[prefix] = seq = sequences.get(prefix, 0) + 1
                remedy = rng.choice(remedies)
                occurred = (local - timedelta(days=rng.randint(0, 3))).date()
                description = (
                    f"{occurred.month}月{occurred.day}日在{outlet_name}{rng.choice(ISSUES)}，"
                    f"{rng.choice(DETAILS)}，{rng.choice(DETAILS)}，要求{ASKS[remedy]}。"
                )
                paid = rng.randint(20, 8000) * 100
                created_s, entered_s = ts(created), ts(entered)
                due = _deadlines(rng, case_id, state, created, entered, deadline_rows)
                counts["running"] += due is not None
                late = due is not None and due < now and state in ("regulator_review", "mediation")
                escalated = "t" if late else "f"
                batch.append(
                    f"{case_id}\tHN-{prefix}-{seq:06d}\t{state}\t{entered_s}\t"
                    f"{rng.choices(('qr', 'search', 'api'), (70, 25, 5))[0]}\t{ent}\t"
                    f"{outlet_id}\t{agencies[a][0]}\t{NULL}\t{division}\t{category}\t"
                    f"{description}\t{occurred.isoformat()}\t{paid}\t"
                    f"{rng.randint(1, paid // 100) * 100}\t{remedy}\t"
                    f"{rng.choice(SURNAMES)}{''.join(rng.choices(GIVEN, k=rng.randint(1, 2)))}\t"
                    f"+861{rng.randint(3, 9)}{rng.randrange(10**9):09d}\t"
                    f"{'zh' if rng.random() < 0.85 else 'en'}\t"
                    f"{'t' if rng.random() < 0.6 else 'f'}\t"
                    f"{created_s if rng.random() < 0.7 else NULL}\t"
                    f"{hashlib.sha256(b'track:%d' % case_id).hexdigest()}\t"
                    f"{hashlib.sha256(b'submit:%d' % case_id).hexdigest()}\t"
                    f"{created_s}\tf\tf\t{escalated}\t1\n"
                )
                if len(batch) == 20_000:
                    copy.write("".join(batch))
                    batch.clear()
            copy.write("".join(batch))
        counts["cases"] = len(specs)
        log(f"{len(specs):,} cases copied ({time.perf_counter() - started:.0f} s so far)")
        with conn.cursor().copy(
            "COPY case_deadlines (case_id, kind, state, started_at, due_at, provisional,"
            " next_reminder_at, reminders_sent, fired_at, closed_at) FROM STDIN"
        ) as copy:
            for i in range(0, len(deadline_rows), 50_000):
                copy.write("".join(deadline_rows[i : i + 50_000]))
        counts["deadlines"] = len(deadline_rows)
        for table in ("enterprises", "outlets", "cases", "case_deadlines"):
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"  # noqa: S608 - our names
                f" (SELECT max(id) FROM {table}))"
            )
        conn.commit()
        copied = time.perf_counter() - started
        log(f"{len(deadline_rows):,} deadlines copied; committed after {copied:.0f} s")
        conn.autocommit = True
        for table in ("enterprises", "outlets", "cases", "case_deadlines"):
            conn.execute(f"VACUUM ANALYZE {table}")
    counts.update(
        merchants=enterprise_id,
        outlets=next_outlet - 1,
        copy_s=copied,
        load_s=time.perf_counter() - started,
    )
    return counts


def _deadline(case_id, kind, state, started, due, closed=None, reminder=None) -> str:
    return (
        f"{case_id}\t{kind}\t{state}\t{ts(started)}\t{ts(due)}\tf\t"
        f"{ts(reminder) if reminder else NULL}\t0\t{NULL}\t"
        f"{ts(closed) if closed else NULL}\n"
    )


# The steps a case went through before its current state: (deadline kind, state, length).
MERCHANT = ("merchant_response", "merchant_response", DAY)
REVIEW = ("acceptance_decision", "regulator_review", 9 * DAY)  # 7 working days
MEDIATE = ("mediation", "mediation", 63 * DAY)  # 45 working days


def _path(rng, state: str) -> tuple[list, str]:
    """(the steps before `state`, how it ended) for a case now in `state`."""
    merchant = [MERCHANT] if rng.random() < 0.6 else []  # merchants in online resolution
    if state == "closed":
        state = rng.choices(("resolved", "terminated", "withdrawn", "declined"), (55, 10, 15, 20))[
            0
        ]
    if state in ("regulator_review", "declined"):
        return merchant, state
    if state in ("mediation", "terminated"):
        return [*merchant, REVIEW], state
    if state == "resolved":  # settled by the merchant, or mediated
        return ([MERCHANT] if rng.random() < 0.5 else [*merchant, REVIEW, MEDIATE]), state
    return [MERCHANT, REVIEW, MEDIATE][: rng.randint(1, 3)], state  # withdrawn on the way


def _deadlines(rng, case_id, state, created, entered, rows) -> float | None:
    """The deadline rows of a case: one per step it went through, closed when it moved on;
    the current state's still running. Returns the running deadline's due time, if any."""
    now = NOW.timestamp()
    if state == "submitted":
        return None
    if state == "merchant_response":
        due = entered + DAY
        rows.append(_deadline(case_id, *MERCHANT[:2], entered, due, None, due - 2 * HOUR))
        return due
    steps, outcome = _path(rng, state)
    ended = entered if state != "closed" else created + (entered - created) * 0.8
    for i, (kind, step_state, length) in enumerate(steps):
        start = created + (ended - created) * i / len(steps)
        stop = created + (ended - created) * (i + 1) / len(steps)
        rows.append(_deadline(case_id, kind, step_state, start, start + length, stop))
    running = None
    if state in ("regulator_review", "mediation"):
        kind, _, length = REVIEW if state == "regulator_review" else MEDIATE
        running = (kind, state, entered, entered + length)
    elif outcome == "declined":  # the appeal window runs from the decline, closing keeps it
        due = ended + 15 * DAY
        if state == "declined" and due > now:
            running = ("appeal_window", state, ended, due)
        else:
            closed = min(due, entered) if state == "closed" else due
            rows.append(_deadline(case_id, "appeal_window", "declined", ended, due, closed))
    elif outcome == "terminated":  # the parties are told within 7 working days
        due = ended + 9 * DAY
        if state == "terminated" and due > now:
            running = ("termination_notice", state, ended, due)
        else:
            closed = min(due, entered) if state == "closed" else due
            rows.append(_deadline(case_id, "termination_notice", "terminated", ended, due, closed))
    if state == "closed" and outcome != "declined":  # closing starts the appeal window
        due = entered + 15 * DAY
        if due > now:
            running = ("appeal_window", state, entered, due)
        else:
            rows.append(_deadline(case_id, "appeal_window", state, entered, due, due))
    if running is None:
        return None
    kind, running_state, start, due = running
    reminder = None if kind == "appeal_window" else due - DAY
    rows.append(_deadline(case_id, kind, running_state, start, due, None, reminder))
    return due


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


def percentile(values: list[float], pct: int) -> float:
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    return statistics.quantiles(ordered, n=100, method="inclusive")[pct - 1]


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


# --- the run ------------------------------------------------------------------------------


def main() -> None:
    began = time.perf_counter()
    rng = random.Random(20261125)
    load_average = os.getloadavg()
    waited = wait_for_other_bench()
    with ScratchDatabase(ADMIN_URL) as scratch:
        env = app_env(scratch.url)
        log("flask db upgrade, flask seed (production: reference data only)")
        flask_cli(env, "db", "upgrade")
        flask_cli(env, "seed")
        waited += wait_for_other_bench()
        log(f"loading {CASES:,} cases")
        loaded = load(scratch.url, rng)
        log(f"loaded in {loaded['load_s']:.0f} s (COPY {loaded['copy_s']:.0f} s)")
        data = describe_data(scratch.url)
        password = secrets.token_urlsafe(24)
        flask_cli(
            env, "accounts", "create", "--email", HANDLER_EMAIL, "--name",
            "Queue bench handler (Sanya)", "--role", "handler", "--agency-slug", SANYA,
            "--password", password,
        )  # fmt: skip
        waited += wait_for_other_bench()
        others_during = []
        results = run_measurements(env, password, data, others_during)
        results["total_s"] = time.perf_counter() - began  # without dropping the database
        write_results(scratch, loaded, data, results, load_average, waited, others_during)


def run_measurements(env: dict, password: str, data: dict, others_during: list) -> dict:
    os.environ.update(env)
    from complaints import create_app
    from complaints.console import queries
    from complaints.extensions import db

    app = create_app()
    with app.app_context():
        probe = Probe(db.engine, queries)
    console = Console(app, probe)
    console.sign_in(HANDLER_EMAIL, password)
    log("signed in; walking the queue")
    started = time.perf_counter()
    urls, walk_ms = walk(console)
    walk_s = time.perf_counter() - started
    log(f"walked {len(walk_ms)} pages in {walk_s:.0f} s")
    cursors = {}
    with app.app_context():
        for depth in DEPTHS:
            token = urlsplit(urls[depth]).query.split("after=", 1)[1].split("&")[0]
            cursors[depth] = queries.decode_cursor(unquote(token))
        for page, case_id in data["ended_pages"]["pages"].items():
            cursors[page] = queries.Cursor(3, None, case_id)
            urls[page] = f"/console/?after={quote(queries.encode_cursor(cursors[page]))}"
    merchant, brand, number = data["merchant"][0], data["brand"], data["number"]
    mid_ended, last_page = data["ended_pages"]["pages"]
    scenarios = [
        ("first page", "/console/"),
        *[(f"page {d} (cursor)", urls[d]) for d in DEPTHS],
        (f"page {mid_ended} (half-way through the ended cases)", urls[mid_ended]),
        (f"page {last_page} (the last page)", urls[last_page]),
        ("state=regulator_review", "/console/?state=regulator_review"),
        ("category=catering", "/console/?category=catering"),
        (f"division={data['division'][0]}", f"/console/?division={data['division'][0]}"),
        ("merchant=<one merchant's full name>", f"/console/?merchant={quote(merchant)}"),
        (f"merchant={brand} (part of a name)", f"/console/?merchant={quote(brand)}"),
        ("q=<case number>", f"/console/?q={quote(number)}"),
        (f"q={TEXT_WORD} (a word of the text)", f"/console/?q={quote(TEXT_WORD)}"),
        (f"q={RARE_WORD} (a word no description has)", f"/console/?q={quote(RARE_WORD)}"),
        (f"q={COMMON_PHRASE} (a phrase of the text)", f"/console/?q={quote(COMMON_PHRASE)}"),
        (f"q={RARE_PHRASE} (a phrase no description has)", f"/console/?q={quote(RARE_PHRASE)}"),
        ("state=closed (no running deadline)", "/console/?state=closed"),
    ]
    log(f"measuring {len(scenarios)} scenarios x {REPEATS}")
    samples = measure(console, scenarios)
    if other_bench_running():
        others_during.append("after the measurement")
    F = queries.QueueFilters
    sanya = data["sanya_id"]
    log("EXPLAIN (ANALYZE, BUFFERS)")
    division = data["division"][0]
    plans = {
        "first page": explain(app, probe, queries, sanya, F(), None),
        **{f"page {d}": explain(app, probe, queries, sanya, F(), cursors[d]) for d in DEPTHS},
        f"page {mid_ended}": explain(app, probe, queries, sanya, F(), cursors[mid_ended]),
        f"page {last_page}": explain(app, probe, queries, sanya, F(), cursors[last_page]),
        f"division={division}": explain(app, probe, queries, sanya, F(division=division), None),
        "merchant=<one merchant's full name>": explain(
            app, probe, queries, sanya, F(merchant=merchant), None
        ),
        "q=<case number>": explain(app, probe, queries, sanya, F(q=number), None),
        f"q={TEXT_WORD}": explain(app, probe, queries, sanya, F(q=TEXT_WORD), None),
        f"q={RARE_WORD}": explain(app, probe, queries, sanya, F(q=RARE_WORD), None),
        f"q={RARE_PHRASE}": explain(app, probe, queries, sanya, F(q=RARE_PHRASE), None),
    }
    tried = experiments(app, plans, mid_ended)
    log("tried the fixes")
    with app.app_context():
        db.engine.dispose()
    return {
        "scenarios": scenarios,
        "samples": samples,
        "walk_ms": walk_ms,
        "walk_s": walk_s,
        "cursors": cursors,
        "plans": plans,
        "experiments": tried,
        "mid_ended": mid_ended,
        "last_page": last_page,
    }


# --- the report ---------------------------------------------------------------------------


def write_results(scratch, loaded, data, results, load_average, waited, others_during) -> None:
    lines = report_lines(scratch, loaded, data, results, load_average, waited, others_during)
    text = RESULTS.read_text() if RESULTS.exists() else ""
    if SECTION in text:
        head, _, rest = text.partition(SECTION)
        following = rest.find("\n## ")
        tail = rest[following + 1 :] if following >= 0 else ""
        text = head.rstrip() + "\n\n" + "\n".join(lines) + ("\n" + tail if tail else "")
    else:
        text = (text.rstrip() + "\n\n" if text else "") + "\n".join(lines)
    RESULTS.write_text(text)
    log(f"wrote the {SECTION!r} section of {RESULTS}")


def code_version() -> str:
    """The commit of the app code measured, and whether it had uncommitted changes."""

    def git(*args: str) -> str:
        done = subprocess.run(  # noqa: S603 - read-only git
            ["/usr/bin/git", *args], cwd=ROOT, capture_output=True, text=True, check=False
        )
        return done.stdout.strip()

    head = git("log", "-1", "--format=%h %s")
    if not head:
        return "unknown (no git)"
    dirty = git("status", "--porcelain", "--", "complaints", "workflows", "migrations")
    return f"`{head}`" + (" plus uncommitted changes" if dirty else "")


def memory_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 1024 / 1024
    return 0.0


def cpu_name() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


SLOW_MS = 100  # a console page slower than this at p95 is called slow below


def report_lines(scratch, loaded, data, results, load_average, waited, others_during) -> list:
    samples, plans, walk_ms = results["samples"], results["plans"], results["walk_ms"]
    stats = {name: _stats(values) for name, values in samples.items()}
    by_state = data["by_state"]
    open_sanya = sum(by_state.get(s, 0) for s in OPEN)
    sanya = data["sanya_cases"]
    mb = {table: size / 1024 / 1024 for table, size in data["sizes"].items()}
    note = (
        f" Waited {waited:.0f} s for another `bench/run.py` to finish before loading and measuring."
        if waited > 1
        else " No other benchmark ran meanwhile."
    )
    if others_during:
        note += " A `bench/run.py` started during the measurement: the numbers are disturbed."
    deep, mid, last = max(DEPTHS), results["mid_ended"], results["last_page"]
    cursor = results["cursors"][deep]
    ended = data["ended_pages"]
    merchant_name, merchant_cases, merchant_open = data["merchant"]
    lines = [
        SECTION,
        "",
        f"Written by `bench/queue_keyset.py` (`make bench-queue`) on {NOW:%Y-%m-%d %H:%M} UTC: "
        f"{os.cpu_count()} CPUs ({cpu_name()}), {memory_gib():.1f} GiB, load average at start "
        f"{' '.join(f'{x:.2f}' for x in load_average)}, Python {platform.python_version()}, "
        f"PostgreSQL {scratch.version} on 127.0.0.1 (shared_buffers "
        f"{scratch.settings['shared_buffers']}, work_mem {scratch.settings['work_mem']}, "
        f"effective_cache_size {scratch.settings['effective_cache_size']}): a fresh database "
        "migrated with `flask db upgrade` and seeded with `flask seed` (ANXIN_ENV=production: "
        "reference data only), loaded with COPY, `VACUUM ANALYZE`d, dropped afterwards. "
        f"App code measured: {code_version()}. "
        f"The whole run took {results['total_s'] / 60:.1f} minutes.{note}",
        "",
        f"- Data: {loaded['cases']:,} cases over the 19 agencies, {sanya:,} "
        f"({sanya / loaded['cases']:.0%}) in Sanya's (`{SANYA}`), filed over three years, ids in "
        "filing order. Sanya's by state: "
        + ", ".join(f"{s} {by_state.get(s, 0):,}" for s in STATE_MIX)
        + f" ({open_sanya / sanya:.1%} open). {loaded['deadlines']:,} `case_deadlines` rows, one "
        "per step each case went through (merchant response, acceptance decision, mediation, "
        "termination notice, appeal window), closed when it moved on: "
        f"{data['running_all']:,} running, {data['running_sanya']:,} of them Sanya's (its open "
        "cases', and the appeal windows and termination notices of recently ended ones). "
        f"{loaded['merchants']:,} merchants (a long tail: a few get many complaints), "
        f"{loaded['outlets']:,} outlets; descriptions {data['description_chars']:.0f} characters "
        f"on average. `cases` {mb['cases']:,.0f} MB and `case_deadlines` "
        f"{mb['case_deadlines']:,.0f} MB with their indexes. Loaded in {loaded['load_s']:.0f} s "
        f"(COPY with every index and foreign key in place {loaded['copy_s']:.0f} s, then "
        "VACUUM ANALYZE).",
        "- How: the Flask test client, signed in through `POST /login` as a Sanya handler made "
        "with `flask accounts create`, against `create_app()` with the production config on the "
        "bench database. Each number is a whole `GET /console/...` (session and account load, "
        "filter form, `queries.queue_page`, the template with its rows); `queue_page` is the "
        "time spent inside that function (its SQL and building the rows); statements are all "
        "SQL statements of the request and their time is from sending each to having its "
        f"result (psycopg). {REPEATS} interleaved rounds after {WARMUPS} warm-ups; "
        "p95 is interpolated from those samples (about the second slowest).",
        f"- Pages {', '.join(str(d) for d in DEPTHS)}: reached by following each page's `Next "
        f"page` link (its signed `after` cursor) from the first page; page {deep} starts at row "
        f"{(deep - 1) * 25 + 1:,} (its cursor: segment {cursor.segment}, "
        + (f"due {cursor.due_at:%Y-%m-%d %H:%M}, " if cursor.due_at else "")
        + f"case {cursor.case_id:,}). The queue's last {ended['ended']:,} rows are ended cases "
        f"without a running deadline, in id order: page {mid} (half-way through them) and page "
        f"{last} (the last page) would take thousands of requests to walk to, so their cursor "
        "is built the way the app builds it (segment 3, the id of the previous page's last row, "
        "found with SQL) and signed with `encode_cursor`.",
        f"- Filters: `{merchant_name}` is a mid-sized Sanya merchant ({merchant_cases} cases, "
        f"{merchant_open} open); `{data['brand']}` is part of {data['brand_merchants']} "
        f"merchants' names. `q=<case number>` is `{data['number']}`, an old closed Sanya case; "
        f"`{TEXT_WORD}` is in {data['word_share']:.1%} of the descriptions, `{RARE_WORD}` in "
        f"{data['rare_share']:.1%}.",
        "",
        "| scenario | request p50 | request p95 | `queue_page` p50 | `queue_page` p95 "
        "| SQL statements | their time p50 | rows |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, _path in results["scenarios"]:
        st = stats[name]
        flag = " **slow**" if st["p95"] > SLOW_MS else ""
        lines.append(
            f"| {name}{flag} | {st['p50']:.1f} ms | {st['p95']:.1f} ms | {st['q50']:.1f} ms | "
            f"{st['q95']:.1f} ms | {st['statements']:.0f} | {st['sql50']:.1f} ms | "
            f"{st['rows']} |"
        )
    stretches = [
        f"{statistics.median(walk_ms[i : i + 100]):.0f}" for i in range(0, len(walk_ms), 100)
    ]
    lines += [
        "",
        f"**slow**: p95 over {SLOW_MS} ms. Walking pages 1 to {deep} one after the other took "
        f"{results['walk_s']:.0f} s: per page p50 {statistics.median(walk_ms):.1f} ms, p95 "
        f"{percentile(walk_ms, 95):.1f} ms, max {max(walk_ms):.1f} ms; p50 of each run of 100 "
        f"pages (1-100, 101-200, ...): {', '.join(stretches)} ms.",
        "",
        *findings(stats, plans, data, results),
        *fixes_tried(results["experiments"]),
        *plan_lines(plans, results),
    ]
    return lines


FULL_PLANS = ("first page", "page ")  # one table row per statement; the filters get a summary


def plan_lines(plans: dict, results: dict) -> list[str]:
    deep, mid = max(DEPTHS), results["mid_ended"]
    lines = [
        "### Plans",
        "",
        "`queue_page` reads the queue in four segments (open cases with a running deadline by "
        "(due_at, id); open ones without, by id; then the same two for ended cases), one "
        "statement per state of a segment, each `LIMIT 26`, merged in Python; a page stops at "
        "the first segment that fills it. Below, the statements of one call, captured as the "
        "view sends them and run again under `EXPLAIN (ANALYZE, BUFFERS)`. *Order* says whether "
        "PostgreSQL walked an index in queue order and stopped after 26 rows, or fetched every "
        "match and sorted them (and how many it expected). Rows removed count every loop.",
        "",
    ]
    for label, statements in plans.items():
        total = sum(p["ms"] for p in statements)
        lines += [
            f"**{label}**: {len(statements)} statements, {total:.1f} ms of execution in all.",
            "",
        ]
        if not label.startswith(FULL_PLANS):
            for p in sorted(statements, key=lambda p: -p["ms"])[:3]:
                lines.append(f"- {_statement(p)}")
            lines.append("")
            continue
        lines += [
            "| state | segment | order | scans | rows removed by filters | shared buffers "
            "hit / read | execution |",
            "|---|---|---|---|---:|---:|---:|",
        ]
        for p in statements:
            scans = ", ".join(f"`{s}`" for s in p["scans"]) or "-"
            lines.append(
                f"| {p['state']} | {p['kind']} | {p['order']} | {scans} | {p['removed']:,} | "
                f"{p['hit']:,} / {p['read']:,} | {p['ms']:.2f} ms |"
            )
        lines.append("")
    for label in ("first page", f"page {deep}", f"page {mid}"):
        slowest = max(plans[label], key=lambda p: p["ms"])
        lines += [
            f"{label}, its slowest statement ({slowest['state']}, {slowest['kind']}), trimmed "
            "(costs, planner buffers and per-worker lines left out):",
            "",
            "```",
            trim(slowest["plan"]),
            "```",
            "",
        ]
    return lines


def _statement(p: dict) -> str:
    return (
        f"{p['state']}, {p['kind']}: {p['ms']:.1f} ms, {p['order']}, "
        f"{p['removed']:,} rows removed by filters; " + ", ".join(f"`{s}`" for s in p["scans"])
    )


def fixes_tried(tried: list[dict]) -> list[str]:
    if not tried:
        return []
    lines = [
        "### Fixes tried on the same data",
        "",
        "The slowest statements again under `EXPLAIN ANALYZE`, right after the measurement, "
        "with one change to their SQL text or one more index in the scratch database (the app "
        "and its migrations are not changed):",
        "",
        "| statement | as the app sends it | changed |",
        "|---|---|---|",
    ]
    for t in tried:
        before, after = t["before"], t["after"]
        lines.append(
            f"| {t['what']} | {before['ms']:.1f} ms, {before['order']}, "
            f"{before['deadline_rows']:,} `case_deadlines` rows read | {after['ms']:.1f} ms, "
            f"{after['order']}, {after['deadline_rows']:,} rows read |"
        )
    return [*lines, ""]


def _stats(values: list[dict]) -> dict:
    ms = [v["ms"] for v in values]
    queue_ms = [v["queue_ms"] for v in values]
    return {
        "p50": statistics.median(ms),
        "p95": percentile(ms, 95),
        "q50": statistics.median(queue_ms),
        "q95": percentile(queue_ms, 95),
        "statements": statistics.median(v["statements"] for v in values),
        "sql50": statistics.median(v["sql_ms"] for v in values),
        "rows": values[-1]["rows"],
    }


def findings(stats, plans, data, results) -> list[str]:
    deep, mid, last = max(DEPTHS), results["mid_ended"], results["last_page"]
    first = stats["first page"]
    pages = {d: stats[f"page {d} (cursor)"] for d in DEPTHS}
    mid_st = stats[f"page {mid} (half-way through the ended cases)"]
    last_st = stats[f"page {last} (the last page)"]
    walk_ms = results["walk_ms"]
    by_hundred = [statistics.median(walk_ms[i : i + 100]) for i in range(0, len(walk_ms), 100)]
    sorted_pages = [
        label
        for label in ("first page", *(f"page {d}" for d in DEPTHS))
        if any(p["order"].startswith("sort") for p in plans[label])
    ]
    lines = ["### Findings", ""]
    indexes = sorted(
        {i for label in ("first page", f"page {deep}") for p in plans[label] for i in p["indexes"]}
    )
    lines.append(
        "- **The cursor is a seek, not an OFFSET.** It is an index condition, `(due_at, case_id) "
        "> (...)` on `ix_case_deadlines_running` (by id on `pk_cases` or "
        "`ix_cases_agency_state_id` in the segments without a deadline), never an OFFSET: "
        f"walking on, the p50 per 100 pages goes from {by_hundred[0]:.0f} ms (pages 1-100) to "
        f"{by_hundred[-1]:.0f} ms (pages {len(walk_ms) - 99}-{len(walk_ms)}); what a page costs "
        "is the plan PostgreSQL picks for each statement, not how many pages came before. "
        "Every statement "
        f"of the first page and page {deep} reads through indexes ("
        + ", ".join(f"`{i}`" for i in indexes)
        + "). The first page takes "
        f"{first['p50']:.0f} ms (p95 {first['p95']:.0f})"
        + (
            ", its statements walking the index in due order and stopping after 26 rows."
            if "first page" not in sorted_pages
            else "."
        )
    )
    first_sql = sum(p["ms"] for p in plans["first page"])
    lines.append(
        f"- **Where a fast page's time goes** (first page, p50): {first['p50']:.0f} ms for the "
        f"request, {first['q50']:.1f} ms of it in `queue_page`, {first['sql50']:.1f} ms in its "
        f"{first['statements']:.0f} SQL statements (as measured from the app, round trips "
        f"included), of which PostgreSQL executes the queue statements in {first_sql:.1f} ms "
        "(EXPLAIN). The rest is Python: SQLAlchemy building a case, its deadline, merchant and "
        "district for up to 26 rows per state (then merged down to 25), the session and "
        "account load, the filter form and the template."
    )
    deep_sorts = [
        (label, p)
        for label in sorted_pages
        if label != "first page"
        for p in plans[label]
        if p["order"].startswith("sort")
    ]
    if deep_sorts:
        label, worst = max(deep_sorts, key=lambda lp: lp[1]["ms"])
        fixed = [t for t in results["experiments"] if t.get("label")]
        slow_pages = any(pages[d]["p95"] > SLOW_MS for d in DEPTHS)
        lines.append(
            ("- **But the pages after the first are slow: " if slow_pages else "- **Pages: ")
            + ", ".join(
                f"page {d} {pages[d]['p50']:.0f} ms (p95 {pages[d]['p95']:.0f})" for d in DEPTHS
            )
            + ".** Given a cursor, PostgreSQL switches the big states' statements from the "
            "ordered walk to a bitmap scan of that state's running deadlines after the cursor, "
            "island-wide, a `pk_cases` probe for each to keep Sanya's, and a sort: "
            f"{label}'s {worst['state']} statement is a {worst['order']} ({worst['ms']:.0f} ms). "
            "Why it expects so few: `ix_case_deadlines_running` is `(state, due_at, case_id) "
            "WHERE closed_at IS NULL` over every agency's deadlines, while the agency and the "
            "case's state are on `cases`; the planner takes the chance that a running "
            f"{worst['state']} deadline's case is Sanya's and in {worst['state']} to be that of "
            f"any case (40% x a few %), when in fact the case is always in that state and 40% "
            "are Sanya's. With a handful of matches expected, reading them all and sorting "
            "looks cheaper than a walk that (it thinks) must pass most of the index before "
            "finding 26. The cost is the number of that state's running deadlines after the "
            "cursor in the whole province, so the second page is the dearest, later pages get "
            "cheaper, and all of them grow with the province's open cases."
            + (
                "".join(
                    f" Without the redundant `cases.state = ...` the {t['label']} statement "
                    f"is a {t['after']['order']}: {t['after']['ms']:.1f} ms instead of "
                    f"{t['before']['ms']:.1f} ms."
                    for t in fixed
                )
                + " That is a query change"
                if fixed
                else " A query change to try: drop the redundant `cases.state = ...` from the "
                "statement"
            )
            + " (it relies on the timers' rule that a running deadline belongs to the case's "
            "current state). The index that matches the query needs the "
            "agency next to the deadline: `agency_id` on `case_deadlines` (kept with the "
            "case's, moved on transfer) and `(agency_id, state, due_at, case_id) WHERE "
            "closed_at IS NULL`, so the walk never meets another agency's rows and the "
            "estimate is right; or the running deadline's `due_at` kept on `cases` with "
            "`(agency_id, state, running_due_at, id)`, so the queue reads one table."
        )
    ended = max(plans[f"page {mid}"], key=lambda p: p["ms"])
    tried = [t for t in results["experiments"] if t["before"] is ended]
    bound = next((t for t in tried if not t.get("index")), None)
    indexed = next((t for t in tried if t.get("index")), None)
    merge = "Merge Anti Join" in ended["plan"]
    lines.append(
        f"- **Ended cases without a running deadline** (the last {data['ended_pages']['ended']:,} "
        f"rows of the queue, by id): page {mid}, half-way through them, takes "
        f"{mid_st['p50']:.0f} ms (p95 {mid_st['p95']:.0f}); the last page {last_st['p50']:.0f} "
        f"ms. The slowest statement of page {mid} ({ended['state']}, {ended['ms']:.0f} ms) "
        f"reads {ended['deadline_rows']:,} `case_deadlines` rows to return 26 cases: "
        + (
            "PostgreSQL answers its NOT EXISTS with a Merge Anti Join whose inner side walks "
            "`ix_case_deadlines_case_id` in case order keeping `closed_at IS NULL AND state = "
            "...`, from the first case (the cursor's `id > ...` is not passed into the "
            "subquery) to the first running deadline of that state, which belongs to a "
            "recently ended case near the end of the id range. Every page of this segment "
            "pays for that walk until, near the end, a per-case probe (Nested Loop Anti Join) "
            "is chosen, hence the cheap last page."
            if merge
            else "its NOT EXISTS is answered by a scan of `case_deadlines` rather than a "
            "probe per case."
        )
        + (
            f" Repeating the bound inside the NOT EXISTS only shortens the walk: "
            f"{bound['after']['ms']:.1f} ms ({bound['after']['deadline_rows']:,} rows read)."
            if bound
            else ""
        )
        + (
            " The fix is an index on the running deadlines by case (a migration, not made "
            "here), `CREATE INDEX ON case_deadlines (case_id) WHERE closed_at IS NULL`: with "
            "it the same statement "
            f"takes {indexed['after']['ms']:.1f} ms ({indexed['after']['deadline_rows']:,} rows "
            "read), since that index holds only running deadlines, all of recent cases."
            if indexed
            else ""
        )
    )
    given: set[str] = set()
    for name, st in stats.items():
        if st["p95"] <= SLOW_MS or name.startswith(("first page", "page ")):
            continue
        label = next((k for k in plans if name.startswith(k)), None)
        detail = ""
        if label:
            worst = max(plans[label], key=lambda p: p["ms"])
            detail = (
                f" Its {len(plans[label])} statements spend "
                f"{sum(p['ms'] for p in plans[label]):.0f} ms in PostgreSQL; the slowest: "
                + _statement(worst)
                + "."
            )
        why = advice(name)
        if why and why in given:
            why, detail = "Same cause and fix as above.", ""
        given.add(why)
        lines.append(
            f"- **{name}: p50 {st['p50']:.0f} ms, p95 {st['p95']:.0f} ms** "
            f"({st['p50'] / first['p50']:.1f}x the first page).{detail} {why}"
        )
    fast = [
        name
        for name, st in stats.items()
        if st["p95"] <= SLOW_MS and not name.startswith(("first page", "page "))
    ]
    if fast:
        lines.append(f"- Under {SLOW_MS} ms at p95: " + ", ".join(f"`{n}`" for n in fast) + ".")
    return [*lines, ""]


def advice(name: str) -> str:
    if name.startswith("q=<case number>"):
        return (
            "A whole case number should be one lookup in `uq_cases_number`; as `ILIKE "
            "'%...%'` on the description OR the number, no index can answer it and every "
            "statement reads all of Sanya's cases in its state."
        )
    if name.startswith("q="):
        return (
            "Text search is `ILIKE '%...%'` on the description OR the number, which no btree "
            "can answer: a word in several percent of the texts is found after a few hundred "
            "rows per statement, but a word that is rare or absent (or part of a case number) "
            "makes every statement read all of Sanya's cases in its state, the big ended "
            "states by scanning `cases` whole, before it can answer. Fix: an index for "
            "substring search. `CREATE EXTENSION pg_trgm` with a GIN `gin_trgm_ops` index on "
            "`description` and on `number` serves searches of three or more characters (a "
            "trigram needs three, so not the one- and two-character Chinese words people "
            "type); for those, a bigram index (the `pg_bigm` extension, not installed here) or "
            "full-text search with a Chinese parser (`zhparser`)."
        )
    if name.startswith("merchant="):
        return (
            "The merchant condition is `enterprise_id IN (SELECT id FROM enterprises WHERE "
            "name_zh ILIKE '%...%' OR name_en ILIKE '%...%')` inside each per-state "
            "statement, so every one of them scans `enterprises` again (about 12 ms each, for "
            "20,000 merchants); the cases themselves come fast through "
            "`ix_cases_enterprise_id`. Fix: look the matching merchant ids up once per request "
            "and pass them as a list. A pg_trgm GIN index on the two name columns would speed "
            "up that one lookup for searches of three or more characters."
        )
    if name.startswith("division="):
        return (
            "Same plan change as the pages after the first: filters on `cases` columns cut "
            "the rows returned, not the deadlines the bitmap reads, so the fix is the same."
        )
    return ""


if __name__ == "__main__":
    main()
