"""The one clock: what time it is for signals, the watch loop, the monitor and job records.

Every stage asks a :class:`Clock` two things, ``now()`` and ``sleep(seconds)``: the
:class:`SystemClock`; a :class:`PinnedClock` that says it is a given time (``CRYPTOVOLT_NOW``, read
once at the edge by :func:`clock_from_env`: tests and replays of old data); or a
:class:`FileClock` that reads the time from a file (one ISO 8601 line, replaced atomically by
whoever moves it), whose ``sleep`` returns once the file's time has reached the wake-up time, so a
test can run three candle closes of the watch loop in seconds. :func:`next_wake` is when a cycle
should run: ``delay`` seconds after the next candle close.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

import pandas as pd

from core.atomic import atomic_write_text
from core.config import Interval
from core.errors import ConfigError

__all__ = [
    "NOW_ENV",
    "Clock",
    "FileClock",
    "PinnedClock",
    "SystemClock",
    "clock_from_env",
    "close_passed",
    "next_wake",
    "now_iso",
    "set_file_clock",
    "span_words",
]

#: ``CRYPTOVOLT_NOW=2025-05-30T12:00:00Z`` makes :func:`clock_from_env` pin the clock there.
NOW_ENV = "CRYPTOVOLT_NOW"


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...

    def sleep(self, seconds: float, stop: threading.Event | None = None) -> None:
        """Wait ``seconds`` of this clock's time (returns early when ``stop`` is set)."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float, stop: threading.Event | None = None) -> None:
        (stop or threading.Event()).wait(max(0.0, seconds))


class PinnedClock:
    """A clock that says it is ``when`` (UTC); ``sleep`` waits real seconds."""

    def __init__(self, when: datetime | pd.Timestamp) -> None:
        self.when: datetime = _utc(when).to_pydatetime()

    def now(self) -> datetime:
        return self.when

    def sleep(self, seconds: float, stop: threading.Event | None = None) -> None:
        (stop or threading.Event()).wait(max(0.0, seconds))


def clock_from_env(environ: Mapping[str, str]) -> Clock:
    """The clock a process runs on: pinned at ``CRYPTOVOLT_NOW`` (ISO 8601) when it is set in
    ``environ``, else the system clock. Called once, at the edge (:mod:`core.context`).

    Raises:
        ConfigError: ``CRYPTOVOLT_NOW`` is set but is not a time.
    """
    text = environ.get(NOW_ENV, "").strip()
    if not text:
        return SystemClock()
    try:
        stamp = pd.Timestamp(text)
    except ValueError:
        stamp = pd.NaT
    if pd.isna(stamp):
        raise ConfigError(
            f"{NOW_ENV}={text!r} is not a time: use ISO 8601 like 2025-05-30T12:00:00Z, "
            "or unset it to use the clock."
        )
    return PinnedClock(stamp)


def now_iso(clock: Clock | None = None) -> str:
    """``clock``'s time (default: the system clock) as ISO 8601 UTC to the second (how every
    job and study time is written)."""
    return (clock or SystemClock()).now().isoformat(timespec="seconds")


def _utc(value: datetime | pd.Timestamp | str) -> pd.Timestamp:
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


class FileClock:
    """Time read from ``path`` (one ISO 8601 timestamp); ``sleep`` polls it every ``poll`` s."""

    def __init__(self, path: Path, *, poll: float = 0.05) -> None:
        self.path = Path(path)
        self.poll = poll

    def now(self) -> datetime:
        try:
            text = self.path.read_text(encoding="utf-8").strip()
            stamp = pd.Timestamp(text)
        except (OSError, ValueError) as exc:
            raise ConfigError(
                f"clock file {self.path} does not hold an ISO 8601 time ({exc}); write one, "
                "e.g. 2025-03-01T12:00:05+00:00."
            ) from None
        stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
        when: datetime = stamp.to_pydatetime()
        return when

    def sleep(self, seconds: float, stop: threading.Event | None = None) -> None:
        wake = self.now() + timedelta(seconds=max(0.0, seconds))
        stop = stop or threading.Event()
        while not stop.is_set() and self.now() < wake:
            time.sleep(self.poll)


def set_file_clock(path: Path, when: datetime | pd.Timestamp) -> None:
    """Move a :class:`FileClock` to ``when`` (atomically, so a reader never sees half a time)."""
    atomic_write_text(Path(path), pd.Timestamp(when).isoformat() + "\n")


def next_wake(now: datetime, interval: str = "1h", *, delay: float = 5.0) -> datetime:
    """``delay`` seconds after the first candle close strictly after ``now - delay``.

    Closes fall on multiples of the interval since the epoch (Binance's grid), so at 12:00:03
    with a 5 s delay the answer is 12:00:05, and at 12:00:06 it is 13:00:05.
    """
    step_ms = Interval.parse(interval).milliseconds
    shifted = int(pd.Timestamp(now).value // 1_000_000 - delay * 1000)
    close_ms = (shifted // step_ms + 1) * step_ms
    when: datetime = pd.Timestamp(close_ms + int(delay * 1000), unit="ms", tz="UTC").to_pydatetime()
    return when


def close_passed(
    since: datetime, now: datetime, interval: str = "1h", *, delay: float = 5.0
) -> bool:
    """Whether a candle closed (and ``delay`` seconds went by) after ``since`` and by ``now``:
    the Signals page's auto-refresh tops up once per close, as the watch loop does."""
    return next_wake(since, interval, delay=delay) <= now


def span_words(span: pd.Timedelta) -> str:
    """``"40 min"``, ``"5 h"``, ``"3.5 days"``, ``"4.2 months"``, ``"1.5 years"`` for a duration."""
    hours = span.total_seconds() / 3600
    if abs(hours) < 1:
        return f"{max(hours * 60, 0):.0f} min"
    if abs(hours) < 48:
        return f"{hours:.0f} h"
    days = hours / 24
    if abs(days) < 60:
        return f"{days:.1f} days"
    if abs(days) < 730:
        return f"{days / 30.44:.1f} months"
    return f"{days / 365.25:.1f} years"
