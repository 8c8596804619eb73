"""One coin end to end: candles → samples → chronological split → fit → walk-forward → evaluate →
register, reporting :class:`TrainProgress` events on the way.

The flow is the same for every model kind (the model says how to make its samples, see
:mod:`core.models.base`). Splits are drawn on the candle timeline, so both models of a coin are
tested on the same period and the same walk-forward folds, and every training set ends
``horizon`` candles before its held-out window (purge). Each registered version carries its
out-of-sample predictions (test period and walk-forward folds) as ``predictions.parquet``.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd

from core.config import Interval, LSTMConfig, SplitConfig, TargetConfig, XGBConfig
from core.data.coins import ensure_tradeable, parse_coin
from core.data.store import drop_open_candles, load_candles, normalize_candles
from core.errors import InsufficientDataError
from core.features.causal import FEATURES
from core.models import ModelKind, create_model
from core.models.base import Dataset, FitStep, Model
from core.registry.model_registry import ModelRegistry
from core.training.evaluate import (
    Split,
    chronological_split,
    evaluate,
    validation_split,
    walk_forward_splits,
)
from core.training.provenance import (
    candles_sha256,
    library_versions,
    mean_metrics,
    short_metrics,
    training_log,
)

__all__ = ["MIN_TRAIN_SAMPLES", "Stage", "TrainProgress", "required_candles", "train_coin"]

log = logging.getLogger("core.training.train")

#: The smallest training set (after the validation slice) of the first walk-forward fold.
MIN_TRAIN_SAMPLES = 200


class Stage(StrEnum):
    LOADING = "loading"
    FEATURES = "features"
    FITTING = "fitting"
    WALK_FORWARD = "walk-forward"
    EVALUATING = "evaluating"
    SAVING = "saving"
    DONE = "done"


@dataclass(frozen=True)
class TrainProgress:
    """One progress event; ``model`` is ``None`` for the stages shared by all models."""

    symbol: str
    model: ModelKind | None
    stage: Stage
    step: int = 0
    total: int = 0
    message: str = ""
    metrics: dict[str, float] = field(default_factory=dict)


def required_candles(
    kind: ModelKind | str,
    *,
    target: TargetConfig = TargetConfig(),  # noqa: B008 (frozen, so a shared default is safe)
    split: SplitConfig = SplitConfig(),  # noqa: B008 (frozen, so a shared default is safe)
    lstm: LSTMConfig = LSTMConfig(),  # noqa: B008 (frozen, so a shared default is safe)
) -> int:
    """How many consecutive candles training ``kind`` with these settings needs.

    The look-back warm-up, the purge gap and a validation slice must leave the first walk-forward
    fold (or, for an LSTM without walk-forward, the training period) ``MIN_TRAIN_SAMPLES``
    samples, and the test period must hold at least 10 candles.
    """
    kind = ModelKind.parse(kind)
    if kind is ModelKind.XGBOOST:
        warmup, horizon, folds = max(s.warmup for s in FEATURES.values()), target.horizon, True
    else:
        warmup, horizon, folds = lstm.window, 1, lstm.walk_forward
    per_block = (
        warmup
        + horizon
        + math.ceil((MIN_TRAIN_SAMPLES + horizon) / (1 - split.validation_fraction))
    )
    train_share = 1 / (split.folds + 1) if folds else 1 - split.test_fraction
    return max(math.ceil(per_block / train_share), math.ceil(10 / split.test_fraction))


def _times(candles: pd.DataFrame, rows: np.ndarray) -> dict[str, str | None]:
    if len(rows) == 0:
        return {"start": None, "end": None}
    times = candles["open_time"].iloc[[int(rows[0]), int(rows[-1])]]
    return {"start": times.iloc[0].isoformat(), "end": times.iloc[1].isoformat()}


class _Run:
    """Training of one model kind on one coin's candles."""

    def __init__(self, symbol: str, kind: ModelKind, cfg: Any, emit: Callable[..., None]) -> None:
        self.symbol, self.kind, self.cfg, self.emit = symbol, kind, cfg, emit

    def fit_window(
        self, ds: Dataset, split: Split, vf: float, stage: Stage, label: str
    ) -> tuple[Model, dict[str, Any], pd.DataFrame]:
        """Fit a fresh model on ``split.train`` (validation cut from its end), score
        ``split.test``; returns the model, its scores and its predictions."""
        rows = split.locate(ds.position)
        inner = validation_split(rows.train, fraction=vf, horizon=ds.horizon)
        model = create_model(self.kind, self.cfg)

        def on_step(step: FitStep) -> None:
            left = f", ~{step.seconds_left:.0f}s left" if step.seconds_left is not None else ""
            numbers = " ".join(f"{k} {v:.4g}" for k, v in step.metrics.items())
            self.emit(
                self.kind,
                stage,
                step.step,
                step.total,
                f"{label}{step.step}/{step.total} {numbers}{left}",
                step.metrics,
            )

        validation = (ds.X[inner.test], ds.y[inner.test]) if len(inner.test) else None
        model.fit(ds.X[inner.train], ds.y[inner.train], validation=validation, on_step=on_step)
        output = model.predict_output(ds.X[rows.test])
        scores = evaluate(
            model.task,
            ds.y[rows.test],
            output,
            close=ds.close[rows.test],
            train_actual=ds.y[inner.train],
        )
        scores["rows"] = {
            "train": int(len(inner.train)),
            "validation": int(len(inner.test)),
            "test": int(len(rows.test)),
            "purge": int(ds.horizon),
        }
        frame = pd.DataFrame(
            {
                "open_time": pd.to_datetime(ds.open_time[rows.test], utc=True),
                "split": split.name,
                "close": ds.close[rows.test],
                model.output_name: output,
                "actual": ds.y[rows.test],
            }
        )
        return model, scores, frame


def _check_size(symbol: str, interval: str, rows: int, needs: dict[ModelKind, int]) -> None:
    short = {kind: need for kind, need in needs.items() if rows < need}
    if short:
        what = ", ".join(f"{kind.value} needs {need:,}" for kind, need in short.items())
        raise InsufficientDataError(
            f"{symbol} has {rows:,} {interval} candles, too few for these settings ({what}: the "
            "look-back, the purge gap, the validation slice and every walk-forward fold must fit). "
            f"Fetch more history (`python -m core fetch --coins {parse_coin(symbol).base} "
            "--days 730`), or use fewer folds, a shorter window or a smaller test fraction."
        )


def train_coin(
    symbol: str,
    *,
    models: Sequence[ModelKind | str] = (ModelKind.XGBOOST, ModelKind.LSTM),
    interval: str | Interval = "1h",
    target: TargetConfig = TargetConfig(),  # noqa: B008 (frozen, so a shared default is safe)
    split: SplitConfig = SplitConfig(),  # noqa: B008 (frozen, so a shared default is safe)
    xgb: XGBConfig = XGBConfig(),  # noqa: B008 (frozen, so a shared default is safe)
    lstm: LSTMConfig = LSTMConfig(),  # noqa: B008 (frozen, so a shared default is safe)
    registry: ModelRegistry | None = None,
    progress: Callable[[TrainProgress], None] | None = None,
    candles: pd.DataFrame | None = None,
) -> list[dict[str, Any]]:
    """Train, evaluate and register each of ``models`` for one coin.

    ``candles`` (store schema) replaces loading the stored ones. Returns the registered metadata of
    each version, in ``models`` order.

    Raises:
        InvalidSymbolError / StablecoinError: a bad symbol, or a stablecoin (nothing to learn).
        NoDataError: no stored candles (the message says how to fetch them).
        InsufficientDataError: too few candles for these settings (says how many are needed).
        ConfigError: an unknown model kind.
    """
    coin = parse_coin(symbol)
    ensure_tradeable(coin.symbol)
    interval = Interval.parse(interval)
    kinds = list(dict.fromkeys(ModelKind.parse(m) for m in models))
    registry = registry or ModelRegistry()

    def emit(kind, stage, step=0, total=0, message="", metrics=None) -> None:
        if progress is not None:
            event = TrainProgress(coin.symbol, kind, stage, step, total, message, metrics or {})
            progress(event)

    with training_log(log):
        emit(None, Stage.LOADING, message=f"loading {coin.symbol} {interval.value} candles")
        if candles is None:
            candles = load_candles(coin.symbol, interval)
        else:
            candles = drop_open_candles(normalize_candles(candles))
        needs = {k: required_candles(k, target=target, split=split, lstm=lstm) for k in kinds}
        _check_size(coin.symbol, interval.value, len(candles), needs)
        data = {
            **_times(candles, np.array([0, len(candles) - 1])),
            "rows": len(candles),
            "sha256": candles_sha256(candles),
        }
        log.info(
            "%s: training %s on %d candles %s → %s",
            coin.symbol,
            ",".join(k.value for k in kinds),
            len(candles),
            data["start"],
            data["end"],
        )
        results = []
        for kind in kinds:
            cfg = xgb if kind is ModelKind.XGBOOST else lstm
            results.append(
                _train_one(
                    coin.symbol, kind, cfg, candles, interval, target, split, data, registry, emit
                )
            )
        emit(None, Stage.DONE, 1, 1, "done")
    return results


def _train_one(
    symbol: str,
    kind: ModelKind,
    cfg: Any,
    candles: pd.DataFrame,
    interval: Interval,
    target: TargetConfig,
    split: SplitConfig,
    data: dict[str, Any],
    registry: ModelRegistry,
    emit: Callable[..., None],
) -> dict[str, Any]:
    started = time.monotonic()
    run = _Run(symbol, kind, cfg, emit)
    emit(kind, Stage.FEATURES, message="computing inputs and targets")
    ds = create_model(kind, cfg).make_dataset(candles, target=target)
    test_split = chronological_split(
        len(candles), test_fraction=split.test_fraction, horizon=ds.horizon
    )
    vf = split.validation_fraction
    emit(kind, Stage.FITTING, 0, 1, "fitting")
    model, scores, test_frame = run.fit_window(ds, test_split, vf, Stage.FITTING, "step ")
    emit(
        kind,
        Stage.EVALUATING,
        1,
        1,
        "scored the test period",
        {k: v for k, v in scores["metrics"].items() if isinstance(v, float)},
    )
    log.info(
        "%s %s test: %s | baseline: %s | skill %s",
        symbol,
        kind.value,
        short_metrics(scores["metrics"]),
        short_metrics(scores["baseline"]),
        scores["skill"],
    )

    frames, folds = [], []
    wants_folds = getattr(cfg, "walk_forward", True)
    fold_splits = (
        walk_forward_splits(len(candles), folds=split.folds, horizon=ds.horizon)
        if wants_folds
        else []
    )
    for k, fold in enumerate(fold_splits, start=1):
        emit(kind, Stage.WALK_FORWARD, k - 1, len(fold_splits), f"fold {k}/{len(fold_splits)}")
        _, fold_scores, frame = run.fit_window(
            ds, fold, vf, Stage.WALK_FORWARD, f"fold {k}/{len(fold_splits)}: step "
        )
        frames.append(frame)
        folds.append({"fold": fold.name, **_times(candles, fold.test), **fold_scores})
        log.info(
            "%s %s %s: %s | skill %s",
            symbol,
            kind.value,
            fold.name,
            short_metrics(fold_scores["metrics"]),
            fold_scores["skill"],
        )
    if fold_splits:
        emit(kind, Stage.WALK_FORWARD, len(fold_splits), len(fold_splits), "walk-forward done")
    predictions = pd.concat([*frames, test_frame], ignore_index=True)

    test_rows = test_split.locate(ds.position)
    metadata = {
        "symbol": symbol,
        "interval": interval.value,
        "model_type": kind.value,
        "data": data,
        "features": ds.features,
        "target": {"column": ds.target, "horizon": ds.horizon}
        | ({"threshold": target.threshold} if ds.target == target.column else {}),
        "params": model.params(),
        "split": {
            **asdict(split),
            "purge": ds.horizon,
            "train": _times(candles, ds.position[test_rows.train]),
            "test": _times(candles, ds.position[test_rows.test]),
            **{f"{k}_rows": v for k, v in scores["rows"].items() if k != "purge"},
        },
        "metrics": {
            "test": scores["metrics"],
            "baseline": scores["baseline"],
            "skill": scores["skill"],
            "skill_basis": "1 - Brier / Brier of the training base rate"
            if model.task == "classification"
            else "1 - MAE / MAE of persistence",
            "walk_forward": folds,
            "walk_forward_mean": mean_metrics(folds),
        },
        "training": model.summary(),
        "train_seconds": None,
        "library_versions": library_versions(),
    }
    if not wants_folds:
        metadata["metrics"]["walk_forward_note"] = (
            "walk-forward is off for this model (LSTMConfig.walk_forward = False)"
        )
    metadata["train_seconds"] = round(time.monotonic() - started, 2)
    emit(kind, Stage.SAVING, 0, 1, "registering")
    meta = registry.save(model, metadata, predictions=predictions)
    emit(kind, Stage.SAVING, 1, 1, f"registered {meta.get('name')} {meta.get('version')}")
    log.info(
        "%s %s registered %s %s in %.1fs",
        symbol,
        kind.value,
        meta.get("name"),
        meta.get("version"),
        metadata["train_seconds"],
    )
    return meta
