"""Training one coin: honest evaluation (purged splits, walk-forward, baselines), the trainer, provenance.

This is the stage's public face; the modules below it are importable too."""

from __future__ import annotations

from core.models.base import Task
from core.training.evaluate import (
    Split,
    chronological_split,
    classification_baseline,
    classification_metrics,
    evaluate,
    persistence_baseline,
    regression_metrics,
    skill,
    validation_split,
    walk_forward_splits,
)
from core.training.records import Stage, TrainProgress
from core.training.sizing import MIN_TRAIN_SAMPLES, required_candles
from core.training.train import train_coin

__all__ = [
    "MIN_TRAIN_SAMPLES",
    "Split",
    "Stage",
    "Task",
    "TrainProgress",
    "chronological_split",
    "classification_baseline",
    "classification_metrics",
    "evaluate",
    "persistence_baseline",
    "regression_metrics",
    "required_candles",
    "skill",
    "train_coin",
    "validation_split",
    "walk_forward_splits",
]
