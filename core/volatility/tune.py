"""A tuning sweep's score for a volatility kind: QLIKE skill on walk-forward folds (nested).

:func:`core.tuning.objective.score_settings` hands the candles before the test window the final
training will score on (the inner period); nothing later is seen. Per horizon of the settings,
the inner period's usable rows are cut into expanding walk-forward folds (purged by the horizon,
as :func:`core.volatility.folds.fold_windows` cuts them); on each fold a fresh estimator is fit
on the fold's training rows and levelled on them, the baselines are fit on the same rows
(persistence; the EWMA with its decay chosen there; the historical mean; the HAR in logs), and
the fold's held-out block is scored by QLIKE. A fold's skill is ``1 - QLIKE(model) / QLIKE(best
baseline)``, so 0 is "no better than the best naive forecast" as for the other kinds' skills
and the study still maximises. The trial's value is the mean over folds and horizons.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from core.config import Paths, SplitConfig, TargetConfig
from core.errors import InsufficientDataError
from core.volatility.baselines import (
    HARModel,
    choose_decay,
    ewma_forecast,
    mean_forecast,
    persistence_forecast,
)
from core.volatility.estimators import estimator_features, make_estimator, reference_params
from core.volatility.features import (
    HAR_FEATURES,
    attach_reference,
    attached_reference,
    build_frame,
    ret_column,
    sequence_length,
    target_column,
)
from core.volatility.folds import fold_windows
from core.volatility.metrics import qlike
from core.volatility.train import attach_stored_reference

__all__ = ["OBJECTIVE_TEXT", "VOLATILITY_TUNING", "VolatilityTuning", "score_volatility"]

OBJECTIVE_TEXT = (
    "mean QLIKE skill (1 - model QLIKE / best baseline's: persistence, EWMA, historical mean, "
    "HAR) over {folds} walk-forward folds per horizon inside the training period; the test "
    "window is never seen by the tuner"
)


def _cut_reference(candles: pd.DataFrame) -> pd.DataFrame:
    """``candles`` with their attached reference cut at their last candle (nothing later)."""
    ref = attached_reference(candles)
    if ref is None or candles.empty:
        return candles
    end = candles["open_time"].iloc[-1]
    cut = ref.candles[ref.candles["open_time"] <= end]
    return attach_reference(candles, ref.symbol, cut)


def _fold_skill(
    vf: Any, horizon: int, estimator: str, params: dict[str, Any] | None, train: np.ndarray,
    test: np.ndarray,
) -> float:  # fmt: skip
    frame = vf.frame
    y = frame[target_column(horizon)].to_numpy(dtype="float64")
    model = make_estimator(estimator, params)
    X = frame[list(model.features)].to_numpy(dtype="float64")
    model.fit(X[train], y[train]).calibrate(X[train], y[train])
    H = frame[HAR_FEATURES].to_numpy(dtype="float64")
    har = HARModel().fit(H[train], y[train])
    har.calibrate(H[train], y[train])
    decay = choose_decay(vf, horizon, train, y)
    baselines = {
        "persistence": persistence_forecast(vf, horizon)[test],
        "ewma": ewma_forecast(vf, horizon, decay)[test],
        "mean": mean_forecast(len(test), y[train]),
        "har": har.predict(H[test]),
    }
    best = min(float(np.mean(qlike(y[test], f))) for f in baselines.values())
    model_q = float(np.mean(qlike(y[test], model.predict(X[test]))))
    return 1.0 - model_q / best if best > 0 else -1.0


def score_volatility(
    candles: pd.DataFrame,
    cfg: Any,
    *,
    folds: int,
    report: Callable[[float, int], bool] | None = None,
) -> tuple[float, list[float]]:
    """Mean QLIKE skill of the settings ``cfg`` over walk-forward folds of ``candles`` (the
    inner period: candles before the final test window; a reference attached for cross-asset
    inputs is cut at their end). Returns (mean skill, skill per fold), a fold's skill being
    the mean over the settings' horizons.

    ``report(running_mean, fold)`` is called after each fold; True stops scoring (pruning).

    Raises:
        InsufficientDataError: too few usable rows for the folds (says what to change).
    """
    candles = _cut_reference(candles)
    estimator = cfg.estimator
    params = reference_params(
        estimator, cfg.estimator_params(), attached_reference(candles) is not None
    )
    features = estimator_features(estimator, params)
    vf = build_frame(candles, cfg.horizons, sequence=sequence_length(features))
    frame = vf.frame
    windows: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {}
    for h in cfg.horizons:
        needed = [*features, *HAR_FEATURES, target_column(h), ret_column(h)]
        ok = np.isfinite(frame[needed].to_numpy(dtype="float64")).all(axis=1)
        ok &= np.isfinite(persistence_forecast(vf, h))
        windows[h] = fold_windows(np.flatnonzero(ok), horizon=h, folds=folds)
        if not windows[h]:
            raise InsufficientDataError(
                f"Too few candles before the test window to tune {estimator} on {folds} folds "
                f"at {h} h ({int(ok.sum())} usable rows). Fetch more history or use fewer folds."
            )
    skills: list[float] = []
    for k in range(folds):
        fold = [
            _fold_skill(vf, h, estimator, params, *windows[h][k])
            for h in cfg.horizons
            if k < len(windows[h])
        ]
        skills.append(float(np.mean(fold)) if fold else -1.0)
        if report is not None and report(float(np.mean(skills)), k + 1):
            break
    return float(np.mean(skills)), skills


class VolatilityTuning:
    """The tuning of the volatility kinds (their recipe's :class:`~core.models.recipe.Tuning`):
    the sweep holds out the settings' own test window when it is the larger (as
    :func:`core.volatility.train.train_kind` does), tunes on the coin's candles with the
    reference coin's attached when the settings read cross-asset inputs, and scores
    :func:`score_volatility` on them."""

    def objective_text(self, folds: int) -> str:
        return OBJECTIVE_TEXT.format(folds=folds)

    def prepare(
        self,
        kind: str,
        symbol: str,
        candles: pd.DataFrame,
        config: Any,
        *,
        interval: str,
        split: SplitConfig,
        paths: Paths,
    ) -> tuple[pd.DataFrame, SplitConfig, dict[str, pd.DataFrame] | None]:
        split = replace(split, test_fraction=max(split.test_fraction, config.test_fraction))
        return attach_stored_reference(symbol, candles, config, paths=paths)[0], split, None

    def score(
        self,
        kind: str,
        candles: pd.DataFrame,
        config: Any,
        *,
        target: TargetConfig,
        split: SplitConfig,
        context: Mapping[str, pd.DataFrame] | None,
        report: Callable[[float, int], bool] | None,
    ) -> tuple[float, list[float]]:
        return score_volatility(candles, config, folds=split.folds, report=report)


#: Named by :data:`core.models.volatility.LOG_VARIANCE` (``Recipe.tuning``).
VOLATILITY_TUNING = VolatilityTuning()
