"""Live scores of resolved calls: hit rate per kind of call beside the promised rate, and each
probability member's live log loss and Brier score beside its base rate.

A window is the calls whose candle opened in ``(end - days, end]``. The **promised** rate of a
kind is the mean confidence those calls were shown with, and its interval the mean of their
Wilson bounds (what the Signals page said at call time, recorded in the journal). The live rate
gets its own 95% Wilson interval (:func:`core.training.stats.wilson_interval`) on the
*effective* number of calls: hourly calls judged six candles later share five of their six
hours with the next call, so they are not independent draws. The interval counts ``n / overlap``
calls, where ``overlap`` (1 to ``horizon``) is how many calls of that kind a horizon holds at
their median spacing; otherwise a short streak would look significant. A kind is
**below its promise** when the live rate is under the promised interval *and* the live interval
lies wholly under the promised rate, so a short unlucky run on few calls does not count.

For a probability member the event is the one its record's target names (the close ``horizon``
candles later above the call's price, or at least ``threshold`` above it); the base rate is the
member's training base rate (its vote rule's reference), known at call time, so the comparison is
out of time. The live gate is the card's: log loss below the base rate's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from core.monitor.calls import CALL_KINDS
from core.registry.metadata import ClassifierBaselines, ClassifierMetrics
from core.training import stats

__all__ = [
    "KindRate",
    "MemberScore",
    "RecordLookup",
    "in_window",
    "kind_rates",
    "live_interval",
    "member_scores",
    "overlap_of",
]

#: ``lookup(name, version) -> ModelMetadata | None``.
RecordLookup = Callable[[str, str], Any]


def _mean(values: pd.Series) -> float | None:
    values = pd.to_numeric(values, errors="coerce").dropna()
    return float(values.mean()) if len(values) else None


def in_window(calls: pd.DataFrame, end: pd.Timestamp, days: int) -> pd.DataFrame:
    """The rows of ``calls`` whose candle opened in ``(end - days, end]``."""
    times = pd.to_datetime(calls["candle_time"], utc=True)
    return calls[(times > end - pd.Timedelta(days=days)) & (times <= end)]


@dataclass(frozen=True)
class KindRate:
    """One kind of call's live hit rate over a window, beside what was promised."""

    kind: str
    days: int
    calls: int
    hits: int
    rate: float | None
    low: float | None
    high: float | None
    promised: float | None
    promised_low: float | None
    promised_high: float | None
    base_rate: float | None
    effective_calls: float = 0.0

    @property
    def below_promise(self) -> bool:
        """True when the live rate is under the promised interval and its own interval lies
        wholly under the promised rate (see the module docstring)."""
        if self.rate is None or self.high is None or self.promised is None:
            return False
        floor = self.promised if self.promised_low is None else self.promised_low
        return self.rate < floor and self.high < self.promised

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "below_promise": self.below_promise}


def kind_rates(resolved: pd.DataFrame, *, end: pd.Timestamp, days: int) -> tuple[KindRate, ...]:
    """Per kind of call (BULLISH, BEARISH, NEUTRAL) the live rate of ``resolved`` calls (status
    "hit" / "miss") in the window ending at ``end``."""
    window = in_window(resolved, end, days)
    out = []
    for kind in CALL_KINDS:
        rows = window[window["signal"] == kind]
        n, k = len(rows), int((rows["status"] == "hit").sum())
        overlap = overlap_of(rows)
        low, high = live_interval(k, n, overlap)
        out.append(
            KindRate(
                kind=kind,
                days=days,
                calls=n,
                hits=k,
                rate=k / n if n else None,
                low=low,
                high=high,
                promised=_mean(rows["confidence"]),
                promised_low=_mean(rows["confidence_low"]),
                promised_high=_mean(rows["confidence_high"]),
                base_rate=_mean(rows["base_rate"]),
                effective_calls=round(n / overlap, 1) if n else 0.0,
            )
        )
    return tuple(out)


def live_interval(hits: int, n: int, overlap: float) -> tuple[float | None, float | None]:
    """The 95% Wilson interval of ``hits`` of ``n`` calls counted as ``n / overlap``
    independent ones (see the module docstring); ``(None, None)`` without calls."""
    if not n:
        return None, None
    n_eff = max(1, round(n / overlap))
    return stats.wilson_interval(min(n_eff, round(hits / overlap)), n_eff)


def overlap_of(rows: pd.DataFrame) -> float:
    """How many of these calls one horizon holds at their median spacing (1 to ``horizon``)."""
    from core.config import Interval

    horizon = pd.to_numeric(rows["horizon"], errors="coerce").dropna()
    if len(rows) < 2 or horizon.empty:
        return 1.0
    interval = str(rows["interval"].iloc[0]) if "interval" in rows else "1h"
    step = pd.Timedelta(milliseconds=Interval.parse(interval).milliseconds)
    times = pd.to_datetime(rows["candle_time"], utc=True).sort_values()
    gap = times.diff().dropna().median()
    if pd.isna(gap) or gap <= pd.Timedelta(0):
        return float(horizon.max())
    return float(min(max(horizon.median() * step / gap, 1.0), horizon.max()))


@dataclass(frozen=True)
class MemberScore:
    """A member's live probabilistic scores over a window (None where not measured)."""

    name: str
    version: str
    kind: str
    votes: bool
    days: int
    calls: int
    log_loss: float | None
    base_log_loss: float | None
    brier: float | None
    base_brier: float | None
    base_rate: float | None
    card_log_loss: float | None
    card_base_log_loss: float | None
    note: str = ""

    @property
    def live_gate_passed(self) -> bool | None:
        """The card's log-loss gate on the live window (None when not measured)."""
        if self.log_loss is None or self.base_log_loss is None:
            return None
        return self.log_loss < self.base_log_loss

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "live_gate_passed": self.live_gate_passed}


def _event(record: Any, move: np.ndarray) -> np.ndarray:
    threshold = record.target.get("threshold")
    return (move >= float(threshold)) if threshold is not None else (move > 0)


def _outputs(votes: pd.Series, name: str) -> np.ndarray:
    def one(row: Any) -> float:
        for vote in row if isinstance(row, list | tuple) else ():
            if vote.get("name") == name and vote.get("output") is not None:
                return float(vote["output"])
        return float("nan")

    return np.array([one(v) for v in votes], dtype="float64")


def _score(name: str, version: str, record: Any, window: pd.DataFrame, days: int) -> MemberScore:
    from core.models.base import Output

    card = record.card if record is not None else None
    blank: dict[str, Any] = dict(
        name=name,
        version=version,
        kind=getattr(record, "model_type", "?"),
        votes=bool(record is not None and record.gates_passed),
        days=days,
        calls=0,
        log_loss=None,
        base_log_loss=None,
        brier=None,
        base_brier=None,
        base_rate=None,
        card_log_loss=(
            card.metrics.log_loss if card and isinstance(card.metrics, ClassifierMetrics) else None
        ),
        card_base_log_loss=(
            card.baselines.log_loss
            if card and isinstance(card.baselines, ClassifierBaselines)
            else None
        ),
    )
    if record is None:
        return MemberScore(**blank, note="not in the registry any more")
    if record.vote is None or record.vote.output is not Output.PROBABILITY:
        return MemberScore(**blank, note="a forecaster: judged by the hit rates of its calls")
    horizons = set(pd.to_numeric(window["horizon"], errors="coerce").dropna().astype(int))
    if horizons and horizons != {record.horizon}:
        note = f"its target looks {record.horizon} candles ahead, the calls {sorted(horizons)}"
        return MemberScore(**blank, note=note)
    p = _outputs(window["votes"], name)
    move = pd.to_numeric(window["move"], errors="coerce").to_numpy(dtype="float64")
    ok = np.isfinite(p) & np.isfinite(move)
    if not ok.any():
        return MemberScore(**blank, note="no resolved call carries its probability")
    y = _event(record, move[ok]).astype("float64")
    p = np.clip(p[ok], 0.0, 1.0)
    base = float(record.vote.reference)
    constant = np.full(len(y), base)
    blank.update(
        calls=int(ok.sum()),
        log_loss=stats.log_loss(y, p),
        base_log_loss=stats.log_loss(y, constant),
        brier=stats.brier(y, p),
        base_brier=stats.brier(y, constant),
        base_rate=base,
    )
    return MemberScore(**blank)


def member_scores(
    resolved: pd.DataFrame,
    models: dict[str, str],
    records: RecordLookup,
    *,
    end: pd.Timestamp,
    days: int,
) -> tuple[MemberScore, ...]:
    """Each member's live log loss and Brier score (probability members) in the window."""
    window = in_window(resolved, end, days)
    return tuple(
        _score(name, version, records(name, version), window, days)
        for name, version in sorted(models.items())
    )
