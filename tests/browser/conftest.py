"""Browser-test fixtures: the real app under `streamlit run`, driven by Debian's Chromium.

See ../shared/TESTING-NOTES.md: Playwright's own browser download does not work here, so we
launch /usr/bin/chromium with flags that keep it from reaching for the (closed) network.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def start_app(home: Path) -> Iterator[Callable[..., str]]:
    """Start ``streamlit run streamlit_app.py`` with extra env vars; returns its base URL."""
    procs: list[subprocess.Popen] = []

    def start(**env: str) -> str:
        port = _free_port()
        full_env = {**os.environ, "CRYPTOVOLT_HOME": str(home), **env}
        log = open(home / f"streamlit-{port}.log", "wb")  # noqa: SIM115 (kept open for the child)
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                "streamlit_app.py",
                "--server.headless",
                "true",
                "--server.port",
                str(port),
                "--server.address",
                "127.0.0.1",
                "--browser.gatherUsageStats",
                "false",
                "--server.fileWatcherType",
                "none",
            ],
            cwd=ROOT,
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        procs.append(proc)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{url}/_stcore/health", timeout=1).text.strip() == "ok":
                    return url
            except requests.RequestException:
                pass
            if proc.poll() is not None:
                break
            time.sleep(0.25)
        raise RuntimeError(f"streamlit did not start; see {log.name}")

    yield start
    for proc in procs:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture
def browser_page():
    """A Playwright page in Debian's Chromium, 1400x1000, closed after the test."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Browser tests need Debian's chromium at /usr/bin/chromium (make browser).")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            yield page
        finally:
            browser.close()


def assert_no_exception(page) -> None:
    """Fail if Streamlit rendered an uncaught exception on the page."""
    errors = page.locator('[data-testid="stException"]')
    assert errors.count() == 0, errors.first.inner_text()
