"""Onboarding a province: importing 100,000 enterprises and 200,000 outlets, and 1,000 posters.

    .venv/bin/python bench/admin_import.py

Creates a throw-away PostgreSQL database on BENCH_DATABASE_ADMIN_URL (127.0.0.1), runs
`flask db upgrade` and `flask seed`, writes the CSV files (valid USCCs, phones, e-mails, every
Hainan division, coordinates) and runs the real CLI commands, each as its own process, timed
and with its peak RSS (wait4): a tenth of the enterprises first, then the whole file (flat
memory: the peak should not grow tenfold), the same file again (all unchanged), the outlets,
and `flask outlets posters` for one enterprise's 1,000 outlets. Targets: imports under 60 s,
posters under 60 s. Writes an "Onboarding import" section into bench/RESULTS.md (replacing
its own section, leaving the others). Settings: BENCH_DATABASE_ADMIN_URL,
BENCH_ENTERPRISES (100000), BENCH_OUTLETS (200000), BENCH_POSTERS (1000).
"""

import csv
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from complaints.geo.hainan import all_divisions  # noqa: E402
from complaints.merchants.uscc import ALPHABET, make_uscc  # noqa: E402

ADMIN_URL = os.environ.get(
    "BENCH_DATABASE_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
ENTERPRISES = int(os.environ.get("BENCH_ENTERPRISES", "100000"))
OUTLETS = int(os.environ.get("BENCH_OUTLETS", "200000"))
POSTERS = int(os.environ.get("BENCH_POSTERS", "1000"))
FLASK = [str(Path(sys.executable).parent / "flask"), "--app", "wsgi"]
SECTION = "## Onboarding import"
CATEGORIES = ["餐饮", "住宿", "购物", "景区", "交通", "旅行社", "娱乐", "other"]


def org_base(n: int) -> str:
    digits = []
    for _ in range(8):
        n, r = divmod(n, len(ALPHABET))
        digits.append(ALPHABET[r])
    return "MA" + "".join(reversed(digits))[2:]


def write_files(folder: Path) -> tuple[Path, Path, Path, str]:
    divisions = [code for code, *_ in all_divisions() if code != "460000"]
    usccs = [
        make_uscc(org_base(i), division=divisions[i % len(divisions)]) for i in range(ENTERPRISES)
    ]
    header = ["统一社会信用代码", "名称", "英文名称", "行政区划代码", "联系电话", "电子邮箱"]
    full, tenth = folder / "enterprises.csv", folder / "enterprises-tenth.csv"
    with full.open("w", newline="") as f, tenth.open("w", newline="") as g:
        writers = [csv.writer(f), csv.writer(g)]
        for w in writers:
            w.writerow(header)
        for i, uscc in enumerate(usccs):
            row = [
                uscc,
                f"海南测试商户{i:06d}有限公司",
                f"Test merchant {i}",
                divisions[i % len(divisions)],
                f"138{i:08d}",
                f"m{i}@example.cn",
            ]
            writers[0].writerow(row)
            if i < ENTERPRISES // 10:
                writers[1].writerow(row)
    outlets = folder / "outlets.csv"
    with outlets.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(
            ["uscc", "name_zh", "name_en", "category", "division_code", "address", "lat", "long"]
        )
        for i in range(OUTLETS):
            # The first enterprise has POSTERS outlets, for the poster run; the rest share.
            owner = 0 if i < POSTERS else 1 + i % (ENTERPRISES - 1)
            w.writerow(
                [
                    usccs[owner],
                    f"门店{i:06d}",
                    f"Outlet {i}",
                    CATEGORIES[i % len(CATEGORIES)],
                    divisions[i % len(divisions)],
                    f"测试路{i}号",
                    f"{18 + (i % 200) / 100:.4f}",
                    f"{109 + (i % 300) / 100:.4f}",
                ]
            )
    return tenth, full, outlets, usccs[0]


def run(env, *args) -> tuple[float, float, float, str]:
    """Wall seconds, CPU seconds, peak RSS in MB, and the last line printed."""
    started = time.perf_counter()
    process = subprocess.Popen(  # noqa: S603 (our own flask, fixed arguments)
        [*FLASK, *args], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    out = process.stdout.read().decode().strip().splitlines()
    process.stdout.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{args} failed: {out[-3:]}")
    cpu = usage.ru_utime + usage.ru_stime
    return elapsed, cpu, usage.ru_maxrss / 1024, out[-1] if out else ""


def main() -> None:
    import psycopg

    name = f"anxin_bench_admin_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = re.sub(r"/[^/]*$", f"/{name}", ADMIN_URL).replace(
        "postgresql://", "postgresql+psycopg://"
    )
    env = {**os.environ, "DATABASE_URL": url, "ANXIN_ENV": "development", "REDIS_URL": ""}
    rows = []
    try:
        run(env, "db", "upgrade")
        run(env, "seed")
        with tempfile.TemporaryDirectory() as tmp:
            tenth, full, outlets, big = write_files(Path(tmp))
            steps = [
                (f"{ENTERPRISES // 10:,} enterprises (new)", ["enterprises", "import", str(tenth)]),
                (f"{ENTERPRISES:,} enterprises (90% new)", ["enterprises", "import", str(full)]),
                (
                    f"{ENTERPRISES:,} enterprises again (unchanged)",
                    ["enterprises", "import", str(full)],
                ),
                (f"{OUTLETS:,} outlets (new, codes made)", ["outlets", "import", str(outlets)]),
                (
                    f"{POSTERS:,} A5 posters, one PDF",
                    ["outlets", "posters", "--uscc", big, "--size", "a5", "--out", f"{tmp}/p.pdf"],
                ),
            ]
            for label, args in steps:
                seconds, cpu, rss, last = run(env, *args)
                rows.append((label, seconds, cpu, rss, last))
                print(
                    f"{label}: {seconds:.1f} s ({cpu:.1f} s CPU), {rss:.0f} MB: {last}", flush=True
                )
        rows.extend(time_lists(url))
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    write_section(rows)


def time_lists(url: str) -> list:
    """The admin lists at this size, in-process: first page, 20 pages deep, filters, search."""
    os.environ["DATABASE_URL"] = url
    from complaints import create_app
    from complaints.admin import queries

    app = create_app()
    steps = []
    with app.app_context():
        from complaints.extensions import db

        db.session.execute(db.text("ANALYZE"))

        def deep(page_fn, **kw):
            page = page_fn(**kw)
            for _ in range(19):
                page = page_fn(after=page.next_cursor, **kw)
            return page

        cases = [
            ("enterprises: first page", lambda: queries.enterprise_page()),
            ("enterprises: page 20 by cursor", lambda: deep(queries.enterprise_page)),
            ("enterprises: one division", lambda: queries.enterprise_page(division="460203")),
            ("enterprises: name contains", lambda: queries.enterprise_page("商户099")),
            ("enterprises: exact USCC", lambda: queries.enterprise_page(org_uscc())),
            ("outlets: first page", lambda: queries.outlet_page()),
            ("outlets: a regulator's area", lambda: queries.outlet_page(within=SANYA)),
        ]
        for label, call in cases:
            call()  # warm
            started = time.perf_counter()
            for _ in range(5):
                call()
            ms = (time.perf_counter() - started) / 5 * 1000
            steps.append((f"{label} (ms per call)", ms / 1000, ms / 1000, 0, f"{ms:.1f} ms"))
            print(f"{label}: {ms:.1f} ms", flush=True)
    return steps


SANYA = frozenset({"460200", "460202", "460203", "460204", "460205"})


def org_uscc() -> str:
    from complaints.geo.hainan import all_divisions

    divisions = [code for code, *_ in all_divisions() if code != "460000"]
    n = ENTERPRISES // 2
    return make_uscc(org_base(n), division=divisions[n % len(divisions)])


def write_section(rows) -> None:
    lines = [
        SECTION,
        "",
        f"`bench/admin_import.py`, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, "
        f"{os.cpu_count()} cores, PostgreSQL on 127.0.0.1; each step is one `flask` process "
        "(start-up included). Targets: 100,000 enterprises + 200,000 outlets under 60 s with "
        "flat memory; 1,000 posters under 60 s.",
        "",
        "| step | seconds | CPU seconds (the command) | peak RSS (MB) | last line |",
        "|---|---:|---:|---:|---|",
        *[
            f"| {label} | {s:.1f} | {cpu:.1f} | {rss:.0f} | `{last}` |"
            for label, s, cpu, rss, last in rows
        ],
        "",
    ]
    results = ROOT / "bench" / "RESULTS.md"
    text = results.read_text() if results.exists() else "# Bench results\n"
    pattern = re.compile(rf"^{re.escape(SECTION)}\n.*?(?=^## |\Z)", re.M | re.S)
    block = "\n".join(lines) + "\n"
    text = (
        pattern.sub(lambda _: block, text)
        if pattern.search(text)
        else text.rstrip() + "\n\n" + block
    )
    results.write_text(text)


if __name__ == "__main__":
    main()
