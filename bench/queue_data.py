"""The console-queue benchmark's data: a million cases COPYed in, with their deadlines."""

import hashlib
import os
import random
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bench.harness import logger

log = logger("queue-bench")

CASES = int(os.environ.get("BENCH_QUEUE_CASES", "1000000"))
MERCHANTS = int(os.environ.get("BENCH_QUEUE_MERCHANTS", "20000"))
REPEATS = int(os.environ.get("BENCH_QUEUE_REPEATS", "20"))
WARMUPS = 3
DEPTHS = (10, 100, 1000)
SECTION = "## Console queue at a million cases"
SANYA = "amr-460200"
HAIKOU = "amr-460100"
NOW = datetime.now(UTC).replace(microsecond=0)
LOCAL = ZoneInfo("Asia/Shanghai")
BASE_URL = "https://localhost"  # production sets SESSION_COOKIE_SECURE
HANDLER_EMAIL = "queue.bench.handler@anxin.example"

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
        # GIN (trigram) indexes are maintained row by row during COPY, about 4x the load
        # time: drop them and build them once after, as a real bulk import would.
        gin = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'"
            " AND indexdef LIKE '%USING gin%'"
        ).fetchall()
        for name, _definition in gin:
            conn.execute(f'DROP INDEX "{name}"')
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
        gin_started = time.perf_counter()
        for _name, definition in gin:
            conn.execute(definition)
        counts["gin_s"] = time.perf_counter() - gin_started
        conn.commit()
        copied = time.perf_counter() - started
        log(f"{len(deadline_rows):,} deadlines copied, {len(gin)} GIN indexes rebuilt in "
            f"{counts['gin_s']:.0f} s; committed after {copied:.0f} s")  # fmt: skip
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
