"""A first request straight to a page URL gets the app's frame, not Streamlit's legacy pages/ mode."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import assert_no_exception

pytestmark = pytest.mark.browser


def test_fresh_server_opened_at_a_page_url_shows_the_router_navigation(start_app, browser_page):
    url = start_app()
    browser_page.goto(f"{url}/charts")
    nav = browser_page.locator('[data-testid="stSidebarNav"]')
    expect(nav.get_by_text("Training")).to_be_visible(timeout=60_000)
    sidebar = browser_page.locator("[data-testid=stSidebarUserContent]")
    expect(sidebar.get_by_text("CryptoVolt")).to_be_visible()
    expect(browser_page.locator("h1").first).to_have_text(re.compile(r"Charts$"))
    expect(nav).not_to_contain_text(re.compile("streamlit app", re.IGNORECASE))
    assert_no_exception(browser_page)
