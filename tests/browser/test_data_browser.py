"""The Data page in real Chromium against `streamlit run`: Fetch 2 years from the fake Binance."""

from __future__ import annotations

import re

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
        expect(button).to_be_enabled(timeout=60_000)
        coins = page.get_by_test_id("stMultiSelect").first
        expect(coins).to_contain_text("Polygon (POL, formerly MATIC)")
        button.click()
        expect(page.get_by_text("10 of 10 done")).to_be_visible(timeout=90_000)
        expect(page.get_by_text("10 up to date")).to_be_visible(timeout=60_000)
        expect(page.get_by_text("Coverage", exact=True)).to_have_count(1)
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
        expect(page.get_by_text("9 of 10 done")).to_be_visible(timeout=90_000)
        failed = page.locator('.cv-coin[data-state="failed"]')
        expect(failed).to_have_count(1)
        expect(failed).to_have_attribute("data-symbol", "DOTUSDT")
        expect(failed).to_contain_text("DOTUSDT failed: unknown symbol DOTUSDT")
        # in full, not cut off
        expect(failed).to_contain_text(re.compile(r"nothing is stored yet\.\s*$"))
        badge = failed.get_by_text("failed", exact=True)
        expect(badge).to_have_css("background-color", "rgb(229, 72, 77)")  # the red badge
        bar = page.locator('[data-testid="stProgress"] [role="progressbar"]').first
        expect(bar).to_have_attribute("aria-valuenow", re.compile(r"^\d{1,2}(\.\d+)?$"))  # < 100
        expect(page.get_by_text("1 failed").first).to_be_visible()
        assert_no_exception(page)


@pytest.mark.browser
@pytest.mark.slow
def test_typing_ltc_and_enter_on_the_data_page_fetches_ltc(start_app, browser_page):
    with FakeBinance(listed_hours=100) as fake:
        url = start_app(BINANCE_BASE_URL=fake.url)
        page = browser_page
        page.goto(url, wait_until="domcontentloaded")
        picker = page.get_by_test_id("stMultiSelect").first
        box = picker.locator("input")
        expect(picker).to_contain_text("Polygon (POL, formerly MATIC)", timeout=60_000)
        box.click()
        for left in range(len(DEFAULT_COINS) - 1, -1, -1):  # Backspace removes the last chip
            page.keyboard.press("Backspace")
            expect(picker.locator("[data-tag]")).to_have_count(left)
        page.keyboard.type("LTC", delay=30)  # a fuzzy filter matches "formerLy maTiC" (POL)
        expect(box).to_have_value("LTC")
        expect(page.get_by_role("option").first).to_be_visible()
        page.keyboard.press("Enter")
        page.keyboard.press("Escape")
        expect(picker.locator("[data-tag]")).to_have_count(1)
        expect(picker.locator("[data-tag]")).to_contain_text("LTC")
        page.get_by_role("button", name="Fetch 2 years").click()
        expect(page.get_by_text("1 of 1 done")).to_be_visible(timeout=90_000)
        assert_no_exception(page)
    assert [s for s, _ in store.list_stored()] == ["LTCUSDT"]  # what was typed, nothing else


@pytest.mark.browser
@pytest.mark.slow
def test_load_sample_over_fetched_candles_asks_in_a_dialog_in_the_browser(
    home, start_app, browser_page
):
    from core.data.fetch import fetch_coins

    with FakeBinance(listed_hours=48) as fake:
        fetch_coins(["BTC"], days=3, base_url=fake.url)
    fetched = store.candle_path("BTCUSDT").read_bytes()
    page = browser_page
    page.goto(start_app(), wait_until="domcontentloaded")
    load = page.get_by_role("button", name="Load bundled sample")
    load.click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("These coins already have fetched candles")
    expect(dialog.get_by_role("button", name="Replace this coin")).to_have_count(1)
    page.keyboard.press("Escape")  # dismissed: nothing loaded, and it stays closed
    expect(dialog).to_have_count(0)
    expect(page.get_by_text("Coverage", exact=True)).to_have_count(1)
    expect(dialog).to_have_count(0)
    assert store.list_stored() == [("BTCUSDT", "1h")]
    assert store.candle_path("BTCUSDT").read_bytes() == fetched
    load.click()
    dialog.get_by_role("button", name="Replace this coin").click()
    expect(dialog).to_have_count(0)
    note = page.get_by_text(re.compile(r"Loaded the bundled sample: 9 coins.*replaced BTCUSDT"))
    expect(note).to_be_visible()
    assert_no_exception(page)
    assert len(store.load_candles("BTCUSDT")) == 9_457
    (aside,) = (home / "data" / "quarantine").glob("BTCUSDT-1h.replaced.*.parquet")
    assert aside.read_bytes() == fetched
