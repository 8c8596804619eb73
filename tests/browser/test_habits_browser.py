"""The viewer's habits and pages in step, in real Chromium against ``streamlit run``: times in the
browser's zone (a context set to Asia/Tokyo) with a UTC switch, the sidebar after Load bundled
sample, a deep link to a coin and interval that the page keeps up to date, ``btc/usd`` refused."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from playwright.sync_api import Page, expect

from core.data import store
from tests.browser.conftest import (
    ACTION_TIMEOUT_MS,
    CHROMIUM,
    CHROMIUM_ARGS,
    EXPECT_TIMEOUT_MS,
    assert_no_exception,
)


@pytest.fixture
def tokyo_page() -> Iterator[Page]:
    """A page in Debian's Chromium whose browser says it is in Tokyo."""
    from playwright.sync_api import sync_playwright

    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(
            timezone_id="Asia/Tokyo", viewport={"width": 1400, "height": 1000}
        )
        page = context.new_page()
        page.set_default_timeout(ACTION_TIMEOUT_MS)
        try:
            yield page
        finally:
            browser.close()


def _header(page: Page, name: str):
    """A table's column header (st.dataframe draws on a canvas; its hidden grid names them)."""
    return page.locator("[data-testid=stDataFrame] [role=columnheader]").filter(
        has_text=re.compile(f"^{re.escape(name)}$")
    )


def _sidebar(page: Page):
    return page.get_by_test_id("stSidebar")


@pytest.mark.browser
def test_times_are_in_the_viewers_zone_with_a_utc_switch(home_with_sample, start_app, tokyo_page):
    page = tokyo_page
    page.goto(start_app(), wait_until="domcontentloaded")
    side = _sidebar(page)
    # BTC's last sample candle opens 2025-05-30 00:00 UTC: 09:00 in Tokyo, labelled JST.
    btc = side.get_by_text(re.compile(r"Bitcoin \(BTC\) 1h · 9,457 candles"))
    expect(btc).to_contain_text("to 2025-05-30 09:00 JST")
    table = page.get_by_test_id("stDataFrame").first
    expect(table).to_be_visible()
    expect(_header(page, "last candle (Asia/Tokyo)")).to_have_count(1)
    expect(page.locator("[role=gridcell]", has_text="2025-05-30 09:00").first).to_be_attached()
    side.get_by_text("Times in UTC").click()
    expect(btc).to_contain_text("to 2025-05-30 00:00 UTC")
    expect(_header(page, "last candle (UTC)")).to_have_count(1)
    side.get_by_text("Times in UTC").click()  # back to Tokyo; the switch holds across pages
    expect(btc).to_contain_text("to 2025-05-30 09:00 JST")
    page.get_by_test_id("stSidebarNav").get_by_text("Charts").click()
    expect(_header(page, "open time (Asia/Tokyo)")).to_have_count(1)
    assert_no_exception(page)


@pytest.mark.browser
def test_the_sidebar_lists_the_sample_right_after_load_bundled_sample(start_app, browser_page):
    page = browser_page
    page.goto(start_app(), wait_until="domcontentloaded")
    side = _sidebar(page)
    expect(side.get_by_text("No candles yet")).to_be_visible()
    page.get_by_role("button", name="Load bundled sample").click()
    expect(page.get_by_text(re.compile(r"Loaded the bundled sample: 9 coins"))).to_be_visible()
    expect(side.get_by_text("9 candle file(s) on disk")).to_be_visible()
    expect(side.get_by_text(re.compile(r"Ethereum \(ETH\) 1h · 9,457 candles"))).to_be_visible()
    expect(side.get_by_text("No candles yet")).to_have_count(0)
    assert_no_exception(page)


def _store_eth_4h() -> None:
    eth = store.load_candles("ETHUSDT")
    four = eth.iloc[::4].reset_index(drop=True)  # only the open times matter to the pickers
    four["close_time"] = four["open_time"] + pd.Timedelta(hours=4, milliseconds=-1)
    store.save_candles(four, "ETHUSDT", "4h")


@pytest.mark.browser
def test_a_deep_link_opens_eth_on_4h_and_the_url_follows_the_coin(
    home_with_sample: Path, start_app, browser_page
):
    _store_eth_4h()
    page = browser_page
    page.goto(start_app() + "/charts?coin=ETHUSDT&interval=4h", wait_until="domcontentloaded")
    coin = page.get_by_role("combobox", name="Coin")
    interval = page.get_by_role("combobox", name="Interval")
    expect(coin).to_have_value("Ethereum (ETH)")
    expect(interval).to_have_value("4h")
    expect(page.locator(".js-plotly-plot .main-svg").first).to_be_attached()
    coin.click()
    page.get_by_role("option", name="Solana (SOL)").click()
    expect(coin).to_have_value("Solana (SOL)")
    expect(page).to_have_url(re.compile(r"/charts\?coin=SOLUSDT&interval=1h$"))
    assert_no_exception(page)


@pytest.mark.browser
def test_typing_btc_usd_is_refused_with_what_to_type(start_app, browser_page):
    page = browser_page
    page.goto(start_app(), wait_until="domcontentloaded")
    picker = page.get_by_test_id("stMultiSelect").first
    expect(picker).to_contain_text("Bitcoin (BTC)")
    box = picker.locator("input")
    box.click()
    page.keyboard.type("btc/usd", delay=30)
    expect(box).to_have_value("btc/usd")
    expect(page.get_by_role("option").first).to_be_visible()
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    error = page.get_by_text(re.compile(r"error: 'btc/usd' is not a Binance spot pair"))
    expect(error).to_contain_text("Type BTC or BTC/USDT instead")
    expect(picker.locator("[data-tag]")).to_have_count(10)  # the ten defaults, nothing added
    expect(picker).not_to_contain_text("BTC/USD")
    rows = page.get_by_text(re.compile(r"^10 coin\(s\) at 1h"))
    expect(rows).to_be_visible()
    assert_no_exception(page)


@pytest.mark.browser
def test_train_by_keyboard_asks_in_a_dialog_before_four_jobs(
    home_with_sample: Path, start_app, browser_page
):
    from core.atomic import atomic_write_json
    from ui.training_form import settings_path

    four = ["BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT"]
    atomic_write_json(settings_path(), {"coins": four})  # the form as last left: four coins
    page = browser_page
    page.goto(start_app() + "/training", wait_until="domcontentloaded")
    train = page.get_by_role("button", name=re.compile(r"^Train"))
    expect(train).to_be_enabled()
    page.get_by_role("heading", name="Training").click()  # focus on the page, not a field
    page.keyboard.press("Control+Enter")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("This starts 4 training jobs, one per coin")
    expect(dialog).to_contain_text("Bitcoin (BTC), Ethereum (ETH), Solana (SOL), XRP (XRP)")
    dialog.get_by_role("button", name="Not now").click()
    expect(dialog).to_have_count(0)
    expect(page.get_by_text("No training jobs yet.")).to_be_visible()
    assert not list((home_with_sample / "runs").glob("*/status.json"))
    assert_no_exception(page)


def _tokyo(ts: object) -> str:
    return f"{pd.Timestamp(ts).tz_convert('Asia/Tokyo'):%Y-%m-%d %H:%M} JST"


def _utc(ts: object) -> str:
    return f"{pd.Timestamp(ts).tz_convert('UTC'):%Y-%m-%d %H:%M} UTC"


@pytest.mark.browser
@pytest.mark.slow
def test_signals_and_monitor_times_are_in_the_viewers_zone(
    home: Path, start_app, tokyo_page, monkeypatch: pytest.MonkeyPatch
):
    from core.monitor import assess
    from core.registry.model_registry import ModelRegistry
    from core.signals.live import compute_signal
    from tests.monitor_journal import journal_home

    now = journal_home(home, regime="degraded")  # carded models, candles and a journal
    monkeypatch.setenv("CRYPTOVOLT_NOW", now.isoformat())
    candles = store.load_candles("BTCUSDT")
    signal = compute_signal("BTCUSDT", ModelRegistry(), candles, now=pd.Timestamp(now))
    drift = next(h for h in assess(home=home, now=now) if h.symbol == "BTCUSDT").drift
    assert drift is not None and drift.window_start is not None
    page = tokyo_page
    page.goto(start_app(CRYPTOVOLT_NOW=now.isoformat()), wait_until="domcontentloaded")
    page.get_by_role("link", name="Signals").click()
    card = page.locator('div[class*="st-key-signal_card_BTCUSDT_"]')
    expect(card).to_contain_text(f"last closed candle {_tokyo(signal.candle_time)}", timeout=90_000)
    page.get_by_role("link", name="Monitor").click()
    body = page.locator('[data-testid="stMain"]')
    tokyo_range = f"Window {_tokyo(drift.window_start)} → {_tokyo(drift.window_end)}."
    expect(body).to_contain_text(tokyo_range, timeout=90_000)
    _sidebar(page).get_by_text("Times in UTC").click()
    expect(body).to_contain_text(f"Window {_utc(drift.window_start)} → {_utc(drift.window_end)}.")
    expect(body).not_to_contain_text(tokyo_range)
    page.get_by_role("link", name="Signals").click()
    expect(card).to_contain_text(f"last closed candle {_utc(signal.candle_time)}", timeout=90_000)
    assert_no_exception(page)


@pytest.mark.browser
@pytest.mark.slow
def test_monitor_opened_first_shows_its_call_range_in_the_viewers_zone(
    home: Path, start_app, tokyo_page
):
    """The Monitor as the first page a Tokyo browser opens: the version's "first call → last
    call" caption reads in JST, and the UTC switch brings UTC back."""
    from core.monitor import assess
    from tests.monitor_journal import journal_home

    now = journal_home(home, regime="degraded")
    btc = next(h for h in assess(home=home, now=now) if h.symbol == "BTCUSDT")
    newest = btc.versions[-1]
    assert newest.first_call is not None and newest.last_call is not None
    page = tokyo_page
    page.goto(start_app(CRYPTOVOLT_NOW=now.isoformat()) + "/monitor", wait_until="domcontentloaded")
    body = page.locator('[data-testid="stMain"]')
    calls = f"{_tokyo(newest.first_call)} → {_tokyo(newest.last_call)}."
    expect(body).to_contain_text(calls, timeout=90_000)
    _sidebar(page).get_by_text("Times in UTC").click()
    expect(body).to_contain_text(f"{_utc(newest.first_call)} → {_utc(newest.last_call)}.")
    expect(body).not_to_contain_text(calls)
    assert_no_exception(page)
