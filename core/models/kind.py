"""A kind is a recipe plus an estimator: :class:`Kind` (the registry's entry) and
:class:`KindModel` (a model of a kind, behind the :class:`~core.models.base.Model` protocol).

:class:`KindModel` runs the one flow every kind shares: the recipe makes the samples and encodes
them, the estimator fits ``encode(X) -> target_of(X, y)``, a probability is calibrated on the
validation slice only (when the settings carry ``calibration``), and ``decode`` turns the
estimator's number back into the recipe's output. Its folder holds the estimator's own files
(XGBoost UBJ, Keras ``.keras`` + ``weights.npz``, ...) and one ``model.json``: the kind, its
settings, the input names, what the recipe learned from the training rows, the calibrator as
numbers, and the estimator's keys. Nothing is pickled.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Self

import numpy as np
import pandas as pd

from core.config import SignalConfig, TargetConfig
from core.errors import ConfigError, ModelError
from core.models.base import Dataset, Output, StepCallback, Task, VoteRule, read_json, write_json
from core.models.calibration import Calibrated
from core.models.recipe import Recipe, Tuning
from core.models.search import Param

__all__ = ["INFO_FILE", "Kind", "KindModel"]

INFO_FILE = "model.json"


def _resolve(path: str) -> Any:
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


@dataclass(frozen=True)
class Kind:
    """One model kind: a name, a recipe, an estimator and the settings dataclass they read.

    ``estimator`` and ``config`` are ``"module:Name"`` paths, imported only when a model of the
    kind is made or loaded (so listing kinds never loads XGBoost or TensorFlow).
    ``estimator_name`` says the estimator in words without importing it. ``search`` is what a
    tuning sweep searches (settings field -> :class:`~core.models.search.Param`).

    A kind whose evaluation is not the one-target flow of :mod:`core.training.train` (the
    volatility kinds: several horizons, their own baselines, bands) names its own training flow
    in ``trainer`` (``"module:function"``, called as ``function(kind, symbols, config, *,
    registry, force, candles, emit)`` and returning one ``TrainResult`` per coin) and the class
    that reads its saved folder in ``loader`` (``"module:Class"`` with ``load(directory)``).
    A ``pooled`` kind is fit once on every chosen coin's rows (inputs normalised per coin) and
    registered per coin, each with its own card; ``pools`` names the per-coin kind it pools.
    """

    name: str
    recipe: Recipe
    estimator: str
    estimator_name: str
    config: str
    label: str
    description: str
    aliases: tuple[str, ...] = ()
    #: In the set ``train`` fits when no kind is named.
    default: bool = False
    #: One of the seed report's two models.
    seed: bool = False
    search: Mapping[str, Param] = field(default_factory=dict)
    trainer: str | None = None
    loader: str | None = None
    pooled: bool = False
    pools: str | None = None

    @property
    def output(self) -> Output:
        return self.recipe.output

    @property
    def votes(self) -> bool:
        """True when the kind's output can vote on direction (not a volatility)."""
        return self.recipe.output is not Output.VOLATILITY

    def loader_class(self) -> Any:
        """The class that reads the kind's saved folder (``loader``), ``None`` for KindModel."""
        return _resolve(self.loader) if self.loader else None

    def train_function(self) -> Any:
        """The kind's own training flow (see the class docstring), ``None`` for the shared one."""
        return _resolve(self.trainer) if self.trainer else None

    def tuning(self) -> Tuning:
        """How a sweep tunes this kind (the recipe's :class:`~core.models.recipe.Tuning`)."""
        tuning: Tuning = _resolve(self.recipe.tuning)
        return tuning

    def config_class(self) -> type:
        cls: type = _resolve(self.config)
        return cls

    def estimator_class(self) -> Any:
        return _resolve(self.estimator)

    def horizon(self, target: TargetConfig | None = None) -> int:
        """Candles ahead the prediction looks with ``target`` (the default target if None)."""
        return self.recipe.horizon(target or TargetConfig())


class KindModel:
    """A model of one :class:`Kind` (see the module docstring).

    Learned state: ``estimator_`` (wrapped in :class:`~core.models.calibration.Calibrated` when
    the settings carry ``calibration``), ``features_`` (input names), ``inputs_`` (what the recipe
    learned from the training rows), ``train_rows_``, ``train_base_rate_`` (mean label, for a
    probability).
    """

    def __init__(self, kind: Kind, config: Any = None) -> None:
        self.spec = kind
        self.config = config if config is not None else kind.config_class()()

    # ---- what the kind is ---------------------------------------------------------------------

    @property
    def kind(self) -> str:
        return self.spec.name

    @property
    def recipe(self) -> Recipe:
        return self.spec.recipe

    @property
    def output(self) -> Output:
        return self.spec.recipe.output

    @property
    def output_name(self) -> str:
        return self.spec.recipe.output_name

    @property
    def task(self) -> Task:
        return self.output.task

    @property
    def calibrated(self) -> bool:
        """True when the settings ask for calibration (a ``calibration`` field)."""
        return self.task is Task.CLASSIFICATION and hasattr(self.config, "calibration")

    @property
    def context_symbols_(self) -> tuple[str, ...]:
        """The other coins whose candles :meth:`predict_latest` needs as ``context``."""
        return tuple(getattr(self, "inputs_", {}).get("context_symbols", ()))

    def params(self) -> dict[str, Any]:
        return asdict(self.config)

    def vote_rule(self, config: SignalConfig) -> VoteRule:
        """How this model votes, with the thresholds of ``config`` (a probability's reference is
        its training base rate, so that kind must be fitted first)."""
        if self.task is Task.CLASSIFICATION:
            self._check_fitted()
        return self.recipe.vote_rule(config, getattr(self, "train_base_rate_", 0.0))

    # ---- samples and fitting ------------------------------------------------------------------

    def make_dataset(
        self,
        candles: pd.DataFrame,
        *,
        target: TargetConfig | None = None,
        context: Mapping[str, pd.DataFrame] | None = None,
    ) -> Dataset:
        """The recipe's samples from ``candles`` (``context``: other coins' candles)."""
        return self.recipe.dataset(
            candles, target=target or TargetConfig(), context=context, config=self.config
        )

    def fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        *,
        validation: tuple[np.ndarray, np.ndarray] | None = None,
        on_step: StepCallback | None = None,
    ) -> Self:
        """Fit the estimator on ``X, y`` (forgetting any earlier fit); ``validation`` (cut by the
        caller from the end of the training period) drives early stopping and calibration.

        Raises:
            InsufficientDataError: nothing to learn (one class only, too few rows).
        """
        recipe, task = self.recipe, self.task
        if task is Task.CLASSIFICATION:
            y = np.asarray(y).astype("int64")
            recipe.check_labels(y)
        width = np.shape(X)[-1] if np.ndim(X) == 2 else None
        names = recipe.columns(self.config)
        if width is not None and len(names) != width:
            names = [f"f{i}" for i in range(width)]
        self.features_ = names
        self.inputs_ = recipe.learn(X, names, self.config)
        has_validation = validation is not None and len(validation[1]) > 0
        encoded_validation = None
        if validation is not None and has_validation:
            vx, vy = validation
            encoded_validation = (recipe.encode(vx), recipe.target_of(vx, vy))
        estimator = self.spec.estimator_class()(self.config)
        if task not in estimator.tasks:
            raise ConfigError(f"{estimator.name} cannot learn a {task.value} target.")
        if self.calibrated:
            estimator = Calibrated(estimator, self.config.calibration)
        self.estimator_ = estimator.fit(
            recipe.encode(X),
            recipe.target_of(X, y),
            task=task,
            features=names,
            validation=encoded_validation,
            on_step=on_step,
        )
        self.train_rows_ = int(len(y))
        if task is Task.CLASSIFICATION:
            self.train_base_rate_ = float(np.mean(y))
        return self

    # ---- predicting ---------------------------------------------------------------------------

    def _check_fitted(self) -> None:
        if not hasattr(self, "estimator_"):
            raise ModelError(
                f"This {self.spec.label} model is not trained yet: call fit() or load one."
            )

    @property
    def calibrator_(self) -> dict[str, Any] | None:
        """The fitted calibrator (JSON-ready), ``None`` when not calibrated."""
        return getattr(getattr(self, "estimator_", None), "calibrator_", None)

    def predict_raw(self, X: np.ndarray) -> np.ndarray:
        """The estimator's uncalibrated prediction per sample."""
        self._check_fitted()
        est, encoded = self.estimator_, self.recipe.encode(X)
        raw = est.predict_raw(encoded) if isinstance(est, Calibrated) else est.predict(encoded)
        return np.asarray(raw, dtype="float64")

    def predict_output(self, X: np.ndarray) -> np.ndarray:
        """One number per sample, as :attr:`output` says (calibrated when the kind is)."""
        self._check_fitted()
        z = np.asarray(self.estimator_.predict(self.recipe.encode(X)), dtype="float64")
        return self.recipe.decode(X, z)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """``(n, 2)`` class probabilities, scikit-learn style (probability kinds)."""
        p = self.predict_output(X)
        return np.column_stack([1 - p, p])

    def predict_latest(
        self, candles: pd.DataFrame, *, context: Mapping[str, pd.DataFrame] | None = None
    ) -> float:
        """The output for the last (closed) candle of ``candles``.

        Raises:
            InsufficientDataError: too little history (or context) for its inputs.
        """
        self._check_fitted()
        X = self.recipe.latest(
            candles,
            context=context,
            config=self.config,
            state=self.inputs_,
            features=self.features_,
        )
        return float(self.predict_output(X)[0])

    # ---- reporting and files ------------------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        """What training learned, JSON-ready: rows, base rate, the recipe's state, the
        estimator's summary, calibration."""
        self._check_fitted()
        out: dict[str, Any] = {"train_rows": self.train_rows_}
        if self.task is Task.CLASSIFICATION:
            out["train_base_rate"] = self.train_base_rate_
        out.update(self.inputs_)
        out.update(self.estimator_.summary())
        return out

    def save(self, directory: Path) -> list[str]:
        """The estimator's files and ``model.json``; returns the file names written."""
        self._check_fitted()
        directory = Path(directory)
        files, extra = self.estimator_.save(directory)
        info: dict[str, Any] = {
            "kind": self.kind,
            "config": self.params(),
            "features": self.features_,
            "train_rows": self.train_rows_,
            **self.inputs_,
        }
        if self.task is Task.CLASSIFICATION:
            info["train_base_rate"] = self.train_base_rate_
        info.update(extra)
        write_json(directory / INFO_FILE, info)
        return [*files, INFO_FILE]

    @classmethod
    def load(cls, kind: Kind, directory: Path) -> KindModel:
        """Read a model of ``kind`` written by :meth:`save` (or by the per-kind classes before
        it: their folders hold the same files and keys).

        Raises:
            ModelError: a file is missing or not what :meth:`save` writes.
        """
        directory = Path(directory)
        try:
            info = read_json(directory / INFO_FILE)
            if info.get("kind", kind.name) != kind.name:
                raise ValueError(f"it holds a {info.get('kind')!r} model, not {kind.name!r}")
            model = cls(kind, kind.config_class()(**info["config"]))
            names = info.get("features") or kind.recipe.columns(model.config)
            model.features_ = [str(n) for n in names]
            model.inputs_ = {k: info[k] for k in kind.recipe.state_keys if k in info}
            estimator = kind.estimator_class().load(
                model.config, directory, {**info, "features": model.features_}
            )
            if model.calibrated:
                estimator = Calibrated.restore(estimator, model.config.calibration, info)
            model.estimator_ = estimator
            model.train_rows_ = int(info.get("train_rows", 0))
            if model.task is Task.CLASSIFICATION:
                model.train_base_rate_ = float(info["train_base_rate"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ModelError(
                f"Cannot load the {kind.label} model in {directory}: {exc}. If it was saved by an "
                f"older CryptoVolt, retrain it: python -m core train --models {kind.name}"
            ) from exc
        return model
