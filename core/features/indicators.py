"""Raw technical indicators over a store candle frame, for charts and as the base of features.

In: a frame in the store's schema (``core.data.store.COLUMNS``; at least ``open_time``, ``close_time``,
``open``, ``high``, ``low``, ``close``, ``volume``), sorted by ``open_time``. Out: one column per
indicator (``INDICATOR_COLUMNS``), same index and length, in price units where the indicator is a
price (SMA, Bollinger bands, channels) — :mod:`core.features.causal` turns them into scale-free features.

Causality: every value at row t is computed from rows ``<= t`` only. TA-Lib computes what it has
(moving averages, MACD, ADX/DI, RSI, Stochastic, Williams %R, CCI, Bollinger, ATR, OBV, momentum,
ROC, rolling max/min/sum); its EMA-type outputs (EMA, MACD, RSI, ADX, ATR) are seeded at the start
of the series, so they depend on where the series starts but never on later rows. The few
hand-written ones (volatility, Chaikin Money Flow, volume ratio/trend, price position) are
vectorised numpy/pandas rolling windows and have reference tests against plain loops.

Gaps (missing candles, exchange halts): indicators run over the *stored* candles as if they were
consecutive; a gap is never filled with invented candles. A window that spans a gap therefore
covers more wall-clock time than its length says. :func:`gap_starts` marks the first candle after a
gap (detected per row from the candle's own length, ``close_time - open_time + 1 ms``, so it needs
no interval argument and stays causal); features flag the rows just after a gap.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import talib
from talib._ta_lib import MA_Type  # the enum talib re-exports untyped

from core.errors import DataError

__all__ = [
    "INDICATORS",
    "INDICATOR_COLUMNS",
    "REQUIRED_COLUMNS",
    "as_f64",
    "check_candles",
    "compute_indicators",
    "divide_or_nan",
    "epoch_ms",
    "gap_starts",
    "indicator_arrays",
    "price_exponent",
    "rolling_std",
]

REQUIRED_COLUMNS: tuple[str, ...] = (
    "open_time",
    "close_time",
    "open",
    "high",
    "low",
    "close",
    "volume",
)

#: Indicator column -> one-line meaning (TA-Lib unless marked "hand-written").
INDICATORS: dict[str, str] = {
    **{
        f"sma_{n}": f"simple moving average of close over {n} candles" for n in (5, 10, 20, 50, 200)
    },
    **{f"ema_{n}": f"exponential moving average of close, span {n}" for n in (10, 12, 20, 26)},
    "macd": "MACD line: EMA(12) - EMA(26) of close",
    "macd_signal": "MACD signal: EMA(9) of the MACD line",
    "macd_hist": "MACD histogram: line - signal",
    "adx_14": "average directional index (14), trend strength 0..100",
    "plus_di_14": "+DI (14), upward directional indicator 0..100",
    "minus_di_14": "-DI (14), downward directional indicator 0..100",
    "rsi_14": "relative strength index (14), 0..100",
    "stoch_k": "slow stochastic %K (14, 3), 0..100",
    "stoch_d": "slow stochastic %D (3-SMA of %K), 0..100",
    "williams_r_14": "Williams %R (14), -100..0",
    "cci_20": "commodity channel index (20)",
    "bb_upper": "Bollinger upper band: SMA(20) + 2 std",
    "bb_middle": "Bollinger middle band: SMA(20)",
    "bb_lower": "Bollinger lower band: SMA(20) - 2 std",
    "bb_width": "Bollinger band width: (upper - lower) / middle",
    "atr_14": "average true range (14), price units",
    "volatility_20": "hand-written: sample std of 1-candle log returns over 20 candles",
    "volatility_50": "hand-written: sample std of 1-candle log returns over 50 candles",
    "obv": "on-balance volume, cumulative from the first stored candle",
    "cmf_20": "hand-written: Chaikin Money Flow (20), -1..1",
    "donchian_high_20": "price channel top: highest high of 20 candles",
    "donchian_low_20": "price channel bottom: lowest low of 20 candles",
    "momentum_10": "momentum: close - close 10 candles earlier",
    "roc_10": "rate of change over 10 candles, percent",
    "volume_ratio_20": "hand-written: volume / SMA(20) of volume",
    "volume_trend_5_20": "hand-written: SMA(5) / SMA(20) of volume",
    "price_position_20": "hand-written: (close - 20-low) / (20-high - 20-low), 0..1",
}
INDICATOR_COLUMNS: tuple[str, ...] = tuple(INDICATORS)


def check_candles(candles: pd.DataFrame) -> None:
    """Raise DataError unless ``candles`` has the store's OHLCV columns."""
    missing = [c for c in REQUIRED_COLUMNS if c not in candles.columns]
    if missing:
        raise DataError(
            f"candle frame lacks the columns {', '.join(missing)}: pass candles in the store's "
            "schema (core.data.store.load_candles or normalize_candles)."
        )
    # Causality means "earlier rows only", which needs rows in time order.
    if len(candles) > 1 and not (np.diff(epoch_ms(candles["open_time"])) > 0).all():
        raise DataError(
            "candles must be sorted by open_time without duplicates: pass them through "
            "core.data.store.normalize_candles first."
        )


def as_f64(values: pd.Series) -> np.ndarray:
    """A column as a contiguous float64 array (TA-Lib's input), NaN for missing values."""
    return np.ascontiguousarray(values.to_numpy(dtype="float64", na_value=np.nan))


def divide_or_nan(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den with NaN (not inf, not 0) where the denominator is 0: the value is undefined."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = num / den
    out[~np.isfinite(out)] = np.nan
    return np.asarray(out)


def price_exponent(close: np.ndarray) -> int:
    """The exponent e with 2**e nearest the first finite positive close (0 if there is none)."""
    first = close[np.isfinite(close) & (close > 0)][:1]
    return int(np.round(np.log2(first[0]))) if len(first) else 0


def rolling_std(values: np.ndarray, window: int) -> np.ndarray:
    """Sample standard deviation (ddof=1) of the last ``window`` values; NaN until full."""
    return np.asarray(pd.Series(values).rolling(window, min_periods=window).std(ddof=1).to_numpy())


def epoch_ms(times: pd.Series) -> np.ndarray:
    """Milliseconds since 1970-01-01 UTC as int64 (naive times are taken as UTC)."""
    return np.asarray(pd.DatetimeIndex(times).as_unit("ms").asi8.copy())


def gap_starts(candles: pd.DataFrame) -> np.ndarray:
    """Boolean per row: True when candles are missing between the previous stored row and this one.

    A candle's length is ``close_time - open_time + 1 ms`` (Binance's convention), so the check
    works for every interval without being told which one, and uses only rows ``<= t``.
    """
    check_candles(candles)
    n = len(candles)
    out = np.zeros(n, dtype=bool)
    if n < 2:
        return out
    opens = epoch_ms(candles["open_time"])
    closes = epoch_ms(candles["close_time"])
    step = closes - opens + 1
    out[1:] = (opens[1:] - opens[:-1]) > step[:-1]
    return out


def indicator_arrays(candles: pd.DataFrame, *, relative: bool = False) -> dict[str, np.ndarray]:
    """The indicators as float64 numpy arrays keyed by ``INDICATOR_COLUMNS`` (no frame overhead).

    ``relative=True`` scales every price by the power of two nearest the first close
    (:func:`price_exponent`), so prices are near 1 whatever the coin: TA-Lib treats differences
    below 1e-8 as zero (RSI, ADX, ...), which would distort a coin priced at 0.00001. A power of
    two scales floats exactly, so exact ties (+DM == -DM on tick-size prices) stay ties whatever
    row the series starts at. The first row is at or before every row, so this stays causal;
    features use it, charts keep price units.

    Raises:
        DataError: the frame lacks one of ``REQUIRED_COLUMNS``.
    """
    check_candles(candles)
    h, lo, c, v = (as_f64(candles[k]) for k in ("high", "low", "close", "volume"))
    if relative:
        exp = price_exponent(c)
        h, lo, c = np.ldexp(h, -exp), np.ldexp(lo, -exp), np.ldexp(c, -exp)
    out: dict[str, np.ndarray] = {}
    for n in (5, 10, 20, 50, 200):
        out[f"sma_{n}"] = talib.SMA(c, timeperiod=n)
    for n in (10, 12, 20, 26):
        out[f"ema_{n}"] = talib.EMA(c, timeperiod=n)
    out["macd"], out["macd_signal"], out["macd_hist"] = talib.MACD(
        c, fastperiod=12, slowperiod=26, signalperiod=9
    )
    out["adx_14"] = talib.ADX(h, lo, c, timeperiod=14)
    out["plus_di_14"] = talib.PLUS_DI(h, lo, c, timeperiod=14)
    out["minus_di_14"] = talib.MINUS_DI(h, lo, c, timeperiod=14)
    out["rsi_14"] = talib.RSI(c, timeperiod=14)
    out["stoch_k"], out["stoch_d"] = talib.STOCH(
        h,
        lo,
        c,
        fastk_period=14,
        slowk_period=3,
        slowk_matype=MA_Type.SMA,
        slowd_period=3,
        slowd_matype=MA_Type.SMA,
    )
    out["williams_r_14"] = talib.WILLR(h, lo, c, timeperiod=14)
    out["cci_20"] = talib.CCI(h, lo, c, timeperiod=20)
    out["bb_upper"], out["bb_middle"], out["bb_lower"] = talib.BBANDS(
        c, timeperiod=20, nbdevup=2.0, nbdevdn=2.0, matype=MA_Type.SMA
    )
    out["bb_width"] = divide_or_nan(out["bb_upper"] - out["bb_lower"], out["bb_middle"])
    out["atr_14"] = talib.ATR(h, lo, c, timeperiod=14)

    log_ret = np.full_like(c, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_ret[1:] = np.log(c[1:] / c[:-1])
    out["volatility_20"] = rolling_std(log_ret, 20)
    out["volatility_50"] = rolling_std(log_ret, 50)

    out["obv"] = talib.OBV(c, v)
    # Money-flow multiplier is 0 on a candle with high == low (no range, no pressure either way):
    # that is the indicator's definition, not a fill of missing values.
    span = h - lo
    with np.errstate(divide="ignore", invalid="ignore"):
        mfm = np.where(span > 0, ((c - lo) - (h - c)) / np.where(span > 0, span, 1.0), 0.0)
    out["cmf_20"] = divide_or_nan(talib.SUM(mfm * v, timeperiod=20), talib.SUM(v, timeperiod=20))

    out["donchian_high_20"] = talib.MAX(h, timeperiod=20)
    out["donchian_low_20"] = talib.MIN(lo, timeperiod=20)
    out["momentum_10"] = talib.MOM(c, timeperiod=10)
    out["roc_10"] = talib.ROC(c, timeperiod=10)
    vol_sma20 = talib.SMA(v, timeperiod=20)
    out["volume_ratio_20"] = divide_or_nan(v, vol_sma20)
    out["volume_trend_5_20"] = divide_or_nan(talib.SMA(v, timeperiod=5), vol_sma20)
    out["price_position_20"] = divide_or_nan(
        c - out["donchian_low_20"], out["donchian_high_20"] - out["donchian_low_20"]
    )
    return out


def compute_indicators(candles: pd.DataFrame) -> pd.DataFrame:
    """Raw indicator values for charts: one column per ``INDICATOR_COLUMNS``, same index as input.

    NaN while an indicator's look-back window is not full (never zero). Prices stay in price
    units; oscillators in their usual ranges (RSI 0..100, Williams %R -100..0, ...).

    Raises:
        DataError: the frame lacks one of ``REQUIRED_COLUMNS``.
    """
    arrays = indicator_arrays(candles)
    return pd.DataFrame({k: arrays[k] for k in INDICATOR_COLUMNS}, index=candles.index)
