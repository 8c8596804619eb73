"""A planted signal is found, passes its gates, and its confidence holds out of time.

Synthetic candles whose next-6-hour direction is partly predictable from the taker-buy share
(tests/random_walk.py ``planted_candles``). The directional model and a test-only kind registered
from outside core (tests/toy_kind.py, through ``CRYPTOVOLT_MODEL_PLUGINS``) are trained for real,
registered, vote, and show up in ``python -m core signals --json``.
"""

from __future__ import annotations

import pandas as pd
import pytest

from core.data.store import save_candles
from core.models.settings import DirectionConfig
from core.registry.gates import failed_gates
from core.registry.model_registry import ModelRegistry
from core.signals import SignalKind, compute_signals, load_coin_models
from core.training.train import train_coin
from tests.random_walk import planted_candles
from tests.signals_cli import signal_row


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    home = tmp_path_factory.mktemp("planted")
    mp = pytest.MonkeyPatch()
    mp.setenv("CRYPTOVOLT_HOME", str(home))
    mp.setenv("CRYPTOVOLT_MODEL_PLUGINS", "tests.toy_kind")
    import tests.toy_kind  # noqa: F401  (registers the kind in this process too)

    candles = planted_candles(6000)
    save_candles(candles, "BTCUSDT", "1h")
    try:
        results = train_coin(
            "BTC",
            models=("xgb_direction", "toyflow"),
            settings={"xgb_direction": DirectionConfig(use_context=False, n_estimators=150)},
            candles=candles,
        )
        yield home, candles, results
    finally:
        mp.undo()


@pytest.mark.slow
def test_directional_model_finds_the_planted_signal_and_passes_its_gates(planted):
    _, _, results = planted
    for result in results:
        card = result.metadata.card
        assert card is not None and card.passed, (result.name, card and failed_gates(card))
        assert card.metrics.direction_auc > 0.58
        assert card.intervals["roc_auc"].low > 0.5
        assert result.promoted


@pytest.mark.slow
def test_out_of_time_confidence_is_within_five_points_of_the_test_hit_rate(planted):
    home, candles, _ = planted
    models = load_coin_models("BTC", ModelRegistry(home / "models"))
    table = models.calibration.table
    for kind in ("BULLISH", "BEARISH"):
        row = table[(table["signal"] == kind) & (table["bucket"] == 0)].iloc[0]
        assert row["support"] >= 300 and row["test_support"] >= 200
        assert abs(row["confidence"] - row["test_hit_rate"]) <= 0.05, row.to_dict()
        assert row["confidence"] > row["base_rate"] + 0.05  # an edge over "it happened anyway"
    assert models.calibration.ece_out_of_time <= 0.05
    fresh = candles["open_time"].iloc[-1] + pd.Timedelta(hours=2)  # the planted candles end in 2023
    signals, errors = compute_signals(
        ModelRegistry(home / "models"), candles={"BTCUSDT": candles}, now=fresh
    )
    assert not errors
    assert signals[0].signal not in (SignalKind.NO_EDGE, SignalKind.STALE)
    assert {v.kind for v in signals[0].votes} == {"xgb_direction", "toyflow"}


@pytest.mark.slow
def test_a_kind_registered_outside_core_shows_up_in_signals_json(planted):
    home, candles, _ = planted
    # an hour after the planted candles' last close (they end in 2023), so the call is not STALE
    fresh = candles["open_time"].iloc[-1] + pd.Timedelta(hours=2)
    btc = signal_row(home, fresh, CRYPTOVOLT_MODEL_PLUGINS="tests.toy_kind")
    assert btc["signal"] in {"BULLISH", "BEARISH", "NEUTRAL"}
    assert btc["gates_passed"]["toyflow_btcusdt"] is True
    toy = next(v for v in btc["votes"] if v["kind"] == "toyflow")
    assert toy["vote"] in {"BULLISH", "BEARISH", "NEUTRAL"}
    assert btc["base_rate"] is not None and len(btc["interval"]) == 2
