"""The Data page in real Chromium against `streamlit run`: Fetch 2 years from the fake Binance."""

from __future__ import annotations

import pytest

from core.data import store
from core.data.coins import DEFAULT_COINS
from tests.browser.conftest import assert_no_exception
from tests.fake_binance import FakeBinance


@pytest.mark.browser
@pytest.mark.slow
def test_fetch_two_years_in_the_browser_ends_in_the_coverage_table(start_app, browser_page):
    # A modest history per coin (listed 300 hours ago) keeps the click-to-table path quick.
    with FakeBinance(listed_hours=300, latency=0.02) as fake:
        url = start_app(BINANCE_BASE_URL=fake.url)
        page = browser_page
        page.goto(url, wait_until="domcontentloaded")
        page.get_by_role("link", name="Data").first.click()
        button = page.get_by_role("button", name="Fetch 2 years")
        button.wait_for(timeout=30_000)
        assert page.get_by_text("Polygon (POL, formerly MATIC)").count() >= 1
        button.click()
        page.get_by_text("10 of 10 done").wait_for(timeout=60_000)
        page.get_by_text("10 up to date").wait_for(timeout=30_000)
        assert page.get_by_text("Coverage", exact=True).count() == 1
        assert_no_exception(page)
        assert fake.count() >= 10
    assert sorted(s for s, _ in store.list_stored()) == sorted(DEFAULT_COINS)
    assert all(299 <= len(store.load_candles(s)) <= 300 for s in DEFAULT_COINS)
