"""Model-ready features and targets from a store candle frame, all causal and scale-free.

``compute_features(candles)`` returns the ``feat_*`` columns listed by :func:`feature_columns`
(one-line meanings in :data:`FEATURES`, rendered into docs/FEATURES.md by
``python -m core features --list-md``). They are ratios to price, normalised oscillators, log
returns, volatility and volume ratios, and cyclical time, so that a split learned at one price
level means the same at another: multiplying every price (or every volume) by a constant leaves
them unchanged (bit for bit for powers of two; a decimal factor can flip an exact tie between
+DM and -DM in the last float bit, which moves ADX/DI slightly for a while).

Rules:

- **Causal.** Row t uses candles ``<= t`` only: computing features on the candles cut at t gives
  the same values up to t as computing them on all candles (tests/unit/test_features.py checks
  every column). EMA-type indicators (EMA, MACD, RSI, ADX/DI, ATR) are seeded where the series
  starts; their features stay NaN until the seed weighs below ``SEED_WEIGHT`` (1%) in them
  (``FeatureSpec.warmup`` rows), so a series that starts later gives nearly the same values.
- **NaN, never zero, while a look-back window is not full**: the first ``warmup`` rows of each
  feature are NaN. A ratio whose denominator is 0 is NaN too: a zero-volume candle (they occur
  around exchange halts) has no taker-buy ratio; 20 flat candles have no channel position.
- **Gaps** (missing candles) are not filled. Indicators run over the stored candles as if they were
  consecutive, so a window spanning a gap covers more wall-clock time than its length.
  ``feat_gap_recent`` is 1.0 on the ``GAP_FLAG_WINDOW`` rows starting at the first candle after a
  gap (the rows whose short windows span it), else 0.0; the trainer may drop or keep them.
  Targets whose future window spans a gap are NaN: "6 candles ahead" would not be 6 hours ahead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.config import TargetConfig
from core.errors import DataError
from core.features.indicators import (
    as_f64,
    compute_indicators,
    divide_or_nan,
    epoch_ms,
    gap_starts,
    indicator_arrays,
    price_exponent,
)
from core.features.memo import by_content

__all__ = [
    "FEATURES",
    "GAP_FLAG_WINDOW",
    "NEXT_CLOSE",
    "SEED_WEIGHT",
    "FeatureSpec",
    "compute_features",
    "compute_targets",
    "direction_labels",
    "feature_columns",
    "feature_frame",
    "future_return",
    "settle_steps",
]

#: Rows flagged by ``feat_gap_recent`` after a gap: the longest of the short windows (24 candles).
GAP_FLAG_WINDOW = 24
#: The forecaster's target column: the next candle's close.
NEXT_CLOSE = "target_next_close"
RETURN_LAGS = (1, 2, 3, 6, 12, 24, 48)
#: EMA-type features stay NaN until the series' first value weighs less than this in them.
SEED_WEIGHT = 0.01

_FEATURE_INPUTS = ("taker_buy_base_volume", "number_of_trades")


@dataclass(frozen=True)
class FeatureSpec:
    """One feature: its column, how many leading rows are NaN, and what it means."""

    name: str
    warmup: int
    description: str


def settle_steps(alpha: float) -> int:
    """Steps until an exponential smoother's seed weighs below SEED_WEIGHT: (1-alpha)^k < w."""
    return math.ceil(math.log(SEED_WEIGHT) / math.log(1.0 - alpha))


# TA-Lib's lookback for each EMA-type output, plus the steps until the seed has faded. Wilder's
# smoothing (RSI, DI, ATR) uses alpha = 1/n; ADX smooths DX (itself Wilder-smoothed) once more.
_WILDER = 14 + settle_steps(1 / 14)
_ADX = 27 + 2 * settle_steps(1 / 14)
_MACD = 25 + settle_steps(2 / 27) + settle_steps(2 / 10)


def _spec_list() -> list[FeatureSpec]:
    s: list[FeatureSpec] = []
    for n in (5, 10, 20, 50, 200):
        s.append(FeatureSpec(f"feat_sma_{n}_ratio", n - 1, f"close / SMA({n}) of close - 1"))
    for n in (10, 12, 20, 26):
        warm = n - 1 + settle_steps(2 / (n + 1))
        s.append(FeatureSpec(f"feat_ema_{n}_ratio", warm, f"close / EMA({n}) of close - 1"))
    s += [
        FeatureSpec("feat_sma_5_20_cross", 19, "SMA(5) / SMA(20) - 1 (short vs medium trend)"),
        FeatureSpec("feat_sma_50_200_cross", 199, "SMA(50) / SMA(200) - 1 (golden/death cross)"),
        FeatureSpec("feat_macd", _MACD, "MACD line (EMA12 - EMA26) / close"),
        FeatureSpec("feat_macd_signal", _MACD, "MACD signal line (EMA9 of MACD) / close"),
        FeatureSpec("feat_macd_hist", _MACD, "MACD histogram (line - signal) / close"),
        FeatureSpec("feat_adx_14", _ADX, "ADX(14) / 100: trend strength, 0..1"),
        FeatureSpec("feat_plus_di_14", _WILDER, "+DI(14) / 100: upward directional movement"),
        FeatureSpec("feat_minus_di_14", _WILDER, "-DI(14) / 100: downward directional movement"),
        FeatureSpec("feat_di_diff_14", _WILDER, "(+DI - -DI) / 100: net direction, -1..1"),
        FeatureSpec("feat_rsi_14", _WILDER, "RSI(14) / 100, 0..1"),
        FeatureSpec("feat_stoch_k", 17, "Stochastic slow %K(14,3) / 100, 0..1"),
        FeatureSpec("feat_stoch_d", 17, "Stochastic slow %D (3-SMA of %K) / 100, 0..1"),
        FeatureSpec("feat_williams_r_14", 13, "Williams %R(14) / 100, -1..0"),
        FeatureSpec("feat_cci_20", 19, "CCI(20) / 100 (typical price vs its mean deviation)"),
        FeatureSpec("feat_bb_width", 19, "Bollinger(20, 2) band width / middle band"),
        FeatureSpec("feat_bb_position", 19, "%B: (close - lower) / (upper - lower) of Bollinger"),
        FeatureSpec(
            "feat_atr_14_ratio", _WILDER, "ATR(14) / close: average true range as a fraction"
        ),
        FeatureSpec("feat_volatility_20", 20, "std of 1-candle log returns over 20 candles"),
        FeatureSpec("feat_volatility_50", 50, "std of 1-candle log returns over 50 candles"),
        FeatureSpec("feat_volatility_ratio", 50, "volatility(20) / volatility(50): regime change"),
        FeatureSpec("feat_range_hl", 0, "(high - low) / close of this candle"),
        FeatureSpec("feat_body", 0, "(close - open) / open of this candle"),
        FeatureSpec("feat_upper_wick", 0, "(high - max(open, close)) / close"),
        FeatureSpec("feat_lower_wick", 0, "(min(open, close) - low) / close"),
    ]
    for k in RETURN_LAGS:
        s.append(FeatureSpec(f"feat_return_{k}", k, f"log(close / close {k} candle(s) earlier)"))
    s += [
        FeatureSpec("feat_roc_10", 10, "rate of change over 10 candles / 100"),
        FeatureSpec("feat_momentum_10_atr", _WILDER, "momentum (close - close 10 back) / ATR(14)"),
        FeatureSpec("feat_volume_ratio_20", 19, "volume / SMA(20) of volume"),
        FeatureSpec("feat_volume_trend_5_20", 19, "SMA(5) / SMA(20) of volume - 1"),
        FeatureSpec(
            "feat_volume_change_1",
            1,
            "(volume - previous) / (volume + previous), -1..1; 0 if both are 0",
        ),
        FeatureSpec("feat_obv_flow_20", 20, "OBV change over 20 candles / volume in them, -1..1"),
        FeatureSpec("feat_cmf_20", 19, "Chaikin Money Flow(20), -1..1"),
        FeatureSpec(
            "feat_taker_buy_ratio",
            0,
            "taker buy volume / volume of this candle, 0..1; NaN if volume is 0",
        ),
        FeatureSpec("feat_taker_buy_ratio_20", 19, "taker buy volume / volume over 20 candles"),
        FeatureSpec("feat_trades_ratio_20", 19, "number of trades / SMA(20) of it"),
        FeatureSpec("feat_price_position_20", 19, "(close - 20-low) / (20-high - 20-low), 0..1"),
        FeatureSpec("feat_channel_width_20", 19, "Donchian(20) high - low, / close"),
        FeatureSpec("feat_price_position_100", 99, "(close - 100-low) / (100-high - 100-low)"),
        FeatureSpec("feat_drawdown_200", 199, "close / highest high of 200 candles - 1, <= 0"),
        FeatureSpec("feat_hour_sin", 0, "sin(2 pi hour / 24) of the candle's UTC open time"),
        FeatureSpec("feat_hour_cos", 0, "cos(2 pi hour / 24) of the candle's UTC open time"),
        FeatureSpec("feat_dow_sin", 0, "sin(2 pi weekday / 7), Monday = 0, UTC"),
        FeatureSpec("feat_dow_cos", 0, "cos(2 pi weekday / 7), Monday = 0, UTC"),
        FeatureSpec(
            "feat_gap_recent",
            0,
            f"1 if candles are missing within the last {GAP_FLAG_WINDOW} rows, else 0",
        ),
    ]
    return s


#: Every feature in column order, keyed by name.
FEATURES: dict[str, FeatureSpec] = {spec.name: spec for spec in _spec_list()}


def feature_columns() -> list[str]:
    """The ``feat_*`` column names in their stable order (the order of :func:`compute_features`)."""
    return list(FEATURES)


def _lag(x: np.ndarray, k: int) -> np.ndarray:
    out = np.full_like(x, np.nan)
    if k < len(x):
        out[k:] = x[: len(x) - k]
    return out


def _log_ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.log(a / b)
    out[~np.isfinite(out)] = np.nan
    return np.asarray(out)


def _rolling(values: np.ndarray, window: int, how: str) -> np.ndarray:
    roll = pd.Series(values).rolling(window, min_periods=window)
    return np.asarray(getattr(roll, how)().to_numpy())


def _time_parts(candles: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    ms = epoch_ms(candles["open_time"])
    hour = (ms % 86_400_000) / 3_600_000.0
    # 1970-01-01 was a Thursday (weekday 3 with Monday = 0).
    weekday = ((ms // 86_400_000) + 3) % 7
    return hour, weekday.astype("float64")


@by_content(size=2)  # every kind of a coin asks for the same matrix: computed once per content
def compute_features(candles: pd.DataFrame) -> pd.DataFrame:
    """Model-ready features: one column per :func:`feature_columns`, same index as ``candles``.

    In: a store candle frame sorted by ``open_time``. Out: float64 ``feat_*`` columns, NaN in the
    first ``FEATURES[name].warmup`` rows and where a ratio is undefined.

    Raises:
        DataError: the frame lacks a column the features need.
    """
    missing = [c for c in _FEATURE_INPUTS if c not in candles.columns]
    if missing:
        raise DataError(
            f"candle frame lacks the columns {', '.join(missing)}: pass candles in the store's "
            "schema (core.data.store.load_candles or normalize_candles)."
        )
    ind = indicator_arrays(candles, relative=True)
    o, h, lo, c, v = (as_f64(candles[k]) for k in ("open", "high", "low", "close", "volume"))
    exp = price_exponent(c)  # the same exact scaling indicator_arrays(relative=True) used
    o, h, lo, c = (np.ldexp(x, -exp) for x in (o, h, lo, c))
    taker = as_f64(candles["taker_buy_base_volume"])
    trades = as_f64(candles["number_of_trades"])
    f: dict[str, np.ndarray] = {}

    for n in (5, 10, 20, 50, 200):
        f[f"feat_sma_{n}_ratio"] = divide_or_nan(c, ind[f"sma_{n}"]) - 1.0
    for n in (10, 12, 20, 26):
        f[f"feat_ema_{n}_ratio"] = divide_or_nan(c, ind[f"ema_{n}"]) - 1.0
    f["feat_sma_5_20_cross"] = divide_or_nan(ind["sma_5"], ind["sma_20"]) - 1.0
    f["feat_sma_50_200_cross"] = divide_or_nan(ind["sma_50"], ind["sma_200"]) - 1.0
    for key in ("macd", "macd_signal", "macd_hist"):
        f[f"feat_{key}"] = divide_or_nan(ind[key], c)
    f["feat_adx_14"] = ind["adx_14"] / 100.0
    f["feat_plus_di_14"] = ind["plus_di_14"] / 100.0
    f["feat_minus_di_14"] = ind["minus_di_14"] / 100.0
    f["feat_di_diff_14"] = (ind["plus_di_14"] - ind["minus_di_14"]) / 100.0
    f["feat_rsi_14"] = ind["rsi_14"] / 100.0
    f["feat_stoch_k"] = ind["stoch_k"] / 100.0
    f["feat_stoch_d"] = ind["stoch_d"] / 100.0
    f["feat_williams_r_14"] = ind["williams_r_14"] / 100.0
    f["feat_cci_20"] = ind["cci_20"] / 100.0
    f["feat_bb_width"] = ind["bb_width"]
    f["feat_bb_position"] = divide_or_nan(c - ind["bb_lower"], ind["bb_upper"] - ind["bb_lower"])
    f["feat_atr_14_ratio"] = divide_or_nan(ind["atr_14"], c)
    f["feat_volatility_20"] = ind["volatility_20"]
    f["feat_volatility_50"] = ind["volatility_50"]
    f["feat_volatility_ratio"] = divide_or_nan(ind["volatility_20"], ind["volatility_50"])
    f["feat_range_hl"] = divide_or_nan(h - lo, c)
    f["feat_body"] = divide_or_nan(c - o, o)
    f["feat_upper_wick"] = divide_or_nan(h - np.maximum(o, c), c)
    f["feat_lower_wick"] = divide_or_nan(np.minimum(o, c) - lo, c)
    for k in RETURN_LAGS:
        f[f"feat_return_{k}"] = _log_ratio(c, _lag(c, k))
    f["feat_roc_10"] = ind["roc_10"] / 100.0
    f["feat_momentum_10_atr"] = divide_or_nan(ind["momentum_10"], ind["atr_14"])
    f["feat_volume_ratio_20"] = ind["volume_ratio_20"]
    f["feat_volume_trend_5_20"] = ind["volume_trend_5_20"] - 1.0
    # Symmetric, so a zero-volume candle (they occur around exchange halts) gives -1 / +1 instead
    # of an infinite log ratio; two zero-volume candles in a row are "no change".
    prev_v = _lag(v, 1)
    both = v + prev_v
    f["feat_volume_change_1"] = np.where(both == 0, 0.0, divide_or_nan(v - prev_v, both))
    vol_sum_20 = _rolling(v, 20, "sum")
    f["feat_obv_flow_20"] = divide_or_nan(ind["obv"] - _lag(ind["obv"], 20), vol_sum_20)
    f["feat_cmf_20"] = ind["cmf_20"]
    f["feat_taker_buy_ratio"] = divide_or_nan(taker, v)
    f["feat_taker_buy_ratio_20"] = divide_or_nan(_rolling(taker, 20, "sum"), vol_sum_20)
    f["feat_trades_ratio_20"] = divide_or_nan(trades, _rolling(trades, 20, "mean"))
    f["feat_price_position_20"] = ind["price_position_20"]
    f["feat_channel_width_20"] = divide_or_nan(ind["donchian_high_20"] - ind["donchian_low_20"], c)
    low100, high100 = _rolling(lo, 100, "min"), _rolling(h, 100, "max")
    f["feat_price_position_100"] = divide_or_nan(c - low100, high100 - low100)
    f["feat_drawdown_200"] = divide_or_nan(c, _rolling(h, 200, "max")) - 1.0
    hour, weekday = _time_parts(candles)
    f["feat_hour_sin"] = np.sin(2 * np.pi * hour / 24.0)
    f["feat_hour_cos"] = np.cos(2 * np.pi * hour / 24.0)
    f["feat_dow_sin"] = np.sin(2 * np.pi * weekday / 7.0)
    f["feat_dow_cos"] = np.cos(2 * np.pi * weekday / 7.0)
    gaps = np.cumsum(gap_starts(candles))
    f["feat_gap_recent"] = ((gaps - _lag(gaps.astype("float64"), GAP_FLAG_WINDOW)) > 0).astype(
        "float64"
    )
    # Before GAP_FLAG_WINDOW rows exist the lag is NaN: count gaps since the first row instead.
    head = min(GAP_FLAG_WINDOW, len(gaps))
    f["feat_gap_recent"][:head] = (gaps[:head] > 0).astype("float64")

    columns = {}
    for spec in FEATURES.values():
        values = np.array(f[spec.name], dtype="float64")  # a writable copy
        values[: spec.warmup] = np.nan
        columns[spec.name] = values
    return pd.DataFrame(columns, index=candles.index)


def compute_targets(
    candles: pd.DataFrame, horizon: int = 6, threshold: float = 0.01
) -> pd.DataFrame:
    """The labels: ``TargetConfig(horizon, threshold).column`` and ``target_next_close``.

    ``target_up_{pct}pct_{h}h`` is 1.0 when ``close[t + horizon] >= close[t] * (1 + threshold)``,
    else 0.0; ``target_next_close`` is ``close[t + 1]``. Both are NaN where the future candle is
    beyond the data, or where candles are missing between t and that candle (a gap).

    Raises:
        ConfigError: ``horizon`` or ``threshold`` out of range (see TargetConfig).
        DataError: the frame lacks a needed column.
    """
    cfg = TargetConfig(horizon=horizon, threshold=threshold)
    c = as_f64(candles["close"]) if "close" in candles.columns else None
    if c is None:
        raise DataError("candle frame lacks the close column: pass candles in the store's schema.")
    gaps = np.cumsum(gap_starts(candles)).astype("float64")

    def ahead(k: int) -> np.ndarray:
        fut = np.full_like(c, np.nan)
        if k < len(c):
            fut[: len(c) - k] = c[k:]
            spans_gap = np.zeros(len(c), dtype=bool)
            spans_gap[: len(c) - k] = gaps[k:] - gaps[: len(c) - k] > 0
            fut[spans_gap] = np.nan
        return fut

    future = ahead(cfg.horizon)
    with np.errstate(invalid="ignore"):
        up = np.where(np.isnan(future), np.nan, (future >= c * (1.0 + cfg.threshold)) * 1.0)
    return pd.DataFrame({cfg.column: up, NEXT_CLOSE: ahead(1)}, index=candles.index)


def future_return(candles: pd.DataFrame, horizon: int) -> np.ndarray:
    """``close[t + horizon] / close[t] - 1`` per candle: the move a call made at t is judged on.

    NaN where the future candle is beyond the data or the window spans a gap (as the targets).
    """
    c = as_f64(candles["close"])
    gaps = np.cumsum(gap_starts(candles)).astype("float64")
    out = np.full_like(c, np.nan)
    if 0 < horizon < len(c):
        n = len(c) - horizon
        out[:n] = c[horizon:] / c[:n] - 1.0
        out[:n][gaps[horizon:] - gaps[:n] > 0] = np.nan
    return out


def direction_labels(candles: pd.DataFrame, horizon: int) -> np.ndarray:
    """Per candle: 1.0 when ``close[t + horizon] > close[t]``, 0.0 when lower, NaN when equal,
    beyond the data, or when candles are missing between t and t + horizon (same gap rule as
    :func:`core.features.causal.compute_targets`)."""
    c = as_f64(candles["close"])
    n = len(c)
    out = np.full(n, np.nan)
    if horizon >= n:
        return out
    gaps = np.cumsum(gap_starts(candles))
    future = c[horizon:]
    now = c[: n - horizon]
    spans_gap = gaps[horizon:] - gaps[: n - horizon] > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        move = np.log(future / now)
    label = np.where(move > 0, 1.0, np.where(move < 0, 0.0, np.nan))
    label[spans_gap | ~np.isfinite(move)] = np.nan
    out[: n - horizon] = label
    return out


def feature_frame(
    candles: pd.DataFrame,
    *,
    horizon: int = 6,
    threshold: float = 0.01,
    include_indicators: bool = False,
) -> pd.DataFrame:
    """``open_time``, ``close``, the ``feat_*`` columns and the targets in one frame (for export).

    With ``include_indicators`` the raw indicator values (price units) follow the features.

    Raises:
        ConfigError: bad ``horizon`` / ``threshold``. DataError: a needed column is missing.
    """
    parts = [candles[["open_time", "close"]], compute_features(candles)]
    if include_indicators:
        parts.append(compute_indicators(candles))
    parts.append(compute_targets(candles, horizon=horizon, threshold=threshold))
    return pd.concat(parts, axis=1)
