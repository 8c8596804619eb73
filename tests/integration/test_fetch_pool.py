"""The fetch's shared pool of requests against the fake Binance over real loopback HTTP: a range's
pages are in flight together, ``max_workers`` caps them, and an unreachable host fails at once."""

from __future__ import annotations

import socket
from datetime import UTC, datetime

import pytest

from core.data import store
from core.data.binance import BinanceClient
from core.data.fetch import fetch_coins
from core.data.fetch_status import FetchStatus
from tests.fake_binance import FakeBinance

NOW = datetime(2026, 3, 1, 12, 34, 56, tzinfo=UTC)
NOW_MS = int(NOW.timestamp() * 1000)
LATENCY = 0.2
#: Long enough that a loaded 2-core machine's CPU time cannot blur rounds of requests together.
ROUND = 0.5


@pytest.fixture
def slow_fake():
    with FakeBinance(now_ms=NOW_MS, latency=LATENCY) as server:
        yield server


@pytest.fixture
def slower_fake():
    with FakeBinance(now_ms=NOW_MS, latency=ROUND) as server:
        yield server


def _arrivals(fake: FakeBinance) -> list[float]:
    return sorted(r.at for r in fake.requests if r.path == "/api/v3/klines")


def test_pages_after_the_probe_are_in_flight_together(slower_fake):
    [result] = fetch_coins(["BTC"], days=730, base_url=slower_fake.url, now=NOW)
    assert result.status is FetchStatus.UP_TO_DATE
    assert len(store.load_candles("BTCUSDT")) == 730 * 24
    at = _arrivals(slower_fake)
    assert len(at) == 18  # the minimum: ceil(17,520 / 1000)
    # the probe first, alone; then the other 17 at once (one after another would span 8 s)
    assert at[1] - at[0] >= ROUND * 0.9
    assert at[-1] - at[1] < 5 * ROUND


def test_max_workers_caps_the_requests_in_flight(slow_fake):
    fetch_coins(["BTC"], days=300, base_url=slow_fake.url, now=NOW, max_workers=1)
    at = _arrivals(slow_fake)
    assert len(at) == 8  # ceil(7,200 / 1000)
    gaps = [b - a for a, b in zip(at, at[1:], strict=False)]
    assert min(gaps) >= LATENCY * 0.9, "with one request in flight each waits for the last"


def test_ten_coins_share_one_pool_and_each_gets_its_minimum(slower_fake):
    coins = ["BTC", "ETH", "SOL", "XRP", "ADA", "AVAX", "MATIC", "LINK", "UNI", "DOT"]
    results = fetch_coins(coins, days=100, base_url=slower_fake.url, now=NOW)
    assert all(r.status is FetchStatus.UP_TO_DATE for r in results)
    assert slower_fake.count() == 10 * 3  # ceil(2,400 / 1000) per coin
    at = _arrivals(slower_fake)
    # every coin's probe at once, then every coin's two other pages at once: two rounds apart
    # (four coins at a time, page after page, would span 7 rounds)
    assert at[-1] - at[0] < 5 * ROUND


def test_unreachable_host_fails_at_once_in_one_sentence_without_retries(home):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"  # closed again: nothing listens
    sleeps: list[float] = []
    client = BinanceClient(url, sleep=sleeps.append)
    results = fetch_coins(["BTC", "ETH"], days=30, now=NOW, client=client)
    assert [r.status for r in results] == [FetchStatus.FAILED] * 2
    reason = results[0].reason
    assert reason.startswith(f"Cannot reach {url} (connection refused)")
    assert "--base-url" in reason and reason.count(". ") == 0 and reason.endswith(".")
    assert client.requests_sent == 2 and sleeps == [], "no retries, no backoff"


def test_unknown_host_name_says_so(home):
    client = BinanceClient("http://no-such-host.invalid", sleep=lambda s: None)
    [result] = fetch_coins(["BTC"], days=5, now=NOW, client=client)
    assert result.status is FetchStatus.FAILED
    assert "host name does not resolve" in result.reason
    assert client.requests_sent == 1
