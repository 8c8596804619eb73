"""Synthetic hourly candles with a known volatility process, built from intra-hour paths.

Each hour is 60 one-minute Brownian steps with that hour's variance, so open, high, low and close
behave as real ranges do (the range estimator sees a discretely sampled path, as on Binance).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tests.random_walk import ohlc_candles

STEPS = 60


def garch_variance(
    n: int,
    *,
    seed: int = 11,
    omega: float | None = None,
    alpha: float = 0.08,
    beta: float = 0.9,
    sigma: float = 0.006,
) -> tuple[np.ndarray, np.ndarray]:
    """Hourly GARCH(1,1) variances and the standard normal shocks that drive them (the hour's
    return is ``sqrt(h_t) * z_t``); the unconditional hourly sd is ``sigma``."""
    rng = np.random.default_rng(seed)
    w = omega if omega is not None else sigma**2 * (1.0 - alpha - beta)
    z = rng.standard_normal(n)
    h = np.empty(n)
    h[0] = sigma**2
    for t in range(1, n):
        h[t] = w + alpha * h[t - 1] * z[t - 1] ** 2 + beta * h[t - 1]
    return h, z


def path_candles(
    variance: np.ndarray,
    *,
    seed: int = 5,
    shocks: np.ndarray | None = None,
    start: str = "2022-01-01",
    price: float = 100.0,
) -> pd.DataFrame:
    """Hourly candles whose hour ``t`` is a 60-step Brownian path with variance ``variance[t]``
    (its total return is ``sqrt(variance[t]) * shocks[t]`` when ``shocks`` is given)."""
    rng = np.random.default_rng(seed)
    n = len(variance)
    steps = rng.standard_normal((n, STEPS))
    if shocks is not None:
        # Brownian bridge: keep the path's shape, force its end to the given shock.
        total = steps.sum(axis=1, keepdims=True)
        frac = np.arange(1, STEPS + 1) / STEPS
        cum = np.cumsum(steps, axis=1) - frac * total + frac * shocks[:, None] * np.sqrt(STEPS)
        steps = np.diff(np.concatenate([np.zeros((n, 1)), cum], axis=1), axis=1)
    inc = steps * np.sqrt(np.asarray(variance)[:, None] / STEPS)
    path = np.cumsum(inc, axis=1)
    log_open = np.log(price) + np.concatenate([[0.0], np.cumsum(path[:, -1])[:-1]])
    open_ = np.exp(log_open)
    high = np.exp(log_open + np.maximum(path.max(axis=1), 0.0))
    low = np.exp(log_open + np.minimum(path.min(axis=1), 0.0))
    close = np.exp(log_open + path[:, -1])
    return ohlc_candles(open_, high, low, close, rng=rng, start=start)


def garch_candles(n: int, *, seed: int = 11) -> pd.DataFrame:
    """``n`` hourly candles from a GARCH(1,1) (alpha 0.08, beta 0.9, hourly sd 0.6%)."""
    h, z = garch_variance(n, seed=seed)
    return path_candles(h, seed=seed + 1, shocks=z)


def constant_vol_candles(n: int, *, seed: int = 7, sigma: float = 0.006) -> pd.DataFrame:
    """``n`` hourly candles of a random walk with constant volatility ``sigma`` per hour."""
    return path_candles(np.full(n, sigma**2), seed=seed)


FIVE_MIN_MS = 300_000
PER_HOUR = 12


def garch_5m_candles(
    hours: int, *, seed: int = 13, sub_steps: int = 10, sigma: float = 0.006
) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """A GARCH(1,1) at 5 minutes (alpha 0.05, beta 0.94; hourly sd ``sigma``), each 5-minute
    candle a ``sub_steps``-step Brownian path, aggregated to hourly candles as Binance does
    (first open, highest high, lowest low, last close; volumes are i.i.d. draws).

    Returns ``(hourly, five_minute, true_variance)``: the hourly and 5-minute candles (store
    schema) and each hour's true variance (the sum of its twelve 5-minute variances)."""
    n = hours * PER_HOUR
    h5, _ = garch_variance(n, seed=seed, alpha=0.05, beta=0.94, sigma=sigma / np.sqrt(PER_HOUR))
    rng = np.random.default_rng(seed + 1)
    inc = rng.standard_normal((n, sub_steps)) * np.sqrt(h5[:, None] / sub_steps)
    path = np.cumsum(inc, axis=1)
    log_open = np.log(100.0) + np.concatenate([[0.0], np.cumsum(path[:, -1])[:-1]])
    o = np.exp(log_open)
    hi = np.exp(log_open + np.maximum(path.max(axis=1), 0.0))
    lo = np.exp(log_open + np.minimum(path.min(axis=1), 0.0))
    c = np.exp(log_open + path[:, -1])
    start = "2023-01-01"
    five = ohlc_candles(o, hi, lo, c, rng=rng, start=start, step_ms=FIVE_MIN_MS)

    def per_hour(a: np.ndarray) -> np.ndarray:
        return a.reshape(hours, PER_HOUR)

    hourly = ohlc_candles(
        per_hour(o)[:, 0],
        per_hour(hi).max(axis=1),
        per_hour(lo).min(axis=1),
        per_hour(c)[:, -1],
        rng=rng,
        start=start,
    )
    return hourly, five, per_hour(h5).sum(axis=1)
