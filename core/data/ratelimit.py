"""Binance's request-weight budget, shared by every thread, and how long to wait after a refusal.

Binance counts request weight per IP in one-minute windows (6000 per minute by default, the
figure Binance documents and publishes in ``exchangeInfo``'s ``rateLimits``; a klines request
weighs 2) and answers 429 (slow down) or 418 (banned for a while) with ``Retry-After`` when a
client goes over. :class:`RateLimiter` keeps one budget and one pause for all threads of a fetch,
so they slow down together before Binance says 429 and all sit out a ``Retry-After`` at once;
:meth:`RateLimiter.room` says how many more requests fit in this minute, which sizes the fetch's
pool of requests in flight; :func:`backoff` spaces out retries after failures worth retrying.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable

import requests

__all__ = [
    "KLINES_WEIGHT",
    "WEIGHT_LIMIT",
    "RateLimiter",
    "backoff",
    "describe_wait",
    "request_weight_limit",
    "retry_after",
]

KLINES_WEIGHT = 2
#: Binance's documented request-weight limit per minute, used until ``exchangeInfo`` says otherwise.
WEIGHT_LIMIT = 6000


def describe_wait(seconds: float) -> str:
    """``90`` → ``"1 minute 30 seconds"``: a wait in words for error messages."""
    seconds = max(0, int(round(seconds)))
    parts = []
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60), ("second", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count} {unit}{'s' if count != 1 else ''}")
    return " ".join(parts[:2]) or "0 seconds"


class RateLimiter:
    """One request-weight budget and one pause shared by every thread.

    Binance counts weight per IP in one-minute windows aligned to the clock. We count what we
    send, take the larger of that and the server's ``X-MBX-USED-WEIGHT-1M`` (other programs on
    the same IP count too), and wait for the next window once a request would pass
    ``limit * headroom``, so we slow down before Binance answers 429.
    """

    def __init__(
        self,
        *,
        limit: int = WEIGHT_LIMIT,
        headroom: float = 0.9,
        window: float = 60.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.limit = limit
        self.headroom = headroom
        self.budget = int(limit * headroom)
        self.window = window
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._window_start = self._current_window()
        self._used = 0
        self._paused_until = 0.0

    def _current_window(self) -> float:
        now = self._clock()
        return now - (now % self.window)

    def _roll(self) -> None:
        start = self._current_window()
        if start > self._window_start:
            self._window_start, self._used = start, 0

    @property
    def used(self) -> int:
        with self._lock:
            self._roll()
            return self._used

    def acquire(self, weight: int = KLINES_WEIGHT) -> None:
        """Block until a shared pause is over and ``weight`` fits in this minute's budget."""
        while True:
            with self._lock:
                self._roll()
                now = self._clock()
                wait = self._paused_until - now
                if wait <= 0:
                    if self._used + weight <= self.budget or self._used == 0:
                        self._used += weight
                        return
                    wait = self._window_start + self.window - now
            self._sleep(max(wait, 0.01))

    def set_limit(self, limit: int) -> None:
        """Use Binance's published per-minute weight limit (``exchangeInfo`` ``rateLimits``)."""
        if limit > 0:
            with self._lock:
                self.limit = int(limit)
                self.budget = int(limit * self.headroom)

    def room(self, weight: int = KLINES_WEIGHT) -> int:
        """How many more requests of ``weight`` fit in this minute's budget (0 while paused)."""
        with self._lock:
            self._roll()
            if self._paused_until > self._clock():
                return 0
            return max(0, (self.budget - self._used) // max(weight, 1))

    def observe(self, used_weight: int) -> None:
        """Correct the count from the server's ``X-MBX-USED-WEIGHT-1M`` header."""
        with self._lock:
            self._roll()
            self._used = max(self._used, int(used_weight))

    def pause(self, seconds: float) -> None:
        """Make every thread wait ``seconds`` from now (429/418 ``Retry-After``)."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + max(seconds, 0.0))

    @property
    def paused_for(self) -> float:
        with self._lock:
            return max(0.0, self._paused_until - self._clock())


def request_weight_limit(rate_limits: object) -> int | None:
    """The per-minute ``REQUEST_WEIGHT`` limit in ``exchangeInfo``'s ``rateLimits``, else None.

    Binance lists e.g. ``{"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE",
    "intervalNum": 1, "limit": 6000}``; only a limit per minute (or per N minutes, divided by N)
    fits the one-minute budget, so other windows are ignored.
    """
    if not isinstance(rate_limits, list):
        return None
    for entry in rate_limits:
        if not isinstance(entry, dict) or entry.get("rateLimitType") != "REQUEST_WEIGHT":
            continue
        minutes, limit = entry.get("intervalNum") or 1, entry.get("limit")
        if entry.get("interval") == "MINUTE" and isinstance(limit, int) and limit > 0:
            return max(1, limit // max(int(minutes), 1))
    return None


def retry_after(resp: requests.Response) -> float:
    """Seconds the server asks us to wait (``Retry-After``), a minute when it does not say."""
    value = resp.headers.get("Retry-After", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return 60.0  # Binance always sends it; a minute is its usual 429 window


def backoff(attempt: int, *, base: float, cap: float) -> float:
    """Exponential backoff with jitter: about ``base * 2**attempt`` seconds, at most ``cap``
    (times 0.5..1.5, so threads that failed together do not retry together)."""
    return min(cap, base * 2**attempt) * (0.5 + random.random())
