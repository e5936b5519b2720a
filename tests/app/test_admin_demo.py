"""A newcomer's first hour: `make run` ticks beside the server and records the port it serves,
so `flask outlets list` prints scan URLs that open."""

import subprocess

from complaints.app import ROOT
from complaints.config import SERVED_URL_FILE, load_config


def test_outlet_urls_follow_the_port_make_run_serves(tmp_path):
    (tmp_path / SERVED_URL_FILE).write_text("http://127.0.0.1:8123\n")
    development = load_config(str(tmp_path), {"ANXIN_ENV": "development"})
    assert development["PUBLIC_BASE_URL"] == "http://127.0.0.1:8123"
    chosen = load_config(
        str(tmp_path), {"ANXIN_ENV": "development", "PUBLIC_BASE_URL": "https://anxin.example/"}
    )
    assert chosen["PUBLIC_BASE_URL"] == "https://anxin.example"
    (tmp_path / SERVED_URL_FILE).unlink()
    assert load_config(str(tmp_path), {})["PUBLIC_BASE_URL"] == "http://127.0.0.1:5000"


def test_make_run_starts_the_tick_with_the_server():
    plan = subprocess.run(
        ["make", "-n", "run", "PORT=8123"],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "workflows tick --loop" in plan
    assert "127.0.0.1:8123" in plan
    assert "run --host 127.0.0.1 --port 8123" in plan
