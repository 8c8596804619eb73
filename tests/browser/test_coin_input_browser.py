"""Free-text coin entry in a real browser: typing ``LTC`` + Enter adds LTC, not a fuzzy match.

A two-widget script is run with ``streamlit run``: Streamlit's default multiselect (fuzzy
filter, display names), which picks "Polygon (POL, formerly MATIC)" for ``LTC``, and
:func:`ui.coin_input.coin_multiselect`, where the typed symbol wins.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ROOT, assert_no_exception
from tests.streamlit_server import Streamlit

SCRIPT = """
import streamlit as st
from core.data.coins import DEFAULT_COINS, display_name, parse_coins
from ui.coin_input import coin_multiselect

fuzzy = st.multiselect("Fuzzy", list(DEFAULT_COINS), format_func=display_name,
                       accept_new_options=True, key="fuzzy")
picked = coin_multiselect("Coins", DEFAULT_COINS, key="coins")
st.markdown("fuzzy: " + ",".join(c.symbol for c in parse_coins(fuzzy)))
st.markdown("picked: " + ",".join(c.symbol for c in parse_coins(picked)))
"""


@pytest.fixture
def harness(tmp_path: Path):
    script = tmp_path / "coin_harness.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CRYPTOVOLT_HOME": str(tmp_path / "home")}
    app = Streamlit(script, env, tmp_path / "streamlit.log")
    try:
        yield app.url
    finally:
        app.stop()


def _type_enter(page, index: int, text: str) -> None:
    box = page.get_by_test_id("stMultiSelect").nth(index).locator("input")
    box.click()
    page.keyboard.type(text, delay=30)
    expect(box).to_have_value(text)  # the dropdown is filtered by what was typed, not part of it
    expect(page.get_by_role("option").first).to_be_visible()
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")


@pytest.mark.browser
def test_typing_a_symbol_and_enter_adds_that_symbol(harness: str, browser_page):
    page = browser_page
    page.goto(harness)
    expect(page.get_by_text("picked:")).to_be_visible(timeout=30_000)
    _type_enter(page, 0, "LTC")  # the widget as it was: the fuzzy match wins
    expect(page.get_by_text("fuzzy: POLUSDT")).to_be_visible(timeout=30_000)
    _type_enter(page, 1, "LTC")
    expect(page.get_by_text("picked: LTCUSDT", exact=True)).to_be_visible(timeout=30_000)
    _type_enter(page, 1, "eth")  # a known coin's symbol still finds it
    expect(page.get_by_text("picked: LTCUSDT,ETHUSDT")).to_be_visible(timeout=30_000)
    chips = page.get_by_test_id("stMultiSelect").nth(1)
    expect(chips).to_contain_text("Ethereum (ETH)")
    expect(chips).to_contain_text("LTC")
    expect(chips).not_to_contain_text("Polygon")
    assert_no_exception(page)
