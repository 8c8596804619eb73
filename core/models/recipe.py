"""What a kind learns: the :class:`Recipe` protocol (inputs, target, output, vote, drift, search).

A recipe turns candles into samples and says what the model's number means; it never fits
anything. An :class:`~core.models.estimator.Estimator` learns ``encode(X) -> target_of(X, y)``;
the kind (:class:`~core.models.kind.KindModel`) joins the two, calibrates a probability on the
validation slice, and turns the estimator's prediction back into the recipe's output with
:meth:`Recipe.decode`. A recipe is plain data and numpy / pandas code: importing one loads no
learning library.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd

from core.config import Paths, SignalConfig, SplitConfig, TargetConfig
from core.models.base import Dataset, Output, VoteRule
from core.models.search import Param

__all__ = ["Recipe", "Tuning"]


@runtime_checkable
class Recipe(Protocol):
    """What goes in, what is predicted, how it votes, what drift watches, what tuning searches.

    ``config`` is the kind's settings dataclass; a recipe reads only the fields it owns (for
    example ``window`` or ``use_context``). ``state`` is the JSON-ready dict :meth:`learn`
    returned at fit time (saved in the model's ``model.json``).
    """

    @property
    def name(self) -> str:
        """Short name, e.g. ``"direction"``."""
        ...

    @property
    def output(self) -> Output:
        """What the kind's number is (probability, return, price, volatility)."""
        ...

    @property
    def output_name(self) -> str:
        """Column name of that number in ``predictions.parquet``."""
        ...

    @property
    def search(self) -> Mapping[str, Param]:
        """Settings of the recipe's own that tuning searches (a kind merges the estimator's)."""
        ...

    @property
    def tuning(self) -> str:
        """``"module:name"`` of the recipe's :class:`Tuning` (imported only when a sweep runs)."""
        ...

    @property
    def state_keys(self) -> tuple[str, ...]:
        """The keys of what :meth:`learn` returns (read back from ``model.json`` on load)."""
        ...

    def horizon(self, target: TargetConfig) -> int:
        """Candles ahead the prediction looks (the purge of every split)."""
        ...

    def warmup(self, config: Any) -> int:
        """Candles of look-back before the first sample (for "how many candles are needed")."""
        ...

    def needs_context(self, config: Any) -> bool:
        """True when the samples read other coins' candles (``context=``) with ``config``."""
        ...

    def columns(self, config: Any) -> list[str]:
        """The sample's input names, in column order."""
        ...

    def dataset(
        self,
        candles: pd.DataFrame,
        *,
        target: TargetConfig,
        context: Mapping[str, pd.DataFrame] | None,
        config: Any,
    ) -> Dataset:
        """Samples for every candle where the inputs and the label are known."""
        ...

    def check_labels(self, y: np.ndarray) -> None:
        """Raise InsufficientDataError when ``y`` leaves nothing to learn."""
        ...

    def learn(self, X: np.ndarray, features: list[str], config: Any) -> dict[str, Any]:
        """What the inputs of the training rows say for later (look-back, references given)."""
        ...

    def encode(self, X: np.ndarray) -> np.ndarray:
        """Samples → what the estimator reads."""
        ...

    def target_of(self, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Labels → what the estimator learns."""
        ...

    def decode(self, X: np.ndarray, z: np.ndarray) -> np.ndarray:
        """The estimator's predictions → the recipe's :attr:`output`."""
        ...

    def latest(
        self,
        candles: pd.DataFrame,
        *,
        context: Mapping[str, pd.DataFrame] | None,
        config: Any,
        state: Mapping[str, Any],
        features: list[str],
    ) -> np.ndarray:
        """The one sample of the last (closed) candle; raises InsufficientDataError."""
        ...

    def vote_rule(self, signal: SignalConfig, base_rate: float) -> VoteRule:
        """How an output becomes a vote (``base_rate``: the training labels' mean)."""
        ...

    def drift_inputs(
        self, candles: pd.DataFrame, references: Mapping[str, pd.DataFrame] | None
    ) -> pd.DataFrame:
        """Per-candle inputs the drift monitor compares with the training window."""
        ...


@runtime_checkable
class Tuning(Protocol):
    """How a sweep tunes the kinds of a recipe: what it tunes on, what it maximises, how a fold
    is scored. The sweep (:mod:`core.tuning`) calls these and nothing else of the kind.
    """

    def objective_text(self, folds: int) -> str:
        """What a sweep maximises over ``folds`` walk-forward folds, in words (stored with the
        study and on the tuned version's card)."""
        ...

    def prepare(
        self,
        kind: str,
        symbol: str,
        candles: pd.DataFrame,
        config: Any,
        *,
        interval: str,
        split: SplitConfig,
        paths: Paths,
    ) -> tuple[pd.DataFrame, SplitConfig, dict[str, pd.DataFrame] | None]:
        """The sweep's inputs for ``symbol`` and ``kind`` with the settings ``config``: (its candles, with
        what the recipe attaches to them; the split whose test window the final training will
        hold out; other coins' candles as ``context``, or None), other coins' read from the
        store of the home ``paths`` describes. The sweep then keeps only the candles before that
        test window."""
        ...

    def score(
        self,
        kind: str,
        candles: pd.DataFrame,
        config: Any,
        *,
        target: TargetConfig,
        split: SplitConfig,
        context: Mapping[str, pd.DataFrame] | None,
        report: Callable[[float, int], bool] | None,
    ) -> tuple[float, list[float]]:
        """Fit ``config`` on walk-forward folds of ``candles`` (the inner period only);
        returns (mean skill, skill per fold), 0 being no edge over the naive baseline.
        ``report(running_mean, fold)`` after each fold; True stops scoring (pruning).

        Raises:
            InsufficientDataError: too few candles for the folds (says what to change).
        """
        ...
