"""Model-card statistics: bootstrap intervals cover what they should, metrics hit known values."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.stats import ttest_1samp
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.metrics import log_loss as sk_log_loss

from core.registry.metadata import MetricInterval
from core.training.stats import (
    block_bootstrap,
    brier,
    brier_skill,
    calibration_table,
    diebold_mariano,
    direction_auc,
    expected_calibration_error,
    log_loss,
    mase,
    roc_auc,
    shrunk_rate,
    wilson_interval,
)


def _ar1(n: int, phi: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    noise = rng.normal(size=n)
    x = np.empty(n)
    x[0] = noise[0]
    for t in range(1, n):
        x[t] = phi * x[t - 1] + noise[t]
    return x


# --- block bootstrap -------------------------------------------------------------------------


def test_auc_interval_on_separable_data_excludes_one_half():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 1500)
    score = y + 0.6 * rng.normal(size=y.size)
    iv = block_bootstrap(roc_auc, y, score, block=72, resamples=300)
    assert iv.point is not None and iv.point > 0.85
    assert 0.5 < iv.low <= iv.point <= iv.high
    assert iv.resamples == 300 and iv.block == 72 and iv.level == 0.95


def test_auc_interval_on_noise_contains_one_half():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, 1500)
    score = rng.normal(size=y.size)
    iv = block_bootstrap(roc_auc, y, score, block=72, resamples=300)
    assert iv.low < 0.5 < iv.high
    assert iv.high - iv.low < 0.15  # an interval, not [0, 1]


def test_block_bootstrap_of_an_autocorrelated_mean_is_wider_with_long_blocks():
    x = _ar1(3000, 0.9, seed=3)
    long = block_bootstrap(np.mean, x, block=72, resamples=300, seed=4)
    iid = block_bootstrap(np.mean, x, block=1, resamples=300, seed=4)
    # theory: the ratio of widths is about sqrt((1 + phi) / (1 - phi)) ~ 4.4 for phi = 0.9
    assert (long.high - long.low) > 2.5 * (iid.high - iid.low)
    assert long.point == pytest.approx(float(np.mean(x)))


def test_resamples_with_one_class_are_skipped_not_crashing():
    y = np.zeros(300)
    y[100:104] = 1  # one short run of positives: most resamples of 30-row blocks miss it
    score = np.arange(300, dtype=float)
    iv = block_bootstrap(roc_auc, y, score, block=30, resamples=200, seed=5)
    assert 0 < iv.resamples < 200
    assert iv.low is not None and iv.low <= iv.high

    none = block_bootstrap(roc_auc, np.ones(50), score[:50], block=10, resamples=50)
    assert (none.point, none.low, none.high, none.resamples) == (None, None, None, 0)


def test_block_bootstrap_resamples_every_array_with_the_same_rows():
    a = np.arange(200, dtype=float)

    def paired(x, y):
        assert np.array_equal(y, 2 * x)
        return float(np.mean(x))

    iv = block_bootstrap(paired, a, 2 * a, block=15, resamples=50)
    assert iv.resamples == 50


def test_block_longer_than_the_sample_is_clamped_and_still_works():
    x = _ar1(50, 0.5, seed=6)
    iv = block_bootstrap(np.mean, x, block=72, resamples=100)
    assert iv.block == 50 and iv.resamples == 100 and iv.low <= iv.high
    assert block_bootstrap(np.mean, x, block=0, resamples=10).block == 1
    with pytest.raises(ValueError):
        block_bootstrap(np.mean, x, x[:10])


def test_block_bootstrap_is_reproducible_from_its_seed():
    x = _ar1(500, 0.5, seed=7)
    assert block_bootstrap(np.mean, x, seed=1) == block_bootstrap(np.mean, x, seed=1)
    assert block_bootstrap(np.mean, x, seed=1) != block_bootstrap(np.mean, x, seed=2)


def test_interval_round_trips_through_a_json_dict():
    iv = MetricInterval(0.61, 0.55, 0.67, level=0.9, block=24, resamples=480)
    assert MetricInterval.from_dict(json.loads(json.dumps(iv.to_dict()))) == iv
    empty = MetricInterval(None, None, None)
    assert MetricInterval.from_dict(json.loads(json.dumps(empty.to_dict()))) == empty


# --- AUC ---------------------------------------------------------------------------------------


def test_roc_auc_matches_sklearn_with_ties_and_is_none_for_one_class():
    rng = np.random.default_rng(8)
    y = rng.integers(0, 2, 400)
    score = np.round(rng.normal(size=400) + 0.5 * y, 1)  # rounding makes ties
    assert roc_auc(y, score) == pytest.approx(roc_auc_score(y, score))
    assert roc_auc(np.zeros(10), score[:10]) is None
    with pytest.raises(ValueError):
        roc_auc(np.full(10, 2), score[:10])


def test_direction_auc_is_one_for_the_return_itself_zero_for_its_negative_half_for_noise():
    rng = np.random.default_rng(9)
    r = rng.normal(size=4000)
    r[::10] = 0.0  # flat rows are dropped, whatever their score
    score = r.copy()
    score[::10] = 99.0
    assert direction_auc(r, score) == pytest.approx(1.0)
    assert direction_auc(r, -r) == pytest.approx(0.0)
    assert direction_auc(r, rng.normal(size=r.size)) == pytest.approx(0.5, abs=0.03)
    assert direction_auc(np.abs(r), r) is None  # nothing went down


# --- probabilities -----------------------------------------------------------------------------


def test_brier_and_log_loss_match_sklearn_and_log_loss_is_clipped():
    rng = np.random.default_rng(10)
    p = rng.uniform(0.01, 0.99, 500)
    y = (rng.uniform(size=500) < p).astype(int)
    assert brier(y, p) == pytest.approx(brier_score_loss(y, p))
    assert log_loss(y, p) == pytest.approx(sk_log_loss(y, p))
    assert np.isfinite(log_loss([1, 0], [0.0, 1.0]))
    with pytest.raises(ValueError):
        brier([1, 0], [1.2, 0.5])


def test_brier_skill_is_zero_for_the_reference_positive_when_better_none_if_reference_perfect():
    rng = np.random.default_rng(11)
    p = rng.uniform(size=2000)
    y = (rng.uniform(size=2000) < p).astype(int)
    base = float(y.mean())
    assert brier_skill(y, np.full(y.size, base), base) == pytest.approx(0.0)
    assert brier_skill(y, p, base) > 0.2
    assert brier_skill(np.ones(5), np.full(5, 0.9), 1.0) is None


def test_ece_of_calibrated_probabilities_is_small_and_of_shifted_ones_is_the_shift():
    rng = np.random.default_rng(12)
    p = rng.uniform(0.0, 0.8, 40_000)
    y = (rng.uniform(size=p.size) < p).astype(int)
    assert expected_calibration_error(y, p) < 0.02
    assert expected_calibration_error(y, p + 0.2) == pytest.approx(0.2, abs=0.02)
    assert expected_calibration_error([], []) is None


def test_calibration_table_has_equal_count_bins_in_ascending_p():
    rng = np.random.default_rng(13)
    p = rng.uniform(size=1000)
    y = (rng.uniform(size=1000) < p).astype(int)
    table = calibration_table(y, p, bins=10)
    assert [row["n"] for row in table] == [100] * 10
    assert all(a["p_to"] <= b["p_from"] for a, b in zip(table, table[1:], strict=False))
    assert all(row["p_from"] <= row["mean_p"] <= row["p_to"] for row in table)
    assert table[0]["hit_rate"] < 0.2 < 0.8 < table[-1]["hit_rate"]
    assert len(calibration_table([1, 0, 1], [0.2, 0.4, 0.9], bins=10)) == 3


# --- hit rates ---------------------------------------------------------------------------------


def test_wilson_interval_edges_and_known_value():
    assert wilson_interval(0, 10)[0] == 0.0
    assert wilson_interval(10, 10)[1] == 1.0
    low, high = wilson_interval(50, 100)
    assert low == pytest.approx(0.4038, abs=1e-3) and high == pytest.approx(0.5962, abs=1e-3)
    assert wilson_interval(0, 0) == (None, None)
    with pytest.raises(ValueError):
        wilson_interval(11, 10)


def test_shrunk_rate_returns_the_prior_with_no_calls_and_the_raw_rate_with_many():
    assert shrunk_rate(0, 0, 0.3) == pytest.approx(0.3)
    assert shrunk_rate(3, 3, 0.5, prior_strength=20) == pytest.approx(13 / 23)
    assert shrunk_rate(7000, 10000, 0.5) == pytest.approx(0.7, abs=1e-3)
    rates = shrunk_rate(np.array([0, 5]), np.array([0, 10]), 0.4, prior_strength=10)
    assert np.allclose(rates, [0.4, 0.45])


# --- forecasts ---------------------------------------------------------------------------------


def test_mase_of_the_naive_forecast_is_one_and_better_forecasts_score_below():
    rng = np.random.default_rng(14)
    actual = np.cumsum(rng.normal(size=500))
    naive = np.concatenate([[np.nan], actual[:-1]])  # persistence: no forecast for the first row
    assert mase(actual, naive, naive) == pytest.approx(1.0)
    assert mase(actual, actual + 0.1 * (naive - actual), naive) == pytest.approx(0.1)
    assert mase(actual, naive, actual) is None  # a perfect naive forecast: undefined


def test_diebold_mariano_favours_a_clearly_better_model():
    rng = np.random.default_rng(15)
    baseline = np.abs(rng.normal(size=600))
    model = 0.7 * np.abs(rng.normal(size=600))
    stat, p = diebold_mariano(model, baseline)
    assert stat < 0 and p < 0.01
    stat6, p6 = diebold_mariano(model, baseline, horizon=6)
    assert stat6 < 0 and p6 < 0.01


def test_diebold_mariano_gives_none_for_identical_losses_and_a_high_p_for_a_worse_model():
    rng = np.random.default_rng(16)
    loss = np.abs(rng.normal(size=600))
    stat, p = diebold_mariano(loss, loss)
    assert (stat, p) == (None, None) or p == pytest.approx(0.5, abs=0.05)
    worse = loss + np.abs(rng.normal(0.3, 0.3, size=600))
    assert diebold_mariano(worse, loss)[1] > 0.9
    assert diebold_mariano(loss[:2], loss[:2] + 1) == (None, None)


def test_diebold_mariano_on_equally_good_models_is_not_significant():
    rng = np.random.default_rng(17)
    a, b = np.abs(rng.normal(size=(2, 800)))
    _, p = diebold_mariano(a, b, horizon=3)
    assert 0.05 < p < 0.95


def test_diebold_mariano_at_horizon_one_is_the_one_sided_t_test_on_the_loss_differential():
    rng = np.random.default_rng(18)
    a, b = np.abs(rng.normal(size=(2, 300)))
    b = b + 0.05
    expected = ttest_1samp(a - b, 0.0, alternative="less")
    stat, p = diebold_mariano(a, b, horizon=1)
    assert stat == pytest.approx(expected.statistic) and p == pytest.approx(expected.pvalue)
