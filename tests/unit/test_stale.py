"""STALE is a state: a signal whose last closed candle is older than its horizon calls nothing,
is said so in words and is not journalled as a call; the training window and how far the candles
lie past it travel with the signal."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from core.clock import clock_from_env
from core.context import Context
from core.errors import ConfigError
from core.signals import journal
from core.signals.ensemble import SignalKind
from core.signals.signal import ModelVote, Signal
from core.usecases import live_signals
from core.words import stale_words, training_words
from tests.unit.test_signals import (
    EXACT,
    bundle,
    called_and_quiet,
    candles_for,
    frame,
    member,
)

CANDLE = pd.Timestamp("2025-05-29 23:00", tz="UTC")  # open time; it closed at 2025-05-30 00:00
CLOSED = CANDLE + pd.Timedelta(hours=1)


def vote(**window) -> ModelVote:
    return ModelVote(
        "xgb_direction",
        "XGBoost direction",
        "xgb_direction_btcusdt",
        "v1",
        0.61,
        0.11,
        SignalKind.BULLISH,
        True,
        "votes: its gates pass",
        **window,
    )


def bullish(*, timeframe: str = "1h", horizon: int = 6, **window) -> Signal:
    return Signal(
        symbol="BTCUSDT",
        signal=SignalKind.BULLISH,
        reason=None,
        confidence=0.58,
        interval=(0.52, 0.63),
        support=400,
        base_rate=0.51,
        test_hit_rate=0.56,
        test_support=120,
        ece_out_of_time=0.02,
        strength=0.7,
        bucket=3,
        buckets=4,
        horizon=horizon,
        neutral_band=0.01,
        timeframe=timeframe,
        price=68_000.0,
        candle_time=CANDLE,
        votes=(vote(**window),),
    )


def test_a_call_within_its_horizon_stays_a_call():
    signal = bullish().at(CLOSED + pd.Timedelta(hours=6))  # exactly the horizon: still fresh
    assert signal.signal is SignalKind.BULLISH and not signal.stale
    assert signal.confidence == 0.58 and signal.age == pd.Timedelta(hours=6)
    data = signal.to_dict()
    assert data["stale"] is False and data["signal"] == "BULLISH" and data["age_hours"] == 6
    assert stale_words(signal) == ""


def test_a_call_older_than_its_horizon_is_stale_with_no_direction_and_no_confidence():
    signal = bullish().at(CLOSED + pd.Timedelta(hours=6, seconds=1))
    assert signal.signal is SignalKind.STALE and signal.stale
    assert signal.confidence is None and signal.interval == (None, None)
    assert signal.base_rate is None and signal.support == 0 and signal.test_support == 0
    assert all(v.vote is None for v in signal.votes)  # no member votes a direction either
    assert "older than the signal's horizon of 6 x 1h" in (signal.reason or "")
    data = json.loads(json.dumps(signal.to_dict()))
    assert data["stale"] is True and data["signal"] == "STALE" and data["confidence"] is None
    assert [v["vote"] for v in data["votes"]] == [None]
    words = stale_words(bullish().at(CLOSED + pd.Timedelta(days=553)))
    assert words.startswith("STALE: the last closed candle is 18.2 months old (2025-05-30 00:00")
    assert "nothing is called" in words and "Top the candles up" in words
    assert "(2025-05-30 00:00 UTC)" in words  # core, the CLI and files say UTC
    # the dashboard writes the close time in the viewer's zone (ui.clock.when)
    tokyo = stale_words(
        bullish().at(CLOSED + pd.Timedelta(days=553)),
        lambda t: f"{pd.Timestamp(t).tz_convert('Asia/Tokyo'):%Y-%m-%d %H:%M} JST",
    )
    assert "(2025-05-30 09:00 JST)" in tokyo and "UTC" not in tokyo


def test_the_horizon_is_counted_in_candles_of_the_signals_timeframe():
    four_hourly = bullish(timeframe="4h", horizon=6)  # 6 x 4h = 24 h
    closed = CANDLE + pd.Timedelta(hours=4)
    assert not four_hourly.at(closed + pd.Timedelta(hours=23)).stale
    assert four_hourly.at(closed + pd.Timedelta(hours=25)).signal is SignalKind.STALE


def test_no_edge_stays_no_edge_and_is_marked_stale():
    no_edge = replace(bullish(), signal=SignalKind.NO_EDGE, reason="No model beats ...")
    signal = no_edge.at(CLOSED + pd.Timedelta(days=3))
    assert signal.signal is SignalKind.NO_EDGE and signal.stale
    assert signal.reason == "No model beats ..." and signal.to_dict()["stale"] is True


def test_stale_stays_stale_until_new_candles_come():
    stale = bullish().at(CLOSED + pd.Timedelta(days=1))
    again = stale.at(CLOSED)  # judging it again earlier does not bring the call back
    assert again.signal is SignalKind.STALE and again.confidence is None


def test_the_card_shows_the_training_window_and_warns_far_past_it():
    window = dict(
        trained_from=pd.Timestamp("2024-05-20", tz="UTC"),
        trained_to=pd.Timestamp("2025-03-11", tz="UTC"),
        tested_to=pd.Timestamp("2025-05-29 18:00", tz="UTC"),
        trained_at=pd.Timestamp("2025-05-29 20:00", tz="UTC"),
    )
    near = bullish(**window).at(CLOSED + pd.Timedelta(hours=1))
    text, warning = training_words(near)
    assert text == (
        "XGBoost direction v1 trained on 2024-05-20 to 2025-03-11, tested to 2025-05-29, 5 h ago"
    )
    assert warning == "" and not near.far_past_training
    # a clock pinned before the training (old candles replayed) gets no negative "ago"
    assert near.as_of is not None
    early = bullish(**{**window, "trained_at": near.as_of + pd.Timedelta(days=500)})
    text, _ = training_words(early.at(CLOSED + pd.Timedelta(hours=1)))
    assert text.endswith("tested to 2025-05-29") and "ago" not in text
    later = replace(bullish(**window), candle_time=CANDLE + pd.Timedelta(days=548))
    far = later.at(later.closed_at + pd.Timedelta(hours=1))
    assert far.signal is SignalKind.BULLISH and far.far_past_training
    _, warning = training_words(far)
    assert warning.startswith("The candles this signal is computed on are 18.0 months past")
    assert "(2025-05-29)" in warning and "Retrain" in warning
    assert far.to_dict()["far_past_training"] is True


def test_now_comes_from_the_clock_or_cryptovolt_now(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("CRYPTOVOLT_NOW", raising=False)
    assert abs(Context.from_env().now() - pd.Timestamp.now(tz="UTC")) < pd.Timedelta(seconds=5)
    monkeypatch.setenv("CRYPTOVOLT_NOW", "2025-05-30T01:00:00Z")
    assert Context.from_env().now() == pd.Timestamp("2025-05-30 01:00", tz="UTC")
    pinned = clock_from_env({"CRYPTOVOLT_NOW": "2025-05-30T03:00"})  # naive: read as UTC
    assert pinned.now() == pd.Timestamp("2025-05-30 03:00", tz="UTC")
    monkeypatch.setenv("CRYPTOVOLT_NOW", "yesterday-ish")
    with pytest.raises(ConfigError, match="CRYPTOVOLT_NOW='yesterday-ish' is not a time"):
        Context.from_env()


def test_live_signals_never_journals_a_stale_call(home: Path):
    kind = "xgb_direction"
    models = bundle(
        [(member(frame(*called_and_quiet(kind), column="probability"), kind), 0.6)], EXACT
    )
    candles = candles_for(100)
    last_close = candles["open_time"].iloc[-1] + pd.Timedelta(hours=1)

    def run(now: pd.Timestamp):
        return live_signals(
            ["BTCUSDT"],
            home=home,
            registry=object(),
            models=lambda symbol: models,
            candles=lambda symbol, timeframe: candles,
            source="cli",
            now=now.to_pydatetime(),
        )

    stale = run(last_close + pd.Timedelta(days=30))
    assert [s.signal for s in stale.signals] == [SignalKind.STALE] and stale.recorded == 0
    assert journal.entries(home).empty
    fresh = run(last_close + pd.Timedelta(hours=1))
    assert [s.signal for s in fresh.signals] == [SignalKind.BULLISH] and fresh.recorded == 1
    assert list(journal.entries(home)["signal"]) == ["BULLISH"]
