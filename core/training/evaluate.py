"""Honest evaluation: chronological splits with a purge gap, walk-forward folds, metrics, baselines.

Rows are model samples in time order (row ``i`` is earlier than row ``i + 1``). A sample's label
looks ``horizon`` rows ahead, so the last ``horizon`` rows before any held-out window (the test
period, a validation slice, a walk-forward fold) are dropped from training: their labels would
otherwise be computed from prices inside the held-out window.

Every metric comes with its naive baseline beside it: the classifier with the majority class and
the training base rate as a constant probability (AUC 0.5), the forecaster with persistence (next
close = this close) and skill = 1 - MAE / MAE_persistence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.errors import InsufficientDataError
from core.models.base import Task

__all__ = [
    "Split",
    "chronological_split",
    "classification_baseline",
    "classification_metrics",
    "evaluate",
    "persistence_baseline",
    "regression_metrics",
    "skill",
    "validation_split",
    "walk_forward_splits",
]

#: Each training set must keep at least this many rows, each held-out window at least this many.
MIN_TRAIN_ROWS = 50
MIN_TEST_ROWS = 10


@dataclass(frozen=True)
class Split:
    """Row positions of one train / test pair; ``train`` ends ``horizon`` rows before ``test``."""

    train: np.ndarray
    test: np.ndarray
    name: str = "test"

    @property
    def gap(self) -> int:
        """Rows dropped between the last training row and the first test row."""
        return int(self.test[0] - self.train[-1] - 1)

    def locate(self, position: np.ndarray) -> Split:
        """This split (over candle rows) as indices into samples made at candles ``position``.

        Models drop candles without a usable sample (look-back warm-up, unknown future), so the
        split is drawn on the shared candle timeline and each model's samples fall on either side
        of it; the purge gap stays at least ``horizon`` candles.
        """
        position = np.asarray(position)
        return Split(
            np.flatnonzero(np.isin(position, self.train)),
            np.flatnonzero(np.isin(position, self.test)),
            self.name,
        )


def _check(train_rows: int, test_rows: int, what: str) -> None:
    if train_rows < MIN_TRAIN_ROWS or test_rows < MIN_TEST_ROWS:
        raise InsufficientDataError(
            f"{what} leaves {max(train_rows, 0)} training and {max(test_rows, 0)} held-out rows; "
            f"at least {MIN_TRAIN_ROWS} and {MIN_TEST_ROWS} are needed. Fetch more candles or "
            "use fewer folds / a smaller test fraction."
        )


def chronological_split(n: int, *, test_fraction: float, horizon: int) -> Split:
    """The last ``test_fraction`` of ``n`` rows is the test set; training stops ``horizon`` before.

    Raises:
        InsufficientDataError: too few rows for a usable training or test set.
    """
    n_test = int(round(n * test_fraction))
    start = n - n_test
    _check(start - horizon, n_test, f"A {test_fraction:.0%} test split of {n} rows")
    return Split(np.arange(0, start - horizon), np.arange(start, n), "test")


def validation_split(train: np.ndarray, *, fraction: float, horizon: int) -> Split:
    """Cut a validation slice from the END of ``train`` (never from the test period), purged.

    Returns a :class:`Split` whose ``test`` is the validation slice (named ``validation``); with
    ``fraction == 0`` the validation slice is empty and every training row is kept.

    Raises:
        InsufficientDataError: the training rows left are too few.
    """
    n_val = int(round(len(train) * fraction))
    if n_val == 0:
        return Split(np.asarray(train), np.asarray(train)[:0], "validation")
    keep = len(train) - n_val - horizon
    _check(keep, n_val, f"A {fraction:.0%} validation slice of {len(train)} training rows")
    return Split(np.asarray(train)[:keep], np.asarray(train)[-n_val:], "validation")


def walk_forward_splits(n: int, *, folds: int, horizon: int) -> list[Split]:
    """Expanding-window folds over ``n`` rows: cut into ``folds + 1`` equal blocks; fold ``k``
    trains on blocks ``0..k-1`` (minus the last ``horizon`` rows) and tests on block ``k``.

    The folds are named ``fold1`` ... ``foldK``; the last block absorbs the remainder.

    Raises:
        InsufficientDataError: a fold would have too few rows.
    """
    block = n // (folds + 1)
    _check(block - horizon, block, f"{folds} walk-forward folds over {n} rows")
    splits = []
    for k in range(1, folds + 1):
        start = k * block
        stop = n if k == folds else start + block
        splits.append(Split(np.arange(0, start - horizon), np.arange(start, stop), f"fold{k}"))
    return splits


def _finite(value: float) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def classification_metrics(
    y_true: np.ndarray, probability: np.ndarray, *, threshold: float = 0.5
) -> dict[str, Any]:
    """Accuracy, balanced accuracy, precision, recall, F1, ROC AUC, Brier score, log loss.

    ``y_true`` holds 0/1 labels, ``probability`` P(label = 1); a label is predicted 1 when the
    probability is at least ``threshold``. ROC AUC is ``None`` when the labels hold one class.
    """
    from sklearn import metrics as m

    y = np.asarray(y_true).astype(int)
    p = np.clip(np.asarray(probability, dtype=float), 1e-7, 1 - 1e-7)
    pred = (p >= threshold).astype(int)
    both = len(np.unique(y)) == 2
    return {
        "n": int(len(y)),
        "accuracy": float(m.accuracy_score(y, pred)),
        "balanced_accuracy": float(m.balanced_accuracy_score(y, pred)) if both else None,
        "precision": float(m.precision_score(y, pred, zero_division=0)),
        "recall": float(m.recall_score(y, pred, zero_division=0)),
        "f1": float(m.f1_score(y, pred, zero_division=0)),
        "roc_auc": float(m.roc_auc_score(y, p)) if both else None,
        "brier": float(np.mean((p - y) ** 2)),
        "log_loss": float(m.log_loss(y, p, labels=[0, 1])),
        "base_rate": float(y.mean()) if len(y) else None,
        "predicted_positive_rate": float(pred.mean()) if len(y) else None,
    }


def classification_baseline(y_true: np.ndarray, *, train_base_rate: float) -> dict[str, Any]:
    """The naive classifier beside the model.

    Accuracy of always predicting the held-out majority class (an optimistic baseline: it knows
    the held-out base rate), balanced accuracy 0.5, AUC 0.5, and the Brier score and log loss of
    predicting the TRAINING base rate as a constant probability.
    """
    y = np.asarray(y_true).astype(int)
    rate = float(y.mean()) if len(y) else 0.0
    p = float(np.clip(train_base_rate, 1e-7, 1 - 1e-7))
    return {
        "majority_class": int(rate >= 0.5),
        "accuracy": max(rate, 1 - rate),
        "balanced_accuracy": 0.5,
        "roc_auc": 0.5,
        "train_base_rate": float(train_base_rate),
        "brier": float(np.mean((p - y) ** 2)),
        "log_loss": float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))),
    }


def regression_metrics(
    actual: np.ndarray, forecast: np.ndarray, close: np.ndarray
) -> dict[str, Any]:
    """MAE, RMSE, MAPE (percent) and directional accuracy of next-close forecasts, in price units.

    ``close`` is the last known close when the forecast was made. Directional accuracy is the
    share of rows where the forecast moves the same way from ``close`` as the real next close
    (rows where either does not move are left out; ``None`` if none are left).
    """
    a, f, c = (np.asarray(v, dtype=float) for v in (actual, forecast, close))
    err = f - a
    real, said = np.sign(a - c), np.sign(f - c)
    moved = (real != 0) & (said != 0)
    return {
        "n": int(len(a)),
        "mae": float(np.mean(np.abs(err))),
        "rmse": float(np.sqrt(np.mean(err**2))),
        "mape": float(np.mean(np.abs(err) / np.abs(a)) * 100),
        "directional_accuracy": float(np.mean(real[moved] == said[moved])) if moved.any() else None,
    }


def persistence_baseline(actual: np.ndarray, close: np.ndarray) -> dict[str, Any]:
    """Persistence (next close = this close) scored like a forecast, plus the share of up moves.

    Persistence never moves, so its directional accuracy is ``None``; ``majority_direction`` is
    the accuracy of always calling the held-out period's more frequent direction.
    """
    a, c = np.asarray(actual, dtype=float), np.asarray(close, dtype=float)
    out = regression_metrics(a, c, c)
    moves = np.sign(a - c)
    moves = moves[moves != 0]
    up = float(np.mean(moves > 0)) if len(moves) else 0.5
    out["up_rate"] = up
    out["majority_direction"] = max(up, 1 - up)
    return out


def skill(model_mae: float, baseline_mae: float) -> float | None:
    """1 - model error / baseline error: above 0 beats the baseline, 0 ties, below 0 loses."""
    return _finite(1 - model_mae / baseline_mae) if baseline_mae > 0 else None


def evaluate(
    task: Task | str,
    actual: np.ndarray,
    output: np.ndarray,
    *,
    close: np.ndarray,
    train_actual: np.ndarray,
) -> dict[str, Any]:
    """Score one held-out window: ``{"metrics", "baseline", "skill"}``.

    For a classifier ``output`` is P(label = 1) and ``actual`` the 0/1 label; the baseline's
    constant probability is the share of 1s in ``train_actual`` (the training labels) and
    ``skill`` is the Brier skill against it. For a forecaster ``output`` and ``actual`` are prices
    (``train_actual`` is not used) and ``skill`` is 1 - MAE / MAE_persistence.
    """
    if Task(task) is Task.CLASSIFICATION:
        train_base_rate = float(np.mean(train_actual))
        metrics = classification_metrics(actual, output)
        baseline = classification_baseline(actual, train_base_rate=train_base_rate)
        return {
            "metrics": metrics,
            "baseline": baseline,
            "skill": skill(metrics["brier"], baseline["brier"]),
        }
    metrics = regression_metrics(actual, output, close)
    baseline = persistence_baseline(actual, close)
    return {
        "metrics": metrics,
        "baseline": baseline,
        "skill": skill(metrics["mae"], baseline["mae"]),
    }
