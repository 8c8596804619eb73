"""core.data.ratelimit: the room left in the weight budget sizes the fetch's requests in flight;
weight counts until an answer plus a window; 429s halve the width, successes grow it back; a ban
stops every thread at once."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest

from core.data.binance import BinanceClient
from core.data.fetch import _in_flight
from core.data.ratelimit import RateLimiter, WeightLimit, ban_message, request_weight_limit
from core.errors import BannedError

BINANCE_RATE_LIMITS = [
    {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000},
    {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
    {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 61000},
]


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_020.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_room_counts_requests_left_in_this_minutes_budget():
    clock = Clock()
    limiter = RateLimiter(limit=100, headroom=0.9, clock=clock, sleep=clock.sleep)
    assert limiter.room(2) == 45
    limiter.observe(80)  # the server says other programs used 80 already
    assert limiter.room(2) == 5
    limiter.pause(10)
    assert limiter.room(2) == 0  # a Retry-After pause leaves no room
    clock.sleep(60)
    assert limiter.room(2) == 45  # a new minute


def test_requests_in_flight_follow_the_budget_up_to_the_cap():
    clock = Clock()
    limiter = RateLimiter(clock=clock, sleep=clock.sleep)
    with BinanceClient("http://127.0.0.1:9", limiter=limiter) as client:
        assert _in_flight(client, 32) == 32  # 2700 klines requests fit: the cap decides
        limiter.observe(5_380)  # 20 weight left of 5400 (90% of 6000)
        assert _in_flight(client, 32) == 10
        limiter.observe(5_400)
        assert _in_flight(client, 32) == 1  # never zero: the limiter makes it wait instead


def test_the_weight_limit_comes_from_exchange_info_rate_limits():
    assert request_weight_limit(BINANCE_RATE_LIMITS) == WeightLimit(6000, 60.0)
    assert request_weight_limit([{**BINANCE_RATE_LIMITS[0], "intervalNum": 2, "limit": 2400}]) == (
        WeightLimit(2400, 120.0)
    )
    three_seconds = {**BINANCE_RATE_LIMITS[0], "interval": "SECOND", "intervalNum": 3, "limit": 24}
    # the strictest window wins: 24 per 3 s (8/s) over 6000 per minute (100/s)
    assert request_weight_limit([BINANCE_RATE_LIMITS[0], three_seconds]) == WeightLimit(24, 3.0)
    assert WeightLimit(24, 3.0).header == "X-MBX-USED-WEIGHT-3S"
    assert WeightLimit(6000, 60.0).header == "X-MBX-USED-WEIGHT-1M"
    assert request_weight_limit([BINANCE_RATE_LIMITS[1]]) is None
    assert request_weight_limit(None) is None
    limiter = RateLimiter()
    limiter.set_limit(1200)
    assert (limiter.limit, limiter.budget) == (1200, 1080)
    limiter.set_limit(24, seconds=3)
    assert (limiter.budget, limiter.window, limiter.header) == (21, 3.0, "X-MBX-USED-WEIGHT-3S")


def test_weight_counts_from_sending_until_a_window_after_the_answer():
    clock = Clock()
    limiter = RateLimiter(limit=10, headroom=1.0, window=3, clock=clock, sleep=clock.sleep)
    tickets = [limiter.acquire(2, in_flight=True) for _ in range(5)]
    clock.sleep(60)  # answers slower than the window: still counted, the server saw them late
    assert limiter.room(2) == 0
    for ticket in tickets:
        limiter.release(ticket, ok=True)
    clock.sleep(2.9)
    assert limiter.room(2) == 0  # the server may have counted them just before answering
    clock.sleep(0.2)
    assert limiter.room(2) == 5


def test_a_429_halves_the_requests_in_flight_once_and_successes_grow_them_back_slowly():
    clock = Clock()
    limiter = RateLimiter(max_in_flight=16, clock=clock, sleep=clock.sleep)
    burst = [limiter.acquire(2, in_flight=True) for _ in range(10)]
    assert limiter.width == 16
    limiter.throttled(burst[0], 2.0)
    assert limiter.width == 5 and limiter.paused_for == 2.0  # half of the 10 in flight
    limiter.throttled(burst[1], 2.0)  # the same burst answers 429 again: no second cut
    assert limiter.width == 5
    for ticket in burst:
        limiter.release(ticket)
    clock.sleep(2.0)
    later = limiter.acquire(2, in_flight=True)
    limiter.throttled(later, 1.0)  # sent after the cut: cuts again, to half of 1, at least 1
    assert limiter.width == 1
    limiter.release(later)
    clock.sleep(1.0)
    widths = []
    for _ in range(30):
        limiter.release(limiter.acquire(2, in_flight=True), ok=True)
        widths.append(limiter.width)
    assert widths[0] == 2 and widths[-1] < 10  # about +1 per round of answers, not +1 each


def test_the_width_caps_the_requests_in_flight():
    limiter = RateLimiter(max_in_flight=2)
    first, second = limiter.acquire(in_flight=True), limiter.acquire(in_flight=True)
    started = []
    third = threading.Thread(target=lambda: started.append(limiter.acquire(in_flight=True)))
    third.start()
    third.join(0.3)
    assert started == []  # waits for a place
    limiter.release(first, ok=True)
    third.join(5)
    assert len(started) == 1
    limiter.release(second)
    limiter.release(started[0])


def test_a_ban_wakes_every_waiting_thread_at_once_and_says_until_when():
    limiter = RateLimiter()
    limiter.pause(600)  # a long Retry-After: every thread is waiting
    errors: list[str] = []

    def request() -> None:
        try:
            limiter.acquire(in_flight=True)
        except BannedError as exc:
            errors.append(str(exc))

    threads = [threading.Thread(target=request) for _ in range(8)]
    for t in threads:
        t.start()
    started = time.monotonic()
    error = limiter.ban(900)
    for t in threads:
        t.join(5)
    assert time.monotonic() - started < 2
    assert errors == [str(error)] * 8
    assert "Binance banned this IP until" in str(error) and "fetch again after that" in str(error)
    with pytest.raises(BannedError):
        limiter.hold(30)  # a retry's backoff ends at once too


def test_ban_message_names_the_end_in_utc_rounded_up():
    now = datetime(2026, 12, 6, 14, 16, 40, tzinfo=UTC).timestamp()
    text = ban_message(now + 900, 900, now=now)
    assert text.startswith("Binance banned this IP until 14:32 UTC (for 15 minutes")
    assert text.endswith("; fetch again after that.")
    assert "2026-12-09 14:17 UTC" in ban_message(now + 3 * 86_400, 3 * 86_400, now=now)
