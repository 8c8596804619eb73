"""Browser-test fixtures: the real app under `streamlit run`, driven by Debian's Chromium.

See ../shared/TESTING-NOTES.md: Playwright's own browser download does not work here, so we
launch /usr/bin/chromium with flags that keep it from reaching for the (closed) network.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from tests.waiting import wait_until

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
#: How long ``expect(locator)...`` retries and an action (click, fill) waits for its element when a
#: test names no timeout. Playwright's 5 s is a quiet laptop's figure, too short for a Streamlit
#: rerun on a shared, loaded 2-core machine. A test that passes is not slowed by a longer one.
EXPECT_TIMEOUT_MS = 30_000
ACTION_TIMEOUT_MS = 60_000


class Streamlit:
    """``streamlit run SCRIPT`` on a port the OS picks (``--server.port 0``: no free-port guess
    that another process can take first, and no health answer from someone else's server)."""

    def __init__(self, script: Path, env: dict[str, str], log: Path) -> None:
        self.log = log
        with open(log, "wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "streamlit", "run", str(script)]
                + ["--server.headless", "true", "--server.port", "0"]
                + ["--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"]
                + ["--server.fileWatcherType", "none"],
                cwd=ROOT,
                env={**env, "PYTHONUNBUFFERED": "1"},
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            port = wait_until(self._port, 90, f"streamlit to print its URL in {log}", interval=0.1)
            self.url = f"http://127.0.0.1:{port}"
            wait_until(self._healthy, 90, f"{self.url}/_stcore/health to say ok", interval=0.1)
        except BaseException:
            self.stop()
            raise

    def _alive(self) -> None:
        if self.proc.poll() is not None:
            raise AssertionError(
                f"streamlit exited {self.proc.returncode}:\n{self.log.read_text()}"
            )

    def _port(self) -> int | None:
        self._alive()
        found = re.search(r"URL: http://127\.0\.0\.1:(\d+)", self.log.read_text())
        return int(found.group(1)) if found else None

    def _healthy(self) -> bool:
        self._alive()
        with contextlib.suppress(requests.RequestException):
            return requests.get(f"{self.url}/_stcore/health", timeout=2).text.strip() == "ok"
        return False

    def stop(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=10)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)


@pytest.fixture
def start_app(home: Path) -> Iterator[Callable[..., str]]:
    """Start ``streamlit run streamlit_app.py`` with extra env vars; returns its base URL."""
    apps: list[Streamlit] = []

    def start(**env: str) -> str:
        full_env = {**os.environ, "CRYPTOVOLT_HOME": str(home), **env}
        apps.append(
            Streamlit(ROOT / "streamlit_app.py", full_env, home / f"streamlit-{len(apps)}.log")
        )
        return apps[-1].url

    yield start
    for app in apps:
        app.stop()


@pytest.fixture
def browser_page():
    """A Playwright page in Debian's Chromium, 1400x1000, closed after the test."""
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=EXPECT_TIMEOUT_MS)

    if not Path(CHROMIUM).exists():
        pytest.fail("Browser tests need Debian's chromium at /usr/bin/chromium (make browser).")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(ACTION_TIMEOUT_MS)
        try:
            yield page
        finally:
            browser.close()


def assert_no_exception(page) -> None:
    """Fail if Streamlit rendered an uncaught exception on the page."""
    errors = page.locator('[data-testid="stException"]')
    assert errors.count() == 0, errors.first.inner_text()
