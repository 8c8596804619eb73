"""Binance's request-weight budget, shared by every thread, and how long to wait after a refusal.

Binance counts request weight per IP in windows (6000 per minute by default, the figure it
publishes in ``exchangeInfo``'s ``rateLimits``; a klines request weighs 2), answers 429 (slow
down) with ``Retry-After`` when a client goes over, and 418 (this IP is banned, from 2 minutes up
to 3 days) when a client keeps knocking during a ``Retry-After``. :class:`RateLimiter` makes one
fetch polite by construction, for all its threads at once:

- **Budget.** A request starts only when its weight fits in ``limit * headroom`` over a rolling
  window. A request's weight counts from the moment it is sent until one window after its answer
  (the server counted it somewhere in between), so however the server aligns its windows, what
  it sees from us stays under the limit. ``X-MBX-USED-WEIGHT-*`` headers (every answer, errors
  included) add the weight other programs on the same IP spent.
- **Pause.** After a 429 no request starts until its ``Retry-After`` has passed, in any thread.
- **Width.** At most :attr:`RateLimiter.width` requests are in flight. A 429 halves what was in
  flight (once per burst: answers to requests sent before the cut do not cut again); every
  success adds ``1 / width``, so the width grows back by about one per round of answers (AIMD).
- **Ban.** :meth:`RateLimiter.ban` (after a 418) makes every thread's next :meth:`acquire` raise
  :class:`core.errors.BannedError` at once, waking those already waiting, so a fetch ends in
  seconds with the ban's end in words instead of sitting the ban out.

:func:`backoff` spaces out retries after failures worth retrying.
"""

from __future__ import annotations

import heapq
import math
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import requests

from core.errors import BannedError

__all__ = [
    "KLINES_WEIGHT",
    "WEIGHT_LIMIT",
    "RateLimiter",
    "Ticket",
    "WeightLimit",
    "backoff",
    "ban_message",
    "describe_wait",
    "request_weight_limit",
    "retry_after",
    "used_weight_header",
]

KLINES_WEIGHT = 2
#: Binance's documented request-weight limit per minute, used until ``exchangeInfo`` says otherwise.
WEIGHT_LIMIT = 6000
#: In-flight requests when nothing has been refused yet (the fetch's default pool).
MAX_IN_FLIGHT = 32


def describe_wait(seconds: float) -> str:
    """``90`` → ``"1 minute 30 seconds"``: a wait in words for error messages."""
    seconds = max(0, int(round(seconds)))
    parts = []
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60), ("second", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count} {unit}{'s' if count != 1 else ''}")
    return " ".join(parts[:2]) or "0 seconds"


def ban_message(until: float, seconds: float, *, now: float) -> str:
    """The sentence for a 418: the ban's end as a UTC time (rounded up to the minute, with the
    date when it is not today), its length, and what to do."""
    end = datetime.fromtimestamp(math.ceil(until / 60) * 60, UTC)
    today = datetime.fromtimestamp(now, UTC).date()
    when = f"{end:%H:%M}" if end.date() == today else f"{end:%Y-%m-%d %H:%M}"
    return (
        f"Binance banned this IP until {when} UTC (for {describe_wait(seconds)}, HTTP 418: too "
        "many requests); fetch again after that."
    )


def used_weight_header(seconds: float) -> str:
    """Binance's header for the weight used in a window: 60 → ``X-MBX-USED-WEIGHT-1M``,
    3 → ``X-MBX-USED-WEIGHT-3S``."""
    for letter, size in (("D", 86_400), ("H", 3_600), ("M", 60), ("S", 1)):
        if seconds >= size and seconds % size == 0:
            return f"X-MBX-USED-WEIGHT-{int(seconds // size)}{letter}"
    return f"X-MBX-USED-WEIGHT-{max(1, round(seconds))}S"


@dataclass(frozen=True)
class WeightLimit:
    """A request-weight limit: ``limit`` weight per ``seconds``."""

    limit: int
    seconds: float

    @property
    def header(self) -> str:
        return used_weight_header(self.seconds)


@dataclass(frozen=True)
class Ticket:
    """One request allowed to start (:meth:`RateLimiter.acquire`)."""

    weight: int
    started: float
    in_flight: bool


_INTERVAL_SECONDS = {"SECOND": 1, "MINUTE": 60, "HOUR": 3_600, "DAY": 86_400}


def request_weight_limit(rate_limits: object) -> WeightLimit | None:
    """The ``REQUEST_WEIGHT`` limit in ``exchangeInfo``'s ``rateLimits``, else None.

    Binance lists e.g. ``{"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE",
    "intervalNum": 1, "limit": 6000}``. When several windows are listed the strictest one (least
    weight per second) is used.
    """
    if not isinstance(rate_limits, list):
        return None
    found = []
    for entry in rate_limits:
        if not isinstance(entry, dict) or entry.get("rateLimitType") != "REQUEST_WEIGHT":
            continue
        unit, num, limit = entry.get("interval"), entry.get("intervalNum") or 1, entry.get("limit")
        if unit in _INTERVAL_SECONDS and isinstance(limit, int) and limit > 0:
            found.append(WeightLimit(limit, float(_INTERVAL_SECONDS[unit] * max(int(num), 1))))
    return min(found, key=lambda w: w.limit / w.seconds, default=None)


class RateLimiter:
    """One request-weight budget, one pause, one in-flight width and one ban for every thread.

    Args:
        limit, window: weight allowed per ``window`` seconds (Binance's 6000 per minute until
            :meth:`set_limit` says otherwise).
        headroom: the share of ``limit`` we use, leaving room for other programs on the IP.
        max_in_flight: the most requests in flight (the width before any 429, and its cap).
        clock: wall-clock seconds (``time.time``).
        sleep: None waits on a condition (woken at once by answers and bans); tests pass a
            fake clock's sleep instead.
    """

    def __init__(
        self,
        *,
        limit: int = WEIGHT_LIMIT,
        headroom: float = 0.9,
        window: float = 60.0,
        max_in_flight: int = MAX_IN_FLIGHT,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.limit = limit
        self.headroom = headroom
        self.budget = int(limit * headroom)
        self.window = window
        self.header = used_weight_header(window)
        self.max_in_flight = max(1, max_in_flight)
        self._clock = clock
        self._sleep = sleep
        self._cond = threading.Condition()
        self._expiring: list[tuple[float, int]] = []  # heap of (counts until, weight)
        self._expiring_weight = 0
        self._in_flight = 0
        self._in_flight_weight = 0
        self._width = float(self.max_in_flight)
        self._cut_at = -math.inf
        self._paused_until = 0.0
        self._banned_until = 0.0
        self._ban_message = ""

    # -- state, called with the condition held ------------------------------------------------

    def _used(self, now: float) -> int:
        while self._expiring and self._expiring[0][0] <= now:
            self._expiring_weight -= heapq.heappop(self._expiring)[1]
        return self._in_flight_weight + self._expiring_weight

    def _count(self, until: float, weight: int) -> None:
        heapq.heappush(self._expiring, (until, weight))
        self._expiring_weight += weight

    def _check_ban(self, now: float) -> None:
        if now < self._banned_until:
            raise BannedError(self._ban_message)

    def _wait(self, seconds: float | None) -> None:
        """Wait ``seconds`` (None: until something changes), releasing the condition."""
        if self._sleep is None:
            # at most a second at a time: state is re-checked after every wake-up anyway
            self._cond.wait(1.0 if seconds is None else min(max(seconds, 0.001), 1.0))
            return
        self._cond.release()
        try:
            self._sleep(max(seconds if seconds is not None else 0.01, 0.01))
        finally:
            self._cond.acquire()

    # -- requests -----------------------------------------------------------------------------

    def acquire(self, weight: int = KLINES_WEIGHT, *, in_flight: bool = False) -> Ticket:
        """Block until no pause holds and ``weight`` fits the budget; with ``in_flight`` also
        until fewer than :attr:`width` requests are in flight. The weight then counts until
        :meth:`release` plus one window (without ``in_flight``: one window from now).

        Raises:
            BannedError: a ban is in force (at once, also for threads already waiting).
        """
        with self._cond:
            while True:
                now = self._clock()
                self._check_ban(now)
                pause = self._paused_until - now
                wait: float | None = pause
                if pause <= 0:
                    if in_flight and self._in_flight >= int(self._width):
                        wait = None  # until an answer frees a place
                    else:
                        used = self._used(now)
                        if used + weight <= self.budget or used == 0:
                            if in_flight:
                                self._in_flight += 1
                                self._in_flight_weight += weight
                            else:
                                self._count(now + self.window, weight)
                            return Ticket(weight, now, in_flight)
                        wait = self._expiring[0][0] - now if self._expiring else None
                self._wait(wait)

    def release(self, ticket: Ticket, *, ok: bool = False) -> None:
        """The answer to ``ticket`` arrived (or the request failed): its weight counts one more
        window, its place in flight is free, and a success (``ok``) widens the width a little."""
        if not ticket.in_flight:
            return
        with self._cond:
            now = self._clock()
            self._in_flight -= 1
            self._in_flight_weight -= ticket.weight
            self._count(now + self.window, ticket.weight)
            if ok:
                self._width = min(float(self.max_in_flight), self._width + 1.0 / self._width)
            self._cond.notify_all()

    def throttled(self, ticket: Ticket, seconds: float, *, to_one: bool = False) -> None:
        """A 429 (or a short 418) answered ``ticket``: no request starts for ``seconds``, and
        the width becomes half of what was in flight (1 with ``to_one``), once per burst."""
        with self._cond:
            now = self._clock()
            self._paused_until = max(self._paused_until, now + max(seconds, 0.0))
            if to_one:
                self._width, self._cut_at = 1.0, now
            elif ticket.started > self._cut_at:
                self._width = max(1.0, min(self._width, float(self._in_flight)) / 2)
                self._cut_at = now
            self._cond.notify_all()

    def ban(self, seconds: float) -> BannedError:
        """A 418: every thread's :meth:`acquire` and :meth:`hold` raise from now until the ban
        ends. Returns the error to raise, saying until when in UTC."""
        with self._cond:
            now = self._clock()
            until = now + max(seconds, 0.0)
            if until > self._banned_until:
                self._banned_until = until
                self._ban_message = ban_message(until, seconds, now=now)
            self._cond.notify_all()
            return BannedError(self._ban_message)

    def hold(self, seconds: float) -> None:
        """Sleep ``seconds`` (a retry's backoff), cut short by a ban, which raises."""
        with self._cond:
            end = self._clock() + seconds
            while True:
                now = self._clock()
                self._check_ban(now)
                if now >= end:
                    return
                self._wait(end - now)

    def pause(self, seconds: float) -> None:
        """Make every thread wait ``seconds`` from now."""
        with self._cond:
            self._paused_until = max(self._paused_until, self._clock() + max(seconds, 0.0))
            self._cond.notify_all()

    # -- the budget -----------------------------------------------------------------------------

    def set_limit(self, limit: int, *, seconds: float | None = None) -> None:
        """Use Binance's published weight limit (``exchangeInfo`` ``rateLimits``): ``limit``
        per ``seconds`` (default: the current window). Weight already counted keeps counting,
        at most one new window from now."""
        if limit <= 0:
            return
        with self._cond:
            self.limit = int(limit)
            self.budget = int(limit * self.headroom)
            if seconds and seconds > 0 and seconds != self.window:
                self.window = float(seconds)
                self.header = used_weight_header(self.window)
                cap = self._clock() + self.window
                self._expiring = [(min(until, cap), w) for until, w in self._expiring]
                heapq.heapify(self._expiring)
            self._cond.notify_all()

    def observe(self, used_weight: int) -> None:
        """Correct the count from the server's used-weight header for our window: weight we do
        not know of was spent by other programs on this IP, and counts one window from now."""
        with self._cond:
            now = self._clock()
            extra = int(used_weight) - self._used(now)
            if extra > 0:
                self._count(now + self.window, extra)

    @property
    def used(self) -> int:
        """Weight counted in the current window (in flight, answered, other programs')."""
        with self._cond:
            return self._used(self._clock())

    def room(self, weight: int = KLINES_WEIGHT) -> int:
        """How many more requests of ``weight`` fit in the budget now (0 while paused)."""
        with self._cond:
            now = self._clock()
            if self._paused_until > now or self._banned_until > now:
                return 0
            return max(0, (self.budget - self._used(now)) // max(weight, 1))

    @property
    def width(self) -> int:
        """How many requests may be in flight now."""
        with self._cond:
            return int(self._width)

    @property
    def paused_for(self) -> float:
        with self._cond:
            return max(0.0, self._paused_until - self._clock())


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
    return float(min(cap, base * 2**attempt) * (0.5 + random.random()))
