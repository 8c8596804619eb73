"""Live band coverage and QLIKE in the monitor (issue 19.6), on a real journal and real candles.

A HAR volatility model is trained on GARCH candles; the market then goes on for 30 more days and
the product's own signal path (load_coin_models + signal_from_models) shows an expected move
every 6 hours, recorded with the journal's own API, as the watch loop would. In the planted case
every new candle opens away from the last close (a jump between candles the hourly ranges never
see), so the recorded bands are too narrow for the moves that follow: the coin must turn degraded
and alert once. The same process going on unchanged must not.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from core.monitor import assess
from core.monitor.coverage import MIN_EFFECTIVE
from tests.core_cli import core_json
from tests.vol_journal import EVERY, EXTRA, build_vol_journal

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module", params=["steady", "planted"])
def journal_home(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(f"coverage_{request.param}")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CRYPTOVOLT_HOME", str(folder))
        now = build_vol_journal(folder, planted=request.param == "planted")
    return request.param, folder, now


def test_band_coverage_flags_the_planted_miss_and_not_the_steady_market(journal_home, monkeypatch):
    regime, folder, now = journal_home
    monkeypatch.setenv("CRYPTOVOLT_HOME", str(folder))  # the test is the edge
    (health,) = assess(["BTC"], home=folder, now=now)
    vol = health.volatility
    assert vol is not None and vol.model == "vol_har_btcusdt v1"
    cells = {(c.horizon, c.level): c for c in vol.coverage}
    assert set(cells) == {(h, lv) for h in ("6h", "24h") for lv in ("50", "80", "90")}
    c80 = cells[("6h", "80")]
    assert c80.judged and c80.effective >= MIN_EFFECTIVE
    # matured only: the last forecasts' windows reach past the last candle
    assert vol.pending > 0 and vol.matured < 2 * (EXTRA // EVERY)
    if regime == "planted":
        assert vol.status == "degraded" and health.status == "degraded"
        assert c80.outside and c80.high is not None and c80.high < 0.8
        assert "6h 80% band covered" in health.reason
    else:
        assert vol.status == "on_track", vol.reason
        assert not any(c.outside for c in vol.coverage)
        assert c80.low is not None and c80.high is not None and c80.low <= 0.8 <= c80.high
        assert health.status != "degraded"


def test_live_qlike_stands_beside_the_baselines_on_the_same_hours(journal_home, monkeypatch):
    regime, folder, now = journal_home
    monkeypatch.setenv("CRYPTOVOLT_HOME", str(folder))  # the test is the edge
    (health,) = assess(["BTC"], home=folder, now=now)
    skill = {s.horizon: s for s in health.volatility.skill}
    six = skill["6h"]
    assert set(six.baselines) == {"persistence", "ewma", "mean"}
    assert six.forecasts > 0 and six.qlike is not None
    if regime == "steady":
        # GARCH: the forecast that passed its gates keeps beating persistence live
        assert six.qlike < six.baselines["persistence"]


def test_monitor_json_and_the_alert_fire_once_per_change(journal_home, monkeypatch):
    from core.live.alerts import Alerts
    from core.live.health import coin_health

    regime, folder, now = journal_home
    args = ["monitor", "--json", "--coins", "BTC"]
    (coin,) = core_json(folder, *args, CRYPTOVOLT_NOW=now.isoformat())
    vol = coin["volatility"]
    assert {c["level"] for c in vol["coverage"]} == {"50", "80", "90"}
    assert {"qlike", "best_baseline", "best_baseline_qlike"} <= set(vol["qlike"][0])
    monkeypatch.setenv("CRYPTOVOLT_HOME", str(folder))  # the test is the edge
    health, why_not = coin_health(["BTC"], home=folder, now=now.to_pydatetime())
    assert why_not is None
    monkeypatch.delenv("CRYPTOVOLT_ALERT_URLS", raising=False)
    monkeypatch.delenv("CRYPTOVOLT_ALERT_WEBHOOK", raising=False)
    first = Alerts(home=folder).observe(health, now.to_pydatetime())
    # a restarted watch reads the state back: the same degraded coin does not alert again
    again = Alerts(home=folder).observe(health, now.to_pydatetime())
    if regime == "planted":
        assert [a.kind for a in first] == ["degraded"] and "band covered" in first[0].message
        assert again == []
        assert "band covered" in (folder / "logs" / "alerts.log").read_text()
    else:
        assert [a for a in first if a.kind == "degraded"] == []
