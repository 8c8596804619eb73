"""PSI and feature drift: the formula on known samples, and real features on synthetic candles
(a stationary random walk does not drift; a volatility regime change does)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from core.monitor.drift import band, feature_drift, psi, typical_psi
from core.registry.metadata import ModelMetadata
from tests.random_walk import random_walk_candles


def test_identical_distributions_have_zero_psi():
    x = np.random.default_rng(0).normal(size=5000)
    assert psi(x, x) == pytest.approx(0.0, abs=1e-12)


def test_psi_matches_the_formula_on_quantile_bins():
    ref = np.arange(1000.0)  # deciles: 0-99, 100-199, ...
    cur = np.concatenate(
        [np.arange(0.0, 100.0), np.full(100, 950.0)]
    )  # half in the first, half in the last
    shares = np.full(10, 1e-4)
    shares[0] = shares[-1] = 0.5
    expected = float(np.sum((shares - 0.1) * np.log(shares / 0.1)))
    assert psi(ref, cur, epsilon=1e-4) == pytest.approx(expected, rel=1e-9)


def test_empty_bins_stay_finite_thanks_to_epsilon():
    ref = np.random.default_rng(1).normal(size=2000)
    value = psi(ref, np.full(50, 100.0))  # everything in the top bin
    assert value is not None and math.isfinite(value) and value > 0.25


def test_a_binary_feature_gets_two_bins_and_nans_are_dropped():
    ref = np.array([0.0] * 900 + [1.0] * 100 + [np.nan] * 50)
    assert psi(ref, np.array([0.0] * 90 + [1.0] * 10)) == pytest.approx(0.0, abs=1e-12)
    assert psi(ref, np.array([0.0] * 50 + [1.0] * 50)) > 0.25
    assert psi(ref, np.array([np.nan, np.nan])) is None


def test_bad_settings_are_refused_with_the_reason():
    with pytest.raises(ValueError, match="bins must be at least 2"):
        psi([1.0, 2.0], [1.0], bins=1)
    with pytest.raises(ValueError, match="epsilon"):
        psi([1.0, 2.0], [1.0], epsilon=0.0)


def test_bands_are_the_usual_ones():
    assert [band(x) for x in (0.05, 0.1, 0.2, 0.25, 0.26, None)] == [
        "stable",
        "moderate",
        "moderate",
        "moderate",
        "drifted",
        "not measured",
    ]


def test_typical_psi_of_a_slow_series_is_large_even_when_nothing_changes():
    rng = np.random.default_rng(2)
    walk = np.cumsum(rng.normal(size=5000))  # a level that wanders: weeks look unlike the whole
    noise = rng.normal(size=5000)
    assert typical_psi(walk, 168) > 1.0
    assert typical_psi(noise, 168) < 0.25
    assert typical_psi(noise, 3000) is None  # fewer than two windows


def _record(candles: pd.DataFrame, features: list[str], train_rows: int) -> ModelMetadata:
    times = candles["open_time"]
    return ModelMetadata(
        name="xgb_direction_testusdt",
        version="v1",
        symbol="TESTUSDT",
        model_type="xgb_direction",
        features=tuple(features),
        split={
            "train": {
                "start": times.iloc[0].isoformat(),
                "end": times.iloc[train_rows - 1].isoformat(),
            }
        },
    )


FEATURES = ["feat_return_1", "feat_range_hl", "feat_volatility_20", "feat_sma_200_ratio"]


def test_a_stationary_random_walk_does_not_drift():
    candles = random_walk_candles(4000, seed=5)
    report = feature_drift("TESTUSDT", [_record(candles, FEATURES, 3000)], candles)
    assert report.measured and len(report.features) == len(FEATURES)
    assert report.drifted == ()
    slow = next(f for f in report.features if f.feature == "feat_sma_200_ratio")
    assert slow.typical is not None and slow.typical > 0.25  # why the usual band is not enough


def test_a_volatility_regime_change_drifts_the_volatility_features():
    calm = random_walk_candles(4000, seed=5, sigma=0.004)
    wild = random_walk_candles(4000, seed=6, sigma=0.016)
    candles = pd.concat([calm.iloc[:3800], wild.iloc[3800:]], ignore_index=True)
    candles["open_time"] = calm["open_time"]
    candles["close_time"] = calm["close_time"]
    report = feature_drift("TESTUSDT", [_record(candles, FEATURES, 3000)], candles, days=7)
    assert {"feat_return_1", "feat_range_hl", "feat_volatility_20"} <= set(report.drifted)
    for f in report.features:
        if f.feature in report.drifted:
            assert f.psi is not None and f.psi > 0.25 and f.psi > (f.typical or 0.0)
    assert report.to_dict()["drifted"] == len(report.drifted)


def test_too_few_recent_candles_is_not_measured_with_the_reason():
    candles = random_walk_candles(3000, seed=5)
    end = pd.Timestamp(candles["open_time"].iloc[-1]) + pd.Timedelta(days=30)
    report = feature_drift("TESTUSDT", [_record(candles, FEATURES, 2000)], candles, end=end)
    assert not report.measured and report.drifted == ()
    assert report.note.startswith("not measured: only 0 candles in the 7 days to")
