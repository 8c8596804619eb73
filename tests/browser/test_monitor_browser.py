"""The Monitor page in a real browser: after a journal of real calls it shows a coin's status and
the plot; with no journal it says how to get one."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from core.monitor import assess
from tests.browser.conftest import assert_no_exception
from tests.card_home import copy_carded_into
from tests.monitor_journal import journal_home

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def open_monitor(page, url: str) -> None:
    page.goto(url)
    page.get_by_role("link", name="Monitor").click()
    expect(page.get_by_role("heading", name="Monitor")).to_be_visible(timeout=90_000)


def test_monitor_page_reads_each_coins_status_after_real_calls(home: Path, start_app, browser_page):
    now = journal_home(home, regime="degraded")
    expected = {h.symbol: h for h in assess(home=home, now=now)}
    page = browser_page
    open_monitor(page, start_app(CRYPTOVOLT_NOW=now.isoformat()))
    table = page.locator('[data-testid="stTable"]').filter(has_text="resolved calls")
    expect(table).to_contain_text("Ethereum (ETH)", timeout=90_000)  # the last row has drawn
    rows = {
        r.locator("th").first.inner_text().strip(): r.inner_text()
        for r in table.locator("tbody tr").all()
    }
    assert "DEGRADED" in rows["Bitcoin (BTC)"]
    assert str(expected["BTCUSDT"].calls) in rows["Bitcoin (BTC)"]
    assert expected["BTCUSDT"].reason in rows["Bitcoin (BTC)"]
    assert "not enough calls yet" in rows["Ethereum (ETH)"]
    expect(page.locator(".js-plotly-plot .main-svg").first).to_be_visible(timeout=60_000)
    body = page.locator('[data-testid="stMain"]')
    expect(body).to_contain_text("below its promise")
    expect(body).to_contain_text("Drifted features")
    assert_no_exception(page)


def test_monitor_page_without_a_journal_says_how_to_get_one(home: Path, start_app, browser_page):
    copy_carded_into(home)
    page = browser_page
    open_monitor(page, start_app())
    expect(page.get_by_text("No journal yet").first).to_be_visible(timeout=90_000)
    table = page.locator('[data-testid="stTable"]').filter(has_text="resolved calls")
    expect(table.get_by_text("not enough calls yet")).to_have_count(2, timeout=90_000)
    body = page.locator('[data-testid="stMain"]')
    expect(body).to_contain_text("python -m core watch")
    expect(body).to_contain_text("open the Signals page")
    assert_no_exception(page)


def test_monitor_page_shows_bands_off_their_promise(home: Path, start_app, browser_page):
    from tests.vol_journal import build_vol_journal

    now = build_vol_journal(home, planted=True)
    page = browser_page
    open_monitor(page, start_app(CRYPTOVOLT_NOW=now.isoformat()))
    body = page.locator('[data-testid="stMain"]')
    expect(body).to_contain_text("Expected move: live bands and forecast", timeout=90_000)
    bands = page.locator('[data-testid="stTable"]').filter(has_text="live coverage")
    expect(bands).to_contain_text("OUTSIDE its interval", timeout=60_000)
    expect(body).to_contain_text("OFF PROMISE")
    expect(body).to_contain_text("live QLIKE")
    # the coverage chart: one dot per band and one promise marker, drawn
    chart = page.locator(".js-plotly-plot").filter(has_text="promised")
    expect(chart.locator(".main-svg").first).to_be_visible(timeout=60_000)
    assert_no_exception(page)
