"""core.data.fetch and core.data.binance against the fake Binance over real loopback HTTP."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from core.data import store
from core.data.binance import BinanceClient
from core.data.coins import MATICUSDT_NOTE
from core.data.fetch import fetch_coins
from core.data.fetch_status import FetchStatus
from core.errors import BannedError, BinanceUnavailableError, LocationBlockedError
from tests.fake_binance import FakeBinance, _kline
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
HOUR = 3_600_000
NOW = datetime(2026, 3, 1, 12, 34, 56, tzinfo=UTC)  # mid-candle: the 12:00 candle is open
NOW_MS = int(NOW.timestamp() * 1000)
LAST_CLOSED = pd.Timestamp("2026-03-01 11:00", tz="UTC")


def _ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def fast_client(fake: FakeBinance, **kw) -> BinanceClient:
    return BinanceClient(fake.url, backoff_base=0.001, backoff_max=0.01, **kw)


def _klines_requests(fake: FakeBinance) -> list:
    """The klines requests, without the client's one exchangeInfo (its rate limit) first."""
    return [r for r in fake.requests if r.path == "/api/v3/klines"]


def assert_one_unbroken_run(frame: pd.DataFrame, step_ms: int = HOUR) -> None:
    times = frame["open_time"]
    assert times.is_unique and times.is_monotonic_increasing
    span = (times.iloc[-1] - times.iloc[0]) // pd.Timedelta(milliseconds=step_ms)
    assert len(frame) == span + 1, "stored candles have a hole"


@pytest.fixture
def fake():
    with FakeBinance(now_ms=NOW_MS) as server:
        yield server


def test_full_fetch_stores_every_closed_candle_once_with_few_requests(fake):
    results = fetch_coins(["BTC"], days=60, base_url=fake.url, now=NOW)
    assert results[0].status is FetchStatus.UP_TO_DATE
    assert results[0].new_rows == 60 * 24
    frame = store.load_candles("BTCUSDT")
    assert len(frame) == 1440
    assert_one_unbroken_run(frame)
    assert frame["open_time"].iloc[-1] == LAST_CLOSED  # the open 12:00 candle is not stored
    assert (frame["close_time"] < pd.Timestamp(NOW)).all()
    assert fake.count() == 2  # 1441 rows incl. the open candle: ceil(1441 / 1000)
    first = _klines_requests(fake)[0]
    assert [first.params[k] for k in ("limit", "interval")] == ["1000", "1h"]


def test_all_twelve_fields_arrive_with_their_types(fake):
    fetch_coins(["ETH"], days=2, base_url=fake.url, now=NOW)
    frame = store.load_candles("ETHUSDT")
    assert list(frame.columns) == list(store.COLUMNS)
    assert str(frame["open_time"].dtype) == "datetime64[ms, UTC]"
    assert frame["number_of_trades"].dtype == "int64"
    row = frame.iloc[-1]
    wire = _kline("ETHUSDT", int(row["open_time"].value // 1_000_000), HOUR)
    assert row["close_time"].value // 1_000_000 == wire[6] == wire[0] + HOUR - 1
    values = [row[c] for c in ("open", "high", "low", "close", "volume", "quote_asset_volume")]
    assert values == [float(wire[i]) for i in (1, 2, 3, 4, 5, 7)]
    assert row["number_of_trades"] == wire[8]
    assert [row["taker_buy_base_volume"], row["taker_buy_quote_volume"]] == [
        float(wire[9]),
        float(wire[10]),
    ]


def test_refetch_gets_only_the_new_tail(fake):
    fetch_coins(["BTC"], days=30, base_url=fake.url, now=NOW)
    fake.reset_counts()
    later = NOW + timedelta(hours=5)
    fake.state.now_ms = lambda: _ms(later)
    results = fetch_coins(["BTC"], days=30, base_url=fake.url, now=later)
    assert results[0].new_rows == 5
    assert fake.count() == 1
    assert int(_klines_requests(fake)[0].params["startTime"]) == _ms(LAST_CLOSED) + HOUR
    assert_one_unbroken_run(store.load_candles("BTCUSDT"))


def test_up_to_date_refetch_sends_no_kline_request(fake):
    fetch_coins(["BTC", "ETH"], days=30, base_url=fake.url, now=NOW)
    fake.reset_counts()
    results = fetch_coins(["BTC", "ETH"], days=30, base_url=fake.url, now=NOW)
    assert [r.status for r in results] == [FetchStatus.UP_TO_DATE] * 2
    assert [r.new_rows for r in results] == [0, 0]
    assert fake.count() == 0


def test_longer_range_fetches_only_the_missing_head(fake):
    fetch_coins(["SOL"], days=10, base_url=fake.url, now=NOW)
    fake.reset_counts()
    results = fetch_coins(["SOL"], days=60, base_url=fake.url, now=NOW)
    assert results[0].new_rows == 50 * 24
    assert fake.count() == 2  # 1200 missing candles, 1000 per page
    frame = store.load_candles("SOLUSDT")
    assert len(frame) == 1440
    assert_one_unbroken_run(frame)


def test_unknown_symbol_fails_alone_and_in_words(fake):
    results = fetch_coins(["BTC", "FOO", "ETH"], days=5, base_url=fake.url, now=NOW)
    by = {r.symbol: r for r in results}
    assert by["FOOUSDT"].status is FetchStatus.FAILED
    assert "unknown symbol FOOUSDT" in by["FOOUSDT"].reason
    assert by["BTCUSDT"].status is by["ETHUSDT"].status is FetchStatus.UP_TO_DATE
    assert [r.symbol for r in results] == ["BTCUSDT", "FOOUSDT", "ETHUSDT"]


@pytest.mark.parametrize("kind", ["500", "502", "503", "cut", "badjson", "reset"])
def test_transient_failures_are_retried(fake, kind):
    fake.fail_next(kind, count=2)
    results = fetch_coins(["BTC"], days=5, base_url=fake.url, now=NOW, client=fast_client(fake))
    assert results[0].status is FetchStatus.UP_TO_DATE, results[0].reason
    assert len(store.load_candles("BTCUSDT")) == 5 * 24
    assert fake.count() == 3


def test_persistent_server_errors_end_in_a_clear_error(fake):
    fake.fail_next("503", count=50)
    client = fast_client(fake, max_retries=3)
    with pytest.raises(BinanceUnavailableError) as err:
        client.klines("BTCUSDT", "1h", start_ms=NOW_MS - 10 * HOUR)
    assert fake.url + "/api/v3/klines" in str(err.value)
    assert "failed 4 times" in str(err.value) and "HTTP 503" in str(err.value)
    assert fake.count() == 4


def test_cut_bodies_every_time_end_in_a_clear_error(fake):
    fake.fail_next("cut", count=50)
    results = fetch_coins(
        ["BTC"], days=5, base_url=fake.url, now=NOW, client=fast_client(fake, max_retries=2)
    )
    assert results[0].status is FetchStatus.FAILED
    assert "unavailable" in results[0].reason and "/api/v3/klines" in results[0].reason


def test_451_says_to_use_the_market_data_mirror(fake):
    fake.fail_next("451")
    with pytest.raises(LocationBlockedError) as err:
        fast_client(fake).klines("BTCUSDT", "1h", start_ms=NOW_MS - 10 * HOUR)
    assert "BINANCE_BASE_URL=https://data-api.binance.vision" in str(err.value)
    assert "location" in str(err.value)


def test_one_418_is_waited_out_and_a_second_is_a_ban_in_words(fake):
    fake.fail_next("418", retry_after=1)
    client = fast_client(fake)
    started = time.monotonic()
    assert len(client.klines("BTCUSDT", "1h", start_ms=NOW_MS - 10 * HOUR)) == 10
    assert time.monotonic() - started >= 0.9
    fake.fail_next("418", count=2, retry_after=1)
    with pytest.raises(BannedError, match="1 second"):
        client.klines("BTCUSDT", "1h", start_ms=NOW_MS - 10 * HOUR)


def test_a_long_ban_is_reported_without_waiting(fake):
    fake.fail_next("418", retry_after=7200)
    started = time.monotonic()
    with pytest.raises(BannedError, match="2 hours"):
        fast_client(fake).klines("BTCUSDT", "1h", start_ms=NOW_MS - 10 * HOUR)
    assert time.monotonic() - started < 2


def test_429_pauses_every_thread_for_retry_after(fake):
    fake.set_latency(0.02)
    fake.fail_next("429", retry_after=1)
    coins = ["BTC", "ETH", "SOL", "XRP"]
    results = fetch_coins(coins, days=200, base_url=fake.url, now=NOW, max_workers=4)
    assert all(r.status is FetchStatus.UP_TO_DATE for r in results)
    reqs = fake.requests
    hit = next(r for r in reqs if r.status == 429)
    # requests in flight when the 429 arrived may land; after that, nobody knocks for 1 s
    knocking = [r for r in reqs if hit.at + 0.15 < r.at < hit.at + 0.95]
    assert knocking == []
    assert sum(r.at >= hit.at + 0.95 for r in reqs) >= 4
    assert all(len(store.load_candles(c)) == 200 * 24 for c in coins)


def test_used_weight_header_feeds_the_shared_budget(fake):
    client = fast_client(fake)
    client.klines("BTCUSDT", "1h", start_ms=NOW_MS - 10 * HOUR)
    client.klines("BTCUSDT", "1h", start_ms=NOW_MS - 10 * HOUR)
    assert client.limiter.used >= 4


def test_gaps_are_reported_not_filled():
    gap = (_ms(NOW - timedelta(days=3)), _ms(NOW - timedelta(days=3)) + 5 * HOUR)
    with FakeBinance(now_ms=NOW_MS, gaps={"BTCUSDT": [gap]}) as fake:
        results = fetch_coins(["BTC"], days=10, base_url=fake.url, now=NOW)
    cov = results[0].coverage
    assert cov.rows == 240 - 5 and cov.missing == 5
    assert len(cov.gaps) == 1 and cov.gaps["missing"].iloc[0] == 5
    assert results[0].status is FetchStatus.UP_TO_DATE


def test_coin_listed_late_has_what_exists_with_a_note():
    with FakeBinance(now_ms=NOW_MS, listed_hours=100) as fake:
        results = fetch_coins(["POL"], days=730, base_url=fake.url, now=NOW)
        assert fake.count() == 1
    assert results[0].status is FetchStatus.UP_TO_DATE
    assert results[0].coverage.rows == 99  # listed 08:34 → 09:00 .. 11:00
    assert "history of POLUSDT starts" in results[0].note


def test_matic_means_pol_and_explicit_maticusdt_gets_its_history():
    delisted = _ms(datetime(2026, 2, 20, 2, tzinfo=UTC))
    with FakeBinance(now_ms=NOW_MS, delisted={"MATICUSDT": delisted}) as fake:
        results = fetch_coins(["MATIC", "MATICUSDT"], days=30, base_url=fake.url, now=NOW)
    pol, matic = results
    assert pol.symbol == "POLUSDT" and "POLUSDT" in pol.note
    assert pol.status is FetchStatus.UP_TO_DATE
    assert matic.symbol == "MATICUSDT" and MATICUSDT_NOTE in matic.note
    assert matic.status is FetchStatus.PARTIAL and "stopped trading" in matic.reason
    assert matic.coverage.last == pd.Timestamp(delisted, unit="ms", tz="UTC")


def test_corrupt_file_is_moved_aside_reported_and_fetched_again(fake, home):
    fetch_coins(["BTC"], days=5, base_url=fake.url, now=NOW)
    path = store.candle_path("BTCUSDT")
    path.write_bytes(path.read_bytes()[:300])  # truncated mid-file
    results = fetch_coins(["BTC"], days=5, base_url=fake.url, now=NOW)
    assert results[0].status is FetchStatus.UP_TO_DATE
    assert "damaged" in results[0].note and "moved" in results[0].note
    assert list((home / "data" / "quarantine").glob("BTCUSDT-1h.*.parquet"))
    assert len(store.load_candles("BTCUSDT")) == 120


def test_progress_events_reach_the_expected_count(fake):
    events = []
    fetch_coins(["BTC"], days=60, base_url=fake.url, now=NOW, on_progress=events.append)
    assert events[0].state == "queued" and events[0].expected == 1440
    assert any(e.state == "fetching" and 0 < e.fetched < 1440 for e in events)
    assert events[-1].state == "up to date" and events[-1].fetched == 1440
    assert events[-1].downloaded == 1440


def test_fetch_writes_its_log(fake, home):
    fetch_coins(["BTC", "FOO"], days=2, base_url=fake.url, now=NOW)
    text = (home / "logs" / "dataset_fetch.log").read_text()
    assert "BTCUSDT 1h: up to date, 48 new candles" in text
    assert "FOOUSDT 1h: failed" in text and "unknown symbol" in text


def _run_fetch(url: str, home: Path, days: int, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "CRYPTOVOLT_HOME": str(home)}
    cmd = [sys.executable, "-m", "core", "fetch", "--coins", "BTC,ETH,SOL", "--days", str(days)]
    return subprocess.Popen(
        [*cmd, "--base-url", url, "--workers", "2", *extra],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _kill_mid_fetch(proc: subprocess.Popen, fake: FakeBinance, saved: Callable[[], bool]) -> None:
    """kill -9 the fetch once ``saved()`` (a batch of pages reached the store) and six more
    requests were answered; every later request is held unanswered, so the kill lands mid-fetch
    however fast or slow the machine is (the kill may land while a file is being written)."""

    def ready() -> bool:
        assert proc.poll() is None, proc.communicate()
        return saved()

    wait_until(ready, 120, "the fetch to save a batch of pages")
    fake.hold(after=6)
    answered = fake.arrived + 6
    wait_until(lambda: len(fake.requests) >= answered, 60, "6 more answered requests")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    fake.release()


@pytest.mark.slow
@pytest.mark.parametrize("first_days", [None, 30], ids=["full", "head-extension"])
def test_kill_9_mid_fetch_then_rerun_stores_every_candle_exactly_once(home, first_days):
    # 54 pages, 0.1 s each, 2 in flight: a coin's first batch is saved after 1 s, mid-fetch
    with FakeBinance(latency=0.1) as fake:
        if first_days:  # a short range first, so the killed run is extending the head
            assert _run_fetch(fake.url, home, first_days).wait() == 0
        proc = _run_fetch(fake.url, home, 730)
        if first_days:  # all files exist: wait until one of them grew past its first size
            path = store.candle_path("SOLUSDT")
            size = path.stat().st_size
            _kill_mid_fetch(proc, fake, lambda: path.stat().st_size != size)
        else:
            _kill_mid_fetch(proc, fake, store.candle_path("ETHUSDT").exists)
        assert proc.returncode == -signal.SIGKILL
        rows_after_kill = {c: len(store.load_candles(c)) for c, _ in store.list_stored()}
        assert min(rows_after_kill.values(), default=0) < 17_520 or len(rows_after_kill) < 3
        rerun = _run_fetch(fake.url, home, 730)
        out, err = rerun.communicate(timeout=120)
        assert rerun.returncode == 0, err.decode()
    now = datetime.now(UTC)
    last_closed = pd.Timestamp(now).floor("h") - pd.Timedelta(hours=1)
    for coin in ("BTCUSDT", "ETHUSDT", "SOLUSDT"):
        frame = store.load_candles(coin)
        assert_one_unbroken_run(frame)
        assert len(frame) >= 17_520
        assert frame["open_time"].iloc[-1] >= last_closed - pd.Timedelta(hours=1)
    assert b"up to date" in out
