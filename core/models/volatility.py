"""The volatility recipe: the log realised variance over the next 6 h and 24 h, and its settings.

What goes in (:mod:`core.volatility.features`): the HAR lags (log mean Garman–Klass variance over
the last 1, 6, 24 and 168 hours) and the hour of day for every estimator; the boosted estimator
also reads the last candle's log range, volume against its weekly mean, the taker-buy share and
the last day's absolute return; the LSTM reads the last ``window`` hours of log variance as a
sequence. What is predicted: ``target_lrv_{h}h``, the log of the summed hourly variance over the
next ``h`` hours, per horizon of the settings. The output is :attr:`Output.VOLATILITY`: it never
votes on direction; a passing horizon gives the coin's expected move, regime and position size.

A volatility kind brings its own training flow (``Kind.trainer``:
:func:`core.volatility.train.train_kind`): several horizons in one model, baselines fit on
training rows (persistence, EWMA, historical mean, HAR), QLIKE with Diebold–Mariano–HLN, and
bands calibrated out of time — a flow the one-target trainer of the other kinds does not have.
This module imports no learning library and, at import, nothing of :mod:`core.volatility`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from core.config import SignalConfig, TargetConfig
from core.errors import ConfigError, InsufficientDataError
from core.models.base import Dataset, Output, VoteRule
from core.models.search import Param

__all__ = [
    "LOG_VARIANCE",
    "VOLATILITY_HORIZONS",
    "VolGBMConfig",
    "VolHARConfig",
    "VolLSTMConfig",
    "VolatilityRecipe",
]

#: Forecast horizons in hours (the default settings' ``horizons``).
VOLATILITY_HORIZONS: tuple[int, ...] = (6, 24)
_WEEK = 168


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise ConfigError(message)


@dataclass(frozen=True)
class VolHARConfig:
    """The HAR estimator (OLS in logs on the HAR lags and hour of day) and the recipe's split:
    ``horizons`` in hours, the test window (the last ``test_fraction`` of candles) and the
    calibration slice (the last ``calibration_fraction`` of the training rows: level and bands)."""

    #: The :mod:`core.volatility.estimators` name of the estimator these settings serve.
    estimator: ClassVar[str] = "har"

    horizons: tuple[int, ...] = VOLATILITY_HORIZONS
    test_fraction: float = 0.2
    calibration_fraction: float = 0.2

    def __post_init__(self) -> None:
        horizons = tuple(int(h) for h in self.horizons)
        object.__setattr__(self, "horizons", horizons)
        _require(
            bool(horizons) and all(1 <= h <= _WEEK for h in horizons),
            f"horizons must be 1..{_WEEK} hours (e.g. 6,24), got {list(horizons)}.",
        )
        _require(0.05 <= self.test_fraction <= 0.5, "test_fraction must be 0.05..0.5.")
        _require(
            0.05 <= self.calibration_fraction <= 0.5, "calibration_fraction must be 0.05..0.5."
        )

    def estimator_params(self) -> dict[str, Any]:
        """The keyword arguments of the estimator (none for the HAR)."""
        return {}

    def features(self) -> list[str]:
        """The estimator's input columns: the HAR lags and the hour of day."""
        from core.volatility.features import HAR_FEATURES, HOUR_FEATURES

        return [*HAR_FEATURES, *HOUR_FEATURES]


@dataclass(frozen=True)
class VolGBMConfig(VolHARConfig):
    """Gradient-boosted trees (XGBoost, squared error in logs) with a small fixed learning rate
    and no early stopping, so the calibration rows stay unseen until the conformal step.
    ``cross_asset``: also read the reference coin's HAR lags and returns (BTC; ETH for BTC).
    Off by default: on the bundled sample they made the test-window QLIKE worse on 6 of 9
    coins at 6 h and 8 of 9 at 24 h (docs/VOLATILITY.md); a tuning sweep searches it."""

    estimator: ClassVar[str] = "gbm"

    n_estimators: int = 300
    max_depth: int = 3
    learning_rate: float = 0.03
    subsample: float = 0.8
    random_state: int = 0
    cross_asset: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        _require(1 <= self.n_estimators <= 5000, "trees (n_estimators) must be 1..5000.")
        _require(1 <= self.max_depth <= 16, "depth (max_depth) must be 1..16.")
        _require(0 < self.learning_rate <= 1, "learning_rate must be in (0, 1].")
        _require(0 < self.subsample <= 1, "subsample must be in (0, 1].")

    def estimator_params(self) -> dict[str, Any]:
        return {
            "n_estimators": self.n_estimators,
            "max_depth": self.max_depth,
            "learning_rate": self.learning_rate,
            "subsample": self.subsample,
            "random_state": self.random_state,
            "cross_asset": self.cross_asset,
        }

    def features(self) -> list[str]:
        """The HAR's inputs plus range, volume and taker inputs (and, with ``cross_asset``, the
        reference coin's HAR lags and returns)."""
        from core.volatility.features import EXTRA_FEATURES, REFERENCE_FEATURES

        cross = REFERENCE_FEATURES if self.cross_asset else []
        return [*super().features(), *EXTRA_FEATURES, *cross]


@dataclass(frozen=True)
class VolLSTMConfig(VolHARConfig):
    """The LSTM network (:class:`core.models.network.LSTMEstimator`) on the last ``window`` hours
    of log variance, small enough for eight fits per coin (two horizons, three folds each)."""

    estimator: ClassVar[str] = "lstm"

    window: int = 48
    units: int = 16
    layers: int = 1
    dropout: float = 0.0
    dense_units: int = 8
    epochs: int = 12
    batch_size: int = 256
    patience: int = 2
    learning_rate: float = 0.003
    random_state: int = 42

    def __post_init__(self) -> None:
        super().__post_init__()
        _require(2 <= self.window <= _WEEK, f"window must be 2..{_WEEK} hours, got {self.window}.")
        _require(1 <= self.units <= 256 and 1 <= self.layers <= 3, "units 1..256, layers 1..3.")
        _require(1 <= self.epochs <= 500, f"epochs must be 1..500, got {self.epochs}.")
        _require(1 <= self.batch_size <= 4096, "batch_size must be 1..4096.")
        _require(0 <= self.patience <= 100, "patience must be 0..100 (0 = no early stopping).")

    def estimator_params(self) -> dict[str, Any]:
        names = (
            "window", "units", "layers", "dropout", "dense_units", "epochs", "batch_size",
            "patience", "learning_rate", "random_state",
        )  # fmt: skip
        return {name: getattr(self, name) for name in names}

    def features(self) -> list[str]:
        """The last ``window`` hours of log variance."""
        from core.volatility.features import sequence_features

        return sequence_features(self.window)


@dataclass(frozen=True)
class VolatilityRecipe:
    """The log realised variance over the next hours (see the module docstring)."""

    name: str
    output: Output = Output.VOLATILITY
    output_name: str = "log_variance"
    search: Mapping[str, Param] = field(default_factory=dict)
    state_keys: tuple[str, ...] = ()
    #: QLIKE skill on the volatility flow's own folds, its own test window and reference coin.
    tuning: str = "core.volatility.tune:VOLATILITY_TUNING"

    def horizon(self, target: TargetConfig) -> int:
        """The longest default horizon in hours (every split purges it)."""
        return max(VOLATILITY_HORIZONS)

    def warmup(self, config: Any) -> int:
        """A week of hours for the weekly HAR lag, and the LSTM's window of them."""
        return _WEEK + int(getattr(config, "window", 0))

    def needs_context(self, config: Any) -> bool:
        return False

    def columns(self, config: Any) -> list[str]:
        return list(config.features())

    def dataset(
        self,
        candles: pd.DataFrame,
        *,
        target: TargetConfig,
        context: Mapping[str, pd.DataFrame] | None,
        config: Any,
    ) -> Dataset:
        """Rows where the inputs and the longest horizon's target are known (``target`` is
        unused: the horizons are the settings')."""
        from core.volatility.features import build_frame, sequence_length, target_column

        horizon = max(config.horizons)
        names = self.columns(config)
        frame = build_frame(candles, config.horizons, sequence=sequence_length(names)).frame
        X = frame[names].to_numpy(dtype="float64")
        y = frame[target_column(horizon)].to_numpy(dtype="float64")
        valid = np.isfinite(X).all(axis=1) & np.isfinite(y)
        position = np.flatnonzero(valid)
        return Dataset(
            X=X[valid],
            y=y[valid],
            position=position,
            open_time=candles["open_time"].to_numpy()[position],
            close=candles["close"].to_numpy(dtype="float64")[position],
            horizon=horizon,
            features=names,
            target=target_column(horizon),
        )

    def check_labels(self, y: np.ndarray) -> None:
        """A variance to forecast always varies; nothing to check."""

    def learn(self, X: np.ndarray, features: list[str], config: Any) -> dict[str, Any]:
        return {}

    def encode(self, X: np.ndarray) -> np.ndarray:
        return X

    def target_of(self, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.asarray(y, dtype="float64")

    def decode(self, X: np.ndarray, z: np.ndarray) -> np.ndarray:
        return z

    def latest(
        self,
        candles: pd.DataFrame,
        *,
        context: Mapping[str, pd.DataFrame] | None,
        config: Any,
        state: Mapping[str, Any],
        features: list[str],
    ) -> np.ndarray:
        from core.volatility.features import build_frame, sequence_length

        tail = candles.tail(self.warmup(config) + 2)
        row = build_frame(tail, config.horizons, sequence=sequence_length(features)).frame
        X = row[features].to_numpy(dtype="float64")[-1:]
        if len(X) == 0 or not np.isfinite(X).all():
            raise InsufficientDataError(
                "The volatility forecast needs the last week of hourly candles without gaps; "
                "fetch the missing candles first."
            )
        return np.asarray(X)

    def vote_rule(self, signal: SignalConfig, base_rate: float) -> VoteRule:
        """Never votes: a variance says how far, not which way."""
        return VoteRule(Output.VOLATILITY, margin=float("inf"))

    def drift_inputs(
        self, candles: pd.DataFrame, references: Mapping[str, pd.DataFrame] | None
    ) -> pd.DataFrame:
        """Every volatility input at each candle (the HAR lags, hour, range, volume, taker)."""
        from core.volatility.features import INPUT_FEATURES, build_frame

        frame = build_frame(candles, VOLATILITY_HORIZONS).frame
        return frame[list(INPUT_FEATURES)].set_axis(candles.index)


#: The log realised variance over the next 6 h and 24 h.
LOG_VARIANCE = VolatilityRecipe("log_variance")
