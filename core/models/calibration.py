"""Probability calibration fitted on a validation slice: isotonic regression or Platt scaling,
and :class:`Calibrated`, which wraps a classification estimator with it.

A calibrator is a JSON-ready dict, so a saved model holds numbers and nothing pickled:
``{"kind": "isotonic", "x": [...], "y": [...]}`` or ``{"kind": "sigmoid", "coef": a,
"intercept": b}`` (Platt: ``sigmoid(a * logit(p) + b)``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from core.models.base import StepCallback, Task

__all__ = [
    "CALIBRATED_RANGE",
    "KINDS",
    "Calibrated",
    "apply_calibrator",
    "fit_calibrator",
    "sigmoid",
]

#: Calibrated probabilities are kept inside this range: isotonic regression puts exactly 0 or 1
#: on a tail where the validation slice happened to hold one class only, which no finite sample
#: justifies (and which would make the log loss infinite).
CALIBRATED_RANGE = (0.001, 0.999)
#: The calibrator kinds a saved model may hold.
KINDS = ("isotonic", "sigmoid")


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype="float64"), 1e-6, 1 - 1e-6)
    return np.asarray(np.log(p / (1 - p)))


def sigmoid(x: np.ndarray) -> np.ndarray:
    """The logistic function 1 / (1 + e^-x), written with tanh so it never overflows."""
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def fit_calibrator(
    kind: str, raw: np.ndarray, labels: np.ndarray
) -> tuple[dict[str, Any] | None, str]:
    """Fit ``kind`` (``"isotonic"``, ``"sigmoid"`` or ``"none"``) on raw probabilities and their
    0/1 labels; returns the calibrator (``None`` when none was fitted) and a note in words."""
    labels = np.asarray(labels).astype("int64")
    if kind == "none":
        return None, "calibration off (calibration='none')"
    if len(np.unique(labels)) < 2:
        return None, f"the {len(labels)} validation rows hold one class only: not calibrated"
    if kind == "isotonic":
        from sklearn.isotonic import IsotonicRegression

        iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0)
        iso.fit(raw, labels)
        calibrator: dict[str, Any] = {
            "kind": "isotonic",
            "x": [float(v) for v in iso.X_thresholds_],
            "y": [float(v) for v in iso.y_thresholds_],
        }
    else:
        from sklearn.linear_model import LogisticRegression

        platt = LogisticRegression(C=1e6, max_iter=1000)
        platt.fit(_logit(raw)[:, None], labels)
        calibrator = {
            "kind": "sigmoid",
            "coef": float(platt.coef_[0, 0]),
            "intercept": float(platt.intercept_[0]),
        }
    return calibrator, f"{kind} on the {len(labels)} validation rows"


def apply_calibrator(calibrator: dict[str, Any] | None, raw: np.ndarray) -> np.ndarray:
    """Calibrated probabilities for ``raw`` (identity when ``calibrator`` is ``None``)."""
    raw = np.asarray(raw, dtype="float64")
    if calibrator is None:
        return raw
    if calibrator["kind"] == "isotonic":
        # = IsotonicRegression.predict with out_of_bounds="clip" (linear between thresholds)
        p = np.interp(raw, np.asarray(calibrator["x"]), np.asarray(calibrator["y"]))
    else:
        p = sigmoid(calibrator["coef"] * _logit(raw) + calibrator["intercept"])
    return np.asarray(np.clip(p, *CALIBRATED_RANGE))


class Calibrated:
    """Calibration wrapping a classification estimator: the inner estimator fits on the training
    rows, then a calibrator (``method``: isotonic, sigmoid or none) is fit on its raw predictions
    of the validation slice only; :meth:`predict` is calibrated, :meth:`predict_raw` is not.
    Learned state: ``calibrator_``, ``validation_rows_``, ``note_``."""

    tasks: ClassVar[frozenset[Task]] = frozenset({Task.CLASSIFICATION})

    def __init__(self, inner: Any, method: str) -> None:
        self.inner, self.method = inner, method
        self.name = inner.name

    def fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        *,
        task: Task,
        features: list[str],
        validation: tuple[np.ndarray, np.ndarray] | None = None,
        on_step: StepCallback | None = None,
    ) -> Calibrated:
        self.inner.fit(X, y, task=task, features=features, validation=validation, on_step=on_step)
        self.calibrator_: dict[str, Any] | None = None
        self.validation_rows_ = 0 if validation is None else int(len(validation[1]))
        self.note_ = "no validation slice: probabilities are not calibrated"
        if validation is not None and self.validation_rows_:
            raw = self.predict_raw(validation[0])
            self.calibrator_, self.note_ = fit_calibrator(self.method, raw, validation[1])
        return self

    def predict_raw(self, X: np.ndarray) -> np.ndarray:
        """The inner estimator's uncalibrated P(label 1)."""
        return np.asarray(self.inner.predict(X), dtype="float64")

    def predict(self, X: np.ndarray) -> np.ndarray:
        return apply_calibrator(self.calibrator_, self.predict_raw(X))

    def info(self) -> dict[str, Any]:
        """The calibration in words and numbers (the card's ``training.calibration``)."""
        return {
            "kind": self.calibrator_["kind"] if self.calibrator_ else "none",
            "requested": self.method,
            "fitted_on": "validation" if self.calibrator_ else None,
            "validation_rows": self.validation_rows_,
            "note": self.note_,
        }

    def summary(self) -> dict[str, Any]:
        return {**self.inner.summary(), "calibration": self.info()}

    def save(self, directory: Path) -> tuple[list[str], dict[str, Any]]:
        files, extra = self.inner.save(directory)
        keys = {"validation_rows": self.validation_rows_, "calibrator": self.calibrator_}
        return files, {**extra, **keys, "calibration": self.info()}

    @classmethod
    def restore(cls, inner: Any, method: str, info: Mapping[str, Any]) -> Calibrated:
        """Wrap a loaded ``inner`` estimator with the calibrator saved in ``info``
        (``model.json``); raises ValueError for a calibrator kind it does not know."""
        model = cls(inner, method)
        model.calibrator_ = info.get("calibrator")
        if model.calibrator_ is not None and model.calibrator_["kind"] not in KINDS:
            raise ValueError(f"unknown calibrator {model.calibrator_['kind']!r}")
        model.validation_rows_ = int(info.get("validation_rows", 0))
        model.note_ = str((info.get("calibration") or {}).get("note", ""))
        return model
