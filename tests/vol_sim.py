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
