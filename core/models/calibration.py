"""Probability calibration fitted on a validation slice: isotonic regression or Platt scaling.

A calibrator is a JSON-ready dict, so a saved model holds numbers and nothing pickled:
``{"kind": "isotonic", "x": [...], "y": [...]}`` or ``{"kind": "sigmoid", "coef": a,
"intercept": b}`` (Platt: ``sigmoid(a * logit(p) + b)``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["CALIBRATED_RANGE", "KINDS", "apply_calibrator", "fit_calibrator"]

#: Calibrated probabilities are kept inside this range: isotonic regression puts exactly 0 or 1
#: on a tail where the validation slice happened to hold one class only, which no finite sample
#: justifies (and which would make the log loss infinite).
CALIBRATED_RANGE = (0.001, 0.999)
#: The calibrator kinds a saved model may hold.
KINDS = ("isotonic", "sigmoid")


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype="float64"), 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def _sigmoid(x: np.ndarray) -> np.ndarray:
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
        p = _sigmoid(calibrator["coef"] * _logit(raw) + calibrator["intercept"])
    return np.clip(p, *CALIBRATED_RANGE)
