"""A pooled volatility estimator seen from one coin (:mod:`core.volatility.pooled` fits it): the
coin's log-variance inputs taken relative to its own level ``c`` (the log range relative to
``c / 2``), that level added back to the forecast, and the coin's own QLIKE level shift. It is
what a pooled kind's model file holds per coin (:func:`core.volatility.estimators.load_estimator`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Self

import numpy as np

from core.volatility.baselines import level_shift
from core.volatility.features import HAR_FEATURES

__all__ = ["CoinView", "normalise"]

_LOG_VARIANCE = set(HAR_FEATURES)
_HALF = {"feat_log_range"}


class CoinView:
    """A pooled estimator seen from one coin: normalises that coin's inputs, adds its level back,
    and keeps the coin's own QLIKE level shift."""

    def __init__(
        self, inner: Any, inner_name: str, offset: float, reference_offset: float = 0.0
    ) -> None:
        self.inner = inner
        self.inner_name = inner_name
        self.offset = float(offset)
        #: The reference coin's level on the same rows (cross-asset inputs; 0.0 without them).
        self.reference_offset = float(reference_offset)
        self.features = list(inner.features)
        self.shift_ = 0.0

    def normalise(self, X: np.ndarray) -> np.ndarray:
        return normalise(
            np.asarray(X, dtype="float64"), self.features, self.offset, self.reference_offset
        )

    def fit(self, X: np.ndarray, y: np.ndarray) -> Self:
        raise TypeError("A pooled model is fit on every coin at once (evaluate_pooled).")

    def calibrate(self, X: np.ndarray, y: np.ndarray) -> Self:
        self.shift_ = level_shift(y, self.predict_log(X))
        return self

    def predict_log(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(self.inner.predict_log(self.normalise(X))) + self.offset

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.predict_log(X) + self.shift_

    def to_dict(self) -> dict[str, Any]:
        return {
            "inner": self.inner_name,
            "inner_fitted": self.inner.to_dict(),
            "offset": self.offset,
            "reference_offset": self.reference_offset,
            "shift": self.shift_,
        }

    @classmethod
    def restore(cls, inner: Any, data: Mapping[str, Any]) -> CoinView:
        """The view written by :meth:`to_dict` around ``inner``, its inner estimator as loaded
        from ``data["inner_fitted"]`` (:func:`core.volatility.estimators.load_estimator`)."""
        view = cls(
            inner,
            str(data["inner"]),
            float(data["offset"]),
            float(data.get("reference_offset", 0.0)),
        )
        view.shift_ = float(data["shift"])
        return view


def normalise(
    X: np.ndarray, features: Sequence[str], offset: float, reference_offset: float = 0.0
) -> np.ndarray:
    """``X`` with its log-variance columns relative to ``offset`` (the log range to half), the
    reference coin's (``feat_ref_lrv_*``) relative to ``reference_offset``."""
    out = np.array(X, dtype="float64", copy=True)
    for j, name in enumerate(features):
        if name in _LOG_VARIANCE or name.startswith("feat_lrv_seq_"):
            out[:, j] -= offset
        elif name.startswith("feat_ref_lrv_"):
            out[:, j] -= reference_offset
        elif name in _HALF:
            out[:, j] -= offset / 2.0
    return out
