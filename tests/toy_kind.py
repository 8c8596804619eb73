"""A test-only model kind, registered from outside core (``CRYPTOVOLT_MODEL_PLUGINS=tests.toy_kind``).

It proves a kind is one module plus one registration: a logistic regression of "the close 6
candles ahead is higher" on the taker-buy share of the candle, saved as JSON.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from core.config import SignalConfig, TargetConfig
from core.features.causal import compute_features, future_return
from core.models import KindInfo, register_kind
from core.models.base import Dataset, Output, StepCallback, Task, VoteRule

FEATURE = "feat_taker_buy_ratio"


@dataclass(frozen=True)
class ToyConfig:
    c: float = 1.0


class ToyFlowModel:
    kind: ClassVar[str] = "toyflow"
    output: ClassVar[Output] = Output.PROBABILITY
    output_name: ClassVar[str] = "probability"
    task = Task.CLASSIFICATION

    def __init__(self, config: ToyConfig | None = None) -> None:
        self.config = config or ToyConfig()

    def make_dataset(
        self,
        candles: pd.DataFrame,
        *,
        target: TargetConfig,
        context: Mapping[str, pd.DataFrame] | None = None,
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

    def fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        *,
        validation: tuple[np.ndarray, np.ndarray] | None = None,
        on_step: StepCallback | None = None,
    ) -> Self:
        lr = LogisticRegression(C=self.config.c).fit(X, y)
        self.coef_, self.intercept_ = float(lr.coef_[0, 0]), float(lr.intercept_[0])
        self.base_rate_ = float(np.mean(y))
        return self

    def predict_output(self, X: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(np.asarray(X)[:, 0] * self.coef_ + self.intercept_)))

    def predict_latest(
        self, candles: pd.DataFrame, *, context: Mapping[str, pd.DataFrame] | None = None
    ) -> float:
        x = compute_features(candles)[FEATURE].to_numpy()[-1:]
        return float(self.predict_output(x[:, None])[0])

    def vote_rule(self, config: SignalConfig) -> VoteRule:
        return VoteRule(Output.PROBABILITY, config.direction_margin, self.base_rate_)

    def params(self) -> dict[str, Any]:
        return asdict(self.config)

    def summary(self) -> dict[str, Any]:
        return {"coef": self.coef_, "intercept": self.intercept_}

    def save(self, directory: Path) -> list[str]:
        state = {"c": self.config.c, "coef": self.coef_, "intercept": self.intercept_}
        (Path(directory) / "toy.json").write_text(json.dumps({**state, "base": self.base_rate_}))
        return ["toy.json"]

    @classmethod
    def load(cls, directory: Path) -> Self:
        state = json.loads((Path(directory) / "toy.json").read_text())
        model = cls(ToyConfig(state["c"]))
        model.coef_, model.intercept_ = state["coef"], state["intercept"]
        model.base_rate_ = state["base"]
        return model


register_kind(
    KindInfo(
        "toyflow",
        "tests.toy_kind",
        "ToyFlowModel",
        "tests.toy_kind:ToyConfig",
        "Toy flow",
        "test-only: logistic regression on the taker-buy share",
    )
)
