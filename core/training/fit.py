"""Fitting one model on one window of samples and scoring it on the next (used by the trainer)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from core.models import create_model
from core.models.base import Dataset, FitStep, Model, Output
from core.training.evaluate import Split, evaluate, validation_split

__all__ = ["WindowFit"]


class WindowFit:
    """Fits fresh models of one kind on windows of one coin's samples.

    ``extras`` maps a column name to one value per candle (``future_return``, ``vol_score``);
    each prediction row gets the value at its candle.
    """

    def __init__(
        self,
        kind: str,
        cfg: Any,
        emit: Callable[..., None],
        extras: Mapping[str, np.ndarray],
    ) -> None:
        self.kind, self.cfg, self.emit, self.extras = kind, cfg, emit, extras

    def __call__(
        self, ds: Dataset, split: Split, vf: float, stage: Any, label: str
    ) -> tuple[Model, dict[str, Any], pd.DataFrame]:
        """Fit a fresh model on ``split.train`` (validation cut from its end), score
        ``split.test``; returns the model, its scores and its predictions."""
        rows = split.locate(ds.position)
        inner = validation_split(rows.train, fraction=vf, horizon=ds.horizon)
        model = create_model(self.kind, self.cfg)

        def on_step(step: FitStep) -> None:
            left = f", ~{step.seconds_left:.0f}s left" if step.seconds_left is not None else ""
            numbers = " ".join(f"{k} {v:.4g}" for k, v in step.metrics.items())
            self.emit(
                self.kind,
                stage,
                step.step,
                step.total,
                f"{label}{step.step}/{step.total} {numbers}{left}",
                step.metrics,
            )

        validation = (ds.X[inner.test], ds.y[inner.test]) if len(inner.test) else None
        model.fit(ds.X[inner.train], ds.y[inner.train], validation=validation, on_step=on_step)
        output = model.predict_output(ds.X[rows.test])
        actual, close = ds.y[rows.test], ds.close[rows.test]
        scored, truth = output, actual
        if model.output is Output.RETURN:  # the seed's price metrics, for a return forecast
            scored, truth = close * np.exp(output), close * np.exp(actual)
        scores = evaluate(model.task, truth, scored, close=close, train_actual=ds.y[inner.train])
        scores["rows"] = {
            "train": int(len(inner.train)),
            "validation": int(len(inner.test)),
            "test": int(len(rows.test)),
            "purge": int(ds.horizon),
        }
        at = ds.position[rows.test]
        frame = pd.DataFrame(
            {
                "open_time": pd.to_datetime(ds.open_time[rows.test], utc=True),
                "split": split.name,
                "close": close,
                model.output_name: output,
                "actual": actual,
                **{name: values[at] for name, values in self.extras.items()},
            }
        )
        return model, scores, frame
