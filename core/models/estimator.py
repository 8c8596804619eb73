"""How a kind learns: the :class:`Estimator` protocol (fit, predict, save, load).

An estimator knows nothing about candles: it reads the arrays a recipe encodes and learns a
binary label (``Task.CLASSIFICATION``, predicting P(1) uncalibrated) or a number
(``Task.REGRESSION``). scikit-learn's conventions hold: ``__init__`` stores the settings,
``fit`` returns ``self`` and forgets earlier fits, learned state ends in ``_``. Its files sit in
the model's folder beside the kind's ``model.json``, whose keys it shares (:meth:`save` returns
the keys it adds, :meth:`load` reads them back).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Protocol, Self, runtime_checkable

import numpy as np

from core.models.base import StepCallback, Task

__all__ = ["Estimator"]


@runtime_checkable
class Estimator(Protocol):
    """What a kind needs from the thing that fits."""

    #: In words, e.g. ``"XGBoost"`` (``python -m core kinds`` shows it).
    name: ClassVar[str]
    #: The tasks it can learn.
    tasks: ClassVar[frozenset[Task]]

    def fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        *,
        task: Task,
        features: list[str],
        validation: tuple[np.ndarray, np.ndarray] | None = None,
        on_step: StepCallback | None = None,
    ) -> Self:
        """Learn ``y`` from ``X``; ``validation`` (cut from the end of the training period)
        may drive early stopping."""
        ...

    def predict(self, X: np.ndarray) -> np.ndarray:
        """P(label 1) per row for classification, the learned number for regression."""
        ...

    def summary(self) -> dict[str, Any]:
        """What training learned (trees kept, loss curve, ...), JSON-ready."""
        ...

    def save(self, directory: Path) -> tuple[list[str], dict[str, Any]]:
        """Write the estimator's own files; returns their names and the JSON-ready keys it adds
        to ``model.json``."""
        ...

    @classmethod
    def load(cls, config: Any, directory: Path, info: Mapping[str, Any]) -> Self:
        """Read what :meth:`save` wrote (``info`` is the whole ``model.json``)."""
        ...
