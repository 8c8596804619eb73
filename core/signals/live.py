"""Live signals per coin: BULLISH / BEARISH / NEUTRAL with an out-of-time confidence, or NO EDGE.

For each coin every promoted version (any kind) is loaded from the registry with its saved
out-of-sample predictions and its model card. Members whose gates passed vote (the rule is in
:mod:`core.signals.ensemble`); the others are shown with the reason they abstain. A coin with no
passing member is **NO EDGE**, with the reason: never a direction made of noise.

``confidence`` is the shrunk hit rate of the same rule on earlier out-of-sample calls (the
walk-forward folds) among calls of the same kind and similar strength, with its Wilson
``interval``, the number of calls behind it (``support``) and ``base_rate``: how often the called
outcome happened anyway. ``test_hit_rate`` is how that cell did on the later test window.
A passing probability model votes only when it also survives Holm's correction over the family
of every coin x probability kind champion (:mod:`core.training.family`). A BULLISH / BEARISH
call whose cell's out-of-time record does not lie above its base rate is not
shown: the coin is NO EDGE with the reason in words (:func:`~core.signals.ensemble.withheld`).
``candle_time`` is the open time (UTC) of the last closed candle the signal was computed on.
Every signal is judged at ``now`` (default: the system clock; the edges pass theirs): on a last
candle older than its horizon it is STALE (:meth:`Signal.at`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from core.clock import SystemClock
from core.config import Paths, SignalConfig, TargetConfig
from core.data.coins import DEFAULT_COINS, parse_coin
from core.errors import CryptoVoltError, InsufficientDataError, ModelNotFoundError, NoDataError
from core.models import kind_info, kinds, voting_kinds
from core.registry.gates import version_verdict
from core.registry.metadata import ModelMetadata
from core.signals.ensemble import (
    FROM_VOTE,
    Calibration,
    Member,
    SignalKind,
    build_calibration,
    combine_votes,
    withheld,
)
from core.signals.signal import NO_NUMBERS, ModelVote, Signal
from core.training.family import direction_family

if TYPE_CHECKING:
    from core.registry.model_registry import ModelRegistry

__all__ = [
    "CoinModels",
    "compute_signal",
    "compute_signals",
    "load_coin_models",
    "promoted_versions",
    "signal_from_models",
    "symbols_with_models",
]

#: ``loader(name, version) -> model``: how a model object is obtained (the UI passes a cached one).
ModelLoader = Callable[[str, str], Any]


@dataclass(frozen=True)
class Loaded:
    """A member with its loaded model object and record."""

    member: Member
    model: Any
    record: ModelMetadata


@dataclass(frozen=True)
class CoinModels:
    """Everything a coin's live signal needs, loaded once: members, calibration, settings."""

    symbol: str
    timeframe: str
    loaded: tuple[Loaded, ...]
    calibration: Calibration | None
    config: SignalConfig
    horizon: int
    #: The coin's passing volatility model (core.volatility.live.LiveVolatility), if any.
    volatility: Any = None

    @property
    def voting(self) -> tuple[Loaded, ...]:
        return tuple(x for x in self.loaded if x.member.passed)

    @property
    def models(self) -> dict[str, str]:
        return {x.member.name: x.member.version for x in self.loaded}


def _model_name(kind: str, symbol: str) -> str:
    from core.registry.names import model_name  # the registry owns the naming scheme

    return model_name(kind, symbol)


def promoted_versions(registry: ModelRegistry, symbol: str) -> dict[str, str]:
    """``{model name: promoted version}`` of a coin's direction models of every kind that votes
    (empty if none)."""
    symbol = parse_coin(symbol).symbol
    out: dict[str, str] = {}
    for kind in voting_kinds():  # a volatility model never votes: CoinModels.volatility
        name = _model_name(kind, symbol)
        try:
            out[name] = str(registry.promoted_version(name))
        except ModelNotFoundError:
            continue
    return out


def symbols_with_models(registry: ModelRegistry) -> list[str]:
    """Coins that have at least one promoted model, default coins first, then alphabetical."""
    found = {r.symbol for r in registry.records() if r.promoted}
    order = {s: i for i, s in enumerate(DEFAULT_COINS)}
    return sorted(found, key=lambda s: (order.get(s, len(order)), s))


def load_coin_models(
    symbol: str,
    registry: ModelRegistry,
    *,
    versions: Mapping[str, str] | None = None,
    config: SignalConfig | None = None,
    loader: ModelLoader | None = None,
) -> CoinModels:
    """Load a coin's members (promoted versions unless ``versions`` names them) and calibrate
    the rule of those whose gates passed.

    Raises:
        ModelNotFoundError: the coin has no model of any kind.
        IntegrityError: an artifact's checksum does not match (from the registry).
    """
    config = config or SignalConfig()
    symbol = parse_coin(symbol).symbol
    versions = dict(versions) if versions is not None else promoted_versions(registry, symbol)
    from core.volatility.live import has_volatility_model, load_live_volatility

    if not versions and has_volatility_model(registry, symbol):
        # Only volatility models: no direction (NO EDGE), the expected move all the same.
        horizon = config.horizon or TargetConfig().horizon
        vol = load_live_volatility(registry, symbol)
        return CoinModels(symbol, "1h", (), None, config, horizon, volatility=vol)
    if not versions:
        raise ModelNotFoundError(
            f"No trained models for {symbol}. Train it first: the Training page, or "
            f"`python -m core train --coins {parse_coin(symbol).base}`."
        )
    load = loader or (lambda name, version: registry.get_model(name, version))
    family = direction_family(registry)
    loaded: list[Loaded] = []
    for name, version in versions.items():
        record = registry.record(name, version)
        predictions = registry.get_predictions(name, version)
        passed = record.gates_passed and record.vote is not None
        passed = passed and "future_return" in predictions
        in_family = family.judge(name) if passed else None
        passed = passed and in_family is None
        member = Member(
            kind=record.model_type,
            name=name,
            version=record.version,
            rule=record.vote or _no_vote(),
            output_name=_output_name(record, predictions),
            predictions=predictions,
            passed=passed,
            reason="votes: its gates pass" if passed else in_family or version_verdict(record),
        )
        loaded.append(Loaded(member, load(name, version), record))
    order = {k: i for i, k in enumerate(kinds())}
    loaded.sort(key=lambda x: order.get(x.member.kind, len(order)))
    horizon = config.horizon or max(x.record.signal_horizon for x in loaded)
    voting = [x.member for x in loaded if x.member.passed]
    calibration = build_calibration(voting, horizon=horizon, config=config) if voting else None
    return CoinModels(
        symbol=symbol,
        timeframe=loaded[0].record.interval,
        loaded=tuple(loaded),
        calibration=calibration,
        config=config,
        horizon=horizon,
        volatility=load_live_volatility(registry, symbol),
    )


def _no_vote() -> Any:
    from core.models.base import Output, VoteRule

    return VoteRule(Output.PROBABILITY, margin=1.0, reference=0.0)


def _output_name(record: ModelMetadata, predictions: pd.DataFrame) -> str:
    """The output column of a version's predictions (the first that is not bookkeeping)."""
    for column in ("probability", "forecast_return", "forecast"):
        if column in predictions:
            return column
    skip = {"open_time", "split", "close", "actual", "future_return", "vol_score"}
    return str(next(c for c in predictions.columns if c not in skip))


def _context_for(
    models: CoinModels, given: Mapping[str, pd.DataFrame] | None, paths: Paths | None
) -> Any:
    wanted = {s for x in models.loaded for s in getattr(x.model, "context_symbols_", ()) or ()}
    if not wanted or given is not None:
        return given
    from core.features.context import load_references

    return load_references(models.timeframe, paths=paths)


def signal_from_models(
    models: CoinModels,
    candles: pd.DataFrame,
    *,
    context: Mapping[str, pd.DataFrame] | None = None,
    now: datetime | None = None,
    paths: Paths | None = None,
) -> Signal:
    """The signal for the last candle of ``candles`` (closed candles only, store schema), judged
    at ``now`` (default: the system clock): STALE when that candle is older than the horizon.

    Raises:
        NoDataError: ``candles`` is empty.
        InsufficientDataError: too few candles for a voting model's look-back (from the model).
    """
    if candles.empty:
        raise NoDataError(f"No candles for {models.symbol}: fetch them first.")
    config = models.config
    price = float(candles["close"].iloc[-1])
    context = _context_for(models, context, paths)
    shown: list[ModelVote] = []
    edges: dict[str, np.ndarray] = {}
    vote_values: list[int] = []
    for x in models.loaded:
        m = x.member
        output = edge = None
        vote: SignalKind | None = None
        reason: str = m.reason
        try:
            output = float(x.model.predict_latest(candles, context=context))
            edge = float(m.rule.edge(np.array([output]), np.array([price]))[0])
        except InsufficientDataError as exc:
            if m.passed:
                raise
            reason = f"{reason}; no output on these candles ({exc})"
        if m.passed and edge is not None:
            v = int(m.rule.votes(np.array([edge]))[0])
            vote = FROM_VOTE[v]
            vote_values.append(v)
            edges[m.kind] = np.array([edge])
        shown.append(
            ModelVote(
                m.kind,
                kind_info(m.kind).label,
                m.name,
                m.version,
                output,
                edge,
                vote,
                m.passed,
                reason,
                **ModelVote.window_of(x.record),
            )
        )
    from core.volatility.live import move_fields

    moves = move_fields(models.volatility, candles, vol_target=config.vol_target, paths=paths)
    common = dict(
        **moves,
        symbol=models.symbol,
        buckets=config.strength_buckets,
        horizon=models.horizon,
        neutral_band=config.neutral_band,
        timeframe=models.timeframe,
        price=price,
        candle_time=pd.Timestamp(candles["open_time"].iloc[-1]),
        votes=tuple(shown),
    )
    when = now if now is not None else SystemClock().now()
    cal = models.calibration
    if cal is None or not vote_values:
        failed = "; ".join(f"{v.label}: {v.reason}" for v in shown) or "no direction model trained"
        return Signal(
            signal=SignalKind.NO_EDGE,
            reason=f"No model beats its baselines out of sample ({failed}).",
            **NO_NUMBERS,
            **common,
        ).at(when)
    total = combine_votes(np.array([vote_values]), require_agreement=config.require_agreement)
    kind = FROM_VOTE[int(total[0])]
    strength = float(cal.strengths(edges)[0])
    conf = cal.lookup(kind, strength)
    why_not = withheld(kind, conf)
    if why_not is not None:  # a call its own record does not back: worse than none (rule 11)
        return Signal(signal=SignalKind.NO_EDGE, reason=why_not, **NO_NUMBERS, **common).at(when)
    missing = f"No earlier out-of-sample {kind.value} calls to measure a confidence on."
    return Signal(
        signal=kind,
        reason=missing if conf.value is None else None,
        confidence=conf.value,
        interval=(conf.low, conf.high),
        support=conf.support,
        base_rate=conf.base_rate,
        test_hit_rate=conf.test_hit_rate,
        test_support=conf.test_support,
        ece_out_of_time=cal.ece_out_of_time,
        strength=strength,
        bucket=conf.bucket,
        **common,
    ).at(when)


def compute_signal(
    symbol: str,
    registry: ModelRegistry,
    candles: pd.DataFrame,
    *,
    config: SignalConfig | None = None,
    now: datetime | None = None,
    paths: Paths | None = None,
) -> Signal:
    """Load a coin's promoted models and compute its signal on ``candles`` (judged at ``now``).

    Raises:
        ModelNotFoundError: the coin has no trained model.
        NoDataError / InsufficientDataError: no or too few candles.
    """
    models = load_coin_models(symbol, registry, config=config)
    return signal_from_models(models, candles, now=now, paths=paths)


def compute_signals(
    registry: ModelRegistry,
    symbols: Sequence[str] | None = None,
    *,
    candles: Mapping[str, pd.DataFrame] | None = None,
    config: SignalConfig | None = None,
    models: Callable[[str], CoinModels] | None = None,
    now: datetime | None = None,
    paths: Paths | None = None,
) -> tuple[list[Signal], dict[str, str]]:
    """Signals for many coins (default: every coin with a promoted model), judged at ``now``.

    ``candles`` maps symbol → frame; missing coins are read from the store (of the home
    ``paths`` describes) with the model's interval. ``models(symbol)`` supplies loaded :class:`CoinModels` (the UI's cache); by
    default they are loaded from ``registry``. Returns ``(signals, errors)`` where ``errors``
    maps a symbol to the message of the CryptoVoltError that stopped it, so one bad coin does
    not hide the others.
    """
    from core.data.store import load_candles

    chosen = symbols_with_models(registry) if symbols is None else list(symbols)
    signals: list[Signal] = []
    errors: dict[str, str] = {}
    given = dict(candles or {})
    for raw in chosen:
        symbol = parse_coin(raw).symbol
        try:
            bundle = models(symbol) if models else load_coin_models(symbol, registry, config=config)
            frame = given.get(symbol)
            if frame is None:
                frame = load_candles(symbol, bundle.timeframe, paths=paths)
            context = given or None
            signals.append(signal_from_models(bundle, frame, context=context, now=now, paths=paths))
        except CryptoVoltError as exc:
            errors[symbol] = str(exc)
    return signals, errors
