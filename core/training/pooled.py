"""A pooled kind: one model fit on every chosen coin's rows, registered per coin with its own card.

The trainer of a pooled recipe + estimator kind (``Kind(pooled=True, pools=...,
trainer="core.training.pooled:train_pooled")``; the volatility kinds pool through their own flow,
:func:`core.volatility.train.train_kind`):

1. Per coin: the pooled-over kind's samples, split on the coin's own candle timeline exactly as
   :func:`core.training.train.train_coin` splits it (the test window is the coin's last
   ``test_fraction``, purged; walk-forward folds strictly before it).
2. Inputs are normalised per coin: each input is centred and scaled by its mean and spread on that
   coin's own training rows of the window being fit (the rows before the fold's or the test
   window's purge), so coins at different price and volatility levels share one model.
3. One model is fit on the union of every coin's training rows (its validation slice: each coin's
   last ``validation_fraction`` of them), then scored on each coin's held-out rows. The same for
   every walk-forward fold. Each coin gets its own card (the usual gates on its own test window,
   folds agree on its own folds), so the signals, the Holm family of direction tests and the
   monitor stay per coin; the pooled card over every coin's test rows is recorded beside it.
4. A probability is calibrated per coin (the kind's ``calibration``, Platt by default) on that
   coin's own validation rows: one model ranks every coin, each coin's hit rates are its own.
5. A probability model calls only its most confident decile: each coin's vote margin is the 90th
   percentile of ``|p - base rate|`` on that coin's validation rows (out of sample for the fit).
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Self

import numpy as np
import pandas as pd

from core.config import Interval, Paths, SignalConfig, SplitConfig, TargetConfig
from core.data.store import drop_open_candles, load_candles, normalize_candles
from core.models import create_model, kind_info, load_model
from core.models.base import Dataset, Output, StepCallback, VoteRule, read_json, write_json
from core.models.calibration import apply_calibrator, fit_calibrator
from core.registry.gates import card_verdict
from core.registry.metadata import Evaluation, ModelMetadata
from core.registry.model_registry import ModelRegistry
from core.registry.names import model_name
from core.registry.promotion import promotion
from core.training.card import HEADLINE, build_card
from core.training.evaluate import (
    Split,
    chronological_split,
    evaluate,
    validation_split,
    walk_forward_splits,
)
from core.training.provenance import candles_sha256, library_versions, training_log
from core.training.records import Stage, TrainResult
from core.training.train import prediction_extras

__all__ = ["CONFIDENT_SHARE", "PooledCoinModel", "train_pooled"]

log = logging.getLogger("core.training.train")

#: The share of a pooled probability model's validation predictions it would call: its decile.
CONFIDENT_SHARE = 0.1
POOLED_FILE = "pooled.json"


def _scaler(X: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-input mean and spread of ``X[rows]`` (over every axis but the last), NaN-safe; a
    constant or unknown input gets spread 1 and mean 0 (left as it is)."""
    sample = np.asarray(X[rows], dtype="float64").reshape(-1, X.shape[-1])
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an input unknown on every row
        mean, std = np.nanmean(sample, axis=0), np.nanstd(sample, axis=0)
    mean = np.where(np.isfinite(mean), mean, 0.0)
    std = np.where(np.isfinite(std) & (std > 0), std, 1.0)
    return mean, std


def _normalise(X: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    out: np.ndarray = ((np.asarray(X, dtype="float64") - mean) / std).astype(X.dtype)
    return out


class PooledCoinModel:
    """The pooled model seen from one coin: normalises that coin's inputs with its own training
    rows' mean and spread, then asks the shared model. Behind the same :class:`Model` protocol
    as any kind (the registry saves and loads it; the signals and the monitor use it)."""

    def __init__(
        self,
        kind: str,
        inner: Any,
        mean: np.ndarray,
        std: np.ndarray,
        *,
        margin: float,
        pooled_over: Sequence[str],
        calibrator: dict[str, Any] | None = None,
    ) -> None:
        self.kind, self.inner, self.calibrator = kind, inner, calibrator
        self.mean, self.std = np.asarray(mean, "float64"), np.asarray(std, "float64")
        self.margin, self.pooled_over = float(margin), list(pooled_over)

    @property
    def output(self) -> Output:
        return Output(self.inner.output)

    @property
    def output_name(self) -> str:
        return str(self.inner.output_name)

    @property
    def task(self) -> Any:
        return self.inner.task

    @property
    def context_symbols_(self) -> tuple[str, ...]:
        return tuple(getattr(self.inner, "context_symbols_", ()))

    def make_dataset(
        self,
        candles: pd.DataFrame,
        *,
        target: TargetConfig,
        context: Mapping[str, pd.DataFrame] | None = None,
    ) -> Dataset:
        samples: Dataset = self.inner.make_dataset(candles, target=target, context=context)
        return samples

    def fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        *,
        validation: tuple[np.ndarray, np.ndarray] | None = None,
        on_step: StepCallback | None = None,
    ) -> Self:
        raise TypeError("A pooled model is fit on every coin at once: train_pooled.")

    def predict_output(self, X: np.ndarray) -> np.ndarray:
        """The shared model's output for this coin's inputs (a probability calibrated on this
        coin's own validation rows)."""
        Xn = _normalise(X, self.mean, self.std)
        if self.calibrator is not None:
            return apply_calibrator(self.calibrator, self.inner.predict_raw(Xn))
        return np.asarray(self.inner.predict_output(Xn), dtype="float64")

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        p = self.predict_output(X)
        return np.column_stack([1 - p, p])

    def predict_latest(
        self, candles: pd.DataFrame, *, context: Mapping[str, pd.DataFrame] | None = None
    ) -> float:
        spec = self.inner.spec
        X = spec.recipe.latest(
            candles,
            context=context,
            config=self.inner.config,
            state=self.inner.inputs_,
            features=self.inner.features_,
        )
        return float(self.predict_output(X)[0])

    def vote_rule(self, config: SignalConfig) -> VoteRule:
        """The inner kind's rule with the margin of its most confident decile."""
        rule = self.inner.vote_rule(config)
        return VoteRule(rule.output, max(rule.margin, self.margin), rule.reference, rule.up_only)

    def params(self) -> dict[str, Any]:
        return {**self.inner.params(), "pooled_over": self.pooled_over, "margin": self.margin}

    def summary(self) -> dict[str, Any]:
        return {**self.inner.summary(), "pooled_over": self.pooled_over}

    def save(self, directory: Path) -> list[str]:
        files = list(self.inner.save(directory))
        write_json(
            Path(directory) / POOLED_FILE,
            {
                "kind": self.kind,
                "inner": self.inner.kind,
                "mean": self.mean.tolist(),
                "std": self.std.tolist(),
                "margin": self.margin,
                "pooled_over": self.pooled_over,
                "calibrator": self.calibrator,
            },
        )
        return [*files, POOLED_FILE]

    @classmethod
    def load(cls, directory: Path) -> PooledCoinModel:
        info = read_json(Path(directory) / POOLED_FILE)
        inner = load_model(str(info["inner"]), Path(directory))
        return cls(
            str(info["kind"]),
            inner,
            np.asarray(info["mean"], "float64"),
            np.asarray(info["std"], "float64"),
            margin=float(info["margin"]),
            pooled_over=list(info["pooled_over"]),
            calibrator=info.get("calibrator"),
        )


@dataclass
class _Coin:
    """One coin's samples and splits."""

    symbol: str
    candles: pd.DataFrame
    ds: Dataset
    test: Split
    folds: list[Split]
    extras: dict[str, np.ndarray]


def _fit_window(
    kind: str,
    cfg: Any,
    coins: list[_Coin],
    window: Callable[[_Coin], Split],
    split: SplitConfig,
    name: str,
    on_step: StepCallback | None,
) -> tuple[Any, dict[str, PooledCoinModel], dict[str, pd.DataFrame]]:
    """Fit one model on every coin's training rows of ``window(coin)`` (each normalised by its
    own, a probability calibrated per coin); returns it, each coin's view of it (with the
    confident margin) and each coin's prediction frame."""
    xs, ys, vxs, vys = [], [], [], []
    scalers: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    held: dict[str, tuple[_Coin, Split, np.ndarray]] = {}
    for c in coins:
        rows = window(c).locate(c.ds.position)
        inner = validation_split(
            rows.train, fraction=split.validation_fraction, horizon=c.ds.horizon
        )
        mean, std = _scaler(c.ds.X, rows.train)
        scalers[c.symbol] = (mean, std)
        X = _normalise(c.ds.X, mean, std)
        xs.append(X[inner.train])
        ys.append(c.ds.y[inner.train])
        vxs.append(X[inner.test])
        vys.append(c.ds.y[inner.test])
        held[c.symbol] = (c, rows, inner.test)
    model: Any = create_model(kind, cfg)  # a KindModel: predict_raw for per-coin calibration
    vx, vy = np.concatenate(vxs), np.concatenate(vys)
    model.fit(
        np.concatenate(xs),
        np.concatenate(ys),
        validation=(vx, vy) if len(vy) else None,
        on_step=on_step,
    )
    coins_over = [c.symbol for c in coins]
    views: dict[str, PooledCoinModel] = {}
    for symbol, (c, _, val) in held.items():
        mean, std = scalers[symbol]
        calibrator = None
        if model.output is Output.PROBABILITY and getattr(cfg, "calibration", "none") != "none":
            raw = model.predict_raw(_normalise(c.ds.X[val], mean, std))
            calibrator, _ = fit_calibrator(cfg.calibration, raw, c.ds.y[val])
        views[symbol] = PooledCoinModel(
            model.kind, model, mean, std, margin=0.0, pooled_over=coins_over, calibrator=calibrator
        )
    if model.output is Output.PROBABILITY:
        reference = model.vote_rule(SignalConfig()).reference
        for symbol, (c, _, val) in held.items():
            edge = np.abs(views[symbol].predict_output(c.ds.X[val]) - reference)
            if len(edge):
                views[symbol].margin = float(np.quantile(edge, 1.0 - CONFIDENT_SHARE))
    frames = {}
    for symbol, (c, rows, _) in held.items():
        at = c.ds.position[rows.test]
        frames[symbol] = pd.DataFrame(
            {
                "open_time": pd.to_datetime(c.ds.open_time[rows.test], utc=True),
                "split": name,
                "close": c.ds.close[rows.test],
                model.output_name: views[symbol].predict_output(c.ds.X[rows.test]),
                "actual": c.ds.y[rows.test],
                **{k: v[at] for k, v in c.extras.items()},
            }
        )
    return model, views, frames


def _nth_fold(k: int) -> Callable[[_Coin], Split]:
    return lambda c: c.folds[k]


def train_pooled(
    kind: Any,
    symbols: Sequence[str],
    config: Any,
    *,
    registry: ModelRegistry,
    paths: Paths,
    force: bool = False,
    interval: str = "1h",
    candles: Mapping[str, pd.DataFrame] | None = None,
    emit: Callable[..., None] | None = None,
    target: TargetConfig = TargetConfig(),  # noqa: B008 (frozen, so a shared default is safe)
    split: SplitConfig = SplitConfig(),  # noqa: B008 (frozen, so a shared default is safe)
    signal: SignalConfig = SignalConfig(),  # noqa: B008 (frozen, so a shared default is safe)
) -> list[TrainResult]:
    """Train ``kind`` (a pooled kind) once over ``symbols``; one registered version per coin.

    Raises:
        NoDataError / InsufficientDataError: a coin without (enough) candles.
    """
    started = time.monotonic()
    inner_kind = str(kind.pools)
    cfg = config
    given = dict(candles or {})

    def say(stage: Stage, step: int, total: int, message: str) -> None:
        if emit is not None:
            emit(kind.name, stage, step, total, message)

    with training_log(log, logs=paths.logs):
        refs = None
        probe = create_model(inner_kind, cfg)
        if kind_info(inner_kind).recipe.needs_context(cfg):
            from core.features.context import load_references

            refs = load_references(interval, paths=paths)
        coins: list[_Coin] = []
        for symbol in symbols:
            say(Stage.FEATURES, len(coins), len(symbols), f"inputs of {symbol}")
            frame = given.get(symbol)
            frame = (
                load_candles(symbol, Interval.parse(interval), paths=paths)
                if frame is None
                else drop_open_candles(normalize_candles(frame))
            )
            ds = probe.make_dataset(frame, target=target, context=refs)
            test = chronological_split(
                len(frame), test_fraction=split.test_fraction, horizon=ds.horizon
            )
            region = int(test.test[0]) - max(ds.horizon, target.horizon)
            folds = walk_forward_splits(region, folds=split.folds, horizon=ds.horizon)
            coins.append(
                _Coin(symbol, frame, ds, test, folds, prediction_extras(frame, target.horizon))
            )
        fold_frames: dict[str, list[pd.DataFrame]] = {c.symbol: [] for c in coins}
        for k in range(split.folds):
            say(
                Stage.WALK_FORWARD,
                k,
                split.folds,
                f"fold {k + 1}/{split.folds} over {len(coins)} coins",
            )
            _, _, frames = _fit_window(
                inner_kind, cfg, coins, _nth_fold(k), split, f"fold_{k + 1}", None
            )
            for symbol, f in frames.items():
                fold_frames[symbol].append(f)
        say(Stage.FITTING, 0, 1, f"one model over {len(coins)} coins")
        model, views, tests = _fit_window(
            inner_kind, cfg, coins, lambda c: c.test, split, "test", None
        )
        output = model.output
        pooled_card = build_card(
            output,
            pd.concat(tests.values(), ignore_index=True),
            pd.concat([f for fs in fold_frames.values() for f in fs], ignore_index=True),
            column=model.output_name,
            horizon=coins[0].ds.horizon,
        )
        results = []
        for c in coins:
            coin_model = views[c.symbol]
            coin_model.kind = kind.name
            results.append(
                _register(
                    kind.name,
                    c,
                    coin_model,
                    tests[c.symbol],
                    fold_frames[c.symbol],
                    pooled_card.to_dict(),
                    registry,
                    target,
                    split,
                    signal,
                    force,
                    interval,
                    started,
                )
            )
        say(Stage.SAVING, 1, 1, ", ".join(f"registered {r.name} {r.version}" for r in results))
    return results


def _register(
    kind: str,
    c: _Coin,
    model: PooledCoinModel,
    test_frame: pd.DataFrame,
    fold_frames: list[pd.DataFrame],
    pooled_card: dict[str, Any],
    registry: ModelRegistry,
    target: TargetConfig,
    split: SplitConfig,
    signal: SignalConfig,
    force: bool,
    interval: str,
    started: float,
) -> TrainResult:
    ds, column = c.ds, model.output_name
    folds = pd.concat(fold_frames, ignore_index=True) if fold_frames else None
    card = build_card(model.output, test_frame, folds, column=column, horizon=ds.horizon)
    test_rows = c.test.locate(ds.position)

    def scored(frame: pd.DataFrame) -> dict[str, Any]:
        out = evaluate(
            model.task,
            frame["actual"].to_numpy(),
            frame[column].to_numpy(),
            close=frame["close"].to_numpy(),
            train_actual=ds.y[test_rows.train],
        )
        return out

    scores = scored(test_frame)
    walk = [{"fold": f["split"].iloc[0], **scored(f)} for f in fold_frames if len(f)]
    times = c.candles["open_time"]
    metadata = ModelMetadata(
        name=model_name(kind, c.symbol),
        version="",  # the registry hands out the version number
        symbol=c.symbol,
        interval=interval,
        model_type=kind,
        data={
            "start": pd.Timestamp(times.iloc[0]).isoformat(),
            "end": pd.Timestamp(times.iloc[-1]).isoformat(),
            "rows": len(c.candles),
            "sha256": candles_sha256(c.candles),
        },
        features=tuple(ds.features),
        target={"column": ds.target, "horizon": ds.horizon, "signal_horizon": target.horizon},
        params=model.params(),
        split={
            **asdict(split),
            "purge": ds.horizon,
            "test": {
                "start": pd.Timestamp(test_frame["open_time"].iloc[0]).isoformat(),
                "end": pd.Timestamp(test_frame["open_time"].iloc[-1]).isoformat(),
            },
        },
        metrics=Evaluation.from_dict(
            {
                "test": scores["metrics"],
                "baseline": scores["baseline"],
                "skill": scores["skill"],
                "walk_forward": walk,
                "pooled": {"card": pooled_card, "coins": model.pooled_over},
            }
        ),
        training=model.summary(),
        vote=model.vote_rule(signal),
        card=card,
        library_versions=library_versions(),
        train_seconds=round(time.monotonic() - started, 2),
    )
    promote, why = promotion(registry, model_name(kind, c.symbol), card, HEADLINE, force=force)
    predictions = pd.concat([*fold_frames, test_frame], ignore_index=True)
    record = registry.save(model, metadata, predictions=predictions, promote=promote)
    log.info(
        "%s %s registered %s %s; %s; %s",
        c.symbol,
        kind,
        record.name,
        record.version,
        card_verdict(card),
        why,
    )
    return TrainResult(record, promote, why)
