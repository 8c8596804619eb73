"""The forecasts a volatility model has to beat, fit on training rows only.

All return the log of the variance forecast over the next ``horizon`` hours for every candle row.

- Historical mean: the mean realised variance of the training rows, a constant (on a coin whose
  volatility does not change, nothing beats it).
- Persistence: the realised variance of the last ``horizon`` hours (what just happened, again).
- EWMA (RiskMetrics): ``horizon`` times an exponentially weighted mean of the hourly variance;
  the decay is the one of :data:`EWMA_DECAYS` with the lowest QLIKE on the training rows.
- HAR (Corsi, 2009): OLS of the log target on the log mean variance over the last 1, 6, 24 and
  168 hours, with the level set so the mean of ``RV / F`` is one on the calibration rows (a log
  model forecasts the median; QLIKE judges the mean).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Self

import numpy as np
import pandas as pd

from core.volatility.features import HAR_FEATURES, VolFrame
from core.volatility.metrics import qlike
from core.volatility.realized import VARIANCE_FLOOR, trailing_mean

__all__ = [
    "EWMA_DECAYS",
    "HARModel",
    "choose_decay",
    "ewma_forecast",
    "level_shift",
    "mean_forecast",
    "persistence_forecast",
]

#: Hourly decays tried for the EWMA: half-lives from about 2 hours to about 4 months.
EWMA_DECAYS: tuple[float, ...] = (
    0.7,
    0.8,
    0.85,
    0.9,
    0.95,
    0.97,
    0.98,
    0.99,
    0.995,
    0.998,
    0.999,
    0.9995,
    0.99975,
)


def _log(values: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(np.log(np.maximum(values, VARIANCE_FLOOR)))


def mean_forecast(n: int, train_target: np.ndarray) -> np.ndarray:
    """The log of the training rows' mean realised variance, for all ``n`` rows."""
    y = np.asarray(train_target, dtype="float64")
    y = y[np.isfinite(y)]
    return np.full(n, float(np.log(np.mean(np.exp(y)))) if len(y) else np.nan)


def persistence_forecast(vf: VolFrame, horizon: int) -> np.ndarray:
    """Log realised variance of the last ``horizon`` hours, per candle row."""
    return np.asarray(_log(trailing_mean(vf.variance, horizon) * horizon)[vf.position])


def ewma_forecast(vf: VolFrame, horizon: int, decay: float) -> np.ndarray:
    """Log of ``horizon`` x the EWMA of the hourly variance (missing hours skipped), per row."""
    ew = (
        pd.Series(vf.variance)
        .ewm(alpha=1.0 - decay, adjust=False, ignore_na=True)
        .mean()
        .to_numpy(dtype="float64", copy=True)
    )
    # The recursion needs a week of hours before it forgets its starting value.
    ew[:168] = np.nan
    return np.asarray(_log(ew * horizon)[vf.position])


def choose_decay(vf: VolFrame, horizon: int, rows: np.ndarray, target: np.ndarray) -> float:
    """The decay of :data:`EWMA_DECAYS` with the lowest mean QLIKE on ``rows`` (training)."""
    best, best_loss = EWMA_DECAYS[0], np.inf
    for decay in EWMA_DECAYS:
        f = ewma_forecast(vf, horizon, decay)[rows]
        ok = np.isfinite(f) & np.isfinite(target[rows])
        loss = float(np.mean(qlike(target[rows][ok], f[ok]))) if ok.any() else np.inf
        if loss < best_loss:
            best, best_loss = decay, loss
    return best


def level_shift(y: np.ndarray, f: np.ndarray) -> float:
    """The log shift ``c`` that makes ``mean(exp(y - f - c)) == 1``: the QLIKE-optimal level of a
    log forecast on these rows."""
    d = np.asarray(y, dtype="float64") - np.asarray(f, dtype="float64")
    d = d[np.isfinite(d)]
    return float(np.log(np.mean(np.exp(d)))) if len(d) else 0.0


class HARModel:
    """HAR in logs: ``y = b0 + b1 lrv_1h + b6 lrv_6h + b24 lrv_24h + b168 lrv_168h`` (+ any
    further ``features``, e.g. the hour-of-day harmonics)."""

    def __init__(self, features: Sequence[str] = tuple(HAR_FEATURES)) -> None:
        self.features = list(features)

    def fit(self, X: np.ndarray, y: np.ndarray) -> Self:
        """OLS on the rows where every input and the target are finite."""
        X, y = np.asarray(X, dtype="float64"), np.asarray(y, dtype="float64")
        ok = np.isfinite(X).all(axis=1) & np.isfinite(y)
        design = np.column_stack([np.ones(ok.sum()), X[ok]])
        self.coef_ = np.linalg.lstsq(design, y[ok], rcond=None)[0]
        self.shift_ = 0.0
        return self

    def calibrate(self, X: np.ndarray, y: np.ndarray) -> Self:
        """Set the level on calibration rows (see :func:`level_shift`)."""
        self.shift_ = 0.0
        self.shift_ = level_shift(y, self.predict(X))
        return self

    def predict_log(self, X: np.ndarray) -> np.ndarray:
        """The fitted log variance (a median forecast: what log-MSE and R² judge)."""
        X = np.asarray(X, dtype="float64")
        return np.asarray(self.coef_[0] + X @ self.coef_[1:])

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Log of the variance forecast with its level set for QLIKE (a mean forecast)."""
        return self.predict_log(X) + self.shift_

    def to_dict(self) -> dict[str, Any]:
        return {
            "features": self.features,
            "coef": [float(c) for c in self.coef_],
            "shift": float(self.shift_),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HARModel:
        model = cls(data["features"])
        model.coef_ = np.asarray(data["coef"], dtype="float64")
        model.shift_ = float(data["shift"])
        return model
