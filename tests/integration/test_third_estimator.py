"""Proof of the seam: scikit-learn's HistGradientBoosting (core/models/hist_gb.py, one file)
serves both classification recipes, trains, gets a card and votes: on the bundled BTC sample
both of its kinds train and are carded, and on planted-signal candles its direction kind passes
its gates and its vote is in the signal, in-process and in ``python -m core signals --json``."""

from __future__ import annotations

import pandas as pd
import pytest

from core.data.store import save_candles
from core.models.hist_gb import HGBConfig
from core.registry.gates import failed_gates, version_verdict
from core.registry.model_registry import ModelRegistry
from core.signals import compute_signals
from core.training.train import train_coin
from tests.random_walk import planted_candles
from tests.signals_cli import signal_row

SMALL = HGBConfig(n_estimators=80, max_depth=4)


@pytest.mark.slow
def test_both_hist_gb_kinds_train_on_the_btc_sample_and_get_cards(home_with_sample):
    results = train_coin(
        "BTC", models=("hgb", "hgb_direction"), settings={"hgb": SMALL, "hgb_direction": SMALL}
    )
    assert [r.metadata.model_type for r in results] == ["hgb", "hgb_direction"]
    for result in results:
        meta = result.metadata
        assert meta.card is not None and meta.card.gates and version_verdict(meta)
        assert meta.training["trees"] >= 1 and len(meta.metrics.walk_forward) == 4
        assert 0.4 < meta.metrics.test["roc_auc"] < 0.8  # no leak on real candles
    assert results[1].metadata.training["calibration"]["kind"] == "sigmoid"


@pytest.mark.slow
def test_hist_gb_direction_passes_its_gates_on_a_planted_signal_and_votes(home):
    candles = planted_candles(6000)
    save_candles(candles, "BTCUSDT", "1h")
    cfg = HGBConfig(use_context=False, n_estimators=150)
    (result,) = train_coin(
        "BTC", models=("hgb_direction",), settings={"hgb_direction": cfg}, candles=candles
    )
    card = result.metadata.card
    assert card is not None and card.passed, card and failed_gates(card)
    assert card.metrics.direction_auc > 0.58 and result.promoted
    fresh = candles["open_time"].iloc[-1] + pd.Timedelta(hours=2)
    signals, errors = compute_signals(
        ModelRegistry(home / "models"), candles={"BTCUSDT": candles}, now=fresh
    )
    assert not errors
    assert [v.kind for v in signals[0].votes] == ["hgb_direction"]

    btc = signal_row(home, fresh)
    assert btc["gates_passed"]["hgb_direction_btcusdt"] is True
    vote = next(v for v in btc["votes"] if v["kind"] == "hgb_direction")
    assert vote["vote"] in {"BULLISH", "BEARISH", "NEUTRAL"}
