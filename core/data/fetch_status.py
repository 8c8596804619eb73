"""What a fetch reports: per-coin progress events and results, and whether stored candles are
up to date, measured against the last closed candle of the requested range."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

import pandas as pd

from core.clock import span_words
from core.config import Interval
from core.data import store

__all__ = [
    "FetchEvent",
    "FetchResult",
    "FetchStatus",
    "candle_range",
    "coverage_status",
    "data_age",
    "expected_candles",
    "failure_sentence",
    "now_ms",
    "to_ms",
]

_DAY_MS = 86_400_000


class FetchStatus(StrEnum):
    """How a coin ended: complete up to the last closed candle, short of it, failed, or in
    conflict (new candles that do not fit the stored ones were held in quarantine, not stored:
    :mod:`core.data.quarantine`)."""

    UP_TO_DATE = "up to date"
    PARTIAL = "partial"
    FAILED = "failed"
    CONFLICT = "conflict"


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
    """The outcome of one coin: status, candles added, the reason in words, what is stored.

    ``seam`` is set (sentences from :func:`core.data.seam.find_seams`) when the new candles do
    not fit the stored ones (a price jump where they meet, or stored hours that disagree); the
    status is then ``conflict`` and those candles are held in quarantine, not stored.
    """

    symbol: str
    status: FetchStatus
    new_rows: int
    reason: str
    coverage: store.Coverage | None
    note: str = ""
    seam: str = ""


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


def data_age(
    last: pd.Timestamp | None,
    interval: str = "1h",
    *,
    now: datetime | None = None,
    when: Callable[[pd.Timestamp], str] | None = None,
) -> str:
    """How old stored candles are, in words: ``"ends 2025-05-30 23:00 UTC, 553 days old"``, or
    ``"nothing is stored yet"``. Age counts from the end of the last candle to ``now``; ``when``
    writes the last candle's time (default UTC; the dashboard passes the viewer's zone)."""
    if last is None:
        return "nothing is stored yet"
    end = to_ms(last) + Interval.parse(interval).milliseconds
    age_h = max(0.0, (now_ms(now) - end) / 3_600_000)
    if age_h < 1:
        words = "less than an hour old"
    elif age_h < 48:
        words = f"{age_h:.0f} hour{'s' if round(age_h) != 1 else ''} old"
    else:  # the words every page uses for an age (a card, the verdict line)
        words = f"{span_words(pd.Timedelta(hours=age_h))} old"
    ends = when(last) if when else f"{last:%Y-%m-%d %H:%M} UTC"
    return f"the stored candles end {ends}, {words}"


def failure_sentence(
    symbol: str,
    reason: str,
    last: pd.Timestamp | None,
    interval: str = "1h",
    *,
    now: datetime | None = None,
) -> str:
    """A failed coin in one sentence: what failed and what to do (``reason``, from the fetch),
    and how old the candles already stored are."""
    what = reason.strip().rstrip(".") or "the fetch failed"
    if not what.lower().startswith(symbol.lower()):
        what = f"{symbol} failed: {what}"
    return f"{what}; {data_age(last, interval, now=now)}."
