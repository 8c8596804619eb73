"""Realised variance from hourly candles: the Garman–Klass range estimator and forward targets.

Every hourly candle gives one variance estimate from its open, high, low and close (Garman and
Klass, 1980)::

    v = 0.5 * ln(H / L)**2 - (2 ln 2 - 1) * ln(C / O)**2

It is about seven times as efficient as the squared close-to-close return under zero drift, it is
never negative, and it is zero only for a candle with no range at all. The realised variance over
the next ``h`` hours is the sum of the next ``h`` hourly estimates (docs/VOLATILITY.md says why
Garman–Klass rather than Rogers–Satchell or Parkinson).

Candles are placed on a regular time grid first (:func:`on_grid`), so a rolling window or a
forward sum that touches a missing hour is NaN instead of silently joining two distant hours.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "VARIANCE_FLOOR",
    "forward_log_rv",
    "forward_return",
    "garman_klass",
    "hourly_variance",
    "on_grid",
    "trailing_mean",
]

#: Smallest hourly variance used in logs (a 0.01% hourly move): a candle with no range at all
#: would otherwise give log(0).
VARIANCE_FLOOR = 1e-8
_GK_CLOSE = 2.0 * np.log(2.0) - 1.0


def garman_klass(
    open_: np.ndarray, high: np.ndarray, low: np.ndarray, close: np.ndarray
) -> np.ndarray:
    """Garman–Klass variance per candle (log-price units squared); NaN where a price is not
    positive."""
    o, h, lo, c = (np.asarray(a, dtype="float64") for a in (open_, high, low, close))
    with np.errstate(divide="ignore", invalid="ignore"):
        hl = np.log(h / lo)
        co = np.log(c / o)
    v = 0.5 * hl**2 - _GK_CLOSE * co**2
    bad = ~((o > 0) & (h > 0) & (lo > 0) & (c > 0))
    return np.where(bad, np.nan, np.maximum(v, 0.0))


def on_grid(candles: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """``candles`` reindexed on a regular grid of their own step (missing candles as NaN rows),
    and the grid position of every original row (to map grid columns back)."""
    times = pd.DatetimeIndex(candles["open_time"])
    if len(times) < 2:
        return candles.reset_index(drop=True), np.arange(len(candles))
    step = pd.Series(times).diff().dropna().min()
    grid = pd.date_range(times[0], times[-1], freq=step)
    frame = candles.set_index(times).reindex(grid)
    position = grid.get_indexer(times)
    return frame.reset_index(drop=True), position


def hourly_variance(grid: pd.DataFrame) -> np.ndarray:
    """Garman–Klass variance of every grid row (NaN for a missing candle)."""
    return garman_klass(
        grid["open"].to_numpy(),
        grid["high"].to_numpy(),
        grid["low"].to_numpy(),
        grid["close"].to_numpy(),
    )


def trailing_mean(values: np.ndarray, window: int) -> np.ndarray:
    """Mean of the last ``window`` values ending at each row (itself included); NaN until the
    window is full or when it touches a NaN."""
    return np.asarray(
        pd.Series(values, dtype="float64")
        .rolling(window, min_periods=window)
        .mean()
        .to_numpy(dtype="float64")
    )


def forward_log_rv(variance: np.ndarray, horizon: int) -> np.ndarray:
    """``log(sum of the next horizon hourly variances)``: rows ``t+1 .. t+horizon``, never ``t``
    itself; NaN where the window runs past the data or touches a missing candle."""
    v = pd.Series(variance, dtype="float64")
    ahead = v.rolling(horizon, min_periods=horizon).sum().shift(-horizon).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(np.log(np.maximum(ahead, VARIANCE_FLOOR * horizon)))


def forward_return(close: np.ndarray, horizon: int) -> np.ndarray:
    """``log(close[t + horizon] / close[t])`` per row; NaN past the end."""
    c = pd.Series(np.asarray(close, dtype="float64"))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(np.log(c.shift(-horizon) / c).to_numpy(dtype="float64"))
