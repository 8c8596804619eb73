"""Volatility models in the registry: train, card (coverage[horizon][level]), load, expected move."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core.errors import InsufficientDataError
from core.registry.model_registry import ModelRegistry
from core.volatility.model import regime_label
from core.volatility.train import load_volatility_model, train_volatility
from tests.vol_sim import constant_vol_candles, garch_candles


@pytest.fixture(scope="module")
def garch():
    return garch_candles(12000, seed=11)


def test_trained_model_is_registered_with_its_card_and_coverage(home, garch) -> None:
    registry = ModelRegistry()
    result = train_volatility("BTC", estimator="har", registry=registry, candles=garch)
    record = registry.record("vol_har_btcusdt")
    assert record.model_type == "vol_har" and result.promoted
    card = record.card
    assert card is not None and card.output == "volatility"
    assert card.coverage is not None
    assert abs(card.coverage.share("24h", "80") - 0.8) < 0.05
    assert set(card.coverage.shares["6h"]) == {"50", "80", "90"}
    assert "6h_qlike_vs_best_baseline" in card.gates
    assert card.metrics.as_dict()["6h_qlike"] < card.baselines.as_dict()["6h_persistence_qlike"]
    assert card.gates["6h_qlike_vs_best_baseline"].passed
    # Honest split recorded: the purge is the longest horizon; the 6 h test rows run up to the
    # last candle whose next 6 hours are known.
    assert record.split["purge"] == 24
    assert record.split["test"]["end"] == garch["open_time"].iloc[-7].isoformat()


def test_loaded_model_gives_bands_that_widen_with_the_level(home, garch) -> None:
    registry = ModelRegistry()
    train_volatility("BTC", estimator="har", registry=registry, candles=garch)
    model, _ = load_volatility_model(registry, "BTC", "har")
    move = model.expected_move(garch)
    assert move is not None
    for key in ("6h", "24h"):
        m = move["expected_move"][key]
        lo50, hi50 = m["bands"]["50"]
        lo80, hi80 = m["bands"]["80"]
        lo90, hi90 = m["bands"]["90"]
        assert lo90 < lo80 < lo50 < 0 < hi50 < hi80 < hi90
        assert m["sigma"] > 0
    assert move["expected_move"]["24h"]["sigma"] > move["expected_move"]["6h"]["sigma"]
    regime = move["vol_regime"]
    assert 0 <= regime["percentile"] <= 1
    assert regime["label"] == regime_label(regime["percentile"])
    sigma24 = move["expected_move"]["24h"]["sigma"]
    assert move["position_size"] == pytest.approx(min(1.0, 0.02 / sigma24), rel=1e-3)
    half = model.expected_move(garch, vol_target=0.01)
    assert half is not None and half["position_size"] <= move["position_size"]
    json.dumps(move)  # JSON-ready


def test_a_constant_volatility_coin_shows_no_expected_move(home) -> None:
    registry = ModelRegistry()
    candles = constant_vol_candles(12000, seed=7)
    result = train_volatility("ETH", estimator="har", registry=registry, candles=candles)
    assert not any(g.passed for k, g in result.record.card.gates.items() if "qlike" in k)
    model, _ = load_volatility_model(registry, "ETH", "har")
    assert model.expected_move(candles) is None


def test_expected_move_refuses_candles_with_a_gap_in_the_last_week(home, garch) -> None:
    registry = ModelRegistry()
    train_volatility("BTC", estimator="har", registry=registry, candles=garch)
    model, _ = load_volatility_model(registry, "BTC", "har")
    holed = garch.drop(index=garch.index[-30]).reset_index(drop=True)
    with pytest.raises(InsufficientDataError, match="without gaps"):
        model.expected_move(holed)


def test_a_changed_artifact_is_not_loaded(home, garch) -> None:
    from core.errors import IntegrityError

    registry = ModelRegistry()
    train_volatility("BTC", estimator="har", registry=registry, candles=garch)
    path = registry.root / "vol_har_btcusdt" / "v1" / "volatility.json"
    data = json.loads(path.read_text())
    data["horizons"]["6h"]["fitted"]["shift"] += 1.0
    path.write_text(json.dumps(data))
    with pytest.raises(IntegrityError):
        load_volatility_model(registry, "BTC", "har")


def test_forecasts_are_causal_in_the_loaded_model(home, garch) -> None:
    registry = ModelRegistry()
    train_volatility("BTC", estimator="har", registry=registry, candles=garch)
    model, _ = load_volatility_model(registry, "BTC", "har")
    full = model.log_variance(garch)["6h"]
    cut = model.log_variance(garch.iloc[:9000])["6h"]
    np.testing.assert_allclose(cut, full[:9000], equal_nan=True)


def test_a_coin_with_only_a_volatility_model_shows_no_edge_and_its_move(home, garch) -> None:
    from core.data.store import save_candles
    from core.signals.ensemble import SignalKind
    from core.signals.live import compute_signals
    from core.volatility.live import move_words

    registry = ModelRegistry()
    save_candles(garch, "BTCUSDT")
    train_volatility("BTC", estimator="har", registry=registry, candles=garch)
    now = garch["open_time"].iloc[-1] + np.timedelta64(90, "m")
    signals, errors = compute_signals(registry, now=now)
    assert not errors
    (signal,) = signals
    assert signal.signal is SignalKind.NO_EDGE and signal.votes == ()
    assert signal.expected_move is not None and set(signal.expected_move) == {"6h", "24h"}
    assert any(
        line.startswith("Expected move next 24 h: 80% within") for line in move_words(signal)
    )
    # A coin whose volatility model fails its gates says so instead of showing a band.
    candles = constant_vol_candles(12000, seed=7)
    save_candles(candles, "ETHUSDT")
    train_volatility("ETH", estimator="har", registry=registry, candles=candles)
    eth = compute_signals(
        registry, ["ETH"], now=candles["open_time"].iloc[-1] + np.timedelta64(1, "h")
    )[0][0]
    assert eth.expected_move is None
    assert move_words(eth) == [
        "Expected move: not shown (no volatility model passes its gates for this coin)"
    ]


def test_pooled_model_is_fit_once_and_carded_per_coin(home) -> None:
    from core.volatility.train import train_volatility_pooled

    registry = ModelRegistry()
    # Two coins with the same dynamics at very different levels: per-coin normalisation lets
    # one model serve both.
    quiet = garch_candles(8000, seed=21)
    wild = garch_candles(8000, seed=22)
    for col in ("high", "low", "close"):
        wild[col] = wild["open"] * (wild[col] / wild["open"]) ** 3
    results = train_volatility_pooled(
        ["BTC", "ETH"],
        estimator="har",
        registry=registry,
        candles={"BTCUSDT": quiet, "ETHUSDT": wild},
    )
    assert [r.record.name for r in results] == ["vol_pooled_har_btcusdt", "vol_pooled_har_ethusdt"]
    assert results[0].record.params["pooled_over"] == ["BTCUSDT", "ETHUSDT"]
    for r in results:
        card = r.record.card
        assert card is not None and card.coverage is not None
        assert (
            card.metrics.as_dict()["6h_qlike"]
            < 0.9 * card.baselines.as_dict()["6h_persistence_qlike"]
        )
        assert abs(card.coverage.share("6h", "80") - 0.8) < 0.03
    # One inner model, two coin views: the same coefficients, each coin its own level.
    btc, _ = load_volatility_model(registry, "BTC", "pooled_har")
    eth, _ = load_volatility_model(registry, "ETH", "pooled_har")
    b, e = btc.horizons["6h"].estimator, eth.horizons["6h"].estimator
    np.testing.assert_allclose(b.inner.coef_, e.inner.coef_)
    assert e.offset > b.offset + 1.0
    assert (
        eth.expected_move(wild, only_passed=False)["expected_move"]["6h"]["sigma"]
        > 2 * btc.expected_move(quiet, only_passed=False)["expected_move"]["6h"]["sigma"]
    )
