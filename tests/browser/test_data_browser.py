"""The Data page in real Chromium against `streamlit run`: Fetch 2 years from the fake Binance."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

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
        page.goto(url, wait_until="domcontentloaded")  # Data is the first page
        button = page.get_by_role("button", name="Fetch 2 years")
        button.wait_for(timeout=30_000)
        coins = page.get_by_test_id("stMultiSelect").first
        expect(coins).to_contain_text("POL · Polygon (formerly MATIC)", timeout=30_000)
        button.click()
        page.get_by_text("10 of 10 done").wait_for(timeout=60_000)
        page.get_by_text("10 up to date").wait_for(timeout=30_000)
        assert page.get_by_text("Coverage", exact=True).count() == 1
        assert_no_exception(page)
        assert fake.count() >= 10
    assert sorted(s for s, _ in store.list_stored()) == sorted(DEFAULT_COINS)
    assert all(299 <= len(store.load_candles(s)) <= 300 for s in DEFAULT_COINS)


@pytest.mark.browser
@pytest.mark.slow
def test_a_failed_coin_is_red_not_counted_and_says_why_in_the_browser(start_app, browser_page):
    with FakeBinance(listed_hours=100, unknown=("FOOUSDT", "DOTUSDT")) as fake:
        url = start_app(BINANCE_BASE_URL=fake.url)
        page = browser_page
        page.goto(url, wait_until="domcontentloaded")
        page.get_by_role("button", name="Fetch 2 years").click()
        page.get_by_text("9 of 10 done").wait_for(timeout=60_000)
        failed = page.locator('.cv-coin[data-state="failed"]')
        failed.wait_for(timeout=10_000)
        assert failed.count() == 1 and failed.get_attribute("data-symbol") == "DOTUSDT"
        text = failed.inner_text()
        assert "DOTUSDT failed: unknown symbol DOTUSDT" in text
        assert text.rstrip().endswith("nothing is stored yet.")  # in full, not cut off
        colors = failed.locator("span, div").evaluate_all(
            "els => els.map(e => getComputedStyle(e).backgroundColor)"
        )
        assert "rgb(229, 72, 77)" in colors  # the red badge and bar
        bar = page.locator('[data-testid="stProgress"] [role="progressbar"]').first
        assert float(bar.get_attribute("aria-valuenow")) < 100
        assert page.get_by_text("1 failed").count() >= 1
        assert_no_exception(page)


@pytest.mark.browser
@pytest.mark.slow
def test_typing_ltc_and_enter_on_the_data_page_fetches_ltc(start_app, browser_page):
    with FakeBinance(listed_hours=100) as fake:
        url = start_app(BINANCE_BASE_URL=fake.url)
        page = browser_page
        page.goto(url, wait_until="domcontentloaded")
        box = page.get_by_test_id("stMultiSelect").first.locator("input")
        box.wait_for(timeout=30_000)
        box.click()
        for _ in DEFAULT_COINS:  # Backspace removes the last chip: start from none picked
            page.keyboard.press("Backspace")
            page.wait_for_timeout(150)
        page.keyboard.type("LTC", delay=30)  # a fuzzy filter matches "formerLy maTiC" (POL)
        page.wait_for_timeout(300)
        page.keyboard.press("Enter")
        page.keyboard.press("Escape")
        page.get_by_role("button", name="Fetch 2 years").click()
        page.get_by_text("1 of 1 done").wait_for(timeout=60_000)
        assert_no_exception(page)
    assert [s for s, _ in store.list_stored()] == ["LTCUSDT"]  # what was typed, nothing else
