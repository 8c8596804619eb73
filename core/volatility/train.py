"""Train, card and register a coin's volatility model: the training flow of the volatility kinds
(``vol_har``, ``vol_gbm`` and their pooled forms, registered in :mod:`core.models`), which
``python -m core train --models vol_har`` reaches through :func:`train_kind`.

One call evaluates the estimator with :func:`core.volatility.evaluate_coin` (chronological split,
purge, fit on training rows, bands calibrated before the test window), writes the card — QLIKE,
log-MSE and R² beside every baseline, the DM-HLN p-values, band coverage by level and by third of
forecast volatility, Kupiec / Christoffersen, width against a static band — and registers the
model in the model registry under ``vol_{estimator}_{symbol}``. The version is promoted when it
is the first, when forced, or when its gates pass and its mean QLIKE beats the champion's.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core.config import Interval, Paths
from core.context import Context
from core.data.coins import ensure_tradeable, parse_coin
from core.data.store import drop_open_candles, load_candles, normalize_candles
from core.errors import ConfigError, NoDataError
from core.models.base import Output
from core.registry.calibration import BandCalibration
from core.registry.gates import card_verdict
from core.registry.horizons import CardCoverage, HorizonRecord
from core.registry.metadata import (
    Evaluation,
    Gate,
    ModelCard,
    ModelMetadata,
    Scores,
)
from core.registry.model_registry import ModelRegistry
from core.registry.names import model_name
from core.registry.promotion import Comparison, promotion
from core.training.provenance import candles_sha256, library_versions, training_log
from core.training.records import TrainResult
from core.volatility.evaluate import VolEvaluation, evaluate_coin
from core.volatility.features import HORIZONS, attach_reference, reference_symbol
from core.volatility.intraday import attach_subhourly, target_interval, target_note
from core.volatility.model import VolatilityModel

__all__ = [
    "GARMAN_KLASS",
    "VOL_KINDS",
    "VolTrainResult",
    "attach_stored_reference",
    "build_vol_card",
    "load_volatility_model",
    "train_kind",
    "train_volatility",
    "train_volatility_pooled",
    "vol_kind",
    "volatility_kinds",
]

log = logging.getLogger("core.training.train")

#: ``target["realised_variance"]`` of a model judged on hourly Garman–Klass variance (else the
#: sub-hourly interval, ``"5m"``).
GARMAN_KLASS = "1h_garman_klass"


def volatility_kinds() -> dict[str, str]:
    """The registered volatility kinds by estimator name: ``{"har": "vol_har", "pooled_har":
    "vol_pooled_har", ...}`` (one registry of kinds: :mod:`core.models`)."""
    from core.models import kind_info, kinds

    out: dict[str, str] = {}
    for name in kinds():
        info = kind_info(name)
        if info.output is Output.VOLATILITY:
            est = str(getattr(info.config_class(), "estimator", ""))
            out[f"pooled_{est}" if info.pooled else est] = name
    return out


#: The registry's model types of the volatility models, by estimator (``pooled_*``: one model
#: fit on every coin's training rows, registered per coin).
VOL_KINDS: dict[str, str] = volatility_kinds()


def vol_kind(estimator: str) -> str:
    """``har`` → ``vol_har``. Raises ValueError for an unknown estimator."""
    kinds = volatility_kinds()
    try:
        return kinds[estimator.removeprefix("vol_")]
    except KeyError:
        raise ValueError(
            f"Unknown volatility estimator {estimator!r}: use one of {', '.join(kinds)}."
        ) from None


def _config(kind: str, config: Any, horizons: tuple[int, ...], test_fraction: float) -> Any:
    from core.models import config_class

    if config is not None:
        return config
    return config_class(kind)(horizons=horizons, test_fraction=test_fraction)


def train_kind(
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
) -> list[TrainResult]:
    """The training flow of a volatility kind (``Kind.trainer``): per coin of ``symbols`` (a
    pooled kind: one fit over all of them), evaluate, card and register; one
    :class:`~core.training.records.TrainResult` per coin.

    Raises: as :func:`train_volatility`; ConfigError for candles other than 1h.
    """
    from core.training.records import Stage

    if interval != "1h":
        raise ConfigError(
            f"{kind.name} forecasts hourly realised variance: train it on 1h candles, not "
            f"{interval} (--interval 1h)."
        )

    def say(stage: Stage, step: int, total: int, message: str) -> None:
        if emit is not None:
            emit(kind.name, stage, step, total, message)

    given = dict(candles or {})
    say(Stage.FITTING, 0, 1, "fitting, banding and scoring every horizon")
    if kind.pooled:
        out = train_volatility_pooled(
            symbols,
            estimator=kind.name,
            force=force,
            registry=registry,
            candles=given,
            config=config,
            paths=paths,
        )
    else:
        out = [
            train_volatility(
                s,
                estimator=kind.name,
                force=force,
                registry=registry,
                candles=given.get(s),
                config=config,
                paths=paths,
            )
            for s in symbols
        ]
    say(
        Stage.SAVING, 1, 1, ", ".join(f"registered {r.record.name} {r.record.version}" for r in out)
    )
    return [TrainResult(r.record, r.promoted, r.why) for r in out]


@dataclass(frozen=True)
class VolTrainResult:
    record: ModelMetadata
    promoted: bool
    why: str
    evaluation: VolEvaluation


def build_vol_card(ev: VolEvaluation) -> ModelCard:
    """The card: per horizon metrics (``6h_qlike``...), baselines (``6h_ewma_qlike``...),
    gates (``6h_qlike_vs_best_baseline``...) and ``coverage[horizon][level]``."""
    metrics: dict[str, Any] = {}
    baselines: dict[str, Any] = {}
    gates: dict[str, Gate] = {}
    for key, r in ev.horizons.items():
        for name, scores in r.scores.items():
            target = metrics if name == "model" else baselines
            prefix = key if name == "model" else f"{key}_{name}"
            for metric, value in scores.items():
                target[f"{prefix}_{metric}"] = value
            if name != "model":
                target[f"{prefix}_dm_p"] = r.dm[name]["p_value"]
        metrics[f"{key}_best_baseline"] = r.best_baseline
        for name, g in r.gates.items():
            gates[f"{key}_{name}"] = Gate(
                g["value"], g["threshold"], g["passed"], f"{key}: {g['rule']}"
            )
    notes = (
        "Volatility model: it never votes on direction; a passing horizon shows the expected "
        "move, the volatility regime and a position size on the coin's card.",
    )
    return ModelCard(
        output="volatility",
        metrics=Scores(extra=metrics),
        baselines=Scores(extra=baselines),
        gates=gates,
        notes=notes,
        coverage=CardCoverage(ev.coverage),
        bands={
            key: BandCalibration(
                coverage_terciles=r.coverage_terciles,
                static_coverage_terciles=r.static_terciles,
                tests=r.tests,
                width_ratio=r.width_ratio,
            )
            for key, r in ev.horizons.items()
        },
    )


def _times(frame: pd.DataFrame) -> dict[str, str | None]:
    if frame.empty:
        return {"start": None, "end": None}
    return {
        "start": pd.Timestamp(frame["open_time"].iloc[0]).isoformat(),
        "end": pd.Timestamp(frame["open_time"].iloc[-1]).isoformat(),
    }


def _mean_qlike(card: ModelCard | None) -> float:
    if card is None:
        return float("inf")
    values = [
        v for k, v in card.metrics.as_dict().items() if k.endswith("_qlike") and v is not None
    ]
    return float(np.mean(values)) if values else float("inf")


#: A volatility card beats its champion's with a lower mean QLIKE over its horizons.
QLIKE = Comparison(
    beats=lambda new, old: _mean_qlike(new) < _mean_qlike(old),
    loses="its QLIKE does not beat",
    wins="its QLIKE is lower",
)


def train_volatility(
    symbol: str,
    *,
    estimator: str = "har",
    horizons: tuple[int, ...] = HORIZONS,
    test_fraction: float = 0.2,
    force: bool = False,
    registry: ModelRegistry | None = None,
    candles: pd.DataFrame | None = None,
    config: Any = None,
    paths: Paths | None = None,
) -> VolTrainResult:
    """Evaluate, card and register one coin's volatility model (1h candles). ``config`` (the
    kind's settings dataclass) replaces ``horizons`` and ``test_fraction`` when given. ``paths``:
    the home's folders (the edge's ``context.paths``; left out, a notebook's call, those of the
    home :meth:`core.context.Context.from_env` names, resolved here once).

    Raises:
        InvalidSymbolError / StablecoinError: a bad symbol or a stablecoin.
        NoDataError: no stored candles (the message says how to fetch them).
        InsufficientDataError: too few candles for the split.
        ValueError: an unknown estimator.
    """
    started = time.monotonic()
    kind = vol_kind(estimator)
    cfg = _config(kind, config, horizons, test_fraction)
    est = cfg.estimator
    from core.models import kind_info

    if kind_info(kind).pooled:
        raise ValueError(f"{kind} is trained over every coin at once: use train_volatility_pooled.")
    coin = parse_coin(symbol)
    ensure_tradeable(coin.symbol)
    paths = paths or Context.from_env().paths
    registry = registry or ModelRegistry(paths.models)
    with training_log(log, logs=paths.logs):
        candles = _candles(coin.symbol, candles, paths=paths)
        candles, cfg, left_out = attach_stored_reference(coin.symbol, candles, cfg, {}, paths=paths)
        ev = evaluate_coin(
            candles,
            estimator=est,
            horizons=cfg.horizons,
            test_fraction=cfg.test_fraction,
            calibration_fraction=cfg.calibration_fraction,
            params=cfg.estimator_params(),
        )
        return _register(
            coin.symbol,
            kind,
            ev,
            candles,
            registry,
            force=force,
            config=cfg,
            started=started,
            left_out=left_out,
        )


def train_volatility_pooled(
    symbols: Sequence[str],
    *,
    estimator: str = "har",
    horizons: tuple[int, ...] = HORIZONS,
    test_fraction: float = 0.2,
    force: bool = False,
    registry: ModelRegistry | None = None,
    candles: Mapping[str, pd.DataFrame] | None = None,
    config: Any = None,
    paths: Paths | None = None,
) -> list[VolTrainResult]:
    """One ``estimator`` fit on the training rows of every coin in ``symbols`` (inputs
    normalised per coin, :mod:`core.volatility.pooled`), registered per coin as
    ``vol_pooled_{estimator}_{symbol}`` with the coin's own card on its own test window.

    Raises: as :func:`train_volatility`.
    """
    from core.volatility.pooled import evaluate_pooled

    started = time.monotonic()
    est = estimator.removeprefix("vol_").removeprefix("pooled_")
    kind = vol_kind(f"pooled_{est}")
    cfg = _config(kind, config, horizons, test_fraction)
    coins = [parse_coin(s).symbol for s in symbols]
    for symbol in coins:
        ensure_tradeable(symbol)
    paths = paths or Context.from_env().paths
    registry = registry or ModelRegistry(paths.models)
    given = dict(candles or {})
    with training_log(log, logs=paths.logs):
        frames = {s: _candles(s, given.get(s), paths=paths) for s in coins}
        left_out: dict[str, str] = {}
        attached = {}
        for s in coins:
            attached[s], _, missing = attach_stored_reference(
                s, frames[s], cfg, {**given, **frames}, paths=paths
            )
            left_out |= missing
        if left_out:  # one pooled model reads the same inputs on every coin: none reads them
            cfg = replace(cfg, cross_asset=False)
        else:
            frames = attached
        evaluations = evaluate_pooled(
            frames,
            estimator=cfg.estimator,
            horizons=cfg.horizons,
            test_fraction=cfg.test_fraction,
            calibration_fraction=cfg.calibration_fraction,
            params=cfg.estimator_params(),
        )
        return [
            _register(
                s,
                kind,
                evaluations[s],
                frames[s],
                registry,
                force=force,
                config=cfg,
                started=started,
                pooled=coins,
                left_out=left_out,
            )
            for s in coins
        ]


def _candles(symbol: str, candles: pd.DataFrame | None, *, paths: Paths) -> pd.DataFrame:
    if candles is None:
        candles = load_candles(symbol, Interval.parse("1h"), paths=paths)
    else:
        candles = drop_open_candles(normalize_candles(candles))
    return attach_subhourly(
        symbol, candles, paths=paths
    )  # the target's stored 5m RV, when it covers


def attach_stored_reference(
    symbol: str,
    candles: pd.DataFrame,
    config: Any,
    given: Mapping[str, pd.DataFrame] | None = None,
    *,
    paths: Paths | None = None,
) -> tuple[pd.DataFrame, Any, dict[str, str]]:
    """``candles`` with the reference coin's attached when ``config`` reads cross-asset inputs
    (``cross_asset``), from ``given`` or the store of the home ``paths`` describes. A reference that is not stored or ends more
    than ``REFERENCE_SLACK`` candles before the coin's last (as for the direction kinds) is left
    out: ``config`` without the cross-asset inputs, and a sentence saying so and what to fetch."""
    if not getattr(config, "cross_asset", False) or candles.empty:
        return candles, config, {}
    from core.training.train import REFERENCE_SLACK

    ref = reference_symbol(symbol)
    frame = (given or {}).get(ref)
    if frame is None:
        try:
            frame = load_candles(ref, Interval.parse("1h"), paths=paths)
        except NoDataError:
            frame = None
    else:
        frame = drop_open_candles(normalize_candles(frame))
    last = pd.Timestamp(candles["open_time"].iloc[-1])
    ends = pd.Timestamp(frame["open_time"].iloc[-1]) if frame is not None and len(frame) else None
    if ends is not None and ends >= last - pd.Timedelta(hours=REFERENCE_SLACK):
        return attach_reference(candles, ref, frame), config, {}
    seen = "is not stored" if ends is None else f"ends {ends:%Y-%m-%d %H:%M} UTC"
    sentence = (
        f"{ref} {seen}, before {symbol}'s last candle ({last:%Y-%m-%d %H:%M} UTC): trained "
        f"without the {ref} inputs (cross-asset). Fetch {ref} (`python -m core fetch --coins "
        f"{parse_coin(ref).base}`) and train again to use them."
    )
    log.warning("%s: %s", symbol, sentence)
    return candles, replace(config, cross_asset=False), {ref: sentence}


def _register(
    symbol: str,
    kind: str,
    ev: VolEvaluation,
    candles: pd.DataFrame,
    registry: ModelRegistry,
    *,
    force: bool,
    config: Any,
    started: float,
    pooled: list[str] | None = None,
    left_out: Mapping[str, str] | None = None,
) -> VolTrainResult:
    from core.volatility.features import attached_reference

    horizons, test_fraction = config.horizons, config.test_fraction
    reference = attached_reference(candles)
    model = VolatilityModel.from_evaluation(
        ev, reference=reference.symbol if reference is not None else None
    )
    card = build_vol_card(ev)
    note = target_note(candles)  # None: hourly Garman–Klass, no sub-hourly candles stored
    if note is not None:
        card = replace(card, notes=(*card.notes, note))
    if left_out:
        card = replace(card, notes=(*card.notes, *left_out.values()))
    frames = [r.frame.assign(horizon=key) for key, r in ev.horizons.items()]
    predictions = pd.concat(frames, ignore_index=True)
    first = next(iter(ev.horizons.values()))
    metadata = ModelMetadata(
        name=model_name(kind, symbol),
        version="",  # the registry hands out the version number
        symbol=symbol,
        interval="1h",
        model_type=kind,
        data={
            "start": pd.Timestamp(candles["open_time"].iloc[0]).isoformat(),
            "end": pd.Timestamp(candles["open_time"].iloc[-1]).isoformat(),
            "rows": len(candles),
            "sha256": candles_sha256(candles),
            "context": [reference.symbol] if reference is not None else [],
        }
        | ({"context_left_out": dict(left_out)} if left_out else {}),
        features=tuple(first.estimator.features),
        target={
            "column": ",".join(f"target_lrv_{h}h" for h in horizons),
            "horizon": max(horizons),
            "signal_horizon": max(horizons),
            "predicts": "volatility",
            # which realised variance the card judged (the monitor judges live forecasts in it)
            "realised_variance": target_interval(candles) or GARMAN_KLASS,
        },
        params=model.params()
        | {"settings": config.estimator_params()}
        | ({"pooled_over": pooled} if pooled else {}),
        split={
            "test_fraction": test_fraction,
            "purge": max(horizons),
            "test": _times(first.frame),
            **{f"{key}_rows": r.rows for key, r in ev.horizons.items()},
        },
        metrics=Evaluation(test=card.metrics.as_dict(), baseline=card.baselines.as_dict()),
        vote=None,
        card=card,
        library_versions=library_versions(),
        train_seconds=round(time.monotonic() - started, 2),
        volatility={key: HorizonRecord.from_dict(r.to_dict()) for key, r in ev.horizons.items()},
    )
    promote, why = promotion(registry, model_name(kind, symbol), card, QLIKE, force=force)
    record = registry.save(model, metadata, predictions=predictions, promote=promote)
    log.info(
        "%s %s registered %s %s in %.1fs; %s; %s",
        symbol,
        kind,
        record.name,
        record.version,
        metadata.train_seconds,
        card_verdict(card),
        why,
    )
    return VolTrainResult(record, promote, why, ev)


def load_volatility_model(
    registry: ModelRegistry, symbol: str, estimator: str, version: str | None = None
) -> tuple[VolatilityModel, ModelMetadata]:
    """A coin's promoted (or named) volatility model and its record, checksums verified.

    Raises:
        ModelNotFoundError: no such model.
        IntegrityError: an artifact changed since it was saved.
    """
    name = model_name(vol_kind(estimator), parse_coin(symbol).symbol)
    label = version or registry.promoted_version(name)
    registry.verify(name, label)
    record = registry.record(name, label)
    return VolatilityModel.load(Path(registry.root) / name / label), record
