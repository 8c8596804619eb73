"""Offline really offline: every page, opened by its own URL, makes no request to another host,
gets no 4xx/5xx and logs no console error; navigation links are named by their labels.

The pages come from the app's navigation as the browser shows it (not a fixed list), so a page
added to streamlit_app.py is checked too.
"""

from __future__ import annotations

import time
from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import assert_no_exception
from tests.waiting import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LOCAL_HOSTS = {"127.0.0.1", "localhost"}


def _watch(page) -> list[str]:
    """Record on ``page`` every console error, page error, failed or 4xx/5xx request and request
    to a non-local host, as one line each."""
    problems: list[str] = []

    def on_request(request) -> None:
        url = request.url
        if urlparse(url).scheme in ("data", "blob"):
            return
        if urlparse(url).hostname not in LOCAL_HOSTS:
            problems.append(f"request to a non-local host: {url}")

    def on_response(response) -> None:
        if response.status >= 400:
            problems.append(f"HTTP {response.status}: {response.url}")

    page.on("request", on_request)
    page.on("response", on_response)
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url} {r.failure}"))
    page.on(
        "console",
        lambda m: (
            problems.append(f"console {m.type}: {m.text} ({m.location.get('url')})")
            if m.type == "error"
            else None
        ),
    )
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    return problems


class _Traffic:
    """The requests in flight on a page, and when one last started or ended (Playwright's own
    "networkidle" fires once per navigation: a chart's code fetched after the script ended, or
    a font, would not be waited for)."""

    def __init__(self, page) -> None:
        self.page = page
        self.inflight: set = set()
        self.last = time.monotonic()
        page.on("request", self._started)
        page.on("requestfinished", self._ended)
        page.on("requestfailed", self._ended)

    def _started(self, request) -> None:
        self.inflight.add(request)
        self.last = time.monotonic()

    def _ended(self, request) -> None:
        self.inflight.discard(request)
        self.last = time.monotonic()

    def drawn(self) -> bool:
        """Every chart drawn, fonts and images loaded, no request in flight for 500 ms. (The
        page call also hands Playwright's queued request events to the handlers above.)"""
        return (
            self.page.evaluate(DRAWN) and not self.inflight and time.monotonic() - self.last > 0.5
        )


#: Fonts loaded, every chart drawn (plotly's code arrives after the script ends), images complete.
DRAWN = """() => {
    const charts = document.querySelectorAll('[data-testid="stPlotlyChart"]');
    const drawn = [...charts].every(c => c.querySelector('.main-svg'));
    const images = [...document.images].every(i => i.complete);
    return document.fonts.status === 'loaded' && drawn && images;
}"""


def _settle(page, traffic: _Traffic) -> None:
    """Wait until the page's script has run, its elements have drawn and its requests ended (a
    request cut off by the next page's navigation would be reported as failed)."""
    expect(page.locator("h1").first).to_be_visible(timeout=90_000)
    expect(page.locator('[data-testid="stApp"]')).to_have_attribute(
        "data-test-script-state", "notRunning", timeout=90_000
    )
    wait_until(
        traffic.drawn,
        90,
        f"{page.url} to draw and its requests to end",
        interval=0.1,
        details=lambda: sorted(r.url for r in traffic.inflight),
    )


def test_every_page_opened_by_url_stays_on_this_machine(home_with_sample, start_app, browser_page):
    url = start_app()
    page = browser_page
    problems = _watch(page)
    traffic = _Traffic(page)
    page.goto(url)
    _settle(page, traffic)
    links = page.locator('[data-testid="stSidebarNav"] a')
    nav = [
        (links.nth(i).inner_text().strip(), links.nth(i).get_attribute("href"))
        for i in range(links.count())
    ]
    assert len(nav) >= 6, nav
    for label, _ in nav:
        # The accessible name is the label alone: no icon ligature text ("database Data").
        expect(page.get_by_role("link", name=label, exact=True)).to_have_count(1)
    for label, href in nav:
        assert href and urlparse(href).hostname in LOCAL_HOSTS
        page.goto(href)  # a deep link, as a bookmark or a reload opens it
        _settle(page, traffic)
        assert_no_exception(page)
        current = page.locator('[data-testid="stSidebarNav"] a[aria-current="page"]')
        expect(current).to_have_text(label)
        # The page's title heading is named by its label too (no icon text: "traffic Signals").
        expect(page.get_by_role("heading", name=label, exact=True, level=1)).to_have_count(1)
    favicon = page.locator('link[rel="shortcut icon"]').get_attribute("href") or ""
    assert urlparse(favicon).hostname in (LOCAL_HOSTS | {None}), favicon
    assert not problems, "\n".join(problems)
