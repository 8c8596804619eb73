"""Clocks for the watch loop: the system clock, or a file a test (or a demo) moves by hand.

The loop only ever asks a clock two things, ``now()`` and ``sleep(seconds)``, so a test can run
three candle closes in seconds: :class:`FileClock` reads the time from a file (one ISO 8601 line,
replaced atomically by whoever moves it) and its ``sleep`` returns once the file's time has
reached the wake-up time. :func:`next_wake` is when a cycle should run: ``delay`` seconds after
the next candle close.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

import pandas as pd

from core.atomic import atomic_write_text
from core.config import Interval
from core.errors import ConfigError

__all__ = ["Clock", "FileClock", "SystemClock", "close_passed", "next_wake", "set_file_clock"]


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
        return stamp.to_pydatetime()

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
    return pd.Timestamp(close_ms + int(delay * 1000), unit="ms", tz="UTC").to_pydatetime()


def close_passed(
    since: datetime, now: datetime, interval: str = "1h", *, delay: float = 5.0
) -> bool:
    """Whether a candle closed (and ``delay`` seconds went by) after ``since`` and by ``now``:
    the Signals page's auto-refresh tops up once per close, as the watch loop does."""
    return next_wake(since, interval, delay=delay) <= now
