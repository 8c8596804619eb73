"""A coin's volatility model for the live signal: which one, and the card fields it gives.

Of a coin's promoted volatility models (``vol_har``, ``vol_gbm``), the one shown has the most
horizons whose every gate passed, then the lowest mean test QLIKE. Only passing horizons are
shown; a coin with none shows no expected move.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from core.config import Paths
from core.data.coins import parse_coin
from core.errors import CryptoVoltError, InsufficientDataError, ModelNotFoundError
from core.registry.metadata import ModelMetadata
from core.volatility.model import VOL_TARGET, VolatilityModel
from core.volatility.train import VOL_KINDS, load_volatility_model

if TYPE_CHECKING:
    from core.registry.model_registry import ModelRegistry

__all__ = [
    "LiveVolatility",
    "has_volatility_model",
    "load_live_volatility",
    "move_fields",
    "move_words",
    "volatility_versions",
]


@dataclass(frozen=True)
class LiveVolatility:
    """A loaded volatility model and its record."""

    model: VolatilityModel
    record: ModelMetadata

    @property
    def label(self) -> str:
        return f"{self.record.name} {self.record.version}"


def _mean_qlike(record: ModelMetadata) -> float:
    card = record.card
    if card is None:
        return float("inf")
    values = [
        v for k, v in card.metrics.as_dict().items() if k.endswith("_qlike") and v is not None
    ]
    return float(np.mean(values)) if values else float("inf")


def volatility_versions(registry: ModelRegistry, symbol: str) -> tuple[tuple[str, str], ...]:
    """``((model name, promoted version), ...)`` of the coin's volatility models (a cache key)."""
    from core.registry.names import model_name

    out = []
    for kind in VOL_KINDS.values():
        name = model_name(kind, parse_coin(symbol).symbol)
        try:
            out.append((name, str(registry.promoted_version(name))))
        except ModelNotFoundError:
            continue
    return tuple(out)


def has_volatility_model(registry: ModelRegistry, symbol: str) -> bool:
    """True when the coin has a promoted volatility model of any estimator, passing or not."""
    return bool(volatility_versions(registry, symbol))


def load_live_volatility(registry: ModelRegistry, symbol: str) -> LiveVolatility | None:
    """The coin's best promoted volatility model with at least one passing horizon, or None."""
    found: list[LiveVolatility] = []
    for estimator in VOL_KINDS:
        try:
            model, record = load_volatility_model(registry, symbol, estimator)
        except ModelNotFoundError:
            continue
        if model.passed_horizons:
            found.append(LiveVolatility(model, record))
    if not found:
        return None
    return min(found, key=lambda x: (-len(x.model.passed_horizons), _mean_qlike(x.record)))


def move_fields(
    live: LiveVolatility | None,
    candles: pd.DataFrame,
    *,
    vol_target: float = VOL_TARGET,
    paths: Paths | None = None,
) -> dict[str, Any]:
    """The Signal fields ``expected_move``, ``vol_regime``, ``position_size`` (+ ``vol_note``,
    ``vol_model``) for ``candles``' last closed candle; empty values when there is no passing
    model, a note when the candles cannot feed it."""
    empty: dict[str, Any] = {"expected_move": None, "vol_regime": None, "position_size": None}
    if live is None:
        return {**empty, "vol_note": "no volatility model passes its gates for this coin"}
    try:
        move = live.model.expected_move(candles, vol_target=vol_target, paths=paths)
    except (InsufficientDataError, CryptoVoltError) as exc:
        return {**empty, "vol_model": live.label, "vol_note": str(exc)}
    if move is None:
        return {**empty, "vol_model": live.label}
    return {
        "expected_move": move["expected_move"],
        "vol_regime": move["vol_regime"],
        "position_size": move["position_size"],
        "vol_model": live.label,
        "vol_note": f"position size: {move['position_basis']}",
    }


def _signed(value: float) -> str:
    return f"{value:+.2%}".replace("-", "−")


def move_words(signal: Any) -> list[str]:
    """The expected move of a signal in words, one line per fact (empty when it has none)."""
    move = getattr(signal, "expected_move", None)
    if not move:
        note = getattr(signal, "vol_note", None)
        stale = getattr(signal, "stale", False)
        return [f"Expected move: not shown ({note})"] if note and not stale else []
    lines = []
    for key, m in move.items():
        bands = m["bands"]
        lines.append(
            f"Expected move next {key.removesuffix('h')} h: 80% within "
            f"{_signed(bands['80'][0])} … {_signed(bands['80'][1])} (50%: "
            f"{_signed(bands['50'][0])} … {_signed(bands['50'][1])}, 90%: "
            f"{_signed(bands['90'][0])} … {_signed(bands['90'][1])}); forecast sd "
            f"{m['sigma']:.2%}"
        )
    regime = signal.vol_regime or {}
    if regime:
        lines.append(
            f"Volatility regime: {regime['label']} (above {regime['percentile']:.0%} of "
            f"the last year's {regime['horizon']} forecasts)"
        )
    if signal.position_size is not None:
        lines.append(
            f"Position size: {signal.position_size:.0%} of capital"
            + (f" ({signal.vol_note.removeprefix('position size: ')})" if signal.vol_note else "")
        )
    return lines
