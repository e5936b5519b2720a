"""The bench harness's own logic (no load, no database): results sections, ratios, flame frames."""

from pathlib import Path

from bench import db_floor, drain, flamegraph, harness, summary
from bench.loadgen import WrkResult

SVG = """<svg><g><title>all (1,000 samples, 100.00%)</title></g>
<g><title>complain_at_outlet (complaints/cases/views.py:60) (400 samples, 40.00%)</title></g>
<g><title>complain_at_outlet (complaints/cases/views.py:61) (50 samples, 5.00%)</title></g>
<g><title>file_complaint (complaints/cases/services.py:90) (250 samples, 25.00%)</title></g>
<g><title>execute (sqlalchemy/orm/session.py:10) (300 samples, 30.00%)</title></g></svg>"""


def _result(rps: float, p99: float) -> WrkResult:
    return WrkResult(1, 1.0, rps, 1.0, 1.0, 1.0, p99, 0, {}, {}, None, "")


def test_a_section_is_replaced_and_the_others_kept(tmp_path):
    results = tmp_path / "RESULTS.md"
    results.write_text("# Bench\n\n## Load\n\nold load\n\n## Queue\n\nold queue\n")
    harness.write_section("## Queue", ["## Queue", "", "new queue"], results)
    harness.write_section("## Credit", ["## Credit", "", "credit"], results)
    text = results.read_text()
    assert "old queue" not in text
    assert text.index("## Load") < text.index("new queue") < text.index("## Credit")
    assert "old load" in text


def test_percentiles_interpolate_between_ranks():
    assert harness.percentile([1.0, 2.0, 3.0, 4.0, 5.0], 50) == 3.0
    assert harness.percentile([10.0, 20.0], 95) == 19.5
    assert harness.percentile([7.0], 99) == 7.0


def test_the_ratio_table_compares_each_scenario_with_its_ceiling():
    table = summary.ratio_table(
        {
            "trivial": _result(1000, 5),
            "scan": _result(800, 6),
            "insert": _result(500, 10),
            "submission": _result(100, 150),
            "submission_queued": _result(300, 80),
        }
    )
    rows = {line.split()[0]: line for line in table.splitlines()[2:]}
    assert "0.80" in rows["scan"]
    assert rows["scan"].endswith("yes")
    assert "0.20" in rows["submission"]  # embedded default: target 0.3, and p99 over 100 ms
    assert rows["submission"].endswith("NO")
    assert "0.60" in rows["submission_queued"]  # Redis on: target 0.5
    assert rows["submission_queued"].endswith("yes")


def test_the_worker_drain_is_judged_on_time_and_cpu_per_message():
    quick = drain.Drain(
        messages=1000,
        seconds_after_rush=2.0,
        worker_cpu_ms_per_message=1.5,
        pending_at_end_of_rush=9,
    )
    assert quick.met
    assert not drain.Drain(1000, None, 1.5, 900).met  # still pending at the limit
    assert not drain.Drain(1000, 2.0, 6.0, 9).met  # too much CPU per message
    section = "\n".join(drain.section(quick, 10))
    assert "| 1,000 | 9 | 2.0 s | 1.50 ms |" in section
    assert "**met**" in section


def test_flame_frames_are_our_functions_by_samples(tmp_path):
    svg = tmp_path / "flame.svg"
    svg.write_text(SVG)
    frames = flamegraph.top_frames(svg)
    assert [f.name for f in frames] == [
        "complain_at_outlet (complaints/cases/views.py)",
        "file_complaint (complaints/cases/services.py)",
    ]
    assert frames[0].samples == 400
    assert flamegraph.top_frames(Path(tmp_path / "missing.svg")) == []


def test_the_worker_beside_the_app_is_its_own_cpu_column_not_others():
    """The `flask worker` of the Redis-on run used to be counted as 'others', which then
    called a quiet run disturbed."""
    from bench.loadgen import CpuMeter

    meter = CpuMeter(gunicorn_pid=1, conninfo="", database="", worker_pid=2)
    tick = meter.tick
    empty = {"app": {1: 0}, "postgres": {}, "worker": {2: 0}, "wrk": 0.0, "busy": 0.0, "all": 0.0}
    meter.before = empty
    meter.after = {**empty, "app": {1: tick}, "worker": {2: 2 * tick}, "busy": 3.0, "all": 4.0}
    cpu = meter.per_request_ms(1000)
    assert (cpu["app"], cpu["worker"], cpu["postgres"]) == (1.0, 2.0, 0.0)
    assert cpu["machine_busy"] == 0.75
    assert cpu["others_share"] == 0.0


def test_the_replayed_filing_takes_its_case_id_from_its_own_insert():
    statements = [
        "SELECT 1 FROM outlets WHERE code = 'AB'",
        "WITH new_case AS (INSERT INTO cases (key) VALUES ('k1')) SELECT * FROM new_case",
        "INSERT INTO case_events (case_id, note) VALUES (4242::INTEGER, 'case 4242''s ''4242''')",
        "INSERT INTO outbox_messages (payload) VALUES ('{\"args\": [4242]}'::JSON)",
    ]
    script = db_floor.replay_script(statements, 4242, ["k1"]).splitlines()
    assert script[0] == "BEGIN;"
    assert script[-1] == "END;"
    assert script[1].endswith("'AB';")  # before the case: kept as captured
    assert script[2].endswith(" \\gset")  # the case's row becomes pgbench variables
    assert f"({db_floor.FRESH_HASH})" in script[2]  # a fresh key in every transaction
    # The id as a value becomes :id; inside literals (text, JSON) it stays captured text.
    assert script[3].startswith("INSERT INTO case_events")
    assert "(:id::INTEGER," in script[3]
    assert "'case 4242''s ''4242'''" in script[3]
    assert "[4242]" in script[4]
    assert ":id" not in script[4]


def test_the_budget_per_filing_follows_from_the_insert_ceiling_of_the_same_run(monkeypatch):
    monkeypatch.setattr(harness, "machine", lambda: {"nproc": 2})
    insert = _result(1000, 20)
    insert.cpu = {"app": 1.0, "postgres": 0.2}
    text = " ".join(db_floor.budget(insert, filing_postgres_ms=0.9))
    # 0.5 x 1,000 req/s = 500 filings/s on 2 cores: 4 ms each, less 0.9 + 1.2 ms.
    assert "500 filings/s on 2 cores" in text
    assert "**4.00 ms of CPU per filing**" in text
    assert "**1.90 ms** remain" in text
