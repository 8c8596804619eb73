"""The small protocol every model follows, and what they share.

Conventions (scikit-learn's): ``__init__`` stores the settings and nothing else; ``fit`` returns
``self`` and forgets any earlier fit; learned state ends in ``_``. A model also says how to turn
candles into its own samples (:meth:`Model.make_dataset`), so the trainer runs one flow for every
kind and never branches on the model type. A model is a recipe plus an estimator
(:mod:`core.models.kind`).

A model's saved folder holds its library's own format (XGBoost UBJ, Keras ``.keras``), its settings
and preprocessing as JSON / ``.npz`` (nothing pickled). The trainer hands the out-of-sample
predictions to the registry, which stores them beside as ``predictions.parquet``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol, Self, runtime_checkable

import numpy as np
import pandas as pd

from core.config import SignalConfig, TargetConfig

__all__ = [
    "Dataset",
    "FitStep",
    "Model",
    "Output",
    "StepCallback",
    "Task",
    "VoteRule",
    "read_json",
    "thread_count",
    "write_json",
]


class Task(StrEnum):
    """What a model predicts: a class probability or a price."""

    CLASSIFICATION = "classification"
    REGRESSION = "regression"


class Output(StrEnum):
    """What a model kind predicts, which decides how it is scored and how it votes."""

    #: P(an event), e.g. "the close 6 candles ahead is at least 1% higher" or "... is higher".
    PROBABILITY = "probability"
    #: A log return, ``log(close[t + h] / close[t])``.
    RETURN = "return"
    #: A price level (the next close).
    PRICE = "price"
    #: The log variance of the coming hours' returns (core.volatility; never votes on direction).
    VOLATILITY = "volatility"

    @property
    def task(self) -> Task:
        return Task.CLASSIFICATION if self is Output.PROBABILITY else Task.REGRESSION


@dataclass(frozen=True)
class VoteRule:
    """How one model's output becomes a vote: up (+1), down (-1) or abstain (0).

    ``edge`` is the output's distance from "no view": ``p - reference`` for a probability (the
    reference is the event's base rate on the training rows, because a probability of 0.3 for a
    +1% move is not bearish when the move happens 25% of the time), the log return itself for a
    return, ``log(forecast / close)`` for a price. The model votes when ``|edge| >= margin``;
    ``up_only`` models (a one-sided event such as "+1% within 6 h") never vote down, since a low
    probability of a rise says "quiet", not "falling".
    """

    output: Output
    margin: float = 0.0
    reference: float = 0.0
    up_only: bool = False

    def edge(self, output: np.ndarray, close: np.ndarray) -> np.ndarray:
        """Signed distance of each output from "no view" (see the class docstring)."""
        out = np.asarray(output, dtype="float64")
        if self.output is Output.PROBABILITY:
            return out - self.reference
        if self.output is Output.RETURN:
            return out
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.asarray(np.log(out / np.asarray(close, dtype="float64")))

    def votes(self, edge: np.ndarray) -> np.ndarray:
        """+1 / -1 / 0 per edge; an edge of exactly 0 (or NaN) abstains."""
        e = np.round(np.asarray(edge, dtype="float64"), 12)
        up = (e >= self.margin) & (e > 0)
        down = (e <= -self.margin) & (e < 0) & (not self.up_only)
        return np.where(up, 1, np.where(down, -1, 0)).astype("int64")

    def to_dict(self) -> dict[str, Any]:
        return {
            "output": self.output.value,
            "margin": self.margin,
            "reference": self.reference,
            "up_only": self.up_only,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> VoteRule:
        return cls(
            Output(data["output"]),
            float(data.get("margin", 0.0)),
            float(data.get("reference", 0.0)),
            bool(data.get("up_only", False)),
        )


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
    """What the trainer, the registry and the signals use; nothing else about a model.

    A kind declares what it predicts (:attr:`output`) and how that becomes a vote
    (:meth:`vote_rule`); nothing outside :mod:`core.models` branches on the kind. The one
    implementation is :class:`core.models.kind.KindModel` (a recipe plus an estimator); a saved
    model is read back with :func:`core.models.load_model`.
    """

    @property
    def kind(self) -> str:
        """The kind's registered name."""
        ...

    @property
    def output(self) -> Output:
        """What the model predicts."""
        ...

    @property
    def output_name(self) -> str:
        """Column name of the model's output in ``predictions.parquet``."""
        ...

    @property
    def task(self) -> Task:
        """Classification for a probability, regression for a return or a price."""
        ...

    def make_dataset(
        self,
        candles: pd.DataFrame,
        *,
        target: TargetConfig,
        context: Mapping[str, pd.DataFrame] | None = None,
    ) -> Dataset:
        """Samples for every candle where inputs and the label are known. ``context`` holds
        other coins' candles (``{"BTCUSDT": frame}``) for kinds with cross-asset inputs."""
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
        period) drives early stopping and calibration. Returns ``self``."""
        ...

    def predict_output(self, X: np.ndarray) -> np.ndarray:
        """One number per sample, as :attr:`output` says."""
        ...

    def predict_latest(
        self, candles: pd.DataFrame, *, context: Mapping[str, pd.DataFrame] | None = None
    ) -> float:
        """The output for the last (closed) candle of ``candles``."""
        ...

    def vote_rule(self, config: SignalConfig) -> VoteRule:
        """How this fitted model votes, with the thresholds of ``config``."""
        ...

    def params(self) -> dict[str, Any]:
        """The settings, JSON-ready, for the registry's metadata."""
        ...

    def summary(self) -> dict[str, Any]:
        """What training learned (trees kept, loss curve, ...), JSON-ready."""
        ...

    def save(self, directory: Path) -> list[str]:
        """Write the model into ``directory``; returns the file names written."""
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
