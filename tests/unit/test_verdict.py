"""A coin's verdict in plain words (issue 20 point 1): the call or why there is none, the likely
range and the volatility regime when a volatility model gives them, and the market context
from the candles. Records and signals are the real typed ones; candles the bundled sample's."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.data.store import normalize_candles
from core.registry.metadata import Gate, ModelCard, ModelMetadata
from core.signals.ensemble import SignalKind
from core.signals.signal import ModelVote, Signal
from core.verdict import (
    coin_verdict,
    market_context,
    move_phrase,
    untrained_verdict,
)

ROOT = Path(__file__).resolve().parents[2]
CANDLE = pd.Timestamp("2025-05-29 23:00", tz="UTC")


def _btc() -> pd.DataFrame:
    return normalize_candles(pd.read_parquet(ROOT / "data/sample/BTCUSDT-1h.parquet"))


def test_the_market_context_is_the_change_and_volatility_of_the_stored_candles():
    candles = _btc()
    context = market_context(candles)
    assert context is not None
    close = candles.set_index("open_time")["close"]
    last = close.index[-1]
    assert context.change_24h == pytest.approx(
        close.iloc[-1] / close.asof(last - pd.Timedelta(hours=24)) - 1, abs=1e-6
    )
    assert context.change_7d == pytest.approx(
        close.iloc[-1] / close.asof(last - pd.Timedelta(days=7)) - 1, abs=1e-6
    )
    returns = np.log(close).diff().dropna()
    week = returns[returns.index > last - pd.Timedelta(days=7)].std()
    assert 0.1 < context.vol_ratio < 10 and week > 0
    words = context.words()
    assert words.startswith("24 h ") and " · 7 d " in words
    assert words.endswith("× its one-year median")
    # too little history for a median, or nothing at all: no made-up numbers
    short = market_context(candles.tail(100))
    assert short is not None and short.vol_ratio is None and short.change_7d is None
    assert market_context(candles.iloc[:0]) is None


def _record(name: str, kind: str, card: ModelCard) -> ModelMetadata:
    split = {"test": {"start": "2025-03-12T00:00:00Z", "end": "2025-05-29T00:00:00Z"}}
    return ModelMetadata(name, "v1", "BTCUSDT", kind, card=card, split=split)


def _vote(name: str, kind: str, label: str, *, passed: bool = False, reason: str = "") -> ModelVote:
    return ModelVote(kind, label, name, "v1", 0.5, 0.0, None, passed, reason)


def _signal(kind: SignalKind, votes: tuple[ModelVote, ...], **fields) -> Signal:
    base = dict(
        symbol="BTCUSDT",
        signal=kind,
        reason=None,
        confidence=None,
        interval=(None, None),
        support=0,
        base_rate=None,
        test_hit_rate=None,
        test_support=0,
        ece_out_of_time=None,
        strength=0.0,
        bucket=None,
        buckets=3,
        horizon=6,
        neutral_band=0.003,
        timeframe="1h",
        price=100.0,
        candle_time=CANDLE,
        votes=votes,
    )
    return Signal(**{**base, **fields}).at(CANDLE + pd.Timedelta(hours=2))


def _direction_card(auc: float) -> ModelCard:
    gates = {
        "auc": Gate(auc - 0.03, 0.5, False, "AUC 95% lower bound > 0.5"),
        "beats_volatility": Gate(auc - 0.03, 0.52, False, "AUC > ATR/close"),
        "direction": Gate(auc - 0.031, 0.5, False, "direction AUC > 0.5"),
        "log_loss": Gate(0.70, 0.69, False, "log loss < base"),
    }
    metrics = {"roc_auc": auc, "direction_auc": auc}
    return ModelCard("probability", metrics=metrics, gates=gates)


def test_no_call_says_in_words_that_no_model_beat_a_coin_flip_and_the_best_figure():
    records = {
        "xgb_direction_btcusdt": _record(
            "xgb_direction_btcusdt", "xgb_direction", _direction_card(0.48)
        ),
        "lstm_return_btcusdt": _record(
            "lstm_return_btcusdt",
            "lstm_return",
            ModelCard(
                "return",
                metrics={"directional_accuracy": 0.49},
                baselines={"majority_direction": 0.51},
                gates={"mase": Gate(1.01, 1.0, False, "MASE < 1")},
            ),
        ),
    }
    votes = (
        _vote("xgb_direction_btcusdt", "xgb_direction", "XGBoost direction"),
        _vote("lstm_return_btcusdt", "lstm_return", "LSTM return"),
    )
    verdict = coin_verdict(_signal(SignalKind.NO_EDGE, votes, reason="No model beats"), records)
    assert verdict.call == "no call"
    assert verdict.text == (
        "no call: none of its 2 models is better than a coin flip at telling rises from falls "
        "over the 11 weeks they were tested on (best 48% vs a coin flip's 50%)"
    )
    assert "AUC" not in verdict.text and "out of time" not in verdict.text
    assert verdict.line.startswith("BTCUSDT: no call: ")
    # the gate numbers are in the details, in the one vocabulary
    assert any("passes 0 of 2 — fails: direction (lower bound 0.449" in d for d in verdict.details)


def test_one_model_a_little_above_a_coin_flip_is_not_clearly_better():
    """A model ahead of a coin flip by a gap its test window cannot tell from luck says so."""
    name = "xgb_direction_ethusdt"
    records = {name: _record(name, "xgb_direction", _direction_card(0.53))}
    votes = (_vote(name, "xgb_direction", "XGBoost direction"),)
    verdict = coin_verdict(_signal(SignalKind.NO_EDGE, votes, reason="No model beats"), records)
    assert verdict.text == (
        "no call: its model is not clearly better than a coin flip at telling rises from falls "
        "over the 11 weeks it was tested on (53% vs a coin flip's 50%, a gap luck can give)"
    )


def test_a_model_clear_of_a_coin_flip_that_fails_other_checks_says_which_not_luck():
    """XRP on the sample: its direction AUC's lower bound is above 0.5, so the gap is not luck;
    the verdict names the checks that stop the call instead."""
    name = "xgb_direction_xrpusdt"
    card = _direction_card(0.56)
    gates = dict(card.gates)
    gates["auc"] = Gate(0.53, 0.5, True, "AUC 95% lower bound > 0.5")
    gates["direction"] = Gate(0.529, 0.5, True, "direction AUC > 0.5")
    # SOL on the sample: the direction gate clears 0.5 but the AUC gate, the same figure
    # resampled, does not (lower bound 0.499): that gap is one luck can give
    lucky = ModelCard(
        "probability",
        metrics=card.metrics.as_dict(),
        gates={**gates, "auc": Gate(0.499, 0.5, False, "AUC 95% lower bound > 0.5")},
    )
    card = ModelCard("probability", metrics=card.metrics.as_dict(), gates=gates)
    records = {name: _record(name, "xgb_direction", card)}
    votes = (_vote(name, "xgb_direction", "XGBoost direction"),)
    verdict = coin_verdict(_signal(SignalKind.NO_EDGE, votes, reason="No model beats"), records)
    assert "luck" not in verdict.text and "not clearly better" not in verdict.text
    assert verdict.text.startswith(
        "no call: its model tells rises from falls better than a coin flip over the 11 weeks "
        "it was tested on (56% vs a coin flip's 50%), but it fails: beats the volatility baseline ("
    )
    # what stops it: the volatility baseline's bar and its probabilities
    assert "needs > 0.52, the volatility baseline's AUC" in verdict.text
    assert "probabilities (log loss 0.7" in verdict.text
    records = {name: _record(name, "xgb_direction", lucky)}
    verdict = coin_verdict(_signal(SignalKind.NO_EDGE, votes, reason="No model beats"), records)
    assert verdict.text.startswith("no call: its model is not clearly better than a coin flip")
    assert verdict.text.endswith("(56% vs a coin flip's 50%, a gap luck can give)")


def test_a_fresh_coin_without_a_passing_volatility_forecast_says_why_it_has_no_range():
    """Beside coins with a likely-move range, one without says why (none passed its checks)."""
    name = "xgb_direction_ethusdt"
    records = {name: _record(name, "xgb_direction", _direction_card(0.53))}
    votes = (_vote(name, "xgb_direction", "XGBoost direction"),)
    note = "no volatility model passes its gates for this coin"
    fresh = coin_verdict(_signal(SignalKind.NO_EDGE, votes, vol_note=note), records)
    assert fresh.move is None
    assert fresh.text.endswith(
        "; no likely-move range: no volatility forecast for this coin has passed its checks yet"
    )
    stale = coin_verdict(
        _signal(SignalKind.NO_EDGE, votes, vol_note=note).at(CANDLE + pd.Timedelta(days=3)),
        records,
    )
    assert "refresh them" in stale.text and "likely-move range" not in stale.text


def test_a_call_says_how_often_such_calls_were_right_and_the_likely_range():
    move = {
        "6h": {"sigma": 0.01, "bands": {"50": [-0.007, 0.007], "80": [-0.015, 0.015]}},
        "24h": {"sigma": 0.02, "bands": {"50": [-0.01, 0.01], "80": [-0.031, 0.0312]}},
    }
    vote = _vote("xgb_direction_btcusdt", "xgb_direction", "XGBoost direction", passed=True)
    signal = _signal(
        SignalKind.BULLISH,
        (vote,),
        confidence=0.56,
        interval=(0.52, 0.6),
        support=412,
        base_rate=0.5,
        expected_move=move,
        vol_regime={"percentile": 0.92, "label": "high"},
    )
    verdict = coin_verdict(signal, {})
    assert verdict.text == (
        "BULLISH: such calls were right 56% of 412 times on candles the models had not trained "
        "on (the called move happened 50% of the time anyway) · likely move over 24 h: within "
        "±3.1%, 4 times in 5 · expected swings: high (larger than 92% of the last year's)"
    )
    assert move_phrase({"6h": {"bands": {"80": [-0.012, 0.02]}}}) == (
        "likely move over 6 h: within −1.2% to +2.0%, 4 times in 5"
    )


def test_a_stale_signal_and_an_untrained_coin_say_what_to_do():
    vote = _vote("xgb_direction_btcusdt", "xgb_direction", "XGBoost direction", passed=True)
    fresh = _signal(SignalKind.BULLISH, (vote,), confidence=0.56, support=10, base_rate=0.5)
    stale = fresh.at(CANDLE + pd.Timedelta(days=3))
    verdict = coin_verdict(stale, {})
    assert verdict.call == "no call"
    assert verdict.text == (
        "no call: the candles are 3.0 days old, older than the signal's 6 h horizon; refresh them"
    )
    untrained = untrained_verdict("SOLUSDT", market_context(_btc()))
    assert untrained.line == "SOLUSDT: no models yet: train this coin to get a verdict"
    assert not untrained.trained and untrained.context is not None


def test_a_model_held_back_by_the_family_of_tests_is_named_with_its_reason():
    card = ModelCard("probability", gates={"auc": Gate(0.51, 0.5, True, "AUC > 0.5")})
    records = {"xgb_direction_btcusdt": _record("xgb_direction_btcusdt", "xgb_direction", card)}
    why = "no edge: passes alone (p = 0.0126), not after accounting for 10 tests (Holm)"
    vote = _vote("xgb_direction_btcusdt", "xgb_direction", "XGBoost direction", reason=why)
    verdict = coin_verdict(_signal(SignalKind.NO_EDGE, (vote,), reason="No model"), records)
    assert verdict.text == (
        "no call: XGBoost direction passes alone (p = 0.0126), not after accounting for 10 "
        "tests (Holm)"
    )
