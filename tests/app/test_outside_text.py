"""AppTest: text from an exchange or a file reaches the page as text, never as Markdown.

A hostile "exchange" on 127.0.0.1 answers every request with an error whose message is an image
link to another host; the Signals page's Refresh shows that message, escaped, so a Markdown
renderer draws the characters and fetches nothing. The alert banner does the same with a line of
``logs/alerts.log``."""

from __future__ import annotations

import html
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from streamlit.testing.v1 import AppTest

from core.data.store import load_candles
from core.live.alerts import Alert, alerts_log
from tests.card_home import ROOT, copy_carded_into
from tests.waiting import APP_TIMEOUT

pytestmark = pytest.mark.slow

HOSTILE = "![x](http://evil.example/x.png)"


@pytest.fixture
def hostile_exchange() -> Iterator[str]:
    """A server that refuses every request with HTTP 400 and ``HOSTILE`` as Binance's ``msg``."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            return

        def do_GET(self) -> None:  # noqa: N802
            body = json.dumps({"code": -1100, "msg": HOSTILE}).encode()
            self.send_response(400)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _rendered(markdown: str) -> str:
    """What a CommonMark renderer makes of an element's body (Streamlit's is a superset)."""
    return MarkdownIt("commonmark").render(markdown)


def test_an_exchange_error_text_shows_literally_on_the_signals_page(
    home: Path, hostile_exchange: str, monkeypatch: pytest.MonkeyPatch
):
    copy_carded_into(home)
    last = load_candles("BTCUSDT")["open_time"].iloc[-1]
    monkeypatch.setenv("CRYPTOVOLT_NOW", (last + timedelta(hours=2)).isoformat())
    monkeypatch.setenv("BINANCE_BASE_URL", hostile_exchange)
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=APP_TIMEOUT)
    at.run()
    at.switch_page("pages/signals.py").run()
    at.button[0].click().run()  # Refresh: the top-up meets the hostile answer
    assert not at.exception, at.exception
    shown = [w.value for w in at.warning if "evil.example" in w.value]
    assert shown, [w.value for w in at.warning]
    for body in shown:
        rendered = _rendered(body)
        assert "<img" not in rendered and "<a " not in rendered
        assert html.escape(HOSTILE, quote=False) in rendered  # the characters, as they came
    assert "<img" in _rendered(HOSTILE)  # unescaped, the same text would be an image


def test_an_alert_line_from_the_log_shows_literally_in_the_banner(home: Path):
    path = alerts_log(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC) - timedelta(hours=1)
    message = f"two watch cycles in a row failed: HTTP 400: {HOSTILE} :red[fake]"
    path.write_text(Alert(now.isoformat(), "watch_failing", None, message).line() + "\n")
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=APP_TIMEOUT)
    at.run()
    assert not at.exception, at.exception
    banner = " ".join(w.value for w in at.warning)
    rendered = _rendered(banner)
    assert "<img" not in rendered and "<a " not in rendered
    assert html.escape(f"{HOSTILE} :red[fake]", quote=False) in rendered
