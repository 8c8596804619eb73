"""The Signals and Models pages in a real browser after training: read a coin's card, a NO EDGE
card, a STALE card, and a model card."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from playwright.sync_api import expect

from core.data.store import load_candles
from core.registry.model_registry import ModelRegistry
from core.signals.live import compute_signal
from tests.browser.conftest import assert_no_exception
from tests.card_home import copy_carded_into


@pytest.mark.browser
@pytest.mark.slow
def test_signals_page_shows_a_call_and_a_no_edge_card(
    home: Path, start_app, browser_page, monkeypatch: pytest.MonkeyPatch
):
    copy_carded_into(home)
    candles = load_candles("BTCUSDT")
    # pretend it is an hour after BTC's last candle closed (its planted candles end in 2023)
    now = (candles["open_time"].iloc[-1] + pd.Timedelta(hours=2)).isoformat()
    monkeypatch.setenv("CRYPTOVOLT_NOW", now)
    expected = compute_signal("BTCUSDT", ModelRegistry(), candles, now=pd.Timestamp(now))
    page = browser_page
    page.goto(start_app(CRYPTOVOLT_NOW=now))
    page.get_by_role("link", name="Signals").click()
    # first load reads every model: slow on a busy 2-core box
    expect(page.get_by_role("heading", name="Signals")).to_be_visible(timeout=90_000)
    metrics = page.locator('[data-testid="stMetricValue"]')
    expect(metrics).to_have_count(2, timeout=90_000)  # BTC's two; NO EDGE shows no numbers
    assert_no_exception(page)

    # BTCUSDT's card, holding its confidence metric
    card = page.locator('div[class*="st-key-signal_card_BTCUSDT_"]')
    expect(card.locator('[data-testid="stMetricValue"]')).to_have_text(
        [f"{expected.confidence:.0%}", f"{expected.base_rate:.0%}"]
    )
    expect(card).to_contain_text(expected.signal.value)
    card.get_by_text("Models (2) and their checks").click()  # the members, in an expander
    expect(card).to_contain_text("→ votes")
    text = card.inner_text()
    assert f"rests on {expected.support:,} earlier out-of-sample calls" in text
    assert f"right {expected.test_hit_rate:.0%} of {expected.test_support:,} such calls" in text
    assert f"{expected.price:,.6g}" in text
    assert "→ votes" in text and "does not vote. No edge" in text
    assert "lstm_return_btcusdt v1" in text and "xgb_direction_btcusdt v1" in text

    eth = page.locator('div[class*="st-key-signal_card_ETHUSDT_"]')
    expect(eth).to_contain_text("NO EDGE")
    eth.get_by_text("Models (1) and their checks").click()
    expect(eth).to_contain_text("lower bound")
    eth_text = eth.inner_text()
    assert "nothing is called" in eth_text and "lower bound" in eth_text
    expect(metrics).to_have_count(2)  # still two once every card has drawn


@pytest.mark.browser
@pytest.mark.slow
def test_a_stale_card_looks_stale_and_calls_nothing(home: Path, start_app, browser_page):
    copy_carded_into(home)  # BTC's candles end in 2023: on today's clock its signal is STALE
    page = browser_page
    page.goto(start_app())
    page.get_by_role("link", name="Signals").click()
    card = page.locator('div[class*="st-key-signal_card_BTCUSDT_stale"]')
    expect(card.get_by_text("STALE · no call")).to_be_visible(timeout=90_000)
    fresh = page.locator('div[class*="st-key-signal_card_ETHUSDT_"]')  # NO EDGE, not stale
    expect(fresh).to_contain_text("NO EDGE")  # every card has drawn
    assert_no_exception(page)
    text = card.inner_text()
    assert "STALE: the last closed candle is" in text and "years old" in text
    assert "nothing is called on it" in text and "Top the candles up" in text
    assert "BULLISH" not in text and "BEARISH" not in text and "Confidence" not in text
    assert "Training window: XGBoost direction v1 trained on 2023-01-" in text
    expect(card.locator('[data-testid="stMetricValue"]')).to_have_count(0)
    # The text is in the DOM before the card's style applies (read once, it was 'solid' where
    # the page draws 'dashed'): these retry until the style holds or the timeout ends.
    expect(card).to_have_css("border-style", "dashed")
    expect(card).to_have_css("background-image", re.compile("repeating-linear-gradient"))
    expect(fresh).to_have_css("border-style", "solid")  # a fresh card keeps its plain border


@pytest.mark.browser
@pytest.mark.slow
def test_models_page_shows_a_model_card_with_its_gates(home: Path, start_app, browser_page):
    copy_carded_into(home)
    page = browser_page
    page.goto(start_app())
    page.get_by_role("link", name="Models").click()
    expect(page.get_by_role("heading", name="Models")).to_be_visible(timeout=90_000)
    # the first model (lstm_return_btcusdt) fails both its gates
    gates = page.locator('[data-testid="stTable"]').filter(has_text="what it asks").first
    expect(gates.get_by_text("❌ fail").first).to_be_visible(timeout=90_000)
    expect(gates).to_contain_text(re.compile(r"MASE [\d.]+, needs < 1"))
    body = page.locator('[data-testid="stMain"]')
    expect(body).to_contain_text("No edge (their gates fail, so they do not vote)")
    expect(body).to_contain_text("Test window, beside its baselines")
    expect(body).to_contain_text("95% interval")
    assert_no_exception(page)
