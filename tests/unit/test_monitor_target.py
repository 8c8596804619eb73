"""The monitor judges a volatility model's live forecasts in the realised variance it learned.

A HAR is trained on GARCH candles whose target is the 5-minute realised variance (5 m candles
stored); its forecasts over the next 20 days are judged by :func:`vol_health` with the real
registry and candles. With the 5 m candles stored the live QLIKE is measured in that target (not
in hourly Garman–Klass); without them it is "not measured" in words, saying what to fetch, and
the bands are still judged (they cover returns, which the hourly candles give).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.data.store import candle_path, save_candles
from core.monitor.coverage import target_measure, vol_health
from core.registry.model_registry import ModelRegistry
from core.volatility.train import load_volatility_model, train_volatility
from tests.vol_sim import PER_HOUR, garch_5m_candles

TRAIN, EXTRA, EVERY = 1500, 24 * 20, 6


@pytest.fixture(scope="module")
def five_minute_home(tmp_path_factory):
    folder = tmp_path_factory.mktemp("monitor_target")
    hourly, five, _ = garch_5m_candles(TRAIN + EXTRA, seed=21)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CRYPTOVOLT_HOME", str(folder))
        save_candles(five.iloc[: TRAIN * PER_HOUR], "BTCUSDT", "5m")
        train_volatility("BTC", estimator="har", registry=ModelRegistry(), candles=hourly[:TRAIN])
        save_candles(hourly, "BTCUSDT", "1h")
        model, record = load_volatility_model(ModelRegistry(), "BTC", "har")
        rows = []
        for end in range(TRAIN + 1, TRAIN + EXTRA + 1, EVERY):
            part = hourly.iloc[end - 400 : end]
            move = model.expected_move(part, only_passed=False)
            assert move is not None
            rows.append(
                {
                    "candle_time": pd.Timestamp(part["open_time"].iloc[-1]),
                    "expected_move": move["expected_move"],
                    "vol_model": f"{record.name} {record.version}",
                }
            )
    now = pd.to_datetime(hourly["open_time"], utc=True).max() + pd.Timedelta(hours=1)
    return folder, hourly, five, rows, now


def _health(folder, hourly, rows, now, monkeypatch, registry=True):
    monkeypatch.setenv("CRYPTOVOLT_HOME", str(folder))
    reg = ModelRegistry() if registry else None
    return vol_health("BTCUSDT", rows, hourly, end=now, days=30, registry=reg)


def test_the_record_says_which_realised_variance_it_learned(five_minute_home, monkeypatch):
    folder, *_ = five_minute_home
    monkeypatch.setenv("CRYPTOVOLT_HOME", str(folder))
    record = ModelRegistry().record("vol_har_btcusdt")
    assert record.target["realised_variance"] == "5m"
    assert target_measure(ModelRegistry(), (record.name, record.version)) == "5m"


def test_with_5m_candles_the_live_qlike_is_judged_in_the_5m_target(five_minute_home, monkeypatch):
    folder, hourly, five, rows, now = five_minute_home
    monkeypatch.setenv("CRYPTOVOLT_HOME", str(folder))
    save_candles(five, "BTCUSDT", "5m")  # the monitoring period's 5 m candles too
    own = _health(folder, hourly, rows, now, monkeypatch)
    assert own.skill_note is None
    six = {s.horizon: s for s in own.skill}["6h"]
    assert six.forecasts > 0 and six.qlike is not None
    # judged in hourly Garman–Klass (no record to say otherwise) it is another number
    gk = _health(folder, hourly, rows, now, monkeypatch, registry=False)
    gk_six = {s.horizon: s for s in gk.skill}["6h"]
    assert gk_six.qlike is not None and not np.isclose(six.qlike, gk_six.qlike)
    assert [c.rate for c in own.coverage] == [c.rate for c in gk.coverage]


def test_without_5m_candles_the_live_qlike_is_not_measured_in_words(five_minute_home, monkeypatch):
    folder, hourly, five, rows, now = five_minute_home
    monkeypatch.setenv("CRYPTOVOLT_HOME", str(folder))
    candle_path("BTCUSDT", "5m").unlink(missing_ok=True)
    health = _health(folder, hourly, rows, now, monkeypatch)
    assert health.skill == ()
    note = health.skill_note or ""
    assert (
        note.startswith("not measured:") and "5-minute candles are not stored for BTCUSDT" in note
    )
    assert "python -m core fetch --coins BTC --interval 5m --days" in note
    assert health.to_dict()["qlike_note"] == note
    assert health.coverage and health.matured > 0  # the bands are still judged

    # 5 m candles stored for the training period only: too few of the hours judged
    save_candles(five.iloc[: TRAIN * PER_HOUR], "BTCUSDT", "5m")
    partial = _health(folder, hourly, rows, now, monkeypatch)
    assert partial.skill == () and "cover only" in (partial.skill_note or "")
