"""The sweep's objective: the walk-forward score inside the training period only (nested).

:func:`inner_period` cuts the candles at the start of the test window that the final training
will use (the most recent ``test_fraction``, drawn exactly as ``train_coin`` draws it), so the
tuner never holds a test-window candle, not even as an input. Inside that period the objective
fits the kind on expanding walk-forward folds (each training set purged ``horizon`` rows before
its held-out block, validation cut from its end, as the trainer does) and scores each fold's
skill against its naive baseline: Brier skill against the training base rate for a classifier,
1 - MAE / MAE of persistence for a forecaster. The trial's value is the mean fold skill (higher
is better; 0 is no edge); after each fold the running mean is reported, so Optuna's pruner can
stop a trial that is already worse than the median of earlier ones at the same fold.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from core.config import Paths, SplitConfig, TargetConfig
from core.errors import InsufficientDataError
from core.features.context import load_references
from core.models import create_model, kind_info
from core.models.search import Param
from core.training.evaluate import walk_forward_splits
from core.training.fit import WindowFit
from core.tuning.space import apply, suggest

__all__ = [
    "OBJECTIVE_TEXT",
    "WALK_FORWARD",
    "InnerData",
    "WalkForward",
    "inner_period",
    "objective",
    "objective_text",
    "score_settings",
]

OBJECTIVE_TEXT = (
    "mean walk-forward skill over {folds} folds inside the training period (Brier skill vs the "
    "base rate for classifiers, MAE skill vs persistence for forecasters); the test window is "
    "never seen by the tuner"
)


def objective_text(kind: str, folds: int) -> str:
    """What a sweep of ``kind`` maximises, in words (stored with the study and on the card)."""
    return kind_info(kind).tuning().objective_text(folds)


def inner_period(candles: pd.DataFrame, split: SplitConfig) -> pd.DataFrame:
    """The candles before the test window ``train_coin`` will score on (same arithmetic as
    :func:`core.training.evaluate.chronological_split` on the candle timeline)."""
    n = len(candles)
    start = n - int(round(n * split.test_fraction))
    return candles.iloc[:start].reset_index(drop=True)


def _cut(context: Mapping[str, pd.DataFrame] | None, end: Any) -> dict[str, pd.DataFrame] | None:
    """Reference coins' candles up to the inner period's last candle, nothing later."""
    if context is None:
        return None
    return {s: f[f["open_time"] <= end].reset_index(drop=True) for s, f in context.items()}


@dataclass(frozen=True)
class InnerData:
    """What every trial of a study shares: the inner candles and their context."""

    kind: str
    candles: pd.DataFrame
    target: TargetConfig
    split: SplitConfig
    context: dict[str, pd.DataFrame] | None = None

    @classmethod
    def build(
        cls,
        kind: str,
        candles: pd.DataFrame,
        *,
        target: TargetConfig,
        split: SplitConfig,
        context: Mapping[str, pd.DataFrame] | None = None,
    ) -> InnerData:
        inner = inner_period(candles, split)
        if inner.empty:
            raise InsufficientDataError("No candles before the test window to tune on.")
        end = inner["open_time"].iloc[-1]
        return cls(kind, inner, target, split, _cut(context, end))


def score_settings(
    data: InnerData,
    cfg: Any,
    *,
    report: Callable[[float, int], bool] | None = None,
) -> tuple[float, list[float]]:
    """Fit ``cfg`` on each inner walk-forward fold, as the kind's recipe scores them; returns
    (mean skill, skill per fold).

    ``report(running_mean, fold)`` is called after each fold; when it returns True the caller
    wants to stop (pruning) and scoring ends there.

    Raises:
        InsufficientDataError: the inner period is too short for the folds (the message says
            what to change).
    """
    return (
        kind_info(data.kind)
        .tuning()
        .score(
            data.kind,
            data.candles,
            cfg,
            target=data.target,
            split=data.split,
            context=data.context,
            report=report,
        )
    )


class WalkForward:
    """The tuning of the kinds the shared training flow trains (:mod:`core.training`): the
    sweep tunes on the coin's candles (and the reference coins' when the settings read them)
    before the split's test window; each fold is fitted and scored as the trainer fits and
    scores a window (see the module docstring)."""

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
        context = None
        if kind_info(kind).recipe.needs_context(config):
            context = load_references(interval, paths=paths)
        return candles, split, context

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
        model = create_model(kind, config)
        ds = model.make_dataset(candles, target=target, context=context)
        # the folds end one purge before the inner period does, as the trainer's end before its test
        region = len(candles) - max(ds.horizon, target.horizon)
        try:
            folds = walk_forward_splits(region, folds=split.folds, horizon=ds.horizon)
        except InsufficientDataError as exc:
            raise InsufficientDataError(
                f"Too few candles before the test window to tune on ({exc}) Fetch more history "
                "or use fewer folds."
            ) from None
        fit = WindowFit(kind, config, lambda *a, **k: None, {})
        skills: list[float] = []
        for k, fold in enumerate(folds, start=1):
            _, scores, _ = fit(ds, fold, split.validation_fraction, "tuning", f"fold {k}: ")
            value = scores.get("skill")
            skills.append(float(value) if value is not None and math.isfinite(value) else -1.0)
            if report is not None and report(float(np.mean(skills)), k):
                break
        return float(np.mean(skills)), skills


#: The shared flow's tuning (named by the recipes of :mod:`core.models.tabular` and
#: :mod:`core.models.sequence`).
WALK_FORWARD = WalkForward()


def objective(
    data: InnerData,
    space: Mapping[str, Param],
    fixed: Mapping[str, Any],
    *,
    stop: Callable[[], None] | None = None,
) -> Callable[[Any], float]:
    """An Optuna objective over ``space`` with the ``fixed`` settings, pruned per fold.
    ``stop`` is called before each trial and each fold's report, outside Optuna's storage
    calls: it raises to end the sweep there (a cancel noted by the sweep's signal handler)."""

    def run(trial: Any) -> float:
        import optuna

        if stop is not None:
            stop()
        cfg = apply(data.kind, fixed, suggest(trial, space))

        def report(value: float, fold: int) -> bool:
            if stop is not None:
                stop()
            trial.report(value, fold)
            return bool(trial.should_prune())

        value, skills = score_settings(data, cfg, report=report)
        trial.set_user_attr("fold_skills", [round(s, 6) for s in skills])
        if len(skills) < data.split.folds:
            raise optuna.TrialPruned(f"pruned after fold {len(skills)}: mean skill {value:.4g}")
        return value

    return run
