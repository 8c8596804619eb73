"""Recipes on one row of causal features per candle: "+threshold within h" and "higher in h".

Inputs are the causal ``feat_*`` columns of :func:`core.features.causal.compute_features` and,
for the direction recipe with ``use_context``, the context columns of
:func:`core.features.context.context_features`: the coin's own 4 h / 1 d bars always, and a block
of five columns per reference coin (``feat_btc_*``, ``feat_eth_*``). The column layout depends on
the settings only (every :data:`~core.features.context.REFERENCE_SYMBOLS` block is always there),
so a fresh model fits any dataset of its kind: a reference that was not passed as ``context`` is a
block of NaN, which tree estimators treat as missing and never split on. The fitted state
``context_symbols`` records the references the model actually learned from, so the live signal
knows what to pass as ``context=``.

The "+1%" label is the seed's (mostly a question about volatility, DESIGN.md rule 9); the
direction label is the sign of ``log(close[t + h] / close[t])``, 1 for a rise and 0 for a fall; a
candle whose close ``h`` ahead is equal, unknown or across a gap has no row.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from core.config import SignalConfig, TargetConfig
from core.errors import InsufficientDataError, ModelError
from core.features.causal import FEATURES, compute_features, compute_targets, direction_labels
from core.features.context import (
    CONTEXT_FEATURES,
    REFERENCE_SYMBOLS,
    context_features,
    require_references,
)
from core.models.base import Dataset, Output, VoteRule
from core.models.search import Param

__all__ = ["DIRECTION", "UP_MOVE", "DirectionRecipe", "UpMoveRecipe", "feature_layout"]


def _prefix(symbol: str) -> str:
    return symbol.removesuffix("USDT").lower()


def _reference_columns(symbol: str) -> list[str]:
    return [n for n in CONTEXT_FEATURES if n.startswith(f"feat_{_prefix(symbol)}_")]


_TIMEFRAME_COLUMNS = [n for n in CONTEXT_FEATURES if n.startswith(("feat_tf4h_", "feat_tf1d_"))]


def feature_layout(use_context: bool) -> list[str]:
    """The direction recipe's input columns, in order: the causal features, then (with
    ``use_context``) the 4 h / 1 d columns and one block per reference symbol."""
    names = list(FEATURES)
    if use_context:
        names += _TIMEFRAME_COLUMNS
        for symbol in REFERENCE_SYMBOLS:
            names += _reference_columns(symbol)
    return names


def _no_overlap(symbol: str, candles: pd.DataFrame, context: Mapping[str, pd.DataFrame]) -> str:
    def span(frame: pd.DataFrame) -> str:
        times = frame["open_time"]
        return f"{times.iloc[0]:%Y-%m-%d} to {times.iloc[-1]:%Y-%m-%d}" if len(frame) else "empty"

    return (
        f"The stored {symbol} candles ({span(context[symbol])}) do not overlap this coin's "
        f"({span(candles)}), so its cross-asset inputs are unknown on every row. Fetch both over "
        f"the same period (python -m core fetch --coins {symbol.removesuffix('USDT')},...), "
        "or train with use_context off."
    )


def _dataset(
    candles: pd.DataFrame, X: np.ndarray, y: np.ndarray, valid: np.ndarray, horizon: int, **kw: Any
) -> Dataset:
    return Dataset(
        X=X[valid],
        y=y[valid].astype("int64"),
        position=np.flatnonzero(valid),
        open_time=candles["open_time"].to_numpy()[valid],
        close=candles["close"].to_numpy(dtype="float64")[valid],
        horizon=horizon,
        **kw,
    )


@dataclass(frozen=True)
class _Tabular:
    """What both tabular recipes share: a probability, voting against the training base rate."""

    name: str
    output: Output = Output.PROBABILITY
    output_name: str = "probability"
    search: Mapping[str, Param] = field(default_factory=dict)
    state_keys: tuple[str, ...] = ("warmup", "context_symbols")
    #: Brier skill on walk-forward folds, through the shared training flow.
    tuning: str = "core.tuning.objective:WALK_FORWARD"

    def horizon(self, target: TargetConfig) -> int:
        return target.horizon

    def warmup(self, config: Any) -> int:
        return max(s.warmup for s in FEATURES.values())

    def needs_context(self, config: Any) -> bool:
        return False

    def encode(self, X: np.ndarray) -> np.ndarray:
        return X

    def target_of(self, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.asarray(y).astype("int64")

    def decode(self, X: np.ndarray, z: np.ndarray) -> np.ndarray:
        return z

    def drift_inputs(
        self, candles: pd.DataFrame, references: Mapping[str, pd.DataFrame] | None
    ) -> pd.DataFrame:
        """The causal features at each candle."""
        return compute_features(candles)


@dataclass(frozen=True)
class UpMoveRecipe(_Tabular):
    """P(the close ``horizon`` candles ahead is at least ``threshold`` above this one), from the
    causal features; votes up only (a low chance of a 1% rise says "quiet", not "falling")."""

    def columns(self, config: Any) -> list[str]:
        return list(FEATURES)

    def dataset(
        self,
        candles: pd.DataFrame,
        *,
        target: TargetConfig,
        context: Mapping[str, pd.DataFrame] | None,
        config: Any,
    ) -> Dataset:
        """Rows where every feature and the label are known (after the look-back warm-up, before
        the last ``target.horizon`` candles, and not across a gap)."""
        features = compute_features(candles)
        labels = compute_targets(candles, horizon=target.horizon, threshold=target.threshold)
        y = labels[target.column].to_numpy()
        valid = features.notna().all(axis=1).to_numpy() & ~np.isnan(y)
        X = features.to_numpy(dtype="float32")
        return _dataset(
            candles, X, y, valid, target.horizon, features=list(features), target=target.column
        )

    def check_labels(self, y: np.ndarray) -> None:
        if len(np.unique(y)) < 2:
            raise InsufficientDataError(
                f"The training labels are all {int(y[0]) if len(y) else '-'}: with this horizon "
                "and threshold nothing ever (or always) happens. Lower the threshold or fetch more "
                "history."
            )

    def learn(self, X: np.ndarray, features: list[str], config: Any) -> dict[str, Any]:
        return {"warmup": max((FEATURES[n].warmup for n in features if n in FEATURES), default=0)}

    def latest(
        self,
        candles: pd.DataFrame,
        *,
        context: Mapping[str, pd.DataFrame] | None,
        config: Any,
        state: Mapping[str, Any],
        features: list[str],
    ) -> np.ndarray:
        frame = compute_features(candles)[features]
        last = frame.iloc[[-1]] if len(frame) else frame
        if last.empty or last.isna().to_numpy().any():
            raise InsufficientDataError(
                f"This model needs at least {int(state['warmup']) + 1} consecutive candles to "
                f"compute its features; got {len(candles)} (or a feature is undefined at the "
                "last candle). Fetch more history."
            )
        return np.asarray(last.to_numpy(dtype="float32"))

    def vote_rule(self, signal: SignalConfig, base_rate: float) -> VoteRule:
        return VoteRule(Output.PROBABILITY, signal.probability_margin, base_rate, up_only=True)


@dataclass(frozen=True)
class DirectionRecipe(_Tabular):
    """P(the close ``horizon`` candles ahead is higher), from the causal features and (with the
    settings' ``use_context``) 4 h / 1 d and cross-asset inputs; votes both ways."""

    def columns(self, config: Any) -> list[str]:
        return feature_layout(config.use_context)

    def needs_context(self, config: Any) -> bool:
        return bool(config.use_context)

    def _inputs(
        self, candles: pd.DataFrame, context: Mapping[str, pd.DataFrame] | None, config: Any
    ) -> tuple[pd.DataFrame, tuple[str, ...]]:
        """The input frame in :func:`feature_layout` order and the references it holds."""
        parts = [compute_features(candles)]
        given: tuple[str, ...] = ()
        if config.use_context:
            refs = {s: f for s, f in (context or {}).items() if s in REFERENCE_SYMBOLS}
            parts.append(context_features(candles, refs))
            given = tuple(s for s in REFERENCE_SYMBOLS if s in refs)
        frame = pd.concat(parts, axis=1)
        return frame.reindex(columns=feature_layout(config.use_context)), given

    def dataset(
        self,
        candles: pd.DataFrame,
        *,
        target: TargetConfig,
        context: Mapping[str, pd.DataFrame] | None,
        config: Any,
    ) -> Dataset:
        """Rows where the label and every input are known: after the longest look-back, before
        the last ``target.horizon`` candles, not across a gap, and (for each reference given in
        ``context``) where that reference's columns are known. References not given are NaN
        columns. ``target.threshold`` is unused: the label is the sign of the move."""
        frame, given = self._inputs(candles, context, config)
        needed = [
            n
            for n in frame.columns
            if not any(n in _reference_columns(s) for s in REFERENCE_SYMBOLS if s not in given)
        ]
        for symbol in given:
            columns = [n for n in _reference_columns(symbol) if n in frame.columns]
            if len(frame) and not frame[columns].notna().any(axis=None):
                raise InsufficientDataError(_no_overlap(symbol, candles, context or {}))
        y = direction_labels(candles, target.horizon)
        valid = frame[needed].notna().all(axis=1).to_numpy() & ~np.isnan(y)
        X = frame.to_numpy(dtype="float32")
        return _dataset(
            candles,
            X,
            y,
            valid,
            target.horizon,
            features=list(frame.columns),
            target=f"target_direction_{target.horizon}h",
        )

    def check_labels(self, y: np.ndarray) -> None:
        if len(np.unique(y)) < 2:
            raise InsufficientDataError(
                f"The direction labels are all {int(y[0]) if len(y) else '-'}: the price never "
                "moved both ways over the training period. Fetch more history."
            )

    def learn(self, X: np.ndarray, features: list[str], config: Any) -> dict[str, Any]:
        """The references whose block is not all NaN in training (the trees never use the
        others) and the longest look-back of the inputs used."""
        layout = feature_layout(config.use_context)
        X = np.asarray(X, dtype="float32")
        symbols = [
            s
            for s in REFERENCE_SYMBOLS
            if config.use_context
            and features == layout
            and not np.isnan(X[:, [layout.index(n) for n in _reference_columns(s)]]).all()
        ]
        specs = {**FEATURES, **CONTEXT_FEATURES}
        used = [n for n in features if n in specs and not _unused_reference(n, symbols)]
        return {
            "context_symbols": symbols,
            "warmup": max((specs[n].warmup for n in used), default=0),
        }

    def latest(
        self,
        candles: pd.DataFrame,
        *,
        context: Mapping[str, pd.DataFrame] | None,
        config: Any,
        state: Mapping[str, Any],
        features: list[str],
    ) -> np.ndarray:
        """``context`` must hold every reference the model learned from, up to the last candle."""
        if features != feature_layout(config.use_context):
            raise ModelError(
                "This direction model was fit on arrays without the dataset's column layout; "
                "predict_latest needs a model fit on make_dataset() rows."
            )
        symbols = list(state.get("context_symbols", ()))
        refs = require_references(symbols, context, candles)
        frame, _ = self._inputs(candles, refs, config)
        row = frame.iloc[[-1]] if len(frame) else frame
        known = [n for n in frame.columns if not _unused_reference(n, symbols)]
        undefined = known if row.empty else [n for n in known if pd.isna(row[n].iloc[0])]
        if undefined:
            more = ", ..." if len(undefined) > 3 else ""
            raise InsufficientDataError(
                f"The direction model needs about {int(state['warmup']) + 1} consecutive candles "
                f"(and context covering them) to compute its inputs; got {len(candles)}, and "
                f"{len(undefined)} input(s) are undefined at the last candle "
                f"({', '.join(undefined[:3])}{more}). Fetch more history."
            )
        return np.asarray(row.to_numpy(dtype="float32"))

    def vote_rule(self, signal: SignalConfig, base_rate: float) -> VoteRule:
        return VoteRule(Output.PROBABILITY, signal.direction_margin, base_rate)

    def drift_inputs(
        self, candles: pd.DataFrame, references: Mapping[str, pd.DataFrame] | None
    ) -> pd.DataFrame:
        """The causal features and the context columns (references given or not)."""
        parts = [compute_features(candles), context_features(candles, references or None)]
        return pd.concat(parts, axis=1)


def _unused_reference(name: str, symbols: list[str] | tuple[str, ...]) -> bool:
    return any(name in _reference_columns(s) for s in REFERENCE_SYMBOLS if s not in symbols)


#: The seed's classifier target: "+threshold within horizon" (threshold and horizon from the
#: TargetConfig).
UP_MOVE = UpMoveRecipe("up_move")
#: The direction target: "the close horizon candles ahead is higher".
DIRECTION = DirectionRecipe("direction")
