"""Browser-test fixtures: the real app under `streamlit run`, driven by Debian's Chromium.

See ../shared/TESTING-NOTES.md: Playwright's own browser download does not work here, so we
launch /usr/bin/chromium with flags that keep it from reaching for the (closed) network.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.streamlit_server import Streamlit

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
