"""XGBoost direction classifier: P(the close ``horizon`` candles ahead is higher than this one).

The label is the sign of ``log(close[t + h] / close[t])``: 1 for a rise, 0 for a fall; a candle
whose close ``h`` candles ahead is exactly equal, unknown (the end of the data) or across a gap
(missing candles between t and t + h) has no row. This is the question a BULLISH / BEARISH call
asks; the seed's "+1% within 6 h" is mostly a question about volatility (DESIGN.md, rule 9).

Inputs are the causal ``feat_*`` columns of :func:`core.features.causal.compute_features` and, with
``DirectionConfig.use_context``, the context columns of
:func:`core.features.context.context_features`: the coin's own 4 h / 1 d bars always, and a block of
five columns per reference coin (``feat_btc_*``, ``feat_eth_*``). The column layout depends on the
settings only (every :data:`~core.features.context.REFERENCE_SYMBOLS` block is always there), so a
fresh model fits any dataset of its kind without being told the column names: a reference that was
not passed to :meth:`DirectionModel.make_dataset` is a block of NaN, which XGBoost treats as
missing and never splits on. ``context_symbols_`` records the references the fitted model actually
learned from, so the live signal knows what to pass as ``context=``.

Early stopping watches log loss on the validation slice (cut by the caller from the END of the
training period); the raw probabilities are then calibrated on that same slice only (isotonic
regression or Platt scaling), never on training or test rows. Saved as XGBoost's UBJ plus a JSON
of settings, features and the calibrator's numbers; nothing is pickled.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd
import xgboost as xgb

from core.config import DirectionConfig, SignalConfig, TargetConfig
from core.errors import InsufficientDataError, ModelError
from core.features.causal import FEATURES, compute_features, direction_labels
from core.features.context import (
    CONTEXT_FEATURES,
    REFERENCE_SYMBOLS,
    context_features,
    require_references,
)
from core.models.base import (
    Dataset,
    Output,
    StepCallback,
    Task,
    VoteRule,
)
from core.models.calibration import CALIBRATED_RANGE, apply_calibrator, fit_calibrator
from core.models.calibration import KINDS as CALIBRATION_KINDS
from core.models.xgb import (
    boost,
    gain_shares,
    predict_matrix,
    read_booster_info,
    restore_booster,
    save_booster,
)

__all__ = ["CALIBRATED_RANGE", "DirectionModel", "direction_labels", "feature_layout"]


def _prefix(symbol: str) -> str:
    return symbol.removesuffix("USDT").lower()


def _reference_columns(symbol: str) -> list[str]:
    return [n for n in CONTEXT_FEATURES if n.startswith(f"feat_{_prefix(symbol)}_")]


_TIMEFRAME_COLUMNS = [n for n in CONTEXT_FEATURES if n.startswith(("feat_tf4h_", "feat_tf1d_"))]


def feature_layout(use_context: bool) -> list[str]:
    """The model's input columns, in order: the causal features, then (with ``use_context``) the
    4 h / 1 d columns and one block per reference symbol."""
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


class DirectionModel:
    """The direction classifier behind the :class:`core.models.base.Model` protocol.

    Learned state: ``booster_`` (trees up to the best validation round), ``features_``,
    ``context_symbols_``, ``best_iteration_``, ``train_rows_``, ``train_base_rate_``,
    ``validation_rows_``, ``calibrator_`` (``None``, or a JSON-ready dict: ``{"kind":
    "isotonic", "x": [...], "y": [...]}`` or ``{"kind": "sigmoid", "coef": a, "intercept": b}``),
    ``warmup_``.
    """

    kind: ClassVar[str] = "xgb_direction"
    output: ClassVar[Output] = Output.PROBABILITY
    output_name: ClassVar[str] = "probability"
    task = Task.CLASSIFICATION

    def __init__(self, config: DirectionConfig | None = None) -> None:
        self.config = config or DirectionConfig()

    def params(self) -> dict[str, Any]:
        return asdict(self.config)

    def vote_rule(self, config: SignalConfig) -> VoteRule:
        """Up when P(higher) is ``direction_margin`` above the training base rate, down when it
        is that far below (direction is two-sided, unlike "+1% within 6 h")."""
        self._check_fitted()
        return VoteRule(Output.PROBABILITY, config.direction_margin, self.train_base_rate_)

    # ---- samples ----------------------------------------------------------------------------

    def _inputs(
        self, candles: pd.DataFrame, context: Mapping[str, pd.DataFrame] | None
    ) -> tuple[pd.DataFrame, tuple[str, ...]]:
        """The input frame in :func:`feature_layout` order and the references it holds."""
        parts = [compute_features(candles)]
        given: tuple[str, ...] = ()
        if self.config.use_context:
            refs = {s: f for s, f in (context or {}).items() if s in REFERENCE_SYMBOLS}
            parts.append(context_features(candles, refs))
            given = tuple(s for s in REFERENCE_SYMBOLS if s in refs)
        frame = pd.concat(parts, axis=1)
        return frame.reindex(columns=feature_layout(self.config.use_context)), given

    def make_dataset(
        self,
        candles: pd.DataFrame,
        *,
        target: TargetConfig,
        context: Mapping[str, pd.DataFrame] | None = None,
    ) -> Dataset:
        """Rows where the label and every input are known: after the longest look-back, before
        the last ``target.horizon`` candles, not across a gap, and (for each reference given in
        ``context``) where that reference's columns are known. References not given are NaN
        columns. ``target.threshold`` is unused: the label is the sign of the move."""
        frame, given = self._inputs(candles, context)
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
        position = np.flatnonzero(valid)
        return Dataset(
            X=frame.to_numpy(dtype="float32")[valid],
            y=y[valid].astype("int64"),
            position=position,
            open_time=candles["open_time"].to_numpy()[valid],
            close=candles["close"].to_numpy(dtype="float64")[valid],
            horizon=target.horizon,
            features=list(frame.columns),
            target=f"target_direction_{target.horizon}h",
        )

    # ---- fitting ----------------------------------------------------------------------------

    def fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        *,
        validation: tuple[np.ndarray, np.ndarray] | None = None,
        on_step: StepCallback | None = None,
    ) -> Self:
        """Boost up to ``n_estimators`` trees; with ``validation``, stop after
        ``early_stopping_rounds`` rounds without a better validation log loss, keep the best
        round, then calibrate on the validation slice (``config.calibration``). Without a
        validation slice nothing is calibrated (:meth:`summary` says so).

        Raises:
            InsufficientDataError: the labels hold one class only.
        """
        y = np.asarray(y).astype("int64")
        if len(np.unique(y)) < 2:
            raise InsufficientDataError(
                f"The direction labels are all {int(y[0]) if len(y) else '-'}: the price never "
                "moved both ways over the training period. Fetch more history."
            )
        cfg = self.config
        X = np.asarray(X, dtype="float32")
        layout = feature_layout(cfg.use_context)
        names = layout if len(layout) == X.shape[1] else [f"f{i}" for i in range(X.shape[1])]
        self.booster_, self.best_iteration_ = boost(
            cfg,
            X,
            y,
            names,
            validation=validation,
            on_step=on_step,
            min_child_weight=cfg.min_child_weight,
        )
        has_validation = validation is not None and len(validation[1]) > 0
        self.features_ = names
        self.train_rows_ = int(len(y))
        self.train_base_rate_ = float(y.mean())
        # a reference block that is all NaN in training was not given: the trees never use it
        self.context_symbols_ = tuple(
            s
            for s in REFERENCE_SYMBOLS
            if cfg.use_context
            and names == layout
            and not np.isnan(X[:, [layout.index(n) for n in _reference_columns(s)]]).all()
        )
        specs = {**FEATURES, **CONTEXT_FEATURES}
        used = [n for n in names if n in specs and not self._unused_reference(n)]
        self.warmup_ = max((specs[n].warmup for n in used), default=0)
        self.calibrator_: dict[str, Any] | None = None
        self.validation_rows_ = (
            int(len(validation[1])) if validation is not None and has_validation else 0
        )
        self.calibration_note_ = "no validation slice: probabilities are not calibrated"
        if has_validation:
            assert validation is not None
            self._calibrate(self.predict_raw(validation[0]), np.asarray(validation[1]))
        return self

    def _unused_reference(self, name: str) -> bool:
        return any(
            name in _reference_columns(s)
            for s in REFERENCE_SYMBOLS
            if s not in getattr(self, "context_symbols_", ())
        )

    def _calibrate(self, raw: np.ndarray, labels: np.ndarray) -> None:
        self.calibrator_, self.calibration_note_ = fit_calibrator(
            self.config.calibration, raw, labels
        )

    # ---- predicting -------------------------------------------------------------------------

    def _check_fitted(self) -> None:
        if not hasattr(self, "booster_"):
            raise ModelError("This direction model is not trained yet: call fit() or load one.")

    def predict_raw(self, X: np.ndarray) -> np.ndarray:
        """The booster's uncalibrated P(higher) per row of ``X`` (``features_`` order)."""
        self._check_fitted()
        data = predict_matrix(X, self.features_)
        return self.booster_.predict(data).astype("float64")

    def calibrate(self, raw: np.ndarray) -> np.ndarray:
        """Apply the validation-fitted calibrator to raw probabilities (identity if none)."""
        return apply_calibrator(self.calibrator_, raw)

    def predict_output(self, X: np.ndarray) -> np.ndarray:
        """Calibrated P(the close ``horizon`` candles ahead is higher) per row of ``X``."""
        return self.calibrate(self.predict_raw(X))

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """``(n, 2)`` class probabilities, scikit-learn style."""
        p = self.predict_output(X)
        return np.column_stack([1 - p, p])

    def predict_latest(
        self, candles: pd.DataFrame, *, context: Mapping[str, pd.DataFrame] | None = None
    ) -> float:
        """Calibrated P(higher) at the last candle of ``candles`` (closed candles, store schema);
        ``context`` must hold every one of ``context_symbols_``, up to that candle.

        Raises:
            InsufficientDataError: a reference the model learned from is missing or ends before
                the last candle, or the last candle's inputs are not all known (too little
                history).
        """
        self._check_fitted()
        if self.features_ != feature_layout(self.config.use_context):
            raise ModelError(
                "This direction model was fit on arrays without the dataset's column layout; "
                "predict_latest needs a model fit on make_dataset() rows."
            )
        refs = require_references(self.context_symbols_, context, candles)
        frame, _ = self._inputs(candles, refs)
        row = frame.iloc[[-1]] if len(frame) else frame
        known = [n for n in frame.columns if not self._unused_reference(n)]
        undefined = known if row.empty else [n for n in known if pd.isna(row[n].iloc[0])]
        if undefined:
            more = ", ..." if len(undefined) > 3 else ""
            raise InsufficientDataError(
                f"The direction model needs about {self.warmup_ + 1} consecutive candles (and "
                f"context covering them) to compute its inputs; got {len(candles)}, and "
                f"{len(undefined)} input(s) are undefined at the last candle "
                f"({', '.join(undefined[:3])}{more}). Fetch more history."
            )
        return float(self.predict_output(row.to_numpy(dtype="float32"))[0])

    # ---- reporting and files ----------------------------------------------------------------

    def feature_importance(self) -> dict[str, float]:
        """Each feature's share of the total gain (sums to 1), largest first; unused ones 0."""
        self._check_fitted()
        return gain_shares(self.booster_, self.features_)

    def _calibration_info(self) -> dict[str, Any]:
        return {
            "kind": self.calibrator_["kind"] if self.calibrator_ else "none",
            "requested": self.config.calibration,
            "fitted_on": "validation" if self.calibrator_ else None,
            "validation_rows": self.validation_rows_,
            "note": self.calibration_note_,
        }

    def summary(self) -> dict[str, Any]:
        """What training learned: trees kept, rows, base rate, context, calibration, importance."""
        self._check_fitted()
        return {
            "best_iteration": self.best_iteration_,
            "trees": self.best_iteration_ + 1,
            "train_rows": self.train_rows_,
            "train_base_rate": self.train_base_rate_,
            "context_symbols": list(self.context_symbols_),
            "calibration": self._calibration_info(),
            "feature_importance": self.feature_importance(),
        }

    def save(self, directory: Path) -> list[str]:
        """``model.ubj`` (XGBoost's binary JSON) and ``model.json`` (settings, features,
        calibrator as numbers)."""
        self._check_fitted()
        return save_booster(
            self,
            directory,
            context_symbols=list(self.context_symbols_),
            validation_rows=self.validation_rows_,
            calibrator=self.calibrator_,
            calibration=self._calibration_info(),
        )

    @classmethod
    def load(cls, directory: Path) -> Self:
        """Read a model written by :meth:`save`.

        Raises:
            ModelError: a file is missing or not what :meth:`save` writes.
        """
        try:
            info = read_booster_info(directory, cls.kind)
            calibrator = info["calibrator"]
            if calibrator is not None and calibrator["kind"] not in CALIBRATION_KINDS:
                raise ValueError(f"unknown calibrator {calibrator['kind']!r}")
            model = cls(DirectionConfig(**info["config"]))
            restore_booster(model, directory, info)
            model.context_symbols_ = tuple(info["context_symbols"])
            model.validation_rows_ = int(info["validation_rows"])
            model.calibrator_ = calibrator
            model.calibration_note_ = str(info["calibration"]["note"])
        except (OSError, ValueError, KeyError, TypeError, xgb.core.XGBoostError) as exc:
            raise ModelError(f"Cannot load the direction model in {directory}: {exc}") from exc
        return model
