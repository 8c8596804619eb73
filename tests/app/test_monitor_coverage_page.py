"""AppTest of the Monitor page's expected-move section: a coin whose recorded bands were too
narrow for the moves that followed shows OFF PROMISE, its coverage beside the promise with the
interval, and live QLIKE beside the baselines (a real journal and real candles:
tests/vol_journal.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.monitor import assess
from tests.card_home import ROOT
from tests.vol_journal import build_vol_journal
from tests.waiting import APP_TIMEOUT

pytestmark = pytest.mark.slow


def test_a_coin_with_bands_off_their_promise_shows_them(home: Path, monkeypatch):
    now = build_vol_journal(home, planted=True)
    monkeypatch.setenv("CRYPTOVOLT_NOW", now.isoformat())
    (expected,) = assess(["BTC"], home=home, now=now)
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=APP_TIMEOUT)
    at.run()
    at.switch_page("pages/monitor.py").run()
    assert not at.exception, at.exception
    status = next(t.value for t in at.table if "status" in t.value.columns)
    btc = status.loc["Bitcoin (BTC)"]
    assert btc["status"] == "DEGRADED" and btc["expected-move bands"] == "OFF PROMISE"
    bands = next(t.value for t in at.table if "live coverage" in t.value.columns)
    assert len(bands) == 6 and "OUTSIDE its interval" in set(bands["verdict"])
    c80 = next(c for c in expected.volatility.coverage if (c.horizon, c.level) == ("6h", "80"))
    assert bands.loc[("6h", "80%"), "live coverage"] == f"{c80.rate:.0%}"
    qlike = next(t.value for t in at.table if "live QLIKE" in t.value.columns)
    assert {"persistence QLIKE", "ewma QLIKE", "best baseline"} <= set(qlike.columns)
    assert any("Expected move: live bands" in s.value for s in at.subheader)
