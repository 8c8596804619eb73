"""Context features (4 h / 1 d bars, BTC / ETH references): causality, bar completion, alignment,
scale-freedom, warm-up, independent references, loading and docs."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import talib

from core.data.store import empty_candles, normalize_candles
from core.errors import ConfigError, DataError
from core.features.causal import FEATURES, compute_features
from core.features.context import (
    CONTEXT_FEATURES,
    REFERENCE_SYMBOLS,
    context_features,
    cross_asset_features,
    load_references,
    multi_timeframe_features,
)
from tests.conftest import SAMPLE

# The sample starts at 00:00 UTC, so row r is hour r % 24 and closes 4 h bucket r // 4 when
# r % 4 == 3. A cut keeps rows [:cut]; its last row is cut - 1:
CUTS = (
    2,  # inside the first 4 h bar: nothing complete yet
    314,  # last row 01:00: mid-4h-bucket, mid-day, just after the 4 h RSI warm-up
    1_000,  # last row 15:00: the last hour of a 4 h bucket, mid-day
    2_346,  # last row 17:00: mid-4h-bucket, mid-day
    2_400,  # last row 23:00: the last hour of a day
    4_801,  # last row 00:00: the first hour of a day
    7_015,  # last row 06:00: mid-4h-bucket, mid-day
)
PRICES = ("open", "high", "low", "close")
TF_COLUMNS = [n for n in CONTEXT_FEATURES if n.startswith(("feat_tf4h_", "feat_tf1d_"))]


def _sample(symbol: str) -> pd.DataFrame:
    return normalize_candles(pd.read_parquet(SAMPLE / f"{symbol}-1h.parquet"))


@pytest.fixture(scope="module")
def sol() -> pd.DataFrame:
    return _sample("SOLUSDT")


@pytest.fixture(scope="module")
def refs() -> dict[str, pd.DataFrame]:
    return {s: _sample(s) for s in REFERENCE_SYMBOLS}


@pytest.fixture(scope="module")
def full(sol, refs) -> pd.DataFrame:
    return context_features(sol, refs)


def _cut(refs: dict[str, pd.DataFrame], cut: int) -> dict[str, pd.DataFrame]:
    return {s: frame.iloc[:cut] for s, frame in refs.items()}


def _scaled(frame: pd.DataFrame, factor) -> pd.DataFrame:
    out = frame.copy()
    for col in PRICES:
        out[col] = out[col] * factor
    return out


# --- columns -----------------------------------------------------------------------------------


def test_columns_follow_the_registry_and_the_references_given(sol, refs, full):
    assert list(full.columns) == list(CONTEXT_FEATURES)
    assert full.index.equals(sol.index) and full.dtypes.eq("float64").all()
    assert list(context_features(sol).columns) == TF_COLUMNS
    only_btc = context_features(sol, {"BTCUSDT": refs["BTCUSDT"]})
    assert [c for c in only_btc.columns if c not in TF_COLUMNS] == [
        "feat_btc_ret_1",
        "feat_btc_ret_6",
        "feat_btc_ret_24",
        "feat_btc_vol_24",
        "feat_btc_rel_24",
    ]
    part = sol.iloc[500:900]
    assert context_features(part, _cut(refs, 900)).index.equals(part.index)
    assert all(spec.description.strip() for spec in CONTEXT_FEATURES.values())
    assert not set(CONTEXT_FEATURES) & set(FEATURES)


def test_empty_frames_unknown_references_and_missing_columns(sol, refs):
    assert context_features(empty_candles(), {}).shape == (0, len(TF_COLUMNS))
    short = context_features(sol.iloc[:3], _cut(refs, 3))
    assert all(short[n].isna().all() for n, s in CONTEXT_FEATURES.items() if s.warmup >= 3)
    with pytest.raises(ConfigError, match="SOLUSDT"):
        cross_asset_features(sol, {"SOLUSDT": sol})
    with pytest.raises(DataError, match="close_time"):
        multi_timeframe_features(sol.drop(columns=["close_time"]))


# --- causality ---------------------------------------------------------------------------------


@pytest.mark.parametrize("cut", CUTS)
def test_context_on_candles_cut_at_t_equals_context_on_all_candles(sol, refs, full, cut):
    want = full.iloc[:cut]
    cut_refs = context_features(sol.iloc[:cut], _cut(refs, cut))
    pd.testing.assert_frame_equal(cut_refs, want, check_exact=False, rtol=1e-12)
    full_refs = context_features(sol.iloc[:cut], refs)
    pd.testing.assert_frame_equal(full_refs, want, check_exact=False, rtol=1e-12)


def test_changing_the_future_of_coin_or_references_does_not_change_the_past(sol, refs, full):
    cut = 3_001  # mid-4h-bucket, mid-day
    rng = np.random.default_rng(11)

    def shaken(frame: pd.DataFrame) -> pd.DataFrame:
        out = frame.copy()
        scale = rng.uniform(0.5, 2.0, len(out) - cut)
        for col in PRICES:
            out.loc[cut:, col] = out.loc[cut:, col].to_numpy() * scale
        return out

    changed = context_features(shaken(sol), {s: shaken(f) for s, f in refs.items()})
    pd.testing.assert_frame_equal(changed.iloc[:cut], full.iloc[:cut])
    assert not changed.iloc[cut:].equals(full.iloc[cut:])


def test_a_4h_bar_appears_only_once_its_last_hour_has_closed(sol):
    bucket = 700
    first, last = 4 * bucket, 4 * bucket + 3
    base = multi_timeframe_features(sol)
    planted = sol.copy()
    planted.loc[first:last, list(PRICES)] *= 1.25  # lift that 4 h bar only
    got = multi_timeframe_features(planted)
    c = planted["close"].to_numpy()
    cols = ["feat_tf4h_ret_1", "feat_tf4h_rsi_14"]
    # Its first three hours are in the hourly data already, but the bar is still forming.
    pd.testing.assert_frame_equal(got.loc[: last - 1, cols], base.loc[: last - 1, cols])
    assert (
        got.loc[first : last - 1, "feat_tf4h_ret_1"].eq(np.log(c[first - 1] / c[first - 5])).all()
    )
    assert got.loc[last, "feat_tf4h_ret_1"] == pytest.approx(np.log(c[last] / c[first - 1]))
    assert got.loc[last, "feat_tf4h_rsi_14"] > base.loc[last, "feat_tf4h_rsi_14"]
    # It stays the last completed bar until the next one closes.
    assert got.loc[last : last + 3, "feat_tf4h_ret_1"].nunique() == 1
    assert got.loc[last + 4, "feat_tf4h_ret_1"] == pytest.approx(np.log(c[last + 4] / c[last]))


def test_a_day_appears_only_once_its_last_hour_has_closed(sol):
    day = 100
    first, last = 24 * day, 24 * day + 23
    planted = sol.copy()
    planted.loc[first:last, list(PRICES)] *= 1.25
    base, got = multi_timeframe_features(sol), multi_timeframe_features(planted)
    daily = ["feat_tf1d_ret_1", "feat_tf1d_ret_7", "feat_tf1d_sma_20_ratio"]
    pd.testing.assert_frame_equal(got.loc[: last - 1, daily], base.loc[: last - 1, daily])
    assert (got.loc[last, daily] > base.loc[last, daily]).all()
    # The day-so-far position uses the hours of that day already closed: a uniform lift of the
    # whole day leaves it unchanged, while the 7-day distances see the lifted hours at once.
    pd.testing.assert_series_equal(
        got.loc[first:last, "feat_tf1d_day_position"],
        base.loc[first:last, "feat_tf1d_day_position"],
    )
    assert got.loc[first, "feat_tf1d_high_7d"] != base.loc[first, "feat_tf1d_high_7d"]


def test_a_series_starting_mid_bar_drops_the_short_first_bar(sol):
    start = 5  # 05:00: inside the second 4 h bar and the first day
    got = multi_timeframe_features(sol.iloc[start:].reset_index(drop=True))
    # First complete 4 h bar: 08:00-11:00 (row 6); its return needs the next one (row 10).
    assert got["feat_tf4h_ret_1"].iloc[:10].isna().all() and got["feat_tf4h_ret_1"].notna().iloc[10]
    assert got["feat_tf1d_day_position"].iloc[: 24 - start].isna().all()
    assert got["feat_tf1d_day_position"].iloc[24 - start :].notna().all()
    for name in TF_COLUMNS:
        assert got[name].iloc[: CONTEXT_FEATURES[name].warmup].isna().all(), name


# --- cross-asset alignment ---------------------------------------------------------------------


def test_a_missing_reference_hour_gives_nan_not_a_shifted_value(sol, refs, full):
    m = 5_000
    holed = {**refs, "BTCUSDT": refs["BTCUSDT"].drop(index=m).reset_index(drop=True)}
    got = context_features(sol, holed)
    # A k-hour return needs BTC's candles at both ends; the volatility, every return in its window.
    needs = {f"feat_btc_ret_{k}": [m, m + k] for k in (1, 6, 24)}
    needs["feat_btc_vol_24"] = list(range(m, m + 25))  # the returns at m and m + 1 are missing
    needs["feat_btc_rel_24"] = [m, m + 24]
    for name, rows in needs.items():
        assert got.loc[rows, name].isna().all(), name
        kept = full.index.difference(rows)
        pd.testing.assert_series_equal(got.loc[kept, name], full.loc[kept, name])
    eth = [c for c in full.columns if not c.startswith("feat_btc_")]
    pd.testing.assert_frame_equal(got[eth], full[eth])


def test_a_coin_that_is_the_reference_gets_its_own_returns(refs):
    btc = refs["BTCUSDT"]
    got = context_features(btc, refs)
    own = compute_features(btc)
    for k in (1, 6, 24):
        pd.testing.assert_series_equal(
            got[f"feat_btc_ret_{k}"], own[f"feat_return_{k}"], check_names=False
        )
    rel = got["feat_btc_rel_24"]
    assert rel.iloc[:24].isna().all() and (rel.iloc[24:] == 0).all()


def test_reference_values_match_plain_pandas(sol, refs, full):
    btc = refs["BTCUSDT"]["close"]
    ret1 = np.log(btc / btc.shift(1))
    np.testing.assert_allclose(full["feat_btc_vol_24"], ret1.rolling(24).std(), rtol=1e-9)
    own24 = np.log(sol["close"] / sol["close"].shift(24))
    want = own24 - np.log(btc / btc.shift(24))
    np.testing.assert_allclose(full["feat_btc_rel_24"], want, rtol=1e-9, atol=1e-15)


# --- independent multi-timeframe reference (pandas resample) -----------------------------------


def test_bar_features_match_a_resample_aligned_to_each_bars_last_hour(sol, full):
    close = sol.set_index("open_time")["close"]

    def at_last_hour(bars: pd.Series, width: str) -> np.ndarray:
        # A bar's value becomes known at its last hour: shift its label to that hour, ffill.
        known = bars.copy()
        known.index = known.index + pd.Timedelta(width) - pd.Timedelta("1h")
        return known.reindex(close.index).ffill().to_numpy()

    c4 = close.resample("4h").last()
    d1 = close.resample("1D").last()
    rsi = pd.Series(talib.RSI(c4.to_numpy(), timeperiod=14) / 100, index=c4.index)
    want = {
        "feat_tf4h_ret_1": at_last_hour(np.log(c4 / c4.shift(1)), "4h"),
        "feat_tf4h_rsi_14": at_last_hour(rsi, "4h"),
        "feat_tf1d_ret_1": at_last_hour(np.log(d1 / d1.shift(1)), "1D"),
        "feat_tf1d_ret_7": at_last_hour(np.log(d1 / d1.shift(7)), "1D"),
        "feat_tf1d_sma_20_ratio": at_last_hour(d1 / d1.rolling(20).mean() - 1, "1D"),
    }
    for name, values in want.items():
        warm = CONTEXT_FEATURES[name].warmup
        np.testing.assert_allclose(full[name].iloc[warm:], values[warm:], rtol=1e-7, err_msg=name)


def test_day_position_and_week_range_match_loops(sol, full):
    h, lo, c = (sol[k].to_numpy() for k in ("high", "low", "close"))
    for t in (0, 5, 23, 24, 200, 4_567):
        start = t - t % 24
        hi, low = h[start : t + 1].max(), lo[start : t + 1].min()
        assert full["feat_tf1d_day_position"].iloc[t] == pytest.approx((c[t] - low) / (hi - low))
        if t >= 167:
            assert full["feat_tf1d_high_7d"].iloc[t] == pytest.approx(
                c[t] / h[t - 167 : t + 1].max() - 1
            )
            assert full["feat_tf1d_low_7d"].iloc[t] == pytest.approx(
                c[t] / lo[t - 167 : t + 1].min() - 1
            )


# --- scale-free and warm-up --------------------------------------------------------------------


def test_multiplying_prices_by_4_changes_nothing(sol, refs, full):
    scaled = context_features(_scaled(sol, 4.0), {s: _scaled(f, 4.0) for s, f in refs.items()})
    pd.testing.assert_frame_equal(scaled, full)
    mixed = context_features(sol, {s: _scaled(f, 4.0) for s, f in refs.items()})
    pd.testing.assert_frame_equal(mixed, full)


def test_warm_up_rows_are_nan_then_values(full):
    for name, spec in CONTEXT_FEATURES.items():
        col = full[name].to_numpy()
        assert np.isnan(col[: spec.warmup]).all(), name
        assert not np.isnan(col[spec.warmup :]).any(), f"{name} has NaN after its warm-up"


def test_warm_up_is_never_zero_filled(sol, refs):
    short = context_features(sol.iloc[:500], _cut(refs, 500))
    for name, spec in CONTEXT_FEATURES.items():
        assert not (short[name].to_numpy()[: spec.warmup] == 0).any(), name


# --- loading and docs --------------------------------------------------------------------------


def test_load_references_returns_the_stored_ones(home: Path):
    assert load_references() == {}
    raw = home / "data" / "raw"
    raw.mkdir(parents=True)
    shutil.copy(SAMPLE / "BTCUSDT-1h.parquet", raw / "BTCUSDT-1h.parquet")
    shutil.copy(SAMPLE / "SOLUSDT-1h.parquet", raw / "SOLUSDT-1h.parquet")
    got = load_references("1h")
    assert list(got) == ["BTCUSDT"] and len(got["BTCUSDT"]) == 9_457
    assert load_references("4h") == {}
    shutil.copy(SAMPLE / "ETHUSDT-1h.parquet", raw / "ETHUSDT-1h.parquet")
    assert list(load_references()) == list(REFERENCE_SYMBOLS)


def test_docs_list_every_context_feature_once():
    text = (Path(__file__).resolve().parents[2] / "docs" / "FEATURES.md").read_text()
    for name, spec in CONTEXT_FEATURES.items():
        lines = [line for line in text.splitlines() if f"| `{name}` |" in line]
        assert len(lines) == 1, name
        assert spec.description in lines[0] and f"| {spec.warmup} |" in lines[0]
    assert "exact" in text and "last hour has closed" in text
