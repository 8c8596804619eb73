"""AppTest: the Monitor page's Alerts field saves Apprise URLs and sends a test to each, saying
per target whether it was delivered; a URL Apprise cannot use is refused and nothing is saved."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.live.notify import saved_urls
from tests.card_home import ROOT
from tests.integration.test_alerts import Receiver
from tests.waiting import APP_TIMEOUT

pytestmark = pytest.mark.slow


def _monitor() -> AppTest:
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=APP_TIMEOUT)
    at.run()
    at.switch_page("pages/monitor.py").run()
    assert not at.exception, at.exception
    return at


def _submit(at: AppTest, urls: str, label: str) -> AppTest:
    at.text_area(key="alert_urls").set_value(urls)
    next(b for b in at.button if b.label == label).click().run()
    assert not at.exception, at.exception
    return at


def test_saved_urls_get_a_test_message_and_each_says_whether_it_arrived(home: Path):
    good, bad = Receiver(), Receiver(answers=[(500, {})] * 5)
    try:
        at = _submit(_monitor(), f"{good.json_url}\n{bad.json_url}", "Save and send a test")
        assert saved_urls(home) == [good.json_url, bad.json_url]
        ok = " ".join(s.value for s in at.success)
        failed = " ".join(e.value for e in at.error)
        assert "Saved 2 target(s)" in ok and "delivered (HTTP 200)" in ok
        assert "Not delivered" in failed and "HTTP 500" in failed
        assert [b["title"] for b in good.bodies] == ["CryptoVolt: test alert"]
        at = _monitor()  # a new session shows what is saved
        assert at.text_area(key="alert_urls").value == f"{good.json_url}\n{bad.json_url}"
    finally:
        good.close()
        bad.close()


def test_a_url_apprise_cannot_use_is_refused_and_nothing_is_saved(home: Path):
    at = _submit(_monitor(), "json://127.0.0.1:9/a", "Save")
    assert saved_urls(home) == ["json://127.0.0.1:9/a"]
    at = _submit(at, "json://127.0.0.1:9/b\nnot-a-url", "Save")
    assert "not a notification URL" in " ".join(e.value for e in at.error)
    saved = json.loads((home / "settings" / "alert_urls.json").read_text())
    assert saved == {"urls": ["json://127.0.0.1:9/a"]}
