"""core.volatility: range variance, causal inputs, baselines, losses, DM-HLN, bands and gates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.volatility import (
    build_frame,
    christoffersen,
    conformal_bands,
    diebold_mariano,
    evaluate_coin,
    garman_klass,
    kupiec,
    qlike,
    r2,
)
from core.volatility.features import EXTRA_FEATURES, HAR_FEATURES, HOUR_FEATURES
from tests.vol_sim import constant_vol_candles, garch_candles


def test_garman_klass_known_value_and_never_negative() -> None:
    v = garman_klass(np.array([100.0]), np.array([110.0]), np.array([95.0]), np.array([105.0]))
    expected = 0.5 * np.log(110 / 95) ** 2 - (2 * np.log(2) - 1) * np.log(105 / 100) ** 2
    assert v[0] == pytest.approx(expected)
    rng = np.random.default_rng(0)
    o = 100 * np.exp(rng.normal(0, 0.01, 1000))
    c = 100 * np.exp(rng.normal(0, 0.01, 1000))
    h = np.maximum(o, c) * np.exp(np.abs(rng.normal(0, 0.01, 1000)))
    lo = np.minimum(o, c) * np.exp(-np.abs(rng.normal(0, 0.01, 1000)))
    assert (garman_klass(o, h, lo, c) >= 0).all()


def test_range_variance_is_unbiased_up_to_sampling_on_a_known_process() -> None:
    # 60 one-minute steps per hour: the range of a sampled path is a little short of the true
    # range, so the estimate sits a little below the true variance, never above it.
    frame = build_frame(constant_vol_candles(5000, sigma=0.01))
    ratio = np.nanmean(frame.variance) / 0.01**2
    assert 0.75 < ratio < 1.02


def test_features_are_causal_cut_at_t_gives_the_same_values() -> None:
    candles = garch_candles(1500, seed=3)
    full = build_frame(candles).frame
    cut_at = 1100
    cut = build_frame(candles.iloc[: cut_at + 1]).frame
    cols = HAR_FEATURES + HOUR_FEATURES + EXTRA_FEATURES
    np.testing.assert_allclose(
        cut[cols].to_numpy(), full[cols].iloc[: cut_at + 1].to_numpy(), equal_nan=True
    )
    # A target looks strictly ahead: the last 6 rows of the cut frame cannot know theirs.
    assert cut["target_lrv_6h"].iloc[-6:].isna().all()
    assert np.isfinite(full["target_lrv_6h"].iloc[cut_at - 6 : cut_at]).all()


def test_target_is_the_sum_of_the_next_hours_not_including_this_one() -> None:
    vf = build_frame(garch_candles(400, seed=4))
    t = 200
    expected = np.log(vf.variance[t + 1 : t + 7].sum())
    assert vf.frame["target_lrv_6h"].iloc[t] == pytest.approx(expected)


def test_a_missing_candle_blanks_the_windows_that_touch_it() -> None:
    candles = garch_candles(600, seed=5)
    holed = candles.drop(index=300).reset_index(drop=True)
    frame = build_frame(holed).frame
    # Row 299 (before the hole) cannot know the next 6 hours; row 305 (after) has no full 6 h
    # look-back until the hole has left the window.
    assert np.isnan(frame["target_lrv_6h"].iloc[299])
    assert np.isnan(frame["feat_lrv_6h"].iloc[301])
    assert np.isfinite(frame["feat_lrv_6h"].iloc[306])


def test_qlike_is_zero_for_a_perfect_forecast_and_r2_one() -> None:
    y = np.log(np.array([1.0, 2.0, 3.0, 4.0]))
    assert np.allclose(qlike(y, y), 0.0)
    assert r2(y, y) == pytest.approx(1.0)
    assert (qlike(y, y + 0.5) > 0).all() and (qlike(y, y - 0.5) > 0).all()


def test_dm_hln_finds_a_real_gap_and_not_a_fake_one() -> None:
    rng = np.random.default_rng(1)
    base = rng.gamma(2.0, 1.0, 3000)
    better = base - 0.3 + rng.normal(0, 0.5, 3000)
    assert diebold_mariano(better, base, horizon=6).p_value < 0.01
    same = base + rng.normal(0, 0.5, 3000)
    assert diebold_mariano(same, base, horizon=6).p_value > 0.05


def test_kupiec_and_christoffersen_reject_wrong_rates_and_clustered_misses() -> None:
    rng = np.random.default_rng(2)
    fair = rng.random(2000) < 0.2
    assert kupiec(fair, 0.2) > 0.05
    assert kupiec(rng.random(2000) < 0.3, 0.2) < 0.001
    assert christoffersen(fair) > 0.05
    clustered = np.repeat(rng.random(400) < 0.2, 5)
    assert christoffersen(clustered) < 0.001


def test_conformal_bands_cover_with_a_mis_scaled_forecast() -> None:
    # The forecast says sigma 1 but the returns have sd 2: the calibration scores fix the scale.
    rng = np.random.default_rng(3)
    n = 4000
    run = conformal_bands(
        np.zeros(n),
        rng.normal(0, 2, n),
        np.zeros(n),
        rng.normal(0, 2, n),
        np.arange(n, dtype="float64"),
        horizon=1,
    )
    assert abs(run.covered[:, 1].mean() - 0.8) < 0.02
    assert run.state.multipliers(0.0)["80"] == pytest.approx(2 * 1.2816, rel=0.08)


def test_random_walk_with_constant_volatility_fails_every_skill_gate() -> None:
    ev = evaluate_coin(constant_vol_candles(20000, seed=7), estimator="har", test_fraction=0.4)
    for key, result in ev.horizons.items():
        gate = result.gates["qlike_vs_best_baseline"]
        assert not gate["passed"], (key, result.scores, result.dm)
    assert not ev.passed


def test_garch_candles_pass_the_gates_and_the_80_band_covers_within_3_points() -> None:
    ev = evaluate_coin(garch_candles(20000, seed=11), estimator="har", test_fraction=0.4)
    for key, result in ev.horizons.items():
        assert result.skill_passed, (key, result.scores, result.dm)
        assert abs(ev.coverage[key]["80"] - 0.8) <= 0.03
        assert all(abs(c - 0.8) <= 0.05 for c in result.coverage_terciles["80"])
        assert result.passed, (key, result.gates)
        # The walk-forward folds before the test window agree (one of the gates).
        assert len(result.folds) == 3 and result.gates["folds_agree"]["passed"]
        # The model beats persistence by a wide margin on a clustered process.
        assert result.scores["model"]["qlike"] < 0.9 * result.scores["persistence"]["qlike"]
    assert ev.passed
    assert ev.coverage["24h"]["80"] == ev.horizons["24h"].coverage["80"]


def test_everything_is_fit_before_the_test_window() -> None:
    candles = garch_candles(6000, seed=12)
    ev = evaluate_coin(candles, estimator="har")
    # Scrambling the test window's candles changes no fitted number (coefficients, decay).
    scrambled = candles.copy()
    tail = scrambled.index[-1000:]
    rng = np.random.default_rng(0)
    for col in ("open", "high", "low", "close"):
        scrambled.loc[tail, col] = scrambled.loc[tail, col].to_numpy() * rng.uniform(0.9, 1.1)
    scrambled["high"] = scrambled[["open", "high", "low", "close"]].max(axis=1)
    scrambled["low"] = scrambled[["open", "high", "low", "close"]].min(axis=1)
    ev2 = evaluate_coin(scrambled, estimator="har")
    for key in ev.horizons:
        a, b = ev.horizons[key], ev2.horizons[key]
        assert a.decay == b.decay
        np.testing.assert_allclose(a.estimator.coef_, b.estimator.coef_)
        assert a.estimator.shift_ == b.estimator.shift_


def test_boosted_estimator_round_trips_and_is_scored_against_har() -> None:
    pytest.importorskip("xgboost")
    from core.volatility.estimators import load_estimator

    ev = evaluate_coin(garch_candles(2500, seed=13), estimator="gbm", horizons=(6,))
    result = ev.horizons["6h"]
    assert "har" in result.dm  # the HAR is a baseline of the boosted model
    X = build_frame(garch_candles(500, seed=14)).frame[result.estimator.features].to_numpy()
    again = load_estimator("gbm", result.estimator.to_dict())
    np.testing.assert_allclose(again.predict(X), result.estimator.predict(X), rtol=1e-6)


def test_real_sample_har_explains_a_large_share_of_6h_log_variance(btc_candles) -> None:
    ev = evaluate_coin(btc_candles, estimator="har", horizons=(6,))
    r = ev.horizons["6h"]
    # Published HAR results: 0.4-0.55 on 6 h log RV. Far above that would be a leak.
    assert 0.3 < r.scores["model"]["r2"] < 0.7
    assert r.scores["model"]["qlike"] < r.scores["persistence"]["qlike"]


def test_pandas_frame_keeps_candle_order() -> None:
    candles = garch_candles(300, seed=15)
    frame = build_frame(candles).frame
    assert (frame["open_time"].to_numpy() == candles["open_time"].to_numpy()).all()
    assert isinstance(frame, pd.DataFrame)
