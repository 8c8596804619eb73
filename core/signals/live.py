"""Live ensemble signals per coin: BULLISH / BEARISH / NEUTRAL with a calibrated confidence.

For each coin the promoted XGBoost and LSTM versions are loaded from the registry with their saved
out-of-sample predictions. The rule and what a hit means are in :mod:`core.signals.ensemble`; in short:

* XGBoost votes up / down when its probability of "+1% within ``horizon`` candles" is
  ``xgb_margin`` above / below the base rate of that target; the LSTM votes up / down when its
  next-close forecast return is beyond ``lstm_min_return``; BULLISH when the votes sum above zero,
  BEARISH below, NEUTRAL at zero (both abstain or they contradict).
* ``confidence`` is the hit rate of that same rule on the saved out-of-sample predictions, among
  calls of the same kind and similar strength, and ``support`` is how many calls it rests on.
  BULLISH is a hit when the close ``horizon`` candles later is above the close the call was made
  at, BEARISH when below, NEUTRAL when it moved less than ``neutral_band``. No floor, no formula.
* A coin with one model type uses that model alone; ``agree`` is then None.

``candle_time`` is the open time (UTC) of the last closed candle the signal was computed on.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from core.config import SignalConfig, TargetConfig
from core.data.coins import DEFAULT_COINS, parse_coin
from core.errors import CryptoVoltError, ModelNotFoundError, NoDataError
from core.signals.ensemble import (
    Calibration,
    SignalKind,
    build_calibration,
    combine_votes,
    lstm_votes,
    xgb_votes,
)

__all__ = [
    "XGBOOST",
    "LSTM",
    "CoinModels",
    "Signal",
    "SignalKind",
    "compute_signal",
    "compute_signals",
    "load_coin_models",
    "promoted_versions",
    "signal_from_models",
    "symbols_with_models",
]

XGBOOST = "xgboost"
LSTM = "lstm"
_VOTE_KIND = {1: SignalKind.BULLISH, -1: SignalKind.BEARISH, 0: SignalKind.NEUTRAL}

#: ``loader(name, version) -> model``: how a model object is obtained (the UI passes a cached one).
ModelLoader = Callable[[str, str], Any]


@dataclass(frozen=True)
class Signal:
    """One coin's signal. Probabilities and changes are fractions (0.51 = 51%)."""

    symbol: str
    signal: SignalKind
    confidence: float | None
    support: int
    base_rate: float | None
    strength: float
    bucket: int | None
    buckets: int
    horizon: int
    neutral_band: float
    interval: str
    price: float
    candle_time: pd.Timestamp
    xgb_probability: float | None
    xgb_base_rate: float | None
    xgb_target: str | None
    xgb_vote: SignalKind | None
    lstm_forecast: float | None
    lstm_change: float | None
    lstm_vote: SignalKind | None
    agree: bool | None
    models: dict[str, str]

    @property
    def meaning(self) -> str:
        """What a hit is for this call, in words."""
        after = f"{self.horizon} candle{'s' if self.horizon != 1 else ''} ({self.interval}) later"
        if self.signal is SignalKind.BULLISH:
            return f"the close {after} is above {self.price:,.6g}"
        if self.signal is SignalKind.BEARISH:
            return f"the close {after} is below {self.price:,.6g}"
        return f"the close {after} is within ±{self.neutral_band:.2%} of {self.price:,.6g}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: enums as strings, times as ISO 8601 UTC."""
        return {
            "symbol": self.symbol,
            "signal": self.signal.value,
            "confidence": self.confidence,
            "support": self.support,
            "base_rate": self.base_rate,
            "strength": round(self.strength, 4),
            "bucket": self.bucket,
            "buckets": self.buckets,
            "horizon": self.horizon,
            "neutral_band": self.neutral_band,
            "interval": self.interval,
            "price": self.price,
            "candle_time": self.candle_time.isoformat(),
            "xgb_probability": self.xgb_probability,
            "xgb_base_rate": self.xgb_base_rate,
            "xgb_target": self.xgb_target,
            "xgb_vote": None if self.xgb_vote is None else self.xgb_vote.value,
            "lstm_forecast": self.lstm_forecast,
            "lstm_change": self.lstm_change,
            "lstm_vote": None if self.lstm_vote is None else self.lstm_vote.value,
            "agree": self.agree,
            "models": dict(self.models),
        }


@dataclass(frozen=True)
class CoinModels:
    """Everything a coin's live signal needs, loaded once: models, versions and calibration."""

    symbol: str
    interval: str
    xgb: Any | None
    lstm: Any | None
    models: dict[str, str]
    base_rate: float | None
    calibration: Calibration
    config: SignalConfig
    xgb_target: str | None = None


def _model_name(kind: str, symbol: str) -> str:
    from core.registry.model_registry import model_name  # the registry owns the naming scheme

    return model_name(kind, symbol)


def _target_horizon(meta: Mapping[str, Any]) -> int:
    target = meta.get("target")
    if isinstance(target, Mapping) and target.get("horizon"):
        return int(target["horizon"])
    if isinstance(target, str) and (match := re.search(r"_(\d+)h$", target)):
        return int(match.group(1))
    return TargetConfig().horizon


def _target_text(meta: Mapping[str, Any]) -> str:
    """The XGBoost target in words, e.g. ``+1% in 6 candles``."""
    target = meta.get("target")
    threshold = target.get("threshold") if isinstance(target, Mapping) else None
    if not threshold:
        return str(target.get("column") if isinstance(target, Mapping) else target)
    return f"+{threshold * 100:g}% in {_target_horizon(meta)} candles"


def _train_base_rate(meta: Mapping[str, Any]) -> float | None:
    """The target's base rate on training rows, if training recorded it."""
    metrics = meta.get("metrics") or {}
    for section in (metrics.get("baseline") or {}, metrics.get("train") or {}, metrics):
        if not isinstance(section, Mapping):
            continue
        for key in ("train_base_rate", "base_rate", "positive_rate"):
            value = section.get(key)
            if isinstance(value, int | float) and 0 < value < 1:
                return float(value)
    return None


def promoted_versions(registry: Any, symbol: str) -> dict[str, str]:
    """``{model name: promoted version}`` of a coin's XGBoost and LSTM (empty if none)."""
    symbol = parse_coin(symbol).symbol
    out: dict[str, str] = {}
    for kind in (XGBOOST, LSTM):
        name = _model_name(kind, symbol)
        try:
            out[name] = str(registry.promoted_version(name))
        except ModelNotFoundError:
            continue
    return out


def symbols_with_models(registry: Any) -> list[str]:
    """Coins that have at least one promoted model, default coins first, then alphabetical."""
    found = {str(m["symbol"]) for m in registry.list_models() if m.get("promoted")}
    order = {s: i for i, s in enumerate(DEFAULT_COINS)}
    return sorted(found, key=lambda s: (order.get(s, len(order)), s))


def load_coin_models(
    symbol: str,
    registry: Any,
    *,
    versions: Mapping[str, str] | None = None,
    config: SignalConfig | None = None,
    loader: ModelLoader | None = None,
) -> CoinModels:
    """Load a coin's models (promoted versions unless ``versions`` names them) and calibrate.

    Raises:
        ModelNotFoundError: the coin has neither an XGBoost nor an LSTM model.
        IntegrityError: an artifact's checksum does not match (from the registry).
    """
    config = config or SignalConfig()
    symbol = parse_coin(symbol).symbol
    versions = dict(versions) if versions is not None else promoted_versions(registry, symbol)
    if not versions:
        raise ModelNotFoundError(
            f"No trained models for {symbol}. Train it first: the Training page, or "
            f"`python -m core train --coins {parse_coin(symbol).base}`."
        )
    load = loader or (lambda name, version: registry.get_model(name, version))
    loaded: dict[str, tuple[Any, dict, pd.DataFrame]] = {}
    for kind in (XGBOOST, LSTM):
        name = _model_name(kind, symbol)
        if name in versions:
            meta = registry.get_metadata(name, versions[name])
            predictions = registry.get_predictions(name, versions[name])
            loaded[kind] = (load(name, versions[name]), meta, predictions)
    xgb_meta = loaded[XGBOOST][1] if XGBOOST in loaded else None
    first_meta = next(iter(loaded.values()))[1]
    interval = str(first_meta.get("interval", "1h"))
    horizon = config.horizon or (_target_horizon(xgb_meta) if xgb_meta else 1)
    base_rate = _train_base_rate(xgb_meta) if xgb_meta else None
    calibration = build_calibration(
        loaded[XGBOOST][2] if XGBOOST in loaded else None,
        loaded[LSTM][2] if LSTM in loaded else None,
        horizon=horizon,
        interval=interval,
        base_rate=base_rate,
        config=config,
    )
    return CoinModels(
        symbol=symbol,
        interval=interval,
        xgb=loaded[XGBOOST][0] if XGBOOST in loaded else None,
        lstm=loaded[LSTM][0] if LSTM in loaded else None,
        models={_model_name(k, symbol): str(loaded[k][1]["version"]) for k in loaded},
        base_rate=calibration.base_rate,
        calibration=calibration,
        config=config,
        xgb_target=_target_text(xgb_meta) if xgb_meta else None,
    )


def signal_from_models(models: CoinModels, candles: pd.DataFrame) -> Signal:
    """The signal for the last candle of ``candles`` (closed candles only, store schema).

    Raises:
        NoDataError: ``candles`` is empty.
        InsufficientDataError: too few candles for a model's look-back (from the model).
    """
    if candles.empty:
        raise NoDataError(f"No candles for {models.symbol}: fetch them first.")
    config = models.config
    calibration = models.calibration
    price = float(candles["close"].iloc[-1])
    probability = forecast = change = None
    xv = lv = None
    if models.xgb is not None:
        probability = float(models.xgb.predict_latest(candles))
        xv = xgb_votes(np.array([probability]), calibration.base_rate or 0.5, config.xgb_margin)
    if models.lstm is not None:
        forecast = float(models.lstm.predict_latest(candles))
        change = (forecast - price) / price
        lv = lstm_votes(np.array([change]), config.lstm_min_return)
    vote = int(combine_votes(xv, lv, require_agreement=config.require_agreement)[0])
    kind = _VOTE_KIND[vote]
    strength = calibration.strength(probability, change)
    confidence, support, bucket = calibration.lookup(kind, strength)
    return Signal(
        symbol=models.symbol,
        signal=kind,
        confidence=confidence,
        support=support,
        base_rate=calibration.outcome_base_rate(kind),
        strength=strength,
        bucket=bucket,
        buckets=config.strength_buckets,
        horizon=calibration.horizon,
        neutral_band=calibration.neutral_band,
        interval=models.interval,
        price=price,
        candle_time=pd.Timestamp(candles["open_time"].iloc[-1]),
        xgb_probability=probability,
        xgb_base_rate=calibration.base_rate if models.xgb is not None else None,
        xgb_target=models.xgb_target if models.xgb is not None else None,
        xgb_vote=None if xv is None else _VOTE_KIND[int(xv[0])],
        lstm_forecast=forecast,
        lstm_change=change,
        lstm_vote=None if lv is None else _VOTE_KIND[int(lv[0])],
        agree=None if xv is None or lv is None else bool(xv[0] == lv[0]),
        models=dict(models.models),
    )


def compute_signal(
    symbol: str, registry: Any, candles: pd.DataFrame, *, config: SignalConfig | None = None
) -> Signal:
    """Load a coin's promoted models and compute its signal on ``candles``.

    Raises:
        ModelNotFoundError: the coin has no trained model.
        NoDataError / InsufficientDataError: no or too few candles.
    """
    return signal_from_models(load_coin_models(symbol, registry, config=config), candles)


def compute_signals(
    registry: Any,
    symbols: Sequence[str] | None = None,
    *,
    candles: Mapping[str, pd.DataFrame] | None = None,
    config: SignalConfig | None = None,
    models: Callable[[str], CoinModels] | None = None,
) -> tuple[list[Signal], dict[str, str]]:
    """Signals for many coins (default: every coin with a promoted model).

    ``candles`` maps symbol → frame; missing coins are read from the store with the model's
    interval. ``models(symbol)`` supplies loaded :class:`CoinModels` (the UI's cache); by
    default they are loaded from ``registry``. Returns ``(signals, errors)`` where ``errors``
    maps a symbol to the message of the CryptoVoltError that stopped it, so one bad coin does
    not hide the others.
    """
    from core.data.store import load_candles

    chosen = symbols_with_models(registry) if symbols is None else list(symbols)
    signals: list[Signal] = []
    errors: dict[str, str] = {}
    for raw in chosen:
        symbol = parse_coin(raw).symbol
        try:
            bundle = models(symbol) if models else load_coin_models(symbol, registry, config=config)
            frame = (candles or {}).get(symbol)
            if frame is None:
                frame = load_candles(symbol, bundle.interval)
            signals.append(signal_from_models(bundle, frame))
        except CryptoVoltError as exc:
            errors[symbol] = str(exc)
    return signals, errors
