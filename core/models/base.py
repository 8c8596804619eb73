"""The small protocol every model follows, and what they share.

Conventions (scikit-learn's): ``__init__`` stores the settings and nothing else; ``fit`` returns
``self`` and forgets any earlier fit; learned state ends in ``_``. A model also says how to turn
candles into its own samples (:meth:`Model.make_dataset`), so the trainer runs one flow for every
kind and never branches on the model type.

A model's saved folder holds its library's own format (XGBoost UBJ, Keras ``.keras``), its settings
and preprocessing as JSON / ``.npz`` (nothing pickled). The trainer hands the out-of-sample
predictions to the registry, which stores them beside as ``predictions.parquet``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, ClassVar, Protocol, Self, runtime_checkable

import numpy as np
import pandas as pd

from core.config import TargetConfig

__all__ = [
    "Dataset",
    "Task",
    "FitStep",
    "Model",
    "StepCallback",
    "read_json",
    "thread_count",
    "write_json",
]


class Task(StrEnum):
    """What a model predicts: a class probability or a price."""

    CLASSIFICATION = "classification"
    REGRESSION = "regression"


@dataclass(frozen=True)
class FitStep:
    """One step of a fit (a boosting round, an epoch) for progress reports."""

    step: int
    total: int
    metrics: dict[str, float] = field(default_factory=dict)
    seconds_left: float | None = None


StepCallback = Callable[[FitStep], None]


@dataclass(frozen=True)
class Dataset:
    """A model's samples from one candle frame, in time order.

    ``X[i]`` is what the model sees at the close of candle number ``position[i]`` of the candle
    frame (opened at ``open_time[i]``, closed at ``close[i]``); ``y[i]`` is what it learns to
    predict, which looks ``horizon`` candles ahead, so splits purge ``horizon`` candles. ``y`` is
    also the "actual" of the predictions artifact. Candles without a usable sample (look-back not
    full, future unknown or across a gap) have no row.
    """

    X: np.ndarray
    y: np.ndarray
    position: np.ndarray
    open_time: np.ndarray
    close: np.ndarray
    horizon: int
    features: list[str]
    target: str

    def __len__(self) -> int:
        return len(self.y)


@runtime_checkable
class Model(Protocol):
    """What the trainer, the registry and the signals use; nothing else about a model."""

    kind: ClassVar[str]
    task: ClassVar[Task]
    #: Column name of the model's output in ``predictions.parquet`` (``probability``/``forecast``).
    output_name: ClassVar[str]

    def make_dataset(self, candles: pd.DataFrame, *, target: TargetConfig) -> Dataset:
        """Samples for every candle where inputs and the label are known."""
        ...

    def fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        *,
        validation: tuple[np.ndarray, np.ndarray] | None = None,
        on_step: StepCallback | None = None,
    ) -> Self:
        """Learn from ``X, y``; ``validation`` (cut by the caller from the end of the training
        period) drives early stopping. Returns ``self``."""
        ...

    def predict_output(self, X: np.ndarray) -> np.ndarray:
        """One number per sample: P(label = 1) for a classifier, the next close for a forecaster."""
        ...

    def predict_latest(self, candles: pd.DataFrame) -> float:
        """The output for the last (closed) candle of ``candles``."""
        ...

    def params(self) -> dict[str, Any]:
        """The settings, JSON-ready, for the registry's metadata."""
        ...

    def save(self, directory: Path) -> list[str]:
        """Write the model into ``directory``; returns the file names written."""
        ...

    @classmethod
    def load(cls, directory: Path) -> Self:
        """Read a model written by :meth:`save`."""
        ...


def thread_count() -> int:
    """Threads one training process may use: ``$CRYPTOVOLT_THREADS``, else the usable cores.

    The job queue runs several training processes at once; it can set ``CRYPTOVOLT_THREADS`` so
    that they do not fight over the same cores.
    """
    value = os.environ.get("CRYPTOVOLT_THREADS", "").strip()
    if value.isdigit() and int(value) > 0:
        return int(value)
    cores = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    return max(1, len(cores) if cores else os.cpu_count() or 1)


def write_json(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(obj, indent=2, default=str) + "\n", encoding="utf-8")


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))
