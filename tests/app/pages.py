"""Open one page of the dashboard in Streamlit's AppTest, as a visitor does: the home page first,
then the page from the navigation."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.card_home import ROOT
from tests.waiting import APP_TIMEOUT

__all__ = ["open_page"]


def open_page(page: str) -> AppTest:
    """``page`` (e.g. ``"pages/backtest.py"``) opened from ``streamlit_app.py``; asserts it ran
    without an exception."""
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=APP_TIMEOUT)
    at.run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at
