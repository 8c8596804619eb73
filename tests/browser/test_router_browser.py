"""A first request straight to a page URL gets the app's frame, not Streamlit's legacy pages/ mode."""

from __future__ import annotations

import pytest

from tests.browser.conftest import assert_no_exception

pytestmark = pytest.mark.browser


def test_fresh_server_opened_at_a_page_url_shows_the_router_navigation(start_app, browser_page):
    url = start_app()
    browser_page.goto(f"{url}/charts")
    nav = browser_page.locator('[data-testid="stSidebarNav"]')
    nav.get_by_text("Training").wait_for(timeout=30_000)
    browser_page.locator("[data-testid=stSidebarUserContent]").get_by_text("CryptoVolt").wait_for(
        timeout=10_000
    )
    text = nav.inner_text()
    assert "streamlit app" not in text.lower()
    assert browser_page.locator("h1").first.inner_text().endswith("Charts")
    assert_no_exception(browser_page)
