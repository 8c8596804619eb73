"""The signal record: one coin's call (or NO EDGE, or STALE) and each member model's part in it.

**STALE.** A call is about the ``horizon`` candles after the last closed one. Once the last
closed candle is older than that (``now - close > horizon x timeframe``) the call is about a past
that has already happened, so :meth:`Signal.at` turns it into STALE: no direction, no
confidence, and the reason in words. A NO EDGE signal stays NO EDGE (it called nothing anyway)
with ``stale`` set. ``now`` is injected: the edge's clock (:class:`core.context.Context`, which
honours ``CRYPTOVOLT_NOW`` for tests and replays).

**Training window.** Each member carries the span of candles it learned from and was tested on
and when it was trained; :attr:`Signal.past_training` is how far the signal's candle lies past
the last candle any member saw, and :attr:`Signal.far_past_training` says when that is more than
:data:`FAR_PAST_TRAINING` (the market it learned may be gone).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import pandas as pd

from core.config import Interval
from core.signals.ensemble import SignalKind

__all__ = ["FAR_PAST_TRAINING", "ModelVote", "Signal"]

#: A signal applied to candles this far past its models' data gets a warning.
FAR_PAST_TRAINING = pd.Timedelta(days=30)


def _utc(value: Any) -> pd.Timestamp:
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _time(value: Any) -> pd.Timestamp | None:
    """A UTC timestamp from an ISO string (None when missing or unreadable)."""
    if value is None or value == "":
        return None
    try:
        stamp = pd.Timestamp(value)
    except ValueError:
        return None
    return None if pd.isna(stamp) else _utc(stamp)


#: The fields of a signal that makes no call (NO EDGE, STALE): no confidence, no counts.
NO_NUMBERS: dict[str, Any] = {
    "confidence": None,
    "interval": (None, None),
    "support": 0,
    "base_rate": None,
    "test_hit_rate": None,
    "test_support": 0,
    "ece_out_of_time": None,
    "strength": 0.0,
    "bucket": None,
}

#: A stale signal's expected move is about hours that have already passed: hidden.
NO_MOVE: dict[str, Any] = {"expected_move": None, "vol_regime": None, "position_size": None}


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
    #: First / last candle it was fitted on, last candle it was tested on, when it was trained.
    trained_from: pd.Timestamp | None = None
    trained_to: pd.Timestamp | None = None
    tested_to: pd.Timestamp | None = None
    trained_at: pd.Timestamp | None = None

    @classmethod
    def window_of(cls, record: Any) -> dict[str, pd.Timestamp | None]:
        """``trained_from / trained_to / tested_to / trained_at`` of a
        :class:`~core.registry.metadata.ModelMetadata` (its split, else its data range)."""
        split, data = record.split or {}, record.data or {}
        train, test = split.get("train") or {}, split.get("test") or {}
        return {
            "trained_from": _time(train.get("start") or data.get("start")),
            "trained_to": _time(train.get("end") or data.get("end")),
            "tested_to": _time(test.get("end") or data.get("end")),
            "trained_at": _time(record.created_at),
        }

    def to_dict(self) -> dict[str, Any]:
        def iso(t: pd.Timestamp | None) -> str | None:
            return None if t is None else t.isoformat()

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
            "trained_from": iso(self.trained_from),
            "trained_to": iso(self.trained_to),
            "tested_to": iso(self.tested_to),
            "trained_at": iso(self.trained_at),
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
    #: The last closed candle is older than the horizon (judged at ``as_of``, see :meth:`at`).
    stale: bool = False
    as_of: pd.Timestamp | None = None
    #: From a passing volatility model (core.volatility), whatever the direction; STALE hides
    #: them. ``{"6h": {"sigma": s, "bands": {"50": [lo, hi], "80": ..., "90": ...}}, "24h": ...}``
    #: in fractional returns.
    expected_move: dict[str, Any] | None = None
    #: ``{"percentile": p, "label": "low" | "normal" | "high", ...}`` within the last year.
    vol_regime: dict[str, Any] | None = None
    #: Fraction of capital for the volatility target (``SignalConfig.vol_target``), at most 1.
    position_size: float | None = None
    vol_model: str | None = None
    vol_note: str | None = None

    @property
    def step(self) -> pd.Timedelta:
        return pd.Timedelta(milliseconds=Interval.parse(self.timeframe).milliseconds)

    @property
    def closed_at(self) -> pd.Timestamp:
        """When the last candle closed (its open time + one timeframe)."""
        return _utc(self.candle_time) + self.step

    @property
    def age(self) -> pd.Timedelta | None:
        """How long before ``as_of`` the last candle closed (None until judged)."""
        return None if self.as_of is None else self.as_of - self.closed_at

    @property
    def stale_after(self) -> pd.Timedelta:
        """A call is stale once its last candle is older than this: ``horizon`` candles."""
        return self.horizon * self.step

    @property
    def seen_to(self) -> pd.Timestamp | None:
        """The last candle any member was trained or tested on."""
        ends = [t for v in self.votes for t in (v.tested_to, v.trained_to) if t is not None]
        return max(ends) if ends else None

    @property
    def past_training(self) -> pd.Timedelta | None:
        """How far the signal's candle lies past :attr:`seen_to` (None: unknown)."""
        seen = self.seen_to
        return None if seen is None else self.closed_at - seen

    @property
    def far_past_training(self) -> bool:
        gap = self.past_training
        return gap is not None and gap > FAR_PAST_TRAINING

    def at(self, now: datetime | pd.Timestamp) -> Signal:
        """This signal judged at ``now``: a call on a last candle older than the horizon becomes
        STALE (no direction, no confidence, members do not vote); NO EDGE keeps its reason and
        gets ``stale=True``. A STALE signal stays STALE (only new candles make a fresh one)."""
        now = _utc(now)
        stale = self.stale or now - self.closed_at > self.stale_after
        if not stale:
            return replace(self, stale=False, as_of=now)
        if self.signal in (SignalKind.NO_EDGE, SignalKind.STALE):
            return replace(self, **NO_MOVE, stale=True, as_of=now)
        why = (
            f"The last closed candle ({self.closed_at:%Y-%m-%d %H:%M} UTC) is older than the "
            f"signal's horizon of {self.horizon} x {self.timeframe}, so a call on it would be "
            "about the past: top the candles up to get a signal."
        )
        votes = tuple(
            replace(v, vote=None, reason="stale candles: no vote") if v.passed else v
            for v in self.votes
        )
        return replace(
            self,
            signal=SignalKind.STALE,
            reason=why,
            **NO_NUMBERS,
            **NO_MOVE,
            votes=votes,
            stale=True,
            as_of=now,
        )

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
        if self.signal is SignalKind.STALE:
            return "no call: the last closed candle is older than the horizon"
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
            "stale": self.stale,
            "as_of": None if self.as_of is None else self.as_of.isoformat(),
            "age_hours": None if self.age is None else round(self.age.total_seconds() / 3600, 2),
            "seen_to": None if self.seen_to is None else self.seen_to.isoformat(),
            "far_past_training": self.far_past_training,
            "gates_passed": self.gates_passed,
            "models": self.models,
            "votes": [v.to_dict() for v in self.votes],
            "expected_move": self.expected_move,
            "vol_regime": self.vol_regime,
            "position_size": self.position_size,
            "vol_model": self.vol_model,
            "vol_note": self.vol_note,
        }
