"""Free-text coin entry in a real browser: typing ``LTC`` + Enter adds LTC, not a fuzzy match.

A two-widget script is run with ``streamlit run``: Streamlit's default multiselect (fuzzy
filter, display names), which picks "Polygon (POL, formerly MATIC)" for ``LTC``, and
:func:`ui.coin_input.coin_multiselect`, where the typed symbol wins.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.browser.conftest import ROOT, _free_port, assert_no_exception

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
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CRYPTOVOLT_HOME": str(tmp_path / "home")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(script), "--server.headless", "true"]
        + ["--server.port", str(port), "--server.address", "127.0.0.1"]
        + ["--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{url}/_stcore/health", timeout=1).text.strip() == "ok":
                    break
            time.sleep(0.25)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)


def _type_enter(page, index: int, text: str) -> None:
    box = page.get_by_test_id("stMultiSelect").nth(index).locator("input")
    box.click()
    page.keyboard.type(text, delay=30)
    page.wait_for_timeout(300)
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")


@pytest.mark.browser
def test_typing_a_symbol_and_enter_adds_that_symbol(harness: str, browser_page):
    page = browser_page
    page.goto(harness)
    page.get_by_text("picked:").wait_for(timeout=30_000)
    _type_enter(page, 0, "LTC")  # the widget as it was: the fuzzy match wins
    page.get_by_text("fuzzy: POLUSDT").wait_for(timeout=10_000)
    _type_enter(page, 1, "LTC")
    page.get_by_text("picked: LTCUSDT").wait_for(timeout=10_000)
    _type_enter(page, 1, "eth")  # a known coin's symbol still finds it
    page.get_by_text("picked: LTCUSDT,ETHUSDT").wait_for(timeout=10_000)
    chips = page.get_by_test_id("stMultiSelect").nth(1).inner_text()
    assert "ETH · Ethereum" in chips and "LTC" in chips and "Polygon" not in chips
    assert_no_exception(page)
