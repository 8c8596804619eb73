"""Losses and tests for variance forecasts, in log-variance units.

``y`` is the log realised variance, ``f`` the log of the variance forecast. QLIKE (Patton, 2011)
is ``RV/F - log(RV/F) - 1 = exp(y - f) - (y - f) - 1``: zero for a perfect forecast, and it ranks
forecasts correctly even when the realised variance is a noisy proxy of the true one. Log-MSE is
``(y - f)**2``; R² is ``1 - SSE / SST`` about the window's own mean of ``y``.

The Diebold–Mariano test compares two loss series with a long-run variance (Bartlett weights, at
least ``horizon - 1`` lags since ``h``-step forecasts overlap) and the small-sample correction of
Harvey, Leybourne and Newbold (1997), judged against Student's t with ``T - 1`` degrees of freedom.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

__all__ = ["DMResult", "diebold_mariano", "log_mse", "qlike", "r2"]


def qlike(y: np.ndarray, f: np.ndarray) -> np.ndarray:
    """QLIKE loss per row from log realised variance ``y`` and log forecast ``f``."""
    d = np.asarray(y, dtype="float64") - np.asarray(f, dtype="float64")
    return np.asarray(np.exp(d) - d - 1.0)


def log_mse(y: np.ndarray, f: np.ndarray) -> np.ndarray:
    """Squared error of the log variance per row."""
    return np.asarray((np.asarray(y, dtype="float64") - np.asarray(f, dtype="float64")) ** 2)


def r2(y: np.ndarray, f: np.ndarray) -> float:
    """``1 - SSE / SST`` with SST about the mean of ``y`` (NaN for fewer than 3 rows)."""
    y = np.asarray(y, dtype="float64")
    sst = float(np.sum((y - y.mean()) ** 2)) if len(y) > 2 else 0.0
    if sst <= 0:
        return float("nan")
    return 1.0 - float(np.sum(log_mse(y, f))) / sst


@dataclass(frozen=True)
class DMResult:
    """A one-sided Diebold–Mariano–HLN test: is the model's mean loss below the baseline's?"""

    statistic: float
    p_value: float
    mean_difference: float  # model loss - baseline loss (negative: the model is better)
    n: int
    lags: int


def diebold_mariano(loss_model: np.ndarray, loss_base: np.ndarray, *, horizon: int) -> DMResult:
    """One-sided DM test with the HLN correction; small p means the model's loss is lower.

    The long-run variance uses Bartlett weights over ``max(horizon - 1, 4 (T/100)^(2/9))`` lags:
    the overlap of ``h``-step forecasts needs ``h - 1``, and volatility clustering makes loss
    differences persist a little longer, where the plain rectangular ``h - 1`` would understate
    the variance and pass too often.
    """
    d = np.asarray(loss_model, dtype="float64") - np.asarray(loss_base, dtype="float64")
    d = d[np.isfinite(d)]
    n = len(d)
    if n < 10:
        return DMResult(float("nan"), 1.0, float(d.mean()) if n else float("nan"), n, 0)
    lags = int(max(horizon - 1, math.floor(4.0 * (n / 100.0) ** (2.0 / 9.0))))
    lags = min(lags, n - 1)
    dc = d - d.mean()
    lrv = float(dc @ dc) / n
    for k in range(1, lags + 1):
        lrv += 2.0 * (1.0 - k / (lags + 1)) * float(dc[k:] @ dc[:-k]) / n
    if lrv <= 0:
        return DMResult(float("nan"), 1.0, float(d.mean()), n, lags)
    stat = float(d.mean()) / math.sqrt(lrv / n)
    h = horizon
    stat *= math.sqrt(max((n + 1 - 2 * h + h * (h - 1) / n) / n, 1e-12))
    p = float(sps.t.cdf(stat, df=n - 1))
    return DMResult(stat, p, float(d.mean()), n, lags)
