"""A test-only model kind, registered from outside core (``CRYPTOVOLT_MODEL_PLUGINS=tests.toy_kind``).

It proves a kind is a recipe plus an estimator and one registration: the direction recipe cut to
one input (the taker-buy share of the candle), learned by a logistic regression saved as JSON.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from core.config import TargetConfig
from core.features.causal import compute_features, future_return
from core.models import Kind, register_kind
from core.models.base import Dataset, StepCallback, Task
from core.models.tabular import DirectionRecipe

FEATURE = "feat_taker_buy_ratio"


@dataclass(frozen=True)
class ToyConfig:
    c: float = 1.0


class ToyFlowRecipe(DirectionRecipe):
    """ "Higher in h candles" from the taker-buy share alone."""

    def columns(self, config: Any) -> list[str]:
        return [FEATURE]

    def dataset(
        self,
        candles: pd.DataFrame,
        *,
        target: TargetConfig,
        context: Mapping[str, pd.DataFrame] | None,
        config: Any,
    ) -> Dataset:
        x = compute_features(candles)[FEATURE].to_numpy()
        move = future_return(candles, target.horizon)
        ok = np.isfinite(x) & np.isfinite(move) & (move != 0)
        pos = np.flatnonzero(ok)
        return Dataset(
            X=x[ok, None],
            y=(move[ok] > 0).astype("int64"),
            position=pos,
            open_time=candles["open_time"].to_numpy()[pos],
            close=candles["close"].to_numpy(dtype="float64")[pos],
            horizon=target.horizon,
            features=[FEATURE],
            target="target_up_toy",
        )

    def needs_context(self, config: Any) -> bool:
        return False

    def learn(self, X: np.ndarray, features: list[str], config: Any) -> dict[str, Any]:
        return {}

    def latest(self, candles: pd.DataFrame, **_: Any) -> np.ndarray:
        return compute_features(candles)[FEATURE].to_numpy()[-1:, None]


class ToyLogistic:
    name: ClassVar[str] = "logistic regression"
    tasks: ClassVar[frozenset[Task]] = frozenset({Task.CLASSIFICATION})

    def __init__(self, config: ToyConfig) -> None:
        self.config = config

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
        lr = LogisticRegression(C=self.config.c).fit(X, y)
        self.coef_, self.intercept_ = float(lr.coef_[0, 0]), float(lr.intercept_[0])
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(np.asarray(X)[:, 0] * self.coef_ + self.intercept_)))

    def summary(self) -> dict[str, Any]:
        return {"coef": self.coef_, "intercept": self.intercept_}

    def save(self, directory: Path) -> tuple[list[str], dict[str, Any]]:
        (Path(directory) / "toy.json").write_text(json.dumps(self.summary()))
        return ["toy.json"], {}

    @classmethod
    def load(cls, config: ToyConfig, directory: Path, info: Mapping[str, Any]) -> Self:
        state = json.loads((Path(directory) / "toy.json").read_text())
        model = cls(config)
        model.coef_, model.intercept_ = state["coef"], state["intercept"]
        return model


register_kind(
    Kind(
        "toyflow",
        ToyFlowRecipe("toy_flow", state_keys=()),
        "tests.toy_kind:ToyLogistic",
        "logistic regression",
        "tests.toy_kind:ToyConfig",
        "Toy flow",
        "test-only: logistic regression on the taker-buy share",
    )
)
