"""The settings of the built-in model kinds: one frozen dataclass per kind, fields for its
estimator and its recipe (``window``, ``use_context``, ``calibration``, ``walk_forward``).

A kind's registry entry (:mod:`core.models`) names its settings class; every dataclass validates
itself in ``__post_init__`` and raises :class:`core.errors.ConfigError` saying which setting is
wrong and what would work.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import ConfigError

__all__ = ["DirectionConfig", "LSTMConfig", "LSTMReturnConfig", "XGBConfig"]


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise ConfigError(message)


@dataclass(frozen=True)
class XGBConfig:
    """XGBoost classifier settings (DESIGN.md: about 150 trees, depth 6)."""

    n_estimators: int = 150
    max_depth: int = 6
    learning_rate: float = 0.05
    subsample: float = 0.8
    colsample_bytree: float = 0.8
    early_stopping_rounds: int = 20
    random_state: int = 42
    #: XGBoost's own default: a leaf may hold any weight of at least one sample.
    min_child_weight: float = 1.0

    def __post_init__(self) -> None:
        _require(1 <= self.n_estimators <= 5000, "trees (n_estimators) must be 1..5000.")
        _require(1 <= self.max_depth <= 16, "depth (max_depth) must be 1..16.")
        _require(0 < self.learning_rate <= 1, "learning_rate must be in (0, 1].")
        _require(0 < self.subsample <= 1, "subsample must be in (0, 1].")
        _require(0 < self.colsample_bytree <= 1, "colsample_bytree must be in (0, 1].")
        _require(self.min_child_weight >= 0, "min_child_weight must be >= 0.")


@dataclass(frozen=True)
class LSTMConfig:
    """LSTM forecaster settings (DESIGN.md: 60-candle window, LSTM(50)x2, Dense(25), Dense(1))."""

    window: int = 60
    units: int = 50
    layers: int = 2
    dropout: float = 0.2
    dense_units: int = 25
    epochs: int = 100
    batch_size: int = 256
    patience: int = 4
    learning_rate: float = 0.001
    random_state: int = 42
    #: Retrain the LSTM on every walk-forward fold too (about 2.5x the training time).
    walk_forward: bool = False

    def __post_init__(self) -> None:
        _require(2 <= self.window <= 1000, f"window must be 2..1000 candles, got {self.window}.")
        _require(1 <= self.units <= 1024, "units must be 1..1024.")
        _require(1 <= self.layers <= 4, f"layers (stacked LSTMs) must be 1..4, got {self.layers}.")
        _require(1 <= self.dense_units <= 1024, "dense_units must be 1..1024.")
        _require(0 <= self.dropout < 1, "dropout must be in [0, 1).")
        _require(1 <= self.epochs <= 1000, f"epochs must be 1..1000, got {self.epochs}.")
        _require(1 <= self.batch_size <= 4096, "batch_size must be 1..4096.")
        _require(0 <= self.patience <= 1000, "patience must be 0..1000 (0 = no early stopping).")


@dataclass(frozen=True)
class DirectionConfig(XGBConfig):
    """The directional classifier: XGBoost on "the close ``horizon`` candles ahead is higher",
    with cross-asset and multi-timeframe inputs and Platt calibration on the validation slice
    (isotonic steps on ~700 validation rows overfit: seen on real BTC, Brier worse than the
    base rate).
    Shallower and slower-learning than the seed model: direction is a faint signal."""

    n_estimators: int = 300
    max_depth: int = 3
    learning_rate: float = 0.03
    min_child_weight: float = 20.0
    early_stopping_rounds: int = 30
    use_context: bool = True
    calibration: str = "sigmoid"

    def __post_init__(self) -> None:
        super().__post_init__()
        _require(
            self.calibration in ("isotonic", "sigmoid", "none"),
            "calibration must be isotonic, sigmoid (Platt) or none.",
        )


@dataclass(frozen=True)
class LSTMReturnConfig(LSTMConfig):
    """The return forecaster: an LSTM on a multivariate window (returns, range, volume, volatility)
    forecasting the next candle's log return. Walk-forward is on, so its calls can be calibrated
    out of time; smaller than the seed LSTM so that five fits stay affordable."""

    window: int = 48
    units: int = 32
    dense_units: int = 16
    epochs: int = 30
    patience: int = 3
    walk_forward: bool = True
