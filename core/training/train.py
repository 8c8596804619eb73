"""One coin end to end: candles → samples → chronological split → fit → walk-forward → card →
register, reporting :class:`TrainProgress` events on the way.

The flow is the same for every model kind (the model says how to make its samples and how it
votes, see :mod:`core.models.base`). Splits are drawn on the candle timeline, so every model of a
coin is tested on the same period: the test window is the most recent ``test_fraction`` and is
scored once; the walk-forward folds lie strictly inside the period before it, and every training
set ends ``horizon`` candles before its held-out window (purge). Each version carries its
out-of-sample predictions (folds and test) as ``predictions.parquet``, with the move over the
signal horizon and the ATR/close volatility score of every row, and a model card with gates
(:mod:`core.training.card`). A new version is promoted (champion / challenger) only when its
gates pass and it beats the current champion, when there is no champion yet, or with ``force``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from core.config import Interval, Paths, SignalConfig, SplitConfig, TargetConfig
from core.context import Context
from core.data.coins import ensure_tradeable, parse_coin
from core.data.store import drop_open_candles, load_candles, normalize_candles
from core.features.causal import compute_features, future_return
from core.models import DEFAULT_KINDS, config_class, create_model, kind_info, parse_kinds
from core.models.base import Dataset
from core.registry.gates import card_verdict
from core.registry.metadata import Evaluation, ModelMetadata
from core.registry.model_registry import ModelRegistry
from core.registry.names import model_name
from core.registry.promotion import promotion
from core.training.card import HEADLINE, build_card
from core.training.evaluate import Split, chronological_split, walk_forward_splits
from core.training.fit import WindowFit
from core.training.provenance import (
    candles_sha256,
    library_versions,
    mean_metrics,
    short_metrics,
    training_log,
)
from core.training.records import Stage, TrainProgress, TrainResult
from core.training.sizing import check_size, required_candles

__all__ = [
    "prediction_extras",
    "train_coin",
]

log = logging.getLogger("core.training.train")


def _settings(kinds: Sequence[str], settings: Mapping[str, Any] | None) -> dict[str, Any]:
    given = dict(settings or {})
    return {k: given.get(k) or config_class(k)() for k in kinds}


def _times(candles: pd.DataFrame, rows: np.ndarray) -> dict[str, str | None]:
    if len(rows) == 0:
        return {"start": None, "end": None}
    times = candles["open_time"].iloc[[int(rows[0]), int(rows[-1])]]
    return {"start": times.iloc[0].isoformat(), "end": times.iloc[1].isoformat()}


def _context(
    symbol: str,
    interval: str,
    cfgs: Mapping[str, Any],
    given: Mapping[str, pd.DataFrame] | None,
    *,
    paths: Paths,
) -> dict[str, pd.DataFrame] | None:
    """Other coins' candles for kinds with cross-asset inputs (the stored references)."""
    if given is not None:
        return dict(given)
    if not any(kind_info(k).recipe.needs_context(cfg) for k, cfg in cfgs.items()):
        return None
    from core.features.context import load_references

    return load_references(interval, paths=paths)


#: How many candles a reference coin may end before the coin's last candle and still be an input:
#: the rows after its end lack that input and are left out of the samples, so a longer shortfall
#: would shrink (or empty) the test window, which is the most recent stretch.
REFERENCE_SLACK = 24


def _usable_context(
    symbol: str, candles: pd.DataFrame, refs: dict[str, pd.DataFrame] | None, interval: Interval
) -> tuple[dict[str, pd.DataFrame] | None, dict[str, str]]:
    """``refs`` without the reference coins that end more than :data:`REFERENCE_SLACK` candles
    before ``candles`` do, and for each one left out a sentence saying so and what to fetch."""
    if not refs or candles.empty:
        return refs, {}
    last = pd.Timestamp(candles["open_time"].iloc[-1])
    reach = last - REFERENCE_SLACK * pd.Timedelta(milliseconds=interval.milliseconds)
    kept: dict[str, pd.DataFrame] = {}
    left_out: dict[str, str] = {}
    for ref, frame in refs.items():
        ends = pd.Timestamp(frame["open_time"].iloc[-1]) if len(frame) else None
        if ref == symbol or (ends is not None and ends >= reach):
            kept[ref] = frame
            continue
        seen = "has no candles" if ends is None else f"ends {ends:%Y-%m-%d %H:%M} UTC"
        left_out[ref] = (
            f"{ref} {seen}, before {symbol}'s last candle ({last:%Y-%m-%d %H:%M} UTC): trained "
            f"without the {ref} inputs. Fetch {ref} (`python -m core fetch --coins "
            f"{parse_coin(ref).base}`) and train again to use them."
        )
    return kept, left_out


def prediction_extras(candles: pd.DataFrame, horizon: int) -> dict[str, np.ndarray]:
    """Per-candle columns every prediction row carries: the move over the signal horizon (what a
    call is judged on) and ATR/close (the volatility baseline's score)."""
    return {
        "future_return": future_return(candles, horizon),
        "vol_score": compute_features(candles)["feat_atr_14_ratio"].to_numpy(dtype="float64"),
    }


def train_coin(
    symbol: str,
    *,
    models: Sequence[str] | str = DEFAULT_KINDS,
    interval: str | Interval = "1h",
    target: TargetConfig = TargetConfig(),  # noqa: B008 (frozen, so a shared default is safe)
    split: SplitConfig = SplitConfig(),  # noqa: B008 (frozen, so a shared default is safe)
    settings: Mapping[str, Any] | None = None,
    signal: SignalConfig = SignalConfig(),  # noqa: B008 (frozen, so a shared default is safe)
    force: bool = False,
    registry: ModelRegistry | None = None,
    progress: Callable[[TrainProgress], None] | None = None,
    candles: pd.DataFrame | None = None,
    context: Mapping[str, pd.DataFrame] | None = None,
    pool: Sequence[str] | None = None,
    paths: Paths | None = None,
) -> list[TrainResult]:
    """Train, evaluate, card and register each of ``models`` (kind names) for one coin.

    A kind with its own training flow (``Kind.trainer``: the volatility kinds) runs it; a pooled
    kind is fit once over ``pool`` (default: every coin stored at ``interval``) and returns one
    result per coin of the pool.

    ``settings`` maps a kind to its settings dataclass (the kind's defaults otherwise);
    ``candles`` (store schema) replaces loading the stored ones, ``context`` the stored reference
    coins (BTC, ETH) for cross-asset inputs. ``force`` promotes every new version whatever its
    gates say. ``paths``: the home's folders (the edge's ``context.paths``): its candles, its
    ``logs/model_training.log`` and, unless ``registry`` is given, its registry. Left out (a
    notebook's ``train_coin("BTC")``), those of the home :meth:`core.context.Context.from_env`
    names, resolved here once. Returns one :class:`TrainResult` per kind, in ``models`` order.

    Raises:
        InvalidSymbolError / StablecoinError: a bad symbol, or a stablecoin (nothing to learn).
        NoDataError: no stored candles (the message says how to fetch them).
        InsufficientDataError: too few candles for these settings (says how many are needed).
        ConfigError: an unknown model kind.
    """
    coin = parse_coin(symbol)
    ensure_tradeable(coin.symbol)
    interval = Interval.parse(interval)
    kinds = parse_kinds(models)
    cfgs = _settings(kinds, settings)
    paths = paths or Context.from_env().paths
    registry = registry or ModelRegistry(paths.models)

    def emit(
        kind: str | None,
        stage: Stage,
        step: int = 0,
        total: int = 0,
        message: str = "",
        metrics: dict[str, float] | None = None,
    ) -> None:
        if progress is not None:
            event = TrainProgress(coin.symbol, kind, stage, step, total, message, metrics or {})
            progress(event)

    with training_log(log, logs=paths.logs):
        emit(None, Stage.LOADING, message=f"loading {coin.symbol} {interval.value} candles")
        if candles is None:
            candles = load_candles(coin.symbol, interval, paths=paths)
        else:
            candles = drop_open_candles(normalize_candles(candles))
        needs = {k: required_candles(k, target=target, split=split, config=cfgs[k]) for k in kinds}
        check_size(coin.symbol, interval.value, len(candles), needs)
        refs, left_out = _usable_context(
            coin.symbol,
            candles,
            _context(coin.symbol, interval.value, cfgs, context, paths=paths),
            interval,
        )
        for sentence in left_out.values():
            log.warning("%s: %s", coin.symbol, sentence)
        data = {
            **_times(candles, np.array([0, len(candles) - 1])),
            "rows": len(candles),
            "sha256": candles_sha256(candles),
            "context": sorted(refs or {}),
        } | ({"context_left_out": left_out} if left_out else {})
        log.info(
            "%s: training %s on %d candles %s → %s",
            coin.symbol,
            ",".join(kinds),
            len(candles),
            data["start"],
            data["end"],
        )
        shared = [k for k in kinds if kind_info(k).trainer is None]
        extras = prediction_extras(candles, target.horizon) if shared else {}
        job = _Job(coin.symbol, interval, target, split, signal, force, data, registry, emit)
        results: list[TrainResult] = []
        for kind in kinds:
            info = kind_info(kind)
            own = info.train_function()
            if own is None:
                results.append(job.train(kind, cfgs[kind], candles, refs, extras))
                continue
            coins = (
                _pool(coin.symbol, interval, pool, paths=paths) if info.pooled else [coin.symbol]
            )
            results += own(
                info,
                coins,
                cfgs[kind],
                registry=registry,
                paths=paths,
                force=force,
                interval=interval.value,
                candles={coin.symbol: candles},
                emit=emit,
            )
        emit(None, Stage.DONE, 1, 1, "done")
    return results


def _pool(
    symbol: str, interval: Interval, pool: Sequence[str] | None, *, paths: Paths
) -> list[str]:
    """The coins a pooled kind is fit over: ``pool``, else every coin stored at ``interval``;
    ``symbol`` first either way."""
    if pool:
        coins = [parse_coin(s).symbol for s in pool]
    else:
        from core.data.store import list_stored

        coins = sorted(s for s, i in list_stored(paths=paths) if i == interval.value)
    return list(dict.fromkeys([symbol, *coins]))


@dataclass(frozen=True)
class _Job:
    symbol: str
    interval: Interval
    target: TargetConfig
    split: SplitConfig
    signal: SignalConfig
    force: bool
    data: dict[str, Any]
    registry: ModelRegistry
    emit: Callable[..., None]

    def train(
        self,
        kind: str,
        cfg: Any,
        candles: pd.DataFrame,
        context: Mapping[str, pd.DataFrame] | None,
        extras: Mapping[str, np.ndarray],
    ) -> TrainResult:
        started = time.monotonic()
        emit, split, symbol = self.emit, self.split, self.symbol
        fit = WindowFit(kind, cfg, emit, extras)
        emit(kind, Stage.FEATURES, message="computing inputs and targets")
        ds = create_model(kind, cfg).make_dataset(candles, target=self.target, context=context)
        test_split = chronological_split(
            len(candles), test_fraction=split.test_fraction, horizon=ds.horizon
        )
        vf = split.validation_fraction
        emit(kind, Stage.FITTING, 0, 1, "fitting")
        model, scores, test_frame = fit(ds, test_split, vf, Stage.FITTING, "step ")
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
            kind,
            short_metrics(scores["metrics"]),
            short_metrics(scores["baseline"]),
            scores["skill"],
        )
        frames, folds = self._walk_forward(kind, cfg, ds, test_split, fit, candles)
        fold_frame = pd.concat(frames, ignore_index=True) if frames else None
        predictions = pd.concat([*frames, test_frame], ignore_index=True)
        card = build_card(
            model.output, test_frame, fold_frame, column=model.output_name, horizon=ds.horizon
        )
        log.info("%s %s card: %s", symbol, kind, card_verdict(card))
        test_rows = test_split.locate(ds.position)
        metrics: dict[str, Any] = {
            "test": scores["metrics"],
            "baseline": scores["baseline"],
            "skill": scores["skill"],
            "skill_basis": "1 - Brier / Brier of the training base rate"
            if model.task == "classification"
            else "1 - MAE / MAE of persistence",
            "walk_forward": folds,
            "walk_forward_mean": mean_metrics(folds),
        }
        if not folds:
            metrics["walk_forward_note"] = (
                f"walk-forward is off for this model ({type(cfg).__name__}.walk_forward = False)"
            )
        metadata = ModelMetadata(
            name=model_name(kind, symbol),
            version="",  # the registry hands out the version number
            symbol=symbol,
            interval=self.interval.value,
            model_type=kind,
            data=self.data,
            features=tuple(ds.features),
            target={
                "column": ds.target,
                "horizon": ds.horizon,
                "signal_horizon": self.target.horizon,
            }
            | ({"threshold": self.target.threshold} if ds.target == self.target.column else {}),
            params=model.params(),
            split={
                **asdict(split),
                "purge": ds.horizon,
                "train": _times(candles, ds.position[test_rows.train]),
                "test": _times(candles, ds.position[test_rows.test]),
                **{f"{k}_rows": v for k, v in scores["rows"].items() if k != "purge"},
            },
            metrics=Evaluation.from_dict(metrics),
            training=model.summary(),
            vote=model.vote_rule(self.signal),
            card=card,
            library_versions=library_versions(),
            train_seconds=round(time.monotonic() - started, 2),
        )
        promote, why = promotion(
            self.registry, model_name(kind, self.symbol), card, HEADLINE, force=self.force
        )
        emit(kind, Stage.SAVING, 0, 1, "registering")
        record = self.registry.save(model, metadata, predictions=predictions, promote=promote)
        emit(kind, Stage.SAVING, 1, 1, f"registered {record.name} {record.version}")
        log.info(
            "%s %s registered %s %s in %.1fs; %s",
            symbol,
            kind,
            record.name,
            record.version,
            metadata.train_seconds,
            why,
        )
        return TrainResult(record, promote, why)

    def _walk_forward(
        self,
        kind: str,
        cfg: Any,
        ds: Dataset,
        test_split: Split,
        fit: WindowFit,
        candles: pd.DataFrame,
    ) -> tuple[list[pd.DataFrame], list[dict[str, Any]]]:
        """Expanding folds strictly before the test window: they end one purge (the longer of
        the label's and the signal's horizon) before it, so no fold label or judged call reaches
        into the test window."""
        if not getattr(cfg, "walk_forward", True):
            return [], []
        purge = max(ds.horizon, self.target.horizon)
        region = int(test_split.test[0]) - purge
        fold_splits = walk_forward_splits(region, folds=self.split.folds, horizon=ds.horizon)
        frames, folds = [], []
        total = len(fold_splits)
        for k, fold in enumerate(fold_splits, start=1):
            self.emit(kind, Stage.WALK_FORWARD, k - 1, total, f"fold {k}/{total}")
            _, fold_scores, frame = fit(
                ds, fold, self.split.validation_fraction, Stage.WALK_FORWARD, f"fold {k}/{total}: "
            )
            frames.append(frame)
            folds.append({"fold": fold.name, **_times(candles, fold.test), **fold_scores})
            log.info(
                "%s %s %s: %s | skill %s",
                self.symbol,
                kind,
                fold.name,
                short_metrics(fold_scores["metrics"]),
                fold_scores["skill"],
            )
        self.emit(kind, Stage.WALK_FORWARD, total, total, "walk-forward done")
        return frames, folds
