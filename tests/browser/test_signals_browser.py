"""The Signals page in a real browser after training: read a coin's card."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.data.store import load_candles
from core.registry.model_registry import ModelRegistry
from core.signals.live import compute_signal
from tests.browser.conftest import assert_no_exception
from tests.trained_home import copy_trained_into


@pytest.mark.browser
@pytest.mark.slow
def test_signals_page_shows_the_trained_coins_cards(home: Path, start_app, browser_page):
    copy_trained_into(home)
    expected = compute_signal("BTCUSDT", ModelRegistry(), load_candles("BTCUSDT"))
    page = browser_page
    page.goto(start_app())
    page.get_by_role("link", name="Signals").click()
    page.get_by_role("heading", name="Signals").wait_for(timeout=30_000)
    page.locator('[data-testid="stMetricValue"]').first.wait_for(timeout=30_000)
    assert_no_exception(page)

    # one card per grid column: the column holding BTCUSDT's confidence metric
    card = (
        page.locator('[data-testid="stColumn"]')
        .filter(has_text="Bitcoin (BTC)")
        .filter(has=page.locator('[data-testid="stMetricValue"]'))
    )
    text = card.inner_text()
    assert expected.signal.value in text
    value = card.locator('[data-testid="stMetricValue"]').inner_text().strip()
    assert value == f"{expected.confidence:.0%}"
    assert f"rests on {expected.support:,} out-of-sample calls" in text
    assert f"{expected.price:,.6g}" in text
    assert "Models agree" in text or "Models disagree" in text
    assert "lstm_btcusdt v1" in text and "xgboost_btcusdt v1" in text
    assert page.locator('[data-testid="stMetricValue"]').count() == 2  # BTC and ETH
