"""Context features: higher timeframes (4 h, 1 d) of the coin itself, and reference coins (BTC, ETH).

Hourly indicators see a coin through a 1 h keyhole; much of what moves an altcoin is the market
(BTC, ETH) and the state of slower bars. These features add that context, under the same rules as
:mod:`core.features.causal`: causal, scale-free, NaN (never 0) while a look-back is not full, gaps
never filled. They are separate from ``compute_features`` (models trained on those columns keep
them unchanged); :func:`context_features` gives them all, :data:`CONTEXT_FEATURES` lists them.

**Multi-timeframe causality.** 4 h and 1 d bars are built from the 1 h candles by flooring
``open_time`` to the bar (UTC, epoch-aligned: 00, 04, 08, ... h and midnight). A bar counts as
*completed* at row t once its end is ``<= close_time[t] + 1 ms``, i.e. at its last hour (or, when
that hour is missing, at the first candle after it); rows before that see the previous completed
bar. So row t uses only candles that closed by t's close, and cutting the candles at t changes no
value up to t. A first bar that the data enters part-way through (the series starts at, say,
05:00) is left out, and so are the "day so far" values of that first day: they would summarise
fewer hours than their name says. A bar whose hours are partly missing (a gap) is built from the
hours that are stored. Rolling windows in hours (volatility, 7-day high/low) count stored rows,
like the hourly features.

**Cross-asset alignment.** A reference's candle is matched to the coin's row by exact
``open_time``: both are closed candles of the same hour. Reference values are computed on the
reference's own regular time grid (its candle length), where a missing reference candle is a
hole: returns and volatility whose window touches a hole are NaN, never a value shifted from a
neighbouring hour. The coin's side of the relative strength is timed the same way.

Warm-ups in :data:`CONTEXT_FEATURES` count 1 h rows for contiguous candles that start at 00:00
UTC (with references covering the same hours); a later start within the day adds up to 23 NaN
rows to the bar-based features.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import talib

from core.config import Interval, Paths
from core.data.store import list_stored, load_candles
from core.errors import ConfigError, InsufficientDataError, NoDataError
from core.features.causal import FeatureSpec, settle_steps
from core.features.indicators import (
    as_f64,
    check_candles,
    divide_or_nan,
    epoch_ms,
    price_exponent,
    rolling_std,
)

__all__ = [
    "CONTEXT_FEATURES",
    "REFERENCE_SYMBOLS",
    "context_features",
    "cross_asset_features",
    "load_references",
    "markdown_lines",
    "multi_timeframe_features",
    "require_references",
]

#: The market's reference coins; cross-asset columns are ``feat_btc_*`` and ``feat_eth_*``.
REFERENCE_SYMBOLS: tuple[str, ...] = ("BTCUSDT", "ETHUSDT")
#: Log-return horizons (reference candles) of the cross-asset features.
REFERENCE_RETURNS: tuple[int, ...] = (1, 6, 24)

_HOUR = 3_600_000
_H4 = 4 * _HOUR
_D1 = 24 * _HOUR
_WEEK_ROWS = 168
# Bars until each bar feature has its look-back (the first valid bar's index).
_RSI_BARS = 14 + settle_steps(1 / 14)  # TA-Lib's lookback, then until Wilder's seed weighs < 1%
_SMA_DAYS = 20
_RET_DAYS = 7


def _bar_rows(bars: int, width: int) -> int:
    """1 h rows before bar number ``bars`` (0-based) completes, from a start at a bar boundary."""
    return (bars + 1) * (width // _HOUR) - 1


def _prefix(symbol: str) -> str:
    return symbol.removesuffix("USDT").lower()


def _spec_list() -> list[FeatureSpec]:
    s = [
        FeatureSpec(
            "feat_tf4h_rsi_14",
            _bar_rows(_RSI_BARS, _H4),
            "RSI(14) / 100 of the completed 4 h closes, 0..1",
        ),
        FeatureSpec(
            "feat_tf4h_ret_1", _bar_rows(1, _H4), "log return of the last completed 4 h bar"
        ),
        FeatureSpec(
            "feat_tf1d_ret_1", _bar_rows(1, _D1), "log return of the last completed UTC day"
        ),
        FeatureSpec(
            "feat_tf1d_ret_7",
            _bar_rows(_RET_DAYS, _D1),
            "log return over the last 7 completed UTC days (daily closes)",
        ),
        FeatureSpec(
            "feat_tf1d_sma_20_ratio",
            _bar_rows(_SMA_DAYS - 1, _D1),
            "last completed daily close / SMA(20) of daily closes - 1",
        ),
        FeatureSpec("feat_tf1d_vol_24", 24, "std of 1 h log returns over the last 24 rows"),
        FeatureSpec(
            "feat_tf1d_vol_168", 168, "std of 1 h log returns over the last 168 rows (7 d)"
        ),
        FeatureSpec(
            "feat_tf1d_vol_ratio", 168, "vol_24 / vol_168: today's volatility vs the week's"
        ),
        FeatureSpec(
            "feat_tf1d_day_position",
            0,
            "(close - day low so far) / (day high so far - day low so far), UTC day, 0..1",
        ),
        FeatureSpec("feat_tf1d_high_7d", 167, "close / highest high of 168 rows (7 d) - 1, <= 0"),
        FeatureSpec("feat_tf1d_low_7d", 167, "close / lowest low of 168 rows (7 d) - 1, >= 0"),
    ]
    for symbol in REFERENCE_SYMBOLS:
        p, base = _prefix(symbol), symbol.removesuffix("USDT")
        for k in REFERENCE_RETURNS:
            s.append(FeatureSpec(f"feat_{p}_ret_{k}", k, f"{base}: log return over {k} h"))
        s += [
            FeatureSpec(f"feat_{p}_vol_24", 24, f"{base}: std of 1 h log returns over 24 h"),
            FeatureSpec(
                f"feat_{p}_rel_24", 24, f"coin's 24 h log return - {base}'s (relative strength)"
            ),
        ]
    return s


#: Every column this module can produce, in column order, keyed by name.
CONTEXT_FEATURES: dict[str, FeatureSpec] = {spec.name: spec for spec in _spec_list()}
_TF_COLUMNS = [name for name in CONTEXT_FEATURES if name.startswith(("feat_tf4h_", "feat_tf1d_"))]


def markdown_lines() -> list[str]:
    """The context section of docs/FEATURES.md (``causal.features_markdown`` appends it)."""
    refs = ", ".join(f"`{s}`" for s in REFERENCE_SYMBOLS)
    lines = [
        "",
        "Context features (`core.features.context.context_features(candles, references)`, not",
        "part of `compute_features`): the coin's own 4 h and 1 d bars (`feat_tf4h_*`, `feat_tf1d_*`)",
        f"and the reference coins {refs} (`feat_btc_*`, `feat_eth_*`, only for references given;",
        "`load_references()` gives the stored ones). Same rules: causal, scale-free, NaN in warm-up.",
        "",
        "Multi-timeframe causality: 4 h and 1 d bars are the 1 h candles grouped by `open_time`",
        "floored to the bar (UTC); a bar counts only once its last hour has closed (its end <= the",
        "row's close), and rows until then see the previous completed bar, so no row sees a bar",
        "that is still forming. A first bar the data enters part-way through is left out.",
        "Cross-asset alignment: a reference candle is matched to the coin's row by exact",
        "`open_time` (both closed candles of that hour); a missing reference candle gives NaN",
        "there and in every return or volatility window that needs it, never a shifted value.",
        "Warm-ups count 1 h rows for candles starting at 00:00 UTC, references covering them.",
        "",
        f"{len(CONTEXT_FEATURES)} context features:",
        "",
        "| # | Feature | Warm-up | Meaning |",
        "|---|---------|--------:|---------|",
    ]
    for i, spec in enumerate(CONTEXT_FEATURES.values(), start=1):
        lines.append(f"| {i} | `{spec.name}` | {spec.warmup} | {spec.description} |")
    return lines


def _log_ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    # log(a / b), not log(a) - log(b): a ratio of two scaled prices is bit-exact scale-free.
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.log(a / b)
    out[~np.isfinite(out)] = np.nan
    return np.asarray(out)


def _lag(x: np.ndarray, k: int) -> np.ndarray:
    out = np.full_like(x, np.nan)
    if k < len(x):
        out[k:] = x[: len(x) - k]
    return out


def _bars(open_ms: np.ndarray, close: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Closes and end times (ms) of the bars of ``width`` ms, from the rows' buckets.

    A first bucket the data enters part-way through is dropped: it would be a short bar.
    """
    bucket = open_ms // width
    start = 0
    if len(bucket) and open_ms[0] % width:
        start = int(np.searchsorted(bucket, bucket[0], side="right"))
    b = bucket[start:]
    if not len(b):
        return np.empty(0), np.empty(0, dtype="int64")
    last = np.flatnonzero(np.r_[b[1:] != b[:-1], True])  # each bucket's last stored row
    return close[start:][last], (b[last] + 1) * width


def _align(values: np.ndarray, bar_end: np.ndarray, row_end: np.ndarray) -> np.ndarray:
    """Per row, the value of the last bar whose end is <= the row's close (+1 ms); else NaN."""
    idx = np.searchsorted(bar_end, row_end, side="right") - 1
    out = np.full(len(row_end), np.nan)
    done = idx >= 0
    out[done] = values[idx[done]]
    return out


def multi_timeframe_features(candles: pd.DataFrame) -> pd.DataFrame:
    """The ``feat_tf4h_*`` and ``feat_tf1d_*`` columns of :data:`CONTEXT_FEATURES`.

    In: a store candle frame (``core.data.store.COLUMNS``) sorted by ``open_time``, normally 1 h.
    Out: float64 columns, same index; row t uses only candles closed by row t's close (module
    docstring). NaN while a look-back is not full and where a ratio is undefined.

    Raises:
        DataError: a needed column is missing, or rows are unsorted / duplicated.
    """
    check_candles(candles)
    open_ms = epoch_ms(candles["open_time"])
    row_end = epoch_ms(candles["close_time"]) + 1  # a bar is complete once this reaches its end
    h, lo, c = (as_f64(candles[k]) for k in ("high", "low", "close"))
    # The exact power-of-two scaling causal.py uses: TA-Lib's RSI treats tiny moves as zero.
    exp = price_exponent(c)
    h, lo, c = (np.ldexp(x, -exp) for x in (h, lo, c))
    f: dict[str, np.ndarray] = {}

    close4, end4 = _bars(open_ms, c, _H4)
    rsi = talib.RSI(close4, timeperiod=14) / 100.0 if len(close4) else close4.copy()
    rsi[:_RSI_BARS] = np.nan
    f["feat_tf4h_rsi_14"] = _align(rsi, end4, row_end)
    f["feat_tf4h_ret_1"] = _align(_log_ratio(close4, _lag(close4, 1)), end4, row_end)

    close1d, end1d = _bars(open_ms, c, _D1)
    f["feat_tf1d_ret_1"] = _align(_log_ratio(close1d, _lag(close1d, 1)), end1d, row_end)
    f["feat_tf1d_ret_7"] = _align(_log_ratio(close1d, _lag(close1d, _RET_DAYS)), end1d, row_end)
    sma = pd.Series(close1d).rolling(_SMA_DAYS, min_periods=_SMA_DAYS).mean().to_numpy()
    f["feat_tf1d_sma_20_ratio"] = _align(divide_or_nan(close1d, sma) - 1.0, end1d, row_end)

    log_ret = _log_ratio(c, _lag(c, 1))
    vol24, vol168 = rolling_std(log_ret, 24), rolling_std(log_ret, _WEEK_ROWS)
    f["feat_tf1d_vol_24"], f["feat_tf1d_vol_168"] = vol24, vol168
    f["feat_tf1d_vol_ratio"] = divide_or_nan(vol24, vol168)

    day = open_ms // _D1
    day_high = pd.Series(h).groupby(day).cummax().to_numpy()
    day_low = pd.Series(lo).groupby(day).cummin().to_numpy()
    position = divide_or_nan(c - day_low, day_high - day_low)
    if len(day) and open_ms[0] % _D1:
        position[day == day[0]] = np.nan  # the first day's "so far" misses its early hours
    f["feat_tf1d_day_position"] = position
    high7 = pd.Series(h).rolling(_WEEK_ROWS, min_periods=_WEEK_ROWS).max().to_numpy()
    low7 = pd.Series(lo).rolling(_WEEK_ROWS, min_periods=_WEEK_ROWS).min().to_numpy()
    f["feat_tf1d_high_7d"] = divide_or_nan(c, high7) - 1.0
    f["feat_tf1d_low_7d"] = divide_or_nan(c, low7) - 1.0
    return pd.DataFrame({k: f[k] for k in _TF_COLUMNS}, index=candles.index, dtype="float64")


def _on_grid(candles: pd.DataFrame) -> tuple[int, int, np.ndarray]:
    """The frame's closes on its own regular time grid: (first open ms, step ms, closes).

    The step is the first candle's length (Binance's ``close_time - open_time + 1 ms``); a
    missing candle is NaN on the grid, so lags along the grid are lags in time, not in rows.
    """
    open_ms = epoch_ms(candles["open_time"])
    if not len(open_ms):
        return 0, _HOUR, np.empty(0)
    t0 = int(open_ms[0])
    step = int(epoch_ms(candles["close_time"].iloc[:1])[0] + 1 - t0)
    on_grid = (open_ms - t0) % step == 0  # a stray candle off the grid cannot be placed
    grid = np.full(int((open_ms[-1] - t0) // step) + 1, np.nan)
    grid[(open_ms[on_grid] - t0) // step] = as_f64(candles["close"])[on_grid]
    return t0, step, grid


def _lookup(values: np.ndarray, t0: int, step: int, times: np.ndarray) -> np.ndarray:
    """``values`` (on the grid t0 + i * step) at exactly ``times``; NaN off the grid or beyond."""
    pos = times - t0
    idx = pos // step
    ok = (pos % step == 0) & (idx >= 0) & (idx < len(values))
    out = np.full(len(times), np.nan)
    out[ok] = values[idx[ok]]
    return out


def _reference_columns(ref: pd.DataFrame, prefix: str) -> tuple[int, int, dict[str, np.ndarray]]:
    t0, step, close = _on_grid(ref)
    cols = {f"feat_{prefix}_ret_{k}": _log_ratio(close, _lag(close, k)) for k in REFERENCE_RETURNS}
    # rolling() with min_periods = window: one missing hour in the window makes it NaN.
    cols[f"feat_{prefix}_vol_24"] = rolling_std(cols[f"feat_{prefix}_ret_1"], 24)
    return t0, step, cols


def cross_asset_features(
    candles: pd.DataFrame, references: Mapping[str, pd.DataFrame]
) -> pd.DataFrame:
    """``feat_{btc,eth}_*`` columns for each reference given, matched by exact ``open_time``.

    In: the coin's store candle frame and ``{"BTCUSDT": frame, ...}`` with frames of the same
    interval (any subset of :data:`REFERENCE_SYMBOLS`; a coin may be its own reference, its
    columns then equal its own returns and a relative strength of 0). Out: five float64 columns
    per reference given, in :data:`CONTEXT_FEATURES` order, same index as ``candles``; NaN where
    the reference candle (or one its window needs) is missing.

    Raises:
        ConfigError: a key that is not one of REFERENCE_SYMBOLS.
        DataError: a frame lacks a needed column or is unsorted.
    """
    unknown = sorted(set(references) - set(REFERENCE_SYMBOLS))
    if unknown:
        raise ConfigError(
            f"unknown reference symbol(s) {', '.join(unknown)}: use "
            f"{', '.join(REFERENCE_SYMBOLS)} (core.features.context.REFERENCE_SYMBOLS)."
        )
    check_candles(candles)
    times = epoch_ms(candles["open_time"])
    t0, step, own = _on_grid(candles)
    own_24 = _lookup(_log_ratio(own, _lag(own, 24)), t0, step, times)
    f: dict[str, np.ndarray] = {}
    for symbol in REFERENCE_SYMBOLS:
        if symbol not in references:
            continue
        check_candles(references[symbol])
        p = _prefix(symbol)
        r0, rstep, cols = _reference_columns(references[symbol], p)
        for name, values in cols.items():
            f[name] = _lookup(values, r0, rstep, times)
        f[f"feat_{p}_rel_24"] = own_24 - f[f"feat_{p}_ret_24"]
    names = [n for n in CONTEXT_FEATURES if n in f]
    return pd.DataFrame({n: f[n] for n in names}, index=candles.index, dtype="float64")


def context_features(
    candles: pd.DataFrame, references: Mapping[str, pd.DataFrame] | None = None
) -> pd.DataFrame:
    """:func:`multi_timeframe_features`, then :func:`cross_asset_features` when ``references``.

    In: a store candle frame; optionally references as for :func:`cross_asset_features`.
    Out: the context columns in :data:`CONTEXT_FEATURES` order, same index as ``candles``.

    Raises:
        ConfigError: an unknown reference key. DataError: a needed column is missing or unsorted.
    """
    parts = [multi_timeframe_features(candles)]
    if references is not None:
        parts.append(cross_asset_features(candles, references))
    return pd.concat(parts, axis=1)


def load_references(interval: str = "1h", *, paths: Paths | None = None) -> dict[str, pd.DataFrame]:
    """The stored candles of each of :data:`REFERENCE_SYMBOLS` in the home ``paths`` describes
    (the edge's ``context.paths``; left out, a notebook's call, the store resolves it), keyed by
    symbol.

    A reference that is not stored is left out (no error): the caller gets the columns of the
    ones that exist, so which references a model used belongs in its metadata.

    Raises:
        ConfigError: an unknown interval.
        CorruptDataError: a stored file is damaged (it has been moved to data/quarantine/).
    """
    value = Interval.parse(interval).value
    stored = set(list_stored(paths=paths))
    out: dict[str, pd.DataFrame] = {}
    for symbol in REFERENCE_SYMBOLS:
        if (symbol, value) not in stored:
            continue
        try:
            out[symbol] = load_candles(symbol, value, paths=paths)
        except NoDataError:  # removed between the listing and the read
            continue
    return out


def _stamp(ms: int) -> str:
    return str(pd.Timestamp(ms, unit="ms", tz="UTC").strftime("%Y-%m-%d %H:%M UTC"))


def require_references(
    symbols: Sequence[str], context: Mapping[str, pd.DataFrame] | None, candles: pd.DataFrame
) -> dict[str, pd.DataFrame]:
    """``context`` cut to ``symbols`` (the references a model learned from), each reaching the last
    candle of ``candles``; raises InsufficientDataError (saying what to do) if one does not."""
    context = context or {}
    missing = [s for s in symbols if s not in context]
    if missing:
        wanted = ", ".join(f"{s!r}: candles" for s in missing)
        raise InsufficientDataError(
            f"This model was trained with {', '.join(symbols)} as context: pass their candles "
            f"too (context={{{wanted}}}, for example from "
            "core.features.context.load_references()), and fetch "
            f"{', '.join(missing)} if they are not stored."
        )
    if len(candles):
        last = int(epoch_ms(candles["open_time"].iloc[-1:])[0])
        for symbol in symbols:
            ref = context[symbol]
            ends = int(epoch_ms(ref["open_time"].iloc[-1:])[0]) if len(ref) else None
            if ends is None or ends < last:
                seen = "nothing" if ends is None else _stamp(ends)
                raise InsufficientDataError(
                    f"The {symbol} context ends at {seen}, before the last candle "
                    f"({_stamp(last)}): top up {symbol} first."
                )
    return {s: context[s] for s in symbols}
