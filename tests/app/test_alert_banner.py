"""AppTest: every page starts with a banner of the last day's alerts (from logs/alerts.log)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from streamlit.testing.v1 import AppTest

from core.live.alerts import Alert, alerts_log
from tests.card_home import ROOT
from tests.waiting import APP_TIMEOUT


def _write(home: Path, *alerts: Alert) -> None:
    path = alerts_log(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(a.line() + "\n" for a in alerts), encoding="utf-8")


def _warnings(at: AppTest) -> str:
    return " ".join(w.value for w in at.warning)


def _run() -> AppTest:
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=APP_TIMEOUT)
    at.run()
    assert not at.exception, at.exception
    return at


def test_recent_alerts_show_in_a_banner_and_old_ones_do_not(home: Path):
    now = datetime.now(UTC)
    _write(
        home,
        Alert((now - timedelta(days=3)).isoformat(), "drifted", "ETHUSDT", "12 features drifted"),
        Alert((now - timedelta(hours=2)).isoformat(), "degraded", "BTCUSDT", "hit rate 0.31"),
    )
    text = _warnings(_run())
    assert "1 alert in the last 24 hours (BTCUSDT)" in text
    assert "degraded: hit rate 0.31" in text
    assert "ETHUSDT" not in text  # three days old


def test_no_banner_without_alerts(home: Path):
    assert "alert" not in _warnings(_run()).lower()
