"""Features, indicators and targets: causality, warm-up, scale-freedom, gaps, references."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pandas as pd
import pytest

from core.config import TargetConfig
from core.data.store import empty_candles, normalize_candles
from core.errors import ConfigError, DataError
from core.features.causal import (
    FEATURES,
    GAP_FLAG_WINDOW,
    NEXT_CLOSE,
    compute_features,
    compute_targets,
    feature_columns,
)
from core.features.indicators import INDICATOR_COLUMNS, compute_indicators, gap_starts
from tests.conftest import SAMPLE

CUTS = (150, 420, 2_345, 7_001)


@pytest.fixture(scope="module")
def candles() -> pd.DataFrame:
    return normalize_candles(pd.read_parquet(SAMPLE / "BTCUSDT-1h.parquet"))


@pytest.fixture(scope="module")
def features(candles: pd.DataFrame) -> pd.DataFrame:
    return compute_features(candles)


def _with_gap(candles: pd.DataFrame, start: int, missing: int) -> pd.DataFrame:
    return candles.drop(index=range(start, start + missing)).reset_index(drop=True)


# --- shape and names ---------------------------------------------------------------------------


def test_at_least_44_feat_columns_in_the_documented_order(features):
    cols = feature_columns()
    assert len(cols) >= 44
    assert all(c.startswith("feat_") for c in cols)
    assert len(set(cols)) == len(cols)
    assert list(features.columns) == cols
    assert all(FEATURES[c].description.strip() for c in cols)
    assert features.dtypes.eq("float64").all()


def test_outputs_keep_the_input_index(candles):
    part = candles.iloc[300:900]
    assert compute_features(part).index.equals(part.index)
    assert compute_indicators(part).index.equals(part.index)
    assert compute_targets(part).index.equals(part.index)
    assert list(compute_indicators(part).columns) == list(INDICATOR_COLUMNS)


def test_empty_and_short_frames_give_nan_not_errors(candles):
    assert compute_features(empty_candles()).shape == (0, len(feature_columns()))
    assert compute_targets(empty_candles()).shape == (0, 2)
    short = compute_features(candles.iloc[:30])
    assert short["feat_sma_200_ratio"].isna().all()
    assert short["feat_return_1"].iloc[1:].notna().all()


def test_missing_columns_raise_data_error(candles):
    with pytest.raises(DataError, match="taker_buy_base_volume"):
        compute_features(candles.drop(columns=["taker_buy_base_volume"]))
    with pytest.raises(DataError, match="close"):
        compute_indicators(candles.drop(columns=["close"]))


# --- causality ---------------------------------------------------------------------------------


@pytest.mark.parametrize("cut", CUTS)
def test_features_on_candles_cut_at_t_equal_features_on_all_candles(candles, features, cut):
    early = compute_features(candles.iloc[:cut])
    pd.testing.assert_frame_equal(early, features.iloc[:cut], check_exact=False, rtol=1e-12)


@pytest.mark.parametrize("cut", CUTS)
def test_indicators_are_causal(candles, cut):
    full = compute_indicators(candles)
    early = compute_indicators(candles.iloc[:cut])
    pd.testing.assert_frame_equal(early, full.iloc[:cut], check_exact=False, rtol=1e-12)


def test_changing_the_future_does_not_change_the_past(candles, features):
    cut = 3_000
    future = candles.copy()
    rng = np.random.default_rng(7)
    scale = rng.uniform(0.5, 2.0, len(future) - cut)
    for col in ("open", "high", "low", "close", "volume", "taker_buy_base_volume"):
        future.loc[cut:, col] = future.loc[cut:, col].to_numpy() * scale
    changed = compute_features(future)
    pd.testing.assert_frame_equal(changed.iloc[:cut], features.iloc[:cut])
    assert not changed.iloc[cut:].equals(features.iloc[cut:])


# --- warm-up -----------------------------------------------------------------------------------


def test_warm_up_rows_are_nan_and_values_start_right_after(features):
    for name, spec in FEATURES.items():
        col = features[name].to_numpy()
        assert np.isnan(col[: spec.warmup]).all(), name
        assert not np.isnan(col[spec.warmup :]).any(), f"{name} has NaN after its warm-up"


def test_warm_up_is_never_zero_filled(candles):
    short = compute_features(candles.iloc[:250])
    for name, spec in FEATURES.items():
        head = short[name].to_numpy()[: spec.warmup]
        assert not (head == 0).any(), name


# --- scale-free --------------------------------------------------------------------------------


# Powers of two scale floats exactly, so an exact tie in the data (e.g. +DM == -DM, where ADX
# counts neither) stays a tie; with x10 a rounding bit could break one and shift ADX for a while.
@pytest.mark.parametrize("factor", [2.0**10, 2.0**-30])
def test_features_do_not_change_when_prices_are_multiplied(candles, features, factor):
    scaled = candles.copy()
    for col in ("open", "high", "low", "close"):
        scaled[col] = scaled[col] * factor
    pd.testing.assert_frame_equal(
        compute_features(scaled), features, check_exact=False, rtol=1e-9, atol=1e-12
    )


def test_features_are_nearly_unchanged_by_a_decimal_price_factor(candles, features):
    scaled = candles.copy()
    for col in ("open", "high", "low", "close"):
        scaled[col] = scaled[col] * 10.0
    diff = (compute_features(scaled) - features).abs()
    close_enough = (diff <= 1e-6 + 1e-6 * features.abs()) | (diff.isna() & features.isna())
    assert close_enough.mean().min() > 0.97


def test_features_do_not_change_when_volumes_are_multiplied(candles, features):
    scaled = candles.copy()
    for col in ("volume", "quote_asset_volume", "taker_buy_base_volume", "taker_buy_quote_volume"):
        scaled[col] = scaled[col] * 1000.0
    pd.testing.assert_frame_equal(
        compute_features(scaled), features, check_exact=False, rtol=1e-6, atol=1e-9
    )


# --- reference implementations for the hand-written parts --------------------------------------


def _loop_rows(n: int, window: int):
    for t in range(window - 1, n):
        yield t, range(t - window + 1, t + 1)


def test_volatility_matches_a_loop(candles):
    c = candles["close"].to_list()[:400]
    ind = compute_indicators(candles.iloc[:400])
    rets = [math.nan] + [math.log(c[i] / c[i - 1]) for i in range(1, len(c))]
    for window in (20, 50):
        got = ind[f"volatility_{window}"].to_numpy()
        assert np.isnan(got[:window]).all()
        for t in range(window, len(c)):
            want = statistics.stdev(rets[t - window + 1 : t + 1])
            assert got[t] == pytest.approx(want, rel=1e-9)


def test_chaikin_money_flow_matches_a_loop(candles):
    frame = candles.iloc[:300].copy()
    frame.loc[50, ["high", "low", "close"]] = 100.0  # a flat candle: multiplier 0 by definition
    got = compute_indicators(frame)["cmf_20"].to_numpy()
    h, lo, c, v = (frame[k].to_list() for k in ("high", "low", "close", "volume"))
    assert np.isnan(got[:19]).all()
    for t, rows in _loop_rows(len(c), 20):
        mfv = 0.0
        for i in rows:
            mult = ((c[i] - lo[i]) - (h[i] - c[i])) / (h[i] - lo[i]) if h[i] != lo[i] else 0.0
            mfv += mult * v[i]
        assert got[t] == pytest.approx(mfv / sum(v[i] for i in rows), rel=1e-9, abs=1e-12)


def test_volume_ratio_trend_and_price_position_match_loops(candles):
    frame = candles.iloc[:200]
    ind = compute_indicators(frame)
    feats = compute_features(frame)
    h, lo, c, v = (frame[k].to_list() for k in ("high", "low", "close", "volume"))
    for t, rows in _loop_rows(len(c), 20):
        mean20 = sum(v[i] for i in rows) / 20
        mean5 = sum(v[i] for i in range(t - 4, t + 1)) / 5
        hi, low = max(h[i] for i in rows), min(lo[i] for i in rows)
        assert ind["volume_ratio_20"].iloc[t] == pytest.approx(v[t] / mean20, rel=1e-9)
        assert ind["volume_trend_5_20"].iloc[t] == pytest.approx(mean5 / mean20, rel=1e-9)
        assert ind["donchian_high_20"].iloc[t] == hi
        assert ind["donchian_low_20"].iloc[t] == low
        assert ind["price_position_20"].iloc[t] == pytest.approx((c[t] - low) / (hi - low))
        assert feats["feat_channel_width_20"].iloc[t] == pytest.approx((hi - low) / c[t])


def test_flow_ratios_match_loops(candles):
    frame = candles.iloc[:160]
    feats = compute_features(frame)
    c, v, taker, trades = (
        frame[k].to_list() for k in ("close", "volume", "taker_buy_base_volume", "number_of_trades")
    )
    obv = [v[0]]
    for i in range(1, len(c)):
        sign = 1 if c[i] > c[i - 1] else -1 if c[i] < c[i - 1] else 0
        obv.append(obv[-1] + sign * v[i])
    for t, rows in _loop_rows(len(c), 20):
        vol = sum(v[i] for i in rows)
        assert feats["feat_taker_buy_ratio_20"].iloc[t] == pytest.approx(
            sum(taker[i] for i in rows) / vol, rel=1e-9
        )
        assert feats["feat_trades_ratio_20"].iloc[t] == pytest.approx(
            trades[t] / (sum(trades[i] for i in rows) / 20), rel=1e-9
        )
        if t >= 20:
            assert feats["feat_obv_flow_20"].iloc[t] == pytest.approx(
                (obv[t] - obv[t - 20]) / vol, rel=1e-9, abs=1e-12
            )


def test_returns_range_and_drawdown_match_loops(candles):
    frame = candles.iloc[:260]
    feats = compute_features(frame)
    h, lo, c = (frame[k].to_list() for k in ("high", "low", "close"))
    for t in range(200, len(c)):
        for k in (1, 2, 3, 6, 12, 24, 48):
            assert feats[f"feat_return_{k}"].iloc[t] == pytest.approx(math.log(c[t] / c[t - k]))
        hi100, lo100 = max(h[t - 99 : t + 1]), min(lo[t - 99 : t + 1])
        assert feats["feat_price_position_100"].iloc[t] == pytest.approx(
            (c[t] - lo100) / (hi100 - lo100)
        )
        assert feats["feat_drawdown_200"].iloc[t] == pytest.approx(
            c[t] / max(h[t - 199 : t + 1]) - 1
        )


def test_time_features_are_utc_hour_and_weekday_pairs(candles, features):
    times = candles["open_time"]
    hour = times.dt.hour.to_numpy()
    dow = times.dt.day_of_week.to_numpy()
    np.testing.assert_allclose(features["feat_hour_sin"], np.sin(2 * np.pi * hour / 24), atol=1e-12)
    np.testing.assert_allclose(features["feat_hour_cos"], np.cos(2 * np.pi * hour / 24), atol=1e-12)
    np.testing.assert_allclose(features["feat_dow_sin"], np.sin(2 * np.pi * dow / 7), atol=1e-12)
    np.testing.assert_allclose(features["feat_dow_cos"], np.cos(2 * np.pi * dow / 7), atol=1e-12)


# --- gaps --------------------------------------------------------------------------------------


def test_gap_is_detected_and_the_rows_after_it_are_flagged(candles):
    gappy = _with_gap(candles.iloc[:600], start=300, missing=5)
    starts = gap_starts(gappy)
    assert starts.tolist().count(True) == 1 and starts[300]
    flag = compute_features(gappy)["feat_gap_recent"].to_numpy()
    assert (flag[:300] == 0).all()
    assert (flag[300 : 300 + GAP_FLAG_WINDOW] == 1).all()
    assert (flag[300 + GAP_FLAG_WINDOW :] == 0).all()
    assert compute_features(gappy)["feat_rsi_14"].iloc[300:].notna().all(), "gaps are not NaN-ed"


def test_gap_flag_within_the_first_rows(candles):
    gappy = _with_gap(candles.iloc[:100], start=5, missing=2)
    flag = compute_features(gappy)["feat_gap_recent"].to_numpy()
    assert (flag[:5] == 0).all() and (flag[5 : 5 + GAP_FLAG_WINDOW] == 1).all()
    assert (flag[5 + GAP_FLAG_WINDOW :] == 0).all()


def test_gap_detection_works_for_other_intervals(candles):
    daily = candles.iloc[::24].reset_index(drop=True).copy()
    daily["close_time"] = daily["open_time"] + pd.Timedelta(days=1) - pd.Timedelta(milliseconds=1)
    assert not gap_starts(daily).any()
    assert gap_starts(_with_gap(daily, start=10, missing=1))[10]


# --- targets -----------------------------------------------------------------------------------


def test_targets_match_a_loop_and_are_nan_where_the_future_is_unknown(candles):
    frame = candles.iloc[:500]
    horizon, threshold = 6, 0.01
    targets = compute_targets(frame, horizon=horizon, threshold=threshold)
    col = TargetConfig(horizon, threshold).column
    assert list(targets.columns) == [col, NEXT_CLOSE] and col == "target_up_1pct_6h"
    c = frame["close"].to_list()
    for t in range(len(c) - horizon):
        assert targets[col].iloc[t] == (1.0 if c[t + horizon] >= c[t] * (1 + threshold) else 0.0)
        assert targets[NEXT_CLOSE].iloc[t] == c[t + 1]
    assert targets[col].iloc[-horizon:].isna().all()
    assert targets[col].iloc[:-horizon].notna().all()
    assert np.isnan(targets[NEXT_CLOSE].iloc[-1])
    assert 0.02 < targets[col].mean() < 0.6


def test_target_column_follows_horizon_and_threshold(candles):
    targets = compute_targets(candles.iloc[:100], horizon=12, threshold=0.025)
    assert TargetConfig(12, 0.025).column in targets.columns
    assert targets.iloc[-12:, 0].isna().all() and targets.iloc[:-12, 0].notna().all()


def test_bad_target_settings_raise_config_error(candles):
    with pytest.raises(ConfigError):
        compute_targets(candles.iloc[:50], horizon=0)
    with pytest.raises(ConfigError):
        compute_targets(candles.iloc[:50], threshold=2.0)


def test_targets_spanning_a_gap_are_nan(candles):
    gappy = _with_gap(candles.iloc[:200], start=100, missing=3)
    targets = compute_targets(gappy, horizon=6)
    up = targets.iloc[:, 0]
    assert up.iloc[94:100].isna().all(), "rows whose 6-candle future crosses the gap"
    assert up.iloc[:94].notna().all() and up.iloc[100:-6].notna().all()
    assert np.isnan(targets[NEXT_CLOSE].iloc[99]) and targets[NEXT_CLOSE].iloc[:99].notna().all()


def test_a_zero_volume_candle_leaves_only_its_taker_ratio_undefined(candles):
    halted = candles.iloc[:400].copy()
    row = 300
    price = halted.loc[row - 1, "close"]
    halted.loc[row, ["open", "high", "low", "close"]] = price
    halted.loc[row, ["volume", "quote_asset_volume", "taker_buy_base_volume"]] = 0.0
    halted.loc[row, "number_of_trades"] = 0
    feats = compute_features(halted)
    after = feats.iloc[250:]
    undefined = after.columns[after.isna().any()].tolist()
    assert undefined == ["feat_taker_buy_ratio"]
    assert np.isnan(feats["feat_taker_buy_ratio"].iloc[row])
    assert feats["feat_volume_change_1"].iloc[row] == -1.0
    assert feats["feat_volume_change_1"].iloc[row + 1] == 1.0


def test_volume_change_is_zero_between_two_zero_volume_candles(candles):
    halted = candles.iloc[:50].copy()
    halted.loc[[20, 21], ["volume", "taker_buy_base_volume"]] = 0.0
    assert compute_features(halted)["feat_volume_change_1"].iloc[21] == 0.0


def test_unsorted_or_duplicated_candles_are_refused(candles):
    with pytest.raises(DataError, match="sorted"):
        compute_features(candles.iloc[:50].iloc[::-1])
    with pytest.raises(DataError, match="sorted"):
        compute_indicators(pd.concat([candles.iloc[:20], candles.iloc[19:40]]))
    with pytest.raises(DataError, match="sorted"):
        compute_targets(candles.iloc[:50].sample(frac=1, random_state=1))


def test_candle_shape_band_and_volume_change_features_match_loops(candles):
    frame = candles.iloc[:120]
    feats = compute_features(frame)
    ind = compute_indicators(frame)
    o, h, lo, c, v = (frame[k].to_list() for k in ("open", "high", "low", "close", "volume"))
    for t in range(20, len(c)):
        assert feats["feat_range_hl"].iloc[t] == pytest.approx((h[t] - lo[t]) / c[t])
        assert feats["feat_body"].iloc[t] == pytest.approx((c[t] - o[t]) / o[t])
        assert feats["feat_upper_wick"].iloc[t] == pytest.approx((h[t] - max(o[t], c[t])) / c[t])
        assert feats["feat_lower_wick"].iloc[t] == pytest.approx((min(o[t], c[t]) - lo[t]) / c[t])
        assert feats["feat_volume_change_1"].iloc[t] == pytest.approx(
            (v[t] - v[t - 1]) / (v[t] + v[t - 1])
        )
        window = c[t - 19 : t + 1]
        mid, sd = statistics.fmean(window), statistics.pstdev(window)
        assert ind["bb_middle"].iloc[t] == pytest.approx(mid)
        assert ind["bb_upper"].iloc[t] == pytest.approx(mid + 2 * sd)
        assert feats["feat_bb_position"].iloc[t] == pytest.approx(
            (c[t] - (mid - 2 * sd)) / (4 * sd), rel=1e-6
        )
        assert feats["feat_bb_width"].iloc[t] == pytest.approx(4 * sd / mid, rel=1e-6)


@pytest.mark.parametrize("symbol", ["BTCUSDT", "XRPUSDT"])
@pytest.mark.parametrize("start", [1_000, 5_000])
def test_a_series_that_starts_later_agrees_once_warmed_up(symbol, start):
    """EMA-type values depend on where the series starts; after the warm-up barely (predicting
    from a shorter history must see nearly the features the model was trained on)."""
    candles = normalize_candles(pd.read_parquet(SAMPLE / f"{symbol}-1h.parquet"))
    full = compute_features(candles)
    late = compute_features(candles.iloc[start:])
    for name, spec in FEATURES.items():
        scale = float(full[name].std()) or 1.0
        diff = (late[name] - full[name].iloc[start:]).abs().to_numpy() / scale
        assert np.nanmax(diff[spec.warmup :]) < 0.05, name
        assert np.nanmax(diff[spec.warmup + 300 :]) < 1e-3, name
