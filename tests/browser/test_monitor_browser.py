"""The Monitor page in a real browser: after a journal of real calls it shows a coin's status and
the plot; with no journal it says how to get one."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.monitor import assess
from tests.browser.conftest import assert_no_exception
from tests.card_home import copy_carded_into
from tests.monitor_journal import journal_home

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def open_monitor(page, url: str) -> None:
    page.goto(url)
    page.get_by_role("link", name="Monitor").click()
    page.get_by_role("heading", name="Monitor").wait_for(timeout=90_000)


def test_monitor_page_reads_each_coins_status_after_real_calls(home: Path, start_app, browser_page):
    now = journal_home(home, regime="degraded")
    expected = {h.symbol: h for h in assess(now=now)}
    page = browser_page
    open_monitor(page, start_app(CRYPTOVOLT_NOW=now.isoformat()))
    table = page.locator('[data-testid="stTable"]').filter(has_text="resolved calls")
    table.wait_for(timeout=90_000)
    rows = {
        r.locator("th").first.inner_text().strip(): r.inner_text()
        for r in table.locator("tbody tr").all()
    }
    assert "DEGRADED" in rows["Bitcoin (BTC)"]
    assert str(expected["BTCUSDT"].calls) in rows["Bitcoin (BTC)"]
    assert expected["BTCUSDT"].reason in rows["Bitcoin (BTC)"]
    assert "not enough calls yet" in rows["Ethereum (ETH)"]
    page.locator(".js-plotly-plot .main-svg").first.wait_for(timeout=60_000)
    body = page.locator('[data-testid="stMain"]').inner_text()
    assert "below its promise" in body and "Drifted features" in body
    assert_no_exception(page)


def test_monitor_page_without_a_journal_says_how_to_get_one(home: Path, start_app, browser_page):
    copy_carded_into(home)
    page = browser_page
    open_monitor(page, start_app())
    page.get_by_text("No journal yet").first.wait_for(timeout=60_000)
    table = page.locator('[data-testid="stTable"]').filter(has_text="resolved calls")
    table.get_by_text("not enough calls yet").first.wait_for(timeout=90_000)
    assert table.get_by_text("not enough calls yet").count() == 2
    body = page.locator('[data-testid="stMain"]').inner_text()
    assert "python -m core watch" in body and "open the Signals page" in body
    assert_no_exception(page)
