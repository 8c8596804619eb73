"""scikit-learn's HistGradientBoostingClassifier as an estimator for the classification recipes.
Early stopping watches log loss on the caller's chronological validation slice (``X_val``); the
trees up to the best iteration are kept as node arrays (no pickle) that predict() walks in numpy."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import threadpool_limits

from core.errors import ConfigError
from core.models.base import Task, thread_count

_FILE = "trees.npz"
_FIELDS = ("feature_idx", "num_threshold", "missing_go_to_left", "is_leaf", "value")


@dataclass(frozen=True)
class HGBConfig:
    """Boosting settings, plus the direction recipe's ``use_context`` and the calibration."""

    n_estimators: int = 300  # sklearn's max_iter, named like the other boosters' trees
    max_depth: int = 6
    learning_rate: float = 0.05
    max_leaf_nodes: int = 15
    min_samples_leaf: int = 40
    l2_regularization: float = 1.0
    early_stopping_rounds: int = 20
    random_state: int = 42
    use_context: bool = True
    calibration: str = "sigmoid"

    def __post_init__(self) -> None:
        if not (1 <= self.n_estimators <= 5000 and 1 <= self.max_depth <= 16):
            raise ConfigError("trees (n_estimators) must be 1..5000 and depth 1..16.")
        if self.calibration not in ("isotonic", "sigmoid", "none"):
            raise ConfigError("calibration must be isotonic, sigmoid (Platt) or none.")


@dataclass
class HistGBEstimator:
    """Learned: ``nodes_`` (kept trees' nodes, global child indexes), ``roots_``, ``baseline_``."""

    config: HGBConfig
    name: ClassVar[str] = "HistGradientBoosting"
    tasks: ClassVar[frozenset[Task]] = frozenset({Task.CLASSIFICATION})

    def fit(self, X: np.ndarray, y: np.ndarray, *, validation: Any = None, **_: Any) -> Self:
        c, stop = self.config, validation is not None and len(validation[1]) > 0
        hgb = HistGradientBoostingClassifier(
            max_iter=c.n_estimators, max_depth=c.max_depth, max_leaf_nodes=c.max_leaf_nodes,
            learning_rate=c.learning_rate, min_samples_leaf=c.min_samples_leaf,
            l2_regularization=c.l2_regularization, early_stopping=stop, scoring="loss",
            n_iter_no_change=c.early_stopping_rounds, random_state=c.random_state,
        )  # fmt: skip
        X_val, y_val = validation if validation is not None and stop else (None, None)
        with threadpool_limits(thread_count(), user_api="openmp"):
            hgb.fit(X, y, X_val=X_val, y_val=y_val)
        kept = int(np.argmax(hgb.validation_score_)) if stop else hgb.n_iter_
        trees = [hgb._predictors[0][0].nodes[:0]] + [p[0].nodes for p in hgb._predictors[:kept]]
        starts = np.cumsum([0, *(sizes := [len(t) for t in trees])])[:-1]
        nodes, offset = np.concatenate(trees), np.repeat(starts, sizes)
        self.nodes_ = {f: nodes[f] for f in _FIELDS}
        self.nodes_.update({s: nodes[s].astype("int64") + offset for s in ("left", "right")})
        self.roots_, self.trees_ = starts[1:].astype("int64"), kept
        self.baseline_ = float(np.ravel(hgb._baseline_prediction)[0])
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        n, out = self.nodes_, []
        for chunk in np.array_split(np.asarray(X, "float64"), max(1, len(X) // 2048)):
            idx, rows = np.tile(self.roots_, (len(chunk), 1)), np.arange(len(chunk))[:, None]
            while not (leaf := n["is_leaf"][idx].astype(bool)).all():
                x, go = chunk[rows, n["feature_idx"][idx]], n["missing_go_to_left"][idx]
                left = np.where(np.isnan(x), go, x <= n["num_threshold"][idx])
                idx = np.where(leaf, idx, np.where(left, n["left"][idx], n["right"][idx]))
            out.append(self.baseline_ + n["value"][idx].sum(axis=1))
        return np.asarray(1.0 / (1.0 + np.exp(-np.concatenate(out))))

    def summary(self) -> dict[str, Any]:
        return {"trees": self.trees_, "nodes": int(len(self.nodes_["value"]))}

    def save(self, directory: Path) -> tuple[list[str], dict[str, Any]]:
        np.savez(Path(directory) / _FILE, roots=self.roots_, **self.nodes_)  # type: ignore[arg-type]
        return [_FILE], {"baseline": self.baseline_, "trees": self.trees_}

    @classmethod
    def load(cls, config: HGBConfig, directory: Path, info: Mapping[str, Any]) -> Self:
        model = cls(config)
        with np.load(Path(directory) / _FILE) as npz:  # allow_pickle stays False
            model.nodes_ = {k: npz[k] for k in npz.files if k != "roots"}
            model.roots_ = npz["roots"]
        model.baseline_, model.trees_ = float(info["baseline"]), int(info["trees"])
        return model
