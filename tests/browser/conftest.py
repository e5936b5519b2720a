"""Real-browser fixtures: the app on a live port, Debian's chromium driven by Playwright.

Playwright's sync API keeps an asyncio loop marked as running on the main thread for as long
as it is started, which breaks any later `asyncio.run()` in the same pytest process. So the
Playwright driver and the browser live for this package only (scope="package"), not the whole
session: they are stopped before the tests after tests/browser run.
"""

import itertools
import re
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests import services as test_services

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
DEFAULT_TIMEOUT_MS = 10_000
CALL_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.stash[CALL_FAILED] = report.failed
    return report


def artifact_dir(node) -> Path:
    return ARTIFACTS / re.sub(r"[^\w.-]+", "_", node.name)


@dataclass
class Exchange:
    method: str
    path: str
    status: int | None = None
    location: str | None = None


class RequestLog:
    """WSGI wrapper that records what reached the server and knows when it is idle.

    The browser may abandon a request (a double tap cancels the first navigation) while the
    server still handles it; tests and teardown wait for those before they look at the
    database or empty it.
    """

    def __init__(self, app):
        self.app = app
        self.exchanges: list[Exchange] = []
        self.post_delay = 0.0  # seconds: a slow mobile upload, so a second tap lands in flight
        self._in_flight = 0
        self._idle = threading.Condition()

    def __call__(self, environ, start_response):
        exchange = Exchange(environ["REQUEST_METHOD"], environ.get("PATH_INFO", ""))
        with self._idle:
            self._in_flight += 1
            self.exchanges.append(exchange)

        def recording_start_response(status, headers, exc_info=None):
            exchange.status = int(status.split()[0])
            exchange.location = dict(headers).get("Location")
            return start_response(status, headers, exc_info)

        try:
            if exchange.method == "POST" and self.post_delay:
                time.sleep(self.post_delay)
            body = self.app(environ, recording_start_response)
            try:
                return [b"".join(body)]
            finally:
                if hasattr(body, "close"):
                    body.close()
        finally:
            with self._idle:
                self._in_flight -= 1
                self._idle.notify_all()

    def posts_to(self, path: str) -> list[Exchange]:
        return [e for e in self.exchanges if e.method == "POST" and e.path == path]

    def wait_idle(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._in_flight:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"live server still busy after {timeout}s")
                self._idle.wait(remaining)


@pytest.fixture
def served(app):
    """The requests the live server handled during this test."""
    return RequestLog(app)


@pytest.fixture
def live_server(app, seeded, served, monkeypatch):
    """Base URL of the app served on a free loopback port, with the seeded demo data.

    PUBLIC_BASE_URL points at it for the test, so links the app prints (the tracking link)
    work in the browser.
    """
    server = make_server("127.0.0.1", 0, served, threaded=True)
    base_url = f"http://127.0.0.1:{server.server_port}"
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", base_url)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield base_url
    served.wait_idle()
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture(scope="package")
def playwright():
    if not CHROMIUM.exists():
        test_services.missing(f"{CHROMIUM} is missing; install Debian's chromium package")
    from playwright.sync_api import sync_playwright

    driver = sync_playwright().start()
    yield driver
    driver.stop()


@pytest.fixture(scope="package")
def browser(playwright):
    chromium = playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )
    yield chromium
    chromium.close()


@pytest.fixture
def new_phone(request, playwright, browser, live_server):
    """Make an iPhone 13 browser context on the live server, closed before the server stops.

    When the test failed, every page still open is saved as failure-N.png next to the steps.
    """
    contexts = []

    def make(locale: str = "en-GB", **options):
        """`options` go to new_context, e.g. bypass_csp=True to inject a test tool (axe)."""
        device = dict(playwright.devices["iPhone 13"])
        device.pop("default_browser_type", None)  # "webkit": we drive chromium
        context = browser.new_context(**device, locale=locale, base_url=live_server, **options)
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        contexts.append(context)
        return context

    yield make
    try:
        if request.node.stash.get(CALL_FAILED, False):
            _screenshot_open_pages(contexts, artifact_dir(request.node))
    finally:
        for context in contexts:
            context.close()


def _screenshot_open_pages(contexts, directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    pages = [page for context in contexts for page in context.pages]
    for number, page in enumerate(pages, start=1):
        page.screenshot(path=str(directory / f"failure-{number}.png"), full_page=True)


@pytest.fixture
def phone(new_phone):
    """An English-speaking tourist's iPhone 13 (a fresh context: no cookies)."""
    return new_phone("en-GB")


@pytest.fixture
def screenshot(request):
    """screenshot(page, "step") saves test-artifacts/browser/<test>/NN-step.png."""
    directory = artifact_dir(request.node)
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    counter = itertools.count(1)

    def take(page, step: str) -> Path:
        path = directory / f"{next(counter):02d}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
