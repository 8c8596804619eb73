"""core.data.ratelimit: the room left in the weight budget sizes the fetch's requests in flight."""

from __future__ import annotations

from core.data.binance import BinanceClient
from core.data.fetch import _in_flight
from core.data.ratelimit import RateLimiter, request_weight_limit

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
    assert request_weight_limit(BINANCE_RATE_LIMITS) == 6000
    assert request_weight_limit([{**BINANCE_RATE_LIMITS[0], "intervalNum": 2, "limit": 2400}]) == (
        1200
    )
    assert request_weight_limit([BINANCE_RATE_LIMITS[1]]) is None
    assert request_weight_limit(None) is None
    limiter = RateLimiter()
    limiter.set_limit(1200)
    assert (limiter.limit, limiter.budget) == (1200, 1080)
