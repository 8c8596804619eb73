"""What a fetch reports: per-coin progress events and results, and whether stored candles are
up to date, measured against the last closed candle of the requested range."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

import pandas as pd

from core.config import Interval
from core.data import store

__all__ = [
    "FetchEvent",
    "FetchResult",
    "FetchStatus",
    "candle_range",
    "coverage_status",
    "expected_candles",
    "now_ms",
    "to_ms",
]

_DAY_MS = 86_400_000


class FetchStatus(StrEnum):
    """How a coin ended: complete up to the last closed candle, short of it, or failed."""

    UP_TO_DATE = "up to date"
    PARTIAL = "partial"
    FAILED = "failed"


@dataclass(frozen=True)
class FetchEvent:
    """Progress of one coin. ``state`` is ``queued``, ``fetching`` or a :class:`FetchStatus`.

    ``fetched`` counts the coin's stored candles inside the requested range (so an up-to-date
    coin is at once complete), ``expected`` the candles the range holds; ``downloaded`` counts the
    candles received in this run (for candles per second).
    """

    symbol: str
    fetched: int
    expected: int
    state: str
    downloaded: int = 0
    message: str = ""


@dataclass(frozen=True)
class FetchResult:
    """The outcome of one coin: status, candles added, the reason in words, what is stored."""

    symbol: str
    status: FetchStatus
    new_rows: int
    reason: str
    coverage: store.Coverage | None
    note: str = ""


def to_ms(ts: pd.Timestamp) -> int:
    """A timestamp as epoch milliseconds."""
    return int(ts.value // 1_000_000)


def candle_range(now: int, days: int, step: int) -> tuple[int, int]:
    """(open time of the first candle in range, open time of the last closed candle), in ms."""
    last_closed = (now // step) * step - step
    first = ((now - days * _DAY_MS) // step) * step
    return first, last_closed


def now_ms(now: datetime | None = None) -> int:
    """``now`` (default: the current time; naive means UTC) as epoch milliseconds."""
    ts = pd.Timestamp(now or datetime.now(UTC))
    if ts.tzinfo is None:
        ts = ts.tz_localize("UTC")
    return to_ms(ts)


def expected_candles(
    *, days: int, interval: str | Interval = "1h", now: datetime | None = None
) -> int:
    """How many closed candles ``days`` back from ``now`` hold (17,520 for 730 days of 1h)."""
    step = Interval.parse(interval).milliseconds
    first, last = candle_range(now_ms(now), days, step)
    return max(0, (last - first) // step + 1)


def coverage_status(cov: store.Coverage, *, now: datetime | None = None) -> tuple[FetchStatus, str]:
    """Status of what is stored: up to date when the last closed candle is there.

    Returns ``(status, reason)``; the reason says in words what is missing or broken.
    """
    if cov.error:
        return FetchStatus.FAILED, cov.error
    if not cov.rows or cov.last is None:
        return FetchStatus.FAILED, "nothing stored yet"
    step = Interval.parse(cov.interval).milliseconds
    _, last_closed = candle_range(now_ms(now), 1, step)
    behind = (last_closed - to_ms(cov.last)) // step
    if behind <= 0:
        return FetchStatus.UP_TO_DATE, ""
    return (
        FetchStatus.PARTIAL,
        f"{behind:,} newer candle(s) not fetched yet (last {cov.last:%Y-%m-%d %H:%M} UTC)",
    )
