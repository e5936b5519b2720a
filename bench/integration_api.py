"""API and webhook figures: case read, list pages at scale, webhook fan-out beside filing.

    .venv/bin/python bench/integration_api.py

Self-contained. Creates a throw-away PostgreSQL database on BENCH_DATABASE_ADMIN_URL
(127.0.0.1), migrates and seeds it (demo merchants), generates BENCH_API_CASES cases
(default 1,000,000; `generate_series`, 40% in Sanya's agency, 10% open with a running
deadline), then, in process through the Flask test client (no HTTP server: the app's own cost):

- GET /api/v1/cases/{number} (random Sanya cases): p50, p95
- GET /api/v1/cases (first page, then 20 pages by cursor): p50, p95
- filing through POST /open311/v2/requests.json: p50 with no webhook endpoints, then p50 while
  a second thread fans BENCH_HOOK_EVENTS events (default 10,000) out to BENCH_HOOK_ENDPOINTS
  endpoints (default 100): filing must not wait for fan-out
- fan-out rate (delivery rows per second) and, on a sample, signed HTTP deliveries per second
  to a local receiver

Writes an "API and webhooks" section into bench/RESULTS.md (replacing its own section only).
"""

import os
import sys
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ADMIN_URL = os.environ.get(
    "BENCH_DATABASE_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
CASES = int(os.environ.get("BENCH_API_CASES", "1000000"))
EVENTS = int(os.environ.get("BENCH_HOOK_EVENTS", "10000"))
ENDPOINTS = int(os.environ.get("BENCH_HOOK_ENDPOINTS", "100"))
HTTP_SAMPLE = int(os.environ.get("BENCH_HOOK_HTTP_SAMPLE", "2000"))
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/6")
QUEUE = f"bench-api-{uuid.uuid4().hex[:8]}"
RESULTS = ROOT / "bench" / "RESULTS.md"
SECTION = "## API and webhooks"


def pct(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))] * 1000


def timed(fn, n):
    out = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def main() -> None:
    import psycopg

    name = f"anxin_bench_api_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + "/" + name
    try:
        lines = run(url)
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        _forget_queue()
    write(lines)
    print("\n".join(lines))


def run(url: str) -> list[str]:
    os.environ["ANXIN_ENV"] = "test"
    os.environ["DATABASE_URL"] = url  # engine options follow the URL at config time
    from flask_migrate import upgrade

    from complaints import create_app

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            # Production shape: requests only enqueue; the bench runs the jobs itself.
            "REDIS_URL": REDIS_URL,
            "RQ_QUEUE": QUEUE,
            "SECRET_KEY": "bench",
            "QR_SIGNING_KEY": "bench",
            "PUBLIC_BASE_URL": "http://bench.test",
            "CREDIT_EXPORT_DIR": str(ROOT / "instance" / "bench-exports"),
        }
    )
    with app.app_context():
        from complaints.extensions import db
        from complaints.seed import seed_all

        upgrade()
        seed_all()
        db.session.commit()
        started = time.perf_counter()
        generate_cases(db)
        load_s = time.perf_counter() - started
        keys = make_keys(db)
    client = app.test_client()
    head = {"Authorization": f"Bearer {keys['sanya']}"}
    with app.app_context():
        numbers = sample_numbers(app)
    rng = iter(numbers * 10)
    for _ in range(20):  # warm-up
        client.get(f"/api/v1/cases/{next(rng)}", headers=head)
    reads = timed(lambda: client.get(f"/api/v1/cases/{next(rng)}", headers=head), 300)
    lists = []
    for _ in range(5):
        cursor = None
        for _ in range(21):
            path = "/api/v1/cases" + (f"?after={cursor}" if cursor else "")
            start = time.perf_counter()
            body = client.get(path, headers=head).get_json()
            lists.append(time.perf_counter() - start)
            cursor = body["next_cursor"]
    filing_alone = timed(lambda: file_one(client, keys["partner"], app), 40)
    fan = fan_out_during_filing(app, client, keys["partner"])
    return [
        SECTION,
        "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on PostgreSQL, "
        f"{CASES:,} generated cases ({load_s:.0f} s to load), in process through the Flask "
        "test client (the app's own cost, no HTTP server), 2 shared cores.",
        "",
        "| what | p50 ms | p95 ms | target |",
        "|---|---|---|---|",
        f"| GET /api/v1/cases/{{number}} | {pct(reads, 50):.1f} | {pct(reads, 95):.1f} | p50 < 10 |",
        f"| GET /api/v1/cases, 21 pages by cursor | {pct(lists, 50):.1f} | {pct(lists, 95):.1f} | p95 < 50 |",
        f"| filing (Open311 POST), no endpoints | {pct(filing_alone, 50):.1f} | {pct(filing_alone, 95):.1f} | |",
        f"| filing while {EVENTS:,} events fan out to {ENDPOINTS} endpoints | "
        f"{pct(fan['filing'], 50):.1f} | {pct(fan['filing'], 95):.1f} | not blocked |",
        "",
        f"Fan-out: {fan['rows']:,} delivery rows in {fan['fan_s']:.1f} s "
        f"({fan['rows'] / fan['fan_s']:,.0f} rows/s, one thread). Signed HTTP deliveries to a "
        f"local receiver: {fan['sent']:,} in {fan['send_s']:.1f} s "
        f"({fan['sent'] / fan['send_s']:,.0f}/s per worker); at that rate one worker sends "
        f"{EVENTS * ENDPOINTS:,} deliveries in about "
        f"{EVENTS * ENDPOINTS / (fan['sent'] / fan['send_s']) / 60:,.0f} min, N RQ workers in 1/N.",
        "",
    ]


def _forget_queue() -> None:
    """Only our own queue's keys, on our own Redis database number."""
    from redis import Redis

    connection = Redis.from_url(REDIS_URL)
    for key in connection.scan_iter(f"*{QUEUE}*"):
        connection.delete(key)
    connection.srem("rq:queues", f"rq:queue:{QUEUE}")


def generate_cases(db) -> None:
    from sqlalchemy import text

    conn = db.session.connection()
    ids = conn.execute(
        text(
            "SELECT (SELECT id FROM agencies WHERE slug='amr-460200'),"
            " (SELECT id FROM agencies WHERE slug='amr-460100'),"
            " (SELECT id FROM outlets ORDER BY id LIMIT 1)"
        )
    ).one()
    sanya, haikou, outlet = ids
    conn.execute(
        text(
            """
            INSERT INTO cases (number, state, state_entered_at, source, enterprise_id, outlet_id,
              agency_id, division_code, category, description, occurred_on, amount_paid_fen,
              amount_claimed_fen, remedy, tourist_name, tourist_phone, language,
              contact_consent, phone_verified_at, tracking_key_hash, submission_key_hash,
              created_at, offer_pending, appraisal_paused, escalated, version)
            SELECT 'HN-460200-20260101-' || lpad(g::text, 7, '0'),
              CASE WHEN g % 10 = 0 THEN 'regulator_review' ELSE 'closed' END,
              now() - (g || ' seconds')::interval, 'qr', o.enterprise_id, o.id,
              CASE WHEN g % 5 < 2 THEN :sanya ELSE :haikou END, o.division_code, 'catering',
              'Charged far more than the posted price.', date '2026-01-01', 88000, 79200,
              'partial_refund', 'Bench Tourist', '+86138' || lpad((g % 100000000)::text, 8, '0'),
              'zh', false, now(), md5('t' || g) || md5('u' || g), md5('s' || g) || md5('v' || g),
              now() - (g || ' seconds')::interval, false, false, false, 1
            FROM generate_series(1, :n) AS g, (SELECT * FROM outlets WHERE id = :outlet) AS o
            """
        ),
        {"sanya": sanya, "haikou": haikou, "outlet": outlet, "n": CASES},
    )
    conn.execute(
        text(
            """
            INSERT INTO case_deadlines (case_id, kind, state, started_at, due_at, provisional,
              reminders_sent)
            SELECT id, 'acceptance_decision', 'regulator_review', created_at,
              created_at + interval '9 days', false, 0
            FROM cases WHERE state = 'regulator_review'
            """
        )
    )
    db.session.commit()
    conn = db.session.connection()
    conn.execute(text("ANALYZE"))
    db.session.commit()


def make_keys(db) -> dict:
    from complaints.apikeys.models import ApiKey
    from complaints.apikeys.services import create_key

    _k, sanya = create_key(
        name="bench", scopes=["cases:read"], created_by="bench", agency_slug="amr-460200"
    )
    _k, partner = create_key(
        name="bench partner", scopes=["open311"], created_by="bench", partner="bench",
        vouches_for_phone=True,
    )  # fmt: skip
    for key in db.session.scalars(db.select(ApiKey)):
        key.rate_limit_per_minute = 10**9
    db.session.commit()
    return {"sanya": sanya, "partner": partner}


def sample_numbers(app) -> list[str]:
    from sqlalchemy import text

    from complaints.extensions import db

    return list(
        db.session.scalars(
            text(
                "SELECT number FROM cases WHERE agency_id = "
                "(SELECT id FROM agencies WHERE slug='amr-460200') ORDER BY random() LIMIT 300"
            )
        )
    )


def file_one(client, partner_key, app) -> None:
    from complaints.clock import local_today

    with app.app_context():
        from complaints.extensions import db
        from complaints.merchants.models import Outlet

        code = db.session.scalar(db.select(Outlet.code).order_by(Outlet.id).limit(1))
    response = client.post(
        "/open311/v2/requests.json",
        data={
            "api_key": partner_key,
            "service_code": "catering",
            "address_id": code,
            "description": "Charged 880 yuan for seafood priced at 88 on the board.",
            "first_name": "Bench",
            "phone": "+8613812345678",
            "attribute[occurred_on]": (local_today() - timedelta(days=1)).isoformat(),
            "attribute[amount_claimed]": "100",
            "attribute[remedy]": "partial_refund",
        },
    )
    assert response.status_code == 201, response.get_data(as_text=True)


def fan_out_during_filing(app, client, partner_key) -> dict:
    from werkzeug.serving import make_server

    from complaints.database import utcnow
    from complaints.extensions import db
    from complaints.hooks_out import delivery, services
    from complaints.hooks_out.models import WebhookDelivery, WebhookEvent
    from complaints.outbox.models import OutboxMessage

    def receiver(environ, start_response):
        environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        start_response("204 No Content", [])
        return [b""]

    server = make_server("127.0.0.1", 0, receiver, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/hook"
    with app.app_context():
        agency = db.session.scalar(db.text("SELECT id FROM agencies WHERE slug='amr-460200'"))
        for _ in range(ENDPOINTS):
            services.create_endpoint(url=url, event_types=["*"], agency_id=agency)
        now = utcnow()
        for i in range(EVENTS):
            services.record_event(
                "case.state_changed", {"n": i}, ordering_key=f"bench-{i % 500}", now=now,
                agency_id=agency,
            )  # fmt: skip
            if i % 1000 == 999:
                db.session.commit()
        db.session.commit()
        event_ids = list(db.session.scalars(db.select(WebhookEvent.id).order_by(WebhookEvent.id)))
        db.session.execute(db.delete(OutboxMessage))  # the bench drives the jobs itself
        db.session.commit()
    result = {}

    def fan():
        with app.app_context():
            start = time.perf_counter()
            for event_id in event_ids:
                services.fan_out(event_id)
            result["fan_s"] = time.perf_counter() - start
            db.session.execute(db.delete(OutboxMessage))
            db.session.commit()

    worker = threading.Thread(target=fan)
    worker.start()
    time.sleep(1.0)
    filing = []
    while worker.is_alive() and len(filing) < 200:
        filing += timed(lambda: file_one(client, partner_key, app), 1)
    worker.join()
    with app.app_context():
        result["rows"] = db.session.scalar(db.select(db.func.count(WebhookDelivery.id)))
        endpoint_ids = [
            e for (e,) in db.session.execute(db.text("SELECT id FROM webhook_endpoints LIMIT 5"))
        ]
        start = time.perf_counter()
        sent = 0
        while sent < HTTP_SAMPLE:
            before = sent
            for endpoint_id in endpoint_ids:
                sent += delivery.deliver_endpoint(endpoint_id)
            if sent == before:
                break
        result["send_s"] = time.perf_counter() - start
        result["sent"] = sent
    server.shutdown()
    result["filing"] = filing or [0.0]
    return result


def write(lines: list[str]) -> None:
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmarks\n"
    if SECTION in text:
        before, _sep, rest = text.partition(SECTION)
        after = rest.split("\n## ", 1)
        text = before + ("## " + after[1] if len(after) > 1 else "")
    RESULTS.write_text(text.rstrip() + "\n\n" + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
