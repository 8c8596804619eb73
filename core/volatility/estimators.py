"""Volatility estimators behind one small protocol: the HAR (linear, in logs) and a boosted
regressor (XGBoost) on the HAR lags plus hour of day, range, volume and taker inputs.

Both learn the log realised variance over the next ``h`` hours; both get their level set on
calibration rows (:func:`core.volatility.baselines.level_shift`), because a model fit in logs
forecasts the median of the variance and QLIKE judges its mean. XGBoost is imported when a
boosted model is made, never at ``import core``.
"""

from __future__ import annotations

from typing import Any, Protocol, Self

import numpy as np

from core.volatility.baselines import HARModel, level_shift
from core.volatility.features import EXTRA_FEATURES, HAR_FEATURES, HOUR_FEATURES

__all__ = ["ESTIMATORS", "BoostedModel", "VolEstimator", "make_estimator"]


class VolEstimator(Protocol):
    features: list[str]

    def fit(self, X: np.ndarray, y: np.ndarray) -> Self: ...

    def calibrate(self, X: np.ndarray, y: np.ndarray) -> Self: ...

    def predict(self, X: np.ndarray) -> np.ndarray: ...

    def predict_log(self, X: np.ndarray) -> np.ndarray: ...

    def to_dict(self) -> dict[str, Any]: ...


class BoostedModel:
    """Gradient-boosted trees (XGBoost, squared error in logs) with a fixed, small learning rate
    and no early stopping, so the calibration rows stay unseen until the conformal step."""

    features: list[str] = HAR_FEATURES + HOUR_FEATURES + EXTRA_FEATURES

    def __init__(
        self,
        *,
        n_estimators: int = 300,
        max_depth: int = 3,
        learning_rate: float = 0.03,
        subsample: float = 0.8,
        random_state: int = 0,
    ) -> None:
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.learning_rate = learning_rate
        self.subsample = subsample
        self.random_state = random_state

    def params(self) -> dict[str, Any]:
        return {
            "n_estimators": self.n_estimators,
            "max_depth": self.max_depth,
            "learning_rate": self.learning_rate,
            "subsample": self.subsample,
            "random_state": self.random_state,
        }

    def fit(self, X: np.ndarray, y: np.ndarray) -> Self:
        import xgboost as xgb

        from core.models.base import thread_count

        X, y = np.asarray(X, dtype="float64"), np.asarray(y, dtype="float64")
        ok = np.isfinite(y)
        self.model_ = xgb.XGBRegressor(
            objective="reg:squarederror",
            tree_method="hist",
            n_jobs=thread_count(),
            **self.params(),
        )
        self.model_.fit(X[ok], y[ok])
        self.shift_ = 0.0
        return self

    def calibrate(self, X: np.ndarray, y: np.ndarray) -> Self:
        self.shift_ = 0.0
        self.shift_ = level_shift(y, self.predict(X))
        return self

    def predict_log(self, X: np.ndarray) -> np.ndarray:
        """The fitted log variance (what log-MSE and R² judge)."""
        return np.asarray(self.model_.predict(np.asarray(X, dtype="float64")), dtype="float64")

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Log of the variance forecast with its level set for QLIKE."""
        return self.predict_log(X) + self.shift_

    def to_dict(self) -> dict[str, Any]:
        booster = self.model_.get_booster()
        return {
            "params": self.params(),
            "shift": float(self.shift_),
            "booster": bytes(booster.save_raw("json")).decode("utf-8"),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BoostedModel:
        import xgboost as xgb

        model = cls(**data["params"])
        model.model_ = xgb.XGBRegressor()
        model.model_.load_model(bytearray(data["booster"].encode("utf-8")))
        model.shift_ = float(data["shift"])
        return model


#: The estimators by name: the HAR with the hour of day, and the boosted trees.
ESTIMATORS: tuple[str, ...] = ("har", "gbm")


def make_estimator(name: str) -> Any:
    """A new estimator by name: ``har`` (HAR lags + hour-of-day harmonics, OLS in logs) or
    ``gbm`` (:class:`BoostedModel`).

    Raises:
        ValueError: another name.
    """
    if name == "har":
        return HARModel(HAR_FEATURES + HOUR_FEATURES)
    if name == "gbm":
        return BoostedModel()
    raise ValueError(f"Unknown volatility estimator {name!r}: use one of {', '.join(ESTIMATORS)}.")


def load_estimator(name: str, data: dict[str, Any]) -> Any:
    """An estimator written by its ``to_dict`` (``pooled_*``: a pooled model's per-coin view)."""
    if name.startswith("pooled_"):
        from core.volatility.pooled import CoinView

        return CoinView.from_dict(data)
    return HARModel.from_dict(data) if name == "har" else BoostedModel.from_dict(data)
