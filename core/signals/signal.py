"""The signal record: one coin's call (or NO EDGE) and each member model's part in it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from core.signals.ensemble import SignalKind

__all__ = ["ModelVote", "Signal", "SignalKind"]


@dataclass(frozen=True)
class ModelVote:
    """One member's part in a signal."""

    kind: str
    label: str
    name: str
    version: str
    output: float | None
    edge: float | None
    vote: SignalKind | None  # None: does not vote (gates failed)
    passed: bool
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "label": self.label,
            "name": self.name,
            "version": self.version,
            "output": self.output,
            "edge": self.edge,
            "vote": None if self.vote is None else self.vote.value,
            "gates_passed": self.passed,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Signal:
    """One coin's signal. Probabilities and changes are fractions (0.51 = 51%)."""

    symbol: str
    signal: SignalKind
    reason: str | None
    confidence: float | None
    interval: tuple[float | None, float | None]
    support: int
    base_rate: float | None
    test_hit_rate: float | None
    test_support: int
    ece_out_of_time: float | None
    strength: float
    bucket: int | None
    buckets: int
    horizon: int
    neutral_band: float
    timeframe: str
    price: float
    candle_time: pd.Timestamp
    votes: tuple[ModelVote, ...]

    @property
    def models(self) -> dict[str, str]:
        """``{model name: version}`` of every member shown."""
        return {v.name: v.version for v in self.votes}

    @property
    def gates_passed(self) -> dict[str, bool]:
        return {v.name: v.passed for v in self.votes}

    @property
    def meaning(self) -> str:
        """What a hit is for this call, in words."""
        after = f"{self.horizon} candle{'s' if self.horizon != 1 else ''} ({self.timeframe}) later"
        if self.signal is SignalKind.BULLISH:
            return f"the close {after} is above {self.price:,.6g}"
        if self.signal is SignalKind.BEARISH:
            return f"the close {after} is below {self.price:,.6g}"
        if self.signal is SignalKind.NEUTRAL:
            return f"the close {after} is within ±{self.neutral_band:.2%} of {self.price:,.6g}"
        return "no call: no model has shown an edge out of sample"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: enums as strings, times as ISO 8601 UTC."""
        return {
            "symbol": self.symbol,
            "signal": self.signal.value,
            "reason": self.reason,
            "confidence": self.confidence,
            "interval": list(self.interval),
            "support": self.support,
            "base_rate": self.base_rate,
            "test_hit_rate": self.test_hit_rate,
            "test_support": self.test_support,
            "ece_out_of_time": self.ece_out_of_time,
            "strength": round(self.strength, 4),
            "bucket": self.bucket,
            "buckets": self.buckets,
            "horizon": self.horizon,
            "neutral_band": self.neutral_band,
            "timeframe": self.timeframe,
            "price": self.price,
            "candle_time": self.candle_time.isoformat(),
            "gates_passed": self.gates_passed,
            "models": self.models,
            "votes": [v.to_dict() for v in self.votes],
        }
