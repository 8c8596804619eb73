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

from core.models.volatility import VolGBMConfig, VolHARConfig, VolLSTMConfig
from core.volatility.baselines import HARModel, level_shift
from core.volatility.coin_view import CoinView

__all__ = [
    "ESTIMATORS",
    "BoostedModel",
    "LSTMVolModel",
    "VolEstimator",
    "estimator_features",
    "load_estimator",
    "make_estimator",
    "reference_params",
]


class VolEstimator(Protocol):
    features: list[str]

    def fit(self, X: np.ndarray, y: np.ndarray) -> Self: ...

    def calibrate(self, X: np.ndarray, y: np.ndarray) -> Self: ...

    def predict(self, X: np.ndarray) -> np.ndarray: ...

    def predict_log(self, X: np.ndarray) -> np.ndarray: ...

    def to_dict(self) -> dict[str, Any]: ...


class BoostedModel:
    """Gradient-boosted trees in logs: the project's XGBoost estimator
    (:class:`core.models.boosted.XGBoostEstimator`, squared error) with a fixed, small learning
    rate and no early stopping, so the calibration rows stay unseen until the conformal step.
    With ``cross_asset`` it also reads the reference coin's HAR lags and returns
    (``feat_ref_*``)."""

    def __init__(self, **params: Any) -> None:
        self.config = VolGBMConfig(**params)
        self.features = self.config.features()

    def params(self) -> dict[str, Any]:
        return self.config.estimator_params()

    def fit(self, X: np.ndarray, y: np.ndarray) -> Self:
        from core.models.base import Task
        from core.models.boosted import XGBoostEstimator

        X, y = np.asarray(X, dtype="float64"), np.asarray(y, dtype="float64")
        ok = np.isfinite(y)
        self.model_ = XGBoostEstimator(self.config).fit(
            X[ok], y[ok], task=Task.REGRESSION, features=list(self.features)
        )
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
        return {"params": self.params(), "shift": float(self.shift_), "booster": self.model_.raw()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BoostedModel:
        from core.models.boosted import XGBoostEstimator

        model = cls(**data["params"])  # a model saved before cross_asset existed read none
        model.model_ = XGBoostEstimator.from_raw(model.config, data["booster"], model.features)
        model.shift_ = float(data["shift"])
        return model


class LSTMVolModel:
    """The project's LSTM network (:class:`core.models.network.LSTMEstimator`) on the last
    ``window`` hours of log variance, learning the log realised variance over the next hours;
    level set on calibration rows like the others. TensorFlow is imported by :meth:`fit` only;
    forecasts run in numpy from the weights kept in the model's JSON."""

    def __init__(self, **params: Any) -> None:
        self.config = VolLSTMConfig(**params)
        self.features = self.config.features()

    def params(self) -> dict[str, Any]:
        return self.config.estimator_params()

    def fit(self, X: np.ndarray, y: np.ndarray) -> Self:
        from core.models.base import Task
        from core.models.network import LSTMEstimator

        X, y = np.asarray(X, dtype="float64"), np.asarray(y, dtype="float64")
        ok = np.isfinite(y)
        self.net_ = LSTMEstimator(self.config).fit(
            X[ok][:, :, None], y[ok], task=Task.REGRESSION, features=["log_variance"]
        )
        self.shift_ = 0.0
        return self

    def calibrate(self, X: np.ndarray, y: np.ndarray) -> Self:
        self.shift_ = 0.0
        self.shift_ = level_shift(y, self.predict(X))
        return self

    def predict_log(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype="float64")
        return np.asarray(self.net_.predict(X[:, :, None]), dtype="float64")

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.predict_log(X) + self.shift_

    def to_dict(self) -> dict[str, Any]:
        return {
            "params": self.params(),
            "shift": float(self.shift_),
            "network": self.net_.to_arrays(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LSTMVolModel:
        from core.models.network import LSTMEstimator

        model = cls(**data["params"])
        model.net_ = LSTMEstimator.from_arrays(model.config, data["network"])
        model.shift_ = float(data["shift"])
        return model


#: The estimators by name: the HAR with the hour of day, and the boosted trees.
ESTIMATORS: tuple[str, ...] = ("har", "gbm", VolLSTMConfig.estimator)


def make_estimator(name: str, params: dict[str, Any] | None = None) -> Any:
    """A new estimator by name: ``har`` (HAR lags + hour-of-day harmonics, OLS in logs) or
    ``gbm`` (:class:`BoostedModel`, with ``params``).

    Raises:
        ValueError: another name.
    """
    if name == "har":
        return HARModel(VolHARConfig().features())
    if name == "gbm":
        return BoostedModel(**(params or {}))
    if name == VolLSTMConfig.estimator:
        return LSTMVolModel(**(params or {}))
    raise ValueError(f"Unknown volatility estimator {name!r}: use one of {', '.join(ESTIMATORS)}.")


def estimator_features(name: str, params: dict[str, Any] | None = None) -> list[str]:
    """The input columns of the estimator ``name`` (``pooled_*``: its inner estimator's)."""
    return list(make_estimator(name.removeprefix("pooled_"), params).features)


def reference_params(
    name: str, params: dict[str, Any] | None, has_reference: bool
) -> dict[str, Any] | None:
    """``params`` for candles with (``has_reference``) or without a reference coin attached: an
    estimator that can read cross-asset inputs reads them only when one is (the trainer attaches
    the stored reference, or says why it could not)."""
    if has_reference or not any(
        n.startswith("feat_ref_") for n in estimator_features(name, params)
    ):
        return params
    return {**(params or {}), "cross_asset": False}


def load_estimator(name: str, data: dict[str, Any]) -> Any:
    """An estimator written by its ``to_dict`` (``pooled_*``: a pooled model's per-coin view)."""
    if name.startswith("pooled_"):
        return CoinView.restore(
            load_estimator(str(data["inner"]), dict(data["inner_fitted"])), data
        )
    if name == VolLSTMConfig.estimator:
        return LSTMVolModel.from_dict(data)
    return HARModel.from_dict(data) if name == "har" else BoostedModel.from_dict(data)
