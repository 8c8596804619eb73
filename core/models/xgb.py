"""XGBoost binary classifier: P(the close ``horizon`` candles ahead is ``threshold`` above this one).

Inputs are the causal ``feat_*`` columns of :mod:`core.features.causal` at the candle's close. Early
stopping watches log loss on a validation slice the caller cuts from the END of the training
period; only the trees up to the best round are kept. Saved as XGBoost's own UBJ format plus a JSON
of the feature list and settings; nothing is pickled.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd
import xgboost as xgb

from core.config import SignalConfig, TargetConfig, XGBConfig
from core.errors import InsufficientDataError, ModelError
from core.features.causal import FEATURES, compute_features, compute_targets, feature_columns
from core.models.base import (
    Dataset,
    FitStep,
    Output,
    StepCallback,
    Task,
    VoteRule,
    read_json,
    thread_count,
    write_json,
)

__all__ = ["XGBoostModel"]

_BOOSTER_FILE = "model.ubj"
_INFO_FILE = "model.json"


def gain_shares(booster: Any, features: list[str]) -> dict[str, float]:
    """Each feature's share of a booster's total gain (sums to 1), largest first; unused 0."""
    gain = booster.get_score(importance_type="total_gain")
    values = {k: float(v) for k, v in gain.items() if isinstance(v, int | float)}
    total = sum(values.values()) or 1.0
    shares = {name: values.get(name, 0.0) / total for name in features}
    return dict(sorted(shares.items(), key=lambda kv: -kv[1]))


def save_booster(model: Any, directory: Path, **extra: Any) -> list[str]:
    """Write a fitted booster model: ``model.ubj`` (XGBoost's binary JSON) and ``model.json``
    (kind, settings, features, what training learned, and ``extra``). Returns the file names."""
    directory = Path(directory)
    model.booster_.save_model(directory / _BOOSTER_FILE)
    info = {
        "kind": model.kind,
        "config": model.params(),
        "features": model.features_,
        "best_iteration": model.best_iteration_,
        "train_rows": model.train_rows_,
        "train_base_rate": model.train_base_rate_,
        "warmup": model.warmup_,
        **extra,
        "feature_importance": model.feature_importance(),
        "xgboost_version": xgb.__version__,
    }
    write_json(directory / _INFO_FILE, info)
    return [_BOOSTER_FILE, _INFO_FILE]


def read_booster_info(directory: Path, kind: str) -> dict[str, Any]:
    """``model.json`` of a saved booster model of ``kind`` (raises ValueError for another kind)."""
    info = read_json(Path(directory) / _INFO_FILE)
    if info.get("kind", kind) != kind:
        raise ValueError(f"it holds a {info.get('kind')!r} model, not {kind!r}")
    return info


def restore_booster(model: Any, directory: Path, info: Mapping[str, Any]) -> None:
    """Load the booster next to ``info`` into ``model`` with the state every booster kind has."""
    booster = xgb.Booster()
    booster.load_model(Path(directory) / _BOOSTER_FILE)
    model.features_ = [str(n) for n in info["features"]]
    booster.feature_names = model.features_
    model.booster_ = booster
    model.best_iteration_ = int(info["best_iteration"])
    model.train_rows_ = int(info["train_rows"])
    model.train_base_rate_ = float(info["train_base_rate"])
    model.warmup_ = int(info["warmup"])


#: Below this many rows a prediction's DMatrix is built on one thread: starting the OpenMP team
#: costs about 10 ms on a busy 2-core machine against 0.4 ms for a one-row build on one thread,
#: and the Signals page asks every boosted model for one row.
_ONE_THREAD_ROWS = 4096


def predict_matrix(X: np.ndarray, names: list[str]) -> Any:
    """``X`` as the DMatrix a prediction needs (float32, the model's feature names)."""
    data = np.asarray(X, dtype="float32")
    threads = 1 if len(data) < _ONE_THREAD_ROWS else thread_count()
    return xgb.DMatrix(data, feature_names=names, nthread=threads)


class _Steps(xgb.callback.TrainingCallback):
    """Reports each boosting round to the caller's ``on_step``."""

    def __init__(self, on_step: StepCallback, total: int) -> None:
        super().__init__()
        self.on_step, self.total, self.started = on_step, total, time.monotonic()

    def after_iteration(self, model: Any, epoch: int, evals_log: dict) -> bool:
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
    **params: Any,
) -> tuple[Any, int]:
    """Boost a binary log-loss classifier with ``cfg``'s settings (plus ``params``) up to
    ``cfg.n_estimators`` trees; with a non-empty ``validation``, stop after
    ``cfg.early_stopping_rounds`` rounds without a better validation log loss. Returns the
    booster cut to its best round, and that round."""
    settings = {
        "objective": "binary:logistic",
        "eval_metric": "logloss",
        "tree_method": "hist",
        "max_depth": cfg.max_depth,
        "eta": cfg.learning_rate,
        "subsample": cfg.subsample,
        "colsample_bytree": cfg.colsample_bytree,
        "seed": cfg.random_state,
        "nthread": thread_count(),
        **params,
    }
    train = xgb.DMatrix(X, label=y, feature_names=names, nthread=settings["nthread"])
    evals = [(train, "train")]
    stopping = None
    if validation is not None and len(validation[1]):
        valid = xgb.DMatrix(
            np.asarray(validation[0], dtype="float32"),
            label=np.asarray(validation[1]).astype("int64"),
            feature_names=names,
        )
        evals.append((valid, "validation"))
        stopping = cfg.early_stopping_rounds or None
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


class XGBoostModel:
    """The classifier behind the :class:`core.models.base.Model` protocol.

    Learned state: ``booster_`` (only the trees up to the best round), ``features_``,
    ``best_iteration_``, ``train_rows_``, ``train_base_rate_``, ``warmup_`` (the longest feature
    look-back).
    """

    kind: ClassVar[str] = "xgboost"
    output: ClassVar[Output] = Output.PROBABILITY
    output_name: ClassVar[str] = "probability"
    task = Task.CLASSIFICATION

    def __init__(self, config: XGBConfig | None = None) -> None:
        self.config = config or XGBConfig()

    def params(self) -> dict[str, Any]:
        return asdict(self.config)

    def vote_rule(self, config: SignalConfig) -> VoteRule:
        """Up when P(+threshold) is ``probability_margin`` above the training base rate; never
        down (a low chance of a 1% rise says "quiet", not "falling")."""
        self._check_fitted()
        return VoteRule(
            Output.PROBABILITY, config.probability_margin, self.train_base_rate_, up_only=True
        )

    def make_dataset(
        self,
        candles: pd.DataFrame,
        *,
        target: TargetConfig,
        context: Mapping[str, pd.DataFrame] | None = None,
    ) -> Dataset:
        """Rows where every feature and the label are known (after the look-back warm-up, before
        the last ``target.horizon`` candles, and not across a gap)."""
        features = compute_features(candles)
        labels = compute_targets(candles, horizon=target.horizon, threshold=target.threshold)
        y = labels[target.column].to_numpy()
        valid = features.notna().all(axis=1).to_numpy() & ~np.isnan(y)
        position = np.flatnonzero(valid)
        return Dataset(
            X=features.to_numpy(dtype="float32")[valid],
            y=y[valid].astype("int64"),
            position=position,
            open_time=candles["open_time"].to_numpy()[valid],
            close=candles["close"].to_numpy(dtype="float64")[valid],
            horizon=target.horizon,
            features=list(features.columns),
            target=target.column,
        )

    def fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        *,
        validation: tuple[np.ndarray, np.ndarray] | None = None,
        on_step: StepCallback | None = None,
    ) -> Self:
        """Boost up to ``n_estimators`` trees; with ``validation``, stop after
        ``early_stopping_rounds`` rounds without a better validation log loss and keep the best.

        Raises:
            InsufficientDataError: the labels hold one class only (nothing to separate).
        """
        y = np.asarray(y).astype("int64")
        if len(np.unique(y)) < 2:
            raise InsufficientDataError(
                f"The training labels are all {int(y[0]) if len(y) else '-'}: with this horizon "
                "and threshold nothing ever (or always) happens. Lower the threshold or fetch more "
                "history."
            )
        cfg = self.config
        # X comes from make_dataset (the feature_columns() order); other widths get f0, f1, ...
        names = feature_columns()
        names = names if len(names) == np.shape(X)[1] else [f"f{i}" for i in range(np.shape(X)[1])]
        self.booster_, self.best_iteration_ = boost(
            cfg, X, y, names, validation=validation, on_step=on_step
        )
        self.features_ = names
        self.train_rows_ = int(len(y))
        self.train_base_rate_ = float(y.mean())
        self.warmup_ = max((FEATURES[n].warmup for n in names if n in FEATURES), default=0)
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "booster_"):
            raise ModelError("This XGBoost model is not trained yet: call fit() or load one.")

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """``(n, 2)`` class probabilities, scikit-learn style."""
        p = self.predict_output(X)
        return np.column_stack([1 - p, p])

    def predict_output(self, X: np.ndarray) -> np.ndarray:
        """P(label = 1) per row of ``X`` (features in ``features_`` order)."""
        self._check_fitted()
        return self.booster_.predict(predict_matrix(X, self.features_)).astype("float64")

    def predict_latest(
        self, candles: pd.DataFrame, *, context: Mapping[str, pd.DataFrame] | None = None
    ) -> float:
        """P(label = 1) at the last candle of ``candles`` (closed candles, store schema).

        Raises:
            InsufficientDataError: the last candle's features are not all known (too little
                history before it).
        """
        self._check_fitted()
        features = compute_features(candles)[self.features_]
        last = features.iloc[[-1]] if len(features) else features
        if last.empty or last.isna().to_numpy().any():
            raise InsufficientDataError(
                f"The XGBoost model needs at least {self.warmup_ + 1} consecutive candles to "
                f"compute its features; got {len(candles)} (or a feature is undefined at the "
                "last candle). Fetch more history."
            )
        return float(self.predict_output(last.to_numpy(dtype="float32"))[0])

    def feature_importance(self) -> dict[str, float]:
        """Each feature's share of the total gain (sums to 1), largest first; unused features 0."""
        self._check_fitted()
        return gain_shares(self.booster_, self.features_)

    def summary(self) -> dict[str, Any]:
        """What training learned, for the metadata: trees kept, importance."""
        self._check_fitted()
        return {
            "best_iteration": self.best_iteration_,
            "trees": self.best_iteration_ + 1,
            "train_rows": self.train_rows_,
            "train_base_rate": self.train_base_rate_,
            "feature_importance": self.feature_importance(),
        }

    def save(self, directory: Path) -> list[str]:
        """``model.ubj`` (XGBoost's binary JSON) and ``model.json`` (features, settings)."""
        self._check_fitted()
        return save_booster(self, directory)

    @classmethod
    def load(cls, directory: Path) -> Self:
        """Read a model written by :meth:`save`.

        Raises:
            ModelError: a file is missing or not what :meth:`save` writes.
        """
        try:
            info = read_booster_info(directory, cls.kind)
            model = cls(XGBConfig(**info["config"]))
            restore_booster(model, directory, info)
        except (OSError, ValueError, KeyError, TypeError, xgb.core.XGBoostError) as exc:
            raise ModelError(f"Cannot load the XGBoost model in {directory}: {exc}") from exc
        return model
