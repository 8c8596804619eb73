"""The Charts page in a real browser: open it from the navigation, see the candles drawn."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.conftest import assert_no_exception


@pytest.mark.browser
def test_charts_page_draws_candles_and_resamples_the_full_range(
    home_with_sample: Path, start_app, browser_page
):
    page = browser_page
    url = start_app()
    page.goto(url)
    page.get_by_role("link", name="Charts").click()
    page.get_by_role("heading", name="Charts").wait_for(timeout=30_000)
    page.locator(".js-plotly-plot .main-svg").first.wait_for(timeout=30_000)
    assert_no_exception(page)
    # Plotly draws each candlestick trace as a group of box paths; 30 days of 1h candles.
    page.locator(".js-plotly-plot g.trace.boxes path").first.wait_for(timeout=10_000)
    assert page.locator(".js-plotly-plot g.trace.boxes path").count() >= 1
    page.get_by_text("720 1h candles.").wait_for(timeout=10_000)

    with page.expect_download(timeout=30_000) as download:
        page.get_by_role("button", name="Download CSV").click()
    lines = Path(download.value.path()).read_text().splitlines()
    header = lines[0].split(",")
    assert header[:6] == ["open_time", "open", "high", "low", "close", "volume"]
    assert {"rsi_14", "macd", "bb_upper", "cmf_20"} <= set(header)
    assert len(lines) == 1 + 720

    page.get_by_role("radio", name="all", exact=True).click()  # segmented control
    page.get_by_text("resampled from 9,457 1h candles", exact=False).wait_for(timeout=30_000)
    page.locator(".js-plotly-plot .main-svg").first.wait_for(timeout=30_000)
    assert_no_exception(page)
