"""XGBoost as an :class:`~core.models.estimator.Estimator`: a boosted binary log-loss classifier.

Early stopping watches log loss on the validation slice the caller cuts from the END of the
training period; only the trees up to the best round are kept. Saved as XGBoost's own UBJ format
(``model.ubj``); nothing is pickled. Settings: :class:`core.models.settings.XGBConfig` (or a subclass).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import xgboost as xgb

from core.errors import ModelError
from core.models.base import FitStep, StepCallback, Task, thread_count

__all__ = ["XGBoostEstimator", "boost", "gain_shares"]

_BOOSTER_FILE = "model.ubj"
#: Below this many rows a prediction's DMatrix is built on one thread: starting the OpenMP team
#: costs about 10 ms on a busy 2-core machine against 0.4 ms for a one-row build on one thread,
#: and the Signals page asks every boosted model for one row.
_ONE_THREAD_ROWS = 4096


def gain_shares(booster: Any, features: list[str]) -> dict[str, float]:
    """Each feature's share of a booster's total gain (sums to 1), largest first; unused 0."""
    gain = booster.get_score(importance_type="total_gain")
    values = {k: float(v) for k, v in gain.items() if isinstance(v, int | float)}
    total = sum(values.values()) or 1.0
    shares = {name: values.get(name, 0.0) / total for name in features}
    return dict(sorted(shares.items(), key=lambda kv: -kv[1]))


def _matrix(X: np.ndarray, names: list[str]) -> Any:
    """``X`` as the DMatrix a prediction needs (float32, the model's feature names)."""
    data = np.asarray(X, dtype="float32")
    threads = 1 if len(data) < _ONE_THREAD_ROWS else thread_count()
    return xgb.DMatrix(data, feature_names=names, nthread=threads)


class _Steps(xgb.callback.TrainingCallback):
    """Reports each boosting round to the caller's ``on_step``."""

    def __init__(self, on_step: StepCallback, total: int) -> None:
        super().__init__()
        self.on_step, self.total, self.started = on_step, total, time.monotonic()

    def after_iteration(self, model: Any, epoch: int, evals_log: dict[str, Any]) -> bool:
        done = epoch + 1
        metrics = {
            f"{data}_{name}": float(values[-1])
            for data, per_metric in evals_log.items()
            for name, values in per_metric.items()
        }
        per_round = (time.monotonic() - self.started) / done
        self.on_step(FitStep(done, self.total, metrics, per_round * (self.total - done)))
        return False


def boost(
    cfg: Any,
    X: np.ndarray,
    y: np.ndarray,
    names: list[str],
    *,
    validation: tuple[np.ndarray, np.ndarray] | None,
    on_step: StepCallback | None,
    task: Task = Task.CLASSIFICATION,
) -> tuple[Any, int]:
    """Boost a binary log-loss classifier (``Task.REGRESSION``: squared error) with ``cfg``'s
    settings up to ``cfg.n_estimators`` trees; with a non-empty ``validation``, stop after
    ``cfg.early_stopping_rounds`` rounds without a better validation loss. Returns the booster
    cut to its best round, and that round. Settings ``cfg`` lacks keep XGBoost's defaults."""
    regression = task is Task.REGRESSION
    settings = {
        "objective": "reg:squarederror" if regression else "binary:logistic",
        "eval_metric": "rmse" if regression else "logloss",
        "tree_method": "hist",
        "max_depth": cfg.max_depth,
        "eta": cfg.learning_rate,
        "subsample": cfg.subsample,
        "colsample_bytree": getattr(cfg, "colsample_bytree", 1.0),
        "seed": cfg.random_state,
        "nthread": thread_count(),
        "min_child_weight": getattr(cfg, "min_child_weight", 1.0),
    }
    train = xgb.DMatrix(X, label=y, feature_names=names, nthread=settings["nthread"])
    evals = [(train, "train")]
    stopping = None
    if validation is not None and len(validation[1]):
        valid = xgb.DMatrix(
            np.asarray(validation[0], dtype="float32"),
            label=np.asarray(validation[1]).astype("float64" if regression else "int64"),
            feature_names=names,
        )
        evals.append((valid, "validation"))
        stopping = getattr(cfg, "early_stopping_rounds", 0) or None
    booster = xgb.train(
        settings,
        train,
        num_boost_round=cfg.n_estimators,
        evals=evals,
        early_stopping_rounds=stopping,
        callbacks=[_Steps(on_step, cfg.n_estimators)] if on_step else [],
        verbose_eval=False,
    )
    best = booster.best_iteration if stopping else booster.num_boosted_rounds() - 1
    return booster[: best + 1], int(best)  # the rounds after the best one are dropped for good


class XGBoostEstimator:
    """Learned state: ``booster_`` (only the trees up to the best round), ``features_``,
    ``best_iteration_``."""

    name: ClassVar[str] = "XGBoost"
    tasks: ClassVar[frozenset[Task]] = frozenset({Task.CLASSIFICATION, Task.REGRESSION})

    def __init__(self, config: Any) -> None:
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
        """Boost up to ``n_estimators`` trees; with ``validation``, stop after
        ``early_stopping_rounds`` rounds without a better validation log loss, keep the best."""
        self.booster_, self.best_iteration_ = boost(
            self.config, X, y, features, validation=validation, on_step=on_step, task=task
        )
        self.features_ = list(features)
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        if not hasattr(self, "booster_"):
            raise ModelError("This XGBoost model is not trained yet: call fit() or load one.")
        return np.asarray(self.booster_.predict(_matrix(X, self.features_)).astype("float64"))

    def feature_importance(self) -> dict[str, float]:
        """Each feature's share of the total gain (sums to 1), largest first; unused 0."""
        return gain_shares(self.booster_, self.features_)

    def summary(self) -> dict[str, Any]:
        return {
            "best_iteration": self.best_iteration_,
            "trees": self.best_iteration_ + 1,
            "feature_importance": self.feature_importance(),
        }

    def save(self, directory: Path) -> tuple[list[str], dict[str, Any]]:
        self.booster_.save_model(Path(directory) / _BOOSTER_FILE)
        info = {
            "best_iteration": self.best_iteration_,
            "feature_importance": self.feature_importance(),
            "xgboost_version": xgb.__version__,
        }
        return [_BOOSTER_FILE], info

    def raw(self) -> str:
        """The booster in XGBoost's JSON format (for a model kept inside a JSON file)."""
        return bytes(self.booster_.save_raw("json")).decode("utf-8")

    @classmethod
    def from_raw(cls, config: Any, raw: str, features: list[str]) -> Self:
        """A fitted estimator from :meth:`raw`'s text (every round of it kept)."""
        model = cls(config)
        booster = xgb.Booster()
        booster.load_model(bytearray(raw.encode("utf-8")))
        model.features_ = [str(n) for n in features]
        booster.feature_names = model.features_
        model.booster_ = booster
        model.best_iteration_ = booster.num_boosted_rounds() - 1
        return model

    @classmethod
    def load(cls, config: Any, directory: Path, info: Mapping[str, Any]) -> Self:
        model = cls(config)
        booster = xgb.Booster()
        try:
            booster.load_model(Path(directory) / _BOOSTER_FILE)
        except xgb.core.XGBoostError as exc:
            raise ValueError(str(exc)) from exc
        model.features_ = [str(n) for n in info["features"]]
        booster.feature_names = model.features_
        model.booster_ = booster
        model.best_iteration_ = int(info["best_iteration"])
        return model
