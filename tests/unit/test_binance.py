"""core.data.binance without a network: the shared rate budget, kline parsing, waits in words."""

from __future__ import annotations

import threading

import pytest

from core.data.klines import parse_klines
from core.data.ratelimit import RateLimiter, describe_wait


class FakeClock:
    def __init__(self, start: float = 1_000_020.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_budget_slows_down_before_the_limit_and_resumes_next_minute():
    clock = FakeClock()
    limiter = RateLimiter(limit=100, headroom=0.9, clock=clock, sleep=clock.sleep)
    for _ in range(45):  # 45 x 2 = 90 = the budget
        limiter.acquire(2)
    assert clock.sleeps == []
    limiter.acquire(2)  # would pass 90: waits for the next minute window
    assert clock.sleeps and clock.now >= 1_000_080.0
    assert limiter.used == 2


def test_server_header_counts_other_programs_weight():
    clock = FakeClock()
    limiter = RateLimiter(limit=100, clock=clock, sleep=clock.sleep)
    limiter.acquire(2)
    limiter.observe(89)
    assert limiter.used == 89
    limiter.observe(10)  # an older, smaller answer never lowers the count
    assert limiter.used == 89
    limiter.acquire(2)
    assert clock.sleeps  # 89 + 2 > 90


def test_pause_holds_every_thread():
    clock = FakeClock()
    lock = threading.Lock()

    def sleep(seconds: float) -> None:
        with lock:
            clock.sleep(seconds)

    limiter = RateLimiter(clock=clock, sleep=sleep)
    limiter.pause(30)
    assert limiter.paused_for == 30
    threads = [threading.Thread(target=limiter.acquire) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert clock.now >= 1_000_050.0
    assert limiter.paused_for == 0


def test_parse_klines_keeps_all_fields_typed():
    row = [
        1_700_000_000_000,
        "1.5",
        "2.0",
        "1.0",
        "1.75",
        "10.25",
        1_700_003_599_999,
        "17.5",
        42,
        "4.5",
        "7.0",
        "0",
    ]
    frame = parse_klines([row])
    assert frame.iloc[0]["open_time"].isoformat() == "2023-11-14T22:13:20+00:00"
    assert frame.iloc[0]["close_time"].value // 1_000_000 == 1_700_003_599_999
    assert frame.iloc[0][["open", "high", "low", "close", "volume"]].tolist() == [
        1.5,
        2.0,
        1.0,
        1.75,
        10.25,
    ]
    assert frame["number_of_trades"].dtype == "int64" and frame.iloc[0]["number_of_trades"] == 42
    assert parse_klines([]).empty


def test_parse_klines_refuses_short_rows():
    with pytest.raises(ValueError, match="twelve"):
        parse_klines([[1, "1", "1"]])


@pytest.mark.parametrize(
    ("seconds", "words"),
    [(1, "1 second"), (90, "1 minute 30 seconds"), (7200, "2 hours"), (90061, "1 day 1 hour")],
)
def test_waits_are_said_in_words(seconds, words):
    assert describe_wait(seconds) == words
