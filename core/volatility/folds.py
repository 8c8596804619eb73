"""Walk-forward folds inside the fitting rows: does the model beat its best baseline before the
test window too? (DESIGN.md rule 12: folds and the test window must agree.)

The fitting rows are cut into ``folds + 1`` blocks; fold ``k`` fits a fresh estimator on blocks
``0..k-1`` (purged by the horizon before block ``k``), sets its level on those same rows, and
scores QLIKE on block ``k`` beside the baselines. The historical mean is refit on the fold's
training rows; the EWMA decay and the HAR baseline keep what they learned from all fitting rows,
which favours them on the folds: a model that still beats them there has earned it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from core.errors import InsufficientDataError
from core.training.evaluate import walk_forward_splits
from core.volatility.baselines import mean_forecast
from core.volatility.estimators import make_estimator
from core.volatility.metrics import qlike

__all__ = ["FOLDS", "fold_scores", "fold_windows"]

FOLDS = 3


def fold_windows(
    fit_rows: np.ndarray, *, horizon: int, folds: int = FOLDS
) -> list[tuple[np.ndarray, np.ndarray]]:
    """The ``(train, test)`` rows of each walk-forward fold inside ``fit_rows`` (empty when they
    are too few), as :func:`fold_scores` cuts them."""
    try:
        splits = walk_forward_splits(len(fit_rows), folds=folds, horizon=horizon)
    except InsufficientDataError:
        return []
    return [(fit_rows[s.train], fit_rows[s.test]) for s in splits]


def fold_scores(
    estimator: str,
    X: np.ndarray,
    y: np.ndarray,
    baselines: dict[str, np.ndarray],
    fit_rows: np.ndarray,
    *,
    horizon: int,
    folds: int = FOLDS,
    params: dict[str, Any] | None = None,
    fitted: list[Any] | None = None,
) -> list[dict[str, Any]]:
    """Per fold: the model's and every baseline's mean QLIKE and whether the model's is the
    lowest. Empty when the fitting rows are too few for the folds.

    ``fitted``: one estimator per fold already fit elsewhere on that fold's training rows (a
    pooled model's fold fits, seen through this coin); each is only levelled here."""
    try:
        splits = walk_forward_splits(len(fit_rows), folds=folds, horizon=horizon)
    except InsufficientDataError:
        return []
    out = []
    for k, split in enumerate(splits):
        train, test = fit_rows[split.train], fit_rows[split.test]
        if fitted is not None:
            model = fitted[k]
        else:
            model = make_estimator(estimator, params).fit(X[train], y[train])
        model.calibrate(X[train], y[train])
        scores = {"model": float(np.mean(qlike(y[test], model.predict(X[test]))))}
        scores |= {n: float(np.mean(qlike(y[test], b[test]))) for n, b in baselines.items()}
        if "mean" in baselines:  # a constant: refit on the fold's own training rows
            scores["mean"] = float(np.mean(qlike(y[test], mean_forecast(len(test), y[train]))))
        best = min(scores[n] for n in baselines)
        out.append(
            {
                "fold": split.name,
                "rows": len(test),
                "qlike": {k: round(v, 6) for k, v in scores.items()},
                "beats_best_baseline": scores["model"] < best,
            }
        )
    return out
