"""AppTest of the Monitor page: with no journal it says how to get one; with a journal of real
calls it shows each coin's status, the live rates beside the promise, the plot and the drift."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.monitor import assess
from tests.card_home import ROOT, copy_carded_into
from tests.monitor_journal import journal_home
from tests.waiting import APP_TIMEOUT

pytestmark = pytest.mark.slow


def open_monitor() -> AppTest:
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=APP_TIMEOUT)
    at.run()
    at.switch_page("pages/monitor.py").run()
    assert not at.exception, at.exception
    return at


def status_table(at: AppTest):
    return next(t.value for t in at.table if "status" in t.value.columns)


def test_without_a_journal_the_page_says_how_to_get_one(home: Path):
    copy_carded_into(home)
    at = open_monitor()
    infos = " ".join(i.value for i in at.info)
    assert "No journal yet" in infos
    assert "run `python -m core watch` or open the Signals page" in infos
    table = status_table(at)
    assert list(table.index) == ["Bitcoin (BTC)", "Ethereum (ETH)"]
    assert set(table["status"]) == {"not enough calls yet"}


def test_a_degraded_coin_shows_its_status_rates_plot_and_drift(
    home: Path, monkeypatch: pytest.MonkeyPatch
):
    now = journal_home(home, regime="degraded")
    monkeypatch.setenv("CRYPTOVOLT_NOW", now.isoformat())
    expected = {h.symbol: h for h in assess(home=home, now=now)}
    at = open_monitor()
    assert not at.info  # a journal exists
    table = status_table(at)
    btc = table.loc["Bitcoin (BTC)"]
    assert btc["status"] == "DEGRADED"
    assert btc["resolved calls (30 d)"] == f"{expected['BTCUSDT'].calls:,}" == "110"
    assert btc["why"] == expected["BTCUSDT"].reason
    assert btc["drifted features"] == str(expected["BTCUSDT"].drifted)
    assert table.loc["Ethereum (ETH)", "status"] == "not enough calls yet"

    rates = next(t.value for t in at.table if "live hit rate" in t.value.columns)
    assert "below its promise" in set(rates["live vs promise"])
    assert {"95% interval", "promised", "promised interval", "independent"} <= set(rates.columns)
    members = next(t.value for t in at.table if "live log loss" in t.value.columns)
    assert members.loc["xgb_direction_btcusdt v1", "live gate (log loss < base rate's)"] == "FAILS"
    assert len(at.get("plotly_chart")) == 1
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Drifted features"] == str(expected["BTCUSDT"].drifted)
    assert any("PSI < 0.1 stable" in c.value for c in at.caption)
    # the call range and drift window are times with their zone (UTC here: no browser zone)
    assert any(c.value.endswith(" UTC.") and " → " in c.value for c in at.caption)
    # every table cell is text as read: no "None" or "nan" in an empty cell
    frames = [t.value for t in at.table] + [d.value for d in at.dataframe]
    for frame in frames:
        shown = {str(v) for v in frame.to_numpy().ravel()}
        assert not shown & {"None", "nan", "NaN", "<NA>"}, frame
