"""The Charts page in a real browser: open it from the navigation, see the candles drawn."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

from tests.browser.conftest import assert_no_exception


@pytest.mark.browser
def test_charts_page_draws_candles_and_resamples_the_full_range(
    home_with_sample: Path, start_app, browser_page
):
    page = browser_page
    url = start_app()
    page.goto(url)
    page.get_by_role("link", name="Charts").click()
    expect(page.get_by_role("heading", name="Charts")).to_be_visible(timeout=60_000)
    expect(page.locator(".js-plotly-plot .main-svg").first).to_be_visible(timeout=60_000)
    # Plotly draws each candlestick trace as a group of box paths; 30 days of 1h candles.
    expect(page.locator(".js-plotly-plot g.trace.boxes path").first).to_be_attached()
    expect(page.get_by_text("720 1h candles.")).to_be_visible()
    assert_no_exception(page)

    lines = _download_csv(page)
    header = lines[0].split(",")
    assert header[:6] == ["open_time", "open", "high", "low", "close", "volume"]
    assert {"rsi_14", "macd", "bb_upper", "cmf_20"} <= set(header)
    assert len(lines) == 1 + 720

    page.get_by_role("radio", name="all", exact=True).click()  # segmented control
    expect(page.get_by_text("resampled from 9,457 1h candles", exact=False)).to_be_visible(
        timeout=60_000
    )
    expect(page.locator(".js-plotly-plot .main-svg").first).to_be_visible(timeout=60_000)
    assert_no_exception(page)


def _download_csv(page) -> list[str]:
    """Click Download CSV and read the file. A click that lands while the page is still redrawing
    can be lost (seen once on a cold server): the click waits for the script to have ended, and
    a second click is allowed, not a third. The CSV is made on the server after the click (a
    deferred download: the button is disabled, with a spinner, until the file comes), which took
    over 20 s at load 9: each click waits for the button to be enabled, and for the file as long
    as for the page."""
    button = page.get_by_role("button", name="Download CSV")
    for attempt in range(2):
        expect(page.get_by_test_id("stApp")).to_have_attribute(
            "data-test-script-state", "notRunning", timeout=60_000
        )
        expect(button).to_be_enabled(timeout=60_000)
        try:
            with page.expect_download(timeout=60_000) as download:
                button.click()
            return Path(download.value.path()).read_text().splitlines()
        except PlaywrightTimeoutError:
            if attempt:
                raise
    raise AssertionError("unreachable")
