"""No silent splice, end to end against the fake Binance (real HTTP): every path that writes
candles (``fetch`` and its job, the top-up that the Signals page, ``watch`` and ``signals
--refresh`` share, the bundled sample) refuses new candles that do not fit the stored ones, holds
them in quarantine, leaves the stored file byte for byte as it was, and replace / discard then do
what they say. A top-up never asks for a candle before the first stored one."""

from __future__ import annotations

import time

import pandas as pd

from core import jobs
from core.cli import main
from core.data import quarantine, store
from core.data.fetch import fetch_coins, load_sample
from core.data.fetch_log import log_path
from core.data.fetch_status import FetchStatus
from core.usecases import top_up_candles
from tests.fake_binance import FakeBinance
from tests.homes import env_home, env_paths, env_runs
from tests.waiting import wait_until


def _store_all_but_the_last(symbol: str, hours: int) -> pd.DataFrame:
    """Drop the newest candles, so the next fetch tops up from there; returns what is stored."""
    candles = store.load_candles(symbol).iloc[:-hours]
    store.save_candles(candles, symbol)
    return store.load_candles(symbol)


def _fake_candles(fake: FakeBinance, symbol: str, held: pd.DataFrame) -> pd.DataFrame:
    """What the fake serves now for the hours of ``held`` (one request, as a client would)."""
    from core.data.binance import BinanceClient

    with BinanceClient(fake.url) as client:
        first, last = held["open_time"].iloc[0], held["open_time"].iloc[-1]
        page = client.klines(
            symbol,
            "1h",
            start_ms=int(first.value // 1_000_000),
            end_ms=int(last.value // 1_000_000),
            limit=1000,
        )
    return store.normalize_candles(page)


def test_fetch_refuses_a_top_up_from_another_source_and_holds_it(home):
    with FakeBinance(listed_hours=48) as fake:
        fetch_coins(["BTC", "ETH"], days=3, base_url=fake.url)
        for symbol in ("BTCUSDT", "ETHUSDT"):
            _store_all_but_the_last(symbol, 3)
        stored = store.candle_path("BTCUSDT").read_bytes()
        fake.set_scale("BTCUSDT", 0.48)  # another "source" for BTC only: -52%
        btc, eth = fetch_coins(["BTC", "ETH"], days=3, base_url=fake.url)
        served = _fake_candles(
            fake, "BTCUSDT", quarantine.held_candles("BTCUSDT", paths=env_paths())
        )
    assert btc.status is FetchStatus.CONFLICT and btc.new_rows == 0
    assert btc.reason.startswith(f"3 new candle(s) from {fake.url} do not fit the stored ones")
    assert btc.seam.startswith("Price jump at the seam of BTCUSDT 1h: the first new candle")
    assert "-52%" in btc.seam
    assert store.candle_path("BTCUSDT").read_bytes() == stored  # not a byte changed
    held = quarantine.held_candles("BTCUSDT", paths=env_paths())
    assert len(held) == 3
    pd.testing.assert_frame_equal(held, served)
    conflict = quarantine.pending("BTCUSDT", paths=env_paths())
    assert conflict is not None and conflict.rows == 3 and conflict.source == fake.url
    assert eth.status is FetchStatus.UP_TO_DATE and eth.new_rows == 3 and eth.seam == ""
    assert quarantine.pending("ETHUSDT", paths=env_paths()) is None
    assert "were not stored and are held in quarantine" in log_path(env_paths().logs).read_text()


def test_replace_makes_the_held_candles_the_series_and_discard_keeps_the_stored(home):
    with FakeBinance(listed_hours=48) as fake:
        fetch_coins(["BTC", "ETH"], days=3, base_url=fake.url)
        for symbol in ("BTCUSDT", "ETHUSDT"):
            _store_all_but_the_last(symbol, 2)
        old_eth = store.candle_path("ETHUSDT").read_bytes()
        fake.set_scale("BTCUSDT", 10.0)
        fake.set_scale("ETHUSDT", 10.0)
        fetch_coins(["BTC", "ETH"], days=3, base_url=fake.url)
        held = quarantine.held_candles("BTCUSDT", paths=env_paths())
        assert main(["data", "resolve", "--coin", "BTC", "--replace"]) == 0
        pd.testing.assert_frame_equal(store.load_candles("BTCUSDT"), held)
        assert main(["data", "resolve", "--coin", "ETH", "--discard"]) == 0
        assert store.candle_path("ETHUSDT").read_bytes() == old_eth
        assert quarantine.conflicts(paths=env_paths()) == []
        # the replaced series now is the new source: a fetch fills the range from it, no seam
        (again,) = fetch_coins(["BTC"], days=3, base_url=fake.url)
    assert again.status is FetchStatus.UP_TO_DATE and again.seam == ""
    assert again.new_rows > 40
    assert main(["data", "resolve", "--coin", "ETH", "--discard"]) == 1  # nothing left


def test_fetch_cli_says_conflict_and_exits_1_and_data_resolve_discards(home, capsys):
    with FakeBinance(listed_hours=48) as fake:
        assert main(["fetch", "--coins", "SOL", "--days", "3", "--base-url", fake.url]) == 0
        _store_all_but_the_last("SOLUSDT", 2)
        stored = store.candle_path("SOLUSDT").read_bytes()
        capsys.readouterr()
        fake.set_scale("SOLUSDT", 0.1)
        code = main(["fetch", "--coins", "SOL", "--days", "3", "--base-url", fake.url])
    out, err = capsys.readouterr()
    assert code == 1
    row = next(line for line in out.splitlines() if line.startswith("SOLUSDT"))
    assert "conflict: 2 new candle(s) from" in row
    (line,) = [line for line in out.splitlines() if line.startswith("conflict:")]
    assert "SOLUSDT 1h: 2 new candle(s)" in line and "-90%" in line
    assert "python -m core data resolve --coin SOL --replace" in line
    (error,) = [line for line in err.splitlines() if line.startswith("error:")]
    assert error.startswith("error: 1 of 1 coin(s) not stored (conflict")
    assert store.candle_path("SOLUSDT").read_bytes() == stored
    assert main(["data", "conflicts"]) == 0
    assert "SOLUSDT  1h" in capsys.readouterr().out
    assert main(["data", "resolve", "--coin", "SOL", "--discard"]) == 0
    assert "Discarded the 2 held candle(s) of SOLUSDT 1h" in capsys.readouterr().out
    assert store.candle_path("SOLUSDT").read_bytes() == stored
    assert not quarantine.held_path("SOLUSDT", paths=env_paths()).exists()


def test_fetch_job_records_the_conflict_in_its_status(home):
    with FakeBinance(listed_hours=48) as fake:
        fetch_coins(["BTC"], days=3, base_url=fake.url)
        _store_all_but_the_last("BTCUSDT", 2)
        stored = store.candle_path("BTCUSDT").read_bytes()
        fake.set_scale("BTCUSDT", 10.0)
        job_id = jobs.launch(jobs.FetchSpec(("BTC",), "1h", 3, base_url=fake.url), home=env_home())
        status = wait_until(
            lambda: (found := jobs.status(job_id, runs=env_runs())).finished and found,
            120,
            f"fetch job {job_id} to end",
            details=lambda: jobs.tail_log(job_id, runs=env_runs()),
        )
    (coin,) = status.coins
    assert coin.state == "conflict" and coin.seam.startswith("Price jump at the seam of BTCUSDT")
    assert status.message.startswith("1 conflict")
    (result,) = jobs.fetch_results(status)
    assert result.status is FetchStatus.CONFLICT and result.seam == coin.seam
    assert store.candle_path("BTCUSDT").read_bytes() == stored
    assert quarantine.pending("BTCUSDT", paths=env_paths()) is not None


def test_a_top_up_refuses_the_splice_and_never_asks_before_the_first_stored_candle(
    home, monkeypatch
):
    with FakeBinance(listed_hours=200) as fake:
        fetch_coins(["BTC", "ETH"], days=3, base_url=fake.url)
        firsts = {}
        for symbol in ("BTCUSDT", "ETHUSDT"):
            firsts[symbol] = _store_all_but_the_last(symbol, 3)["open_time"].iloc[0]
        stored = store.candle_path("BTCUSDT").read_bytes()
        fake.set_scale("BTCUSDT", 0.48)
        fake.reset_counts()
        monkeypatch.setenv("BINANCE_BASE_URL", fake.url)
        top_up = top_up_candles(["BTC", "ETH"], home=env_home(), patient=False)
        asked = [r for r in fake.requests if r.path == "/api/v3/klines"]
    assert asked
    for request in asked:  # the fake has 200 hours; only the tail after the stored ones is asked
        first = firsts[request.params["symbol"]]
        assert int(request.params["startTime"]) > first.value // 1_000_000, request.params
    assert top_up.ok and top_up.conflicts == ("BTCUSDT",) and top_up.added == 3
    assert top_up.notes[0] == (
        "Candles topped up from Binance: 3 new candle(s); not stored for BTCUSDT (conflict)."
    )
    assert top_up.notes[1].startswith("BTCUSDT 1h: 3 new candle(s) from")
    assert "-52%" in top_up.notes[1]
    assert store.candle_path("BTCUSDT").read_bytes() == stored
    assert len(quarantine.held_candles("BTCUSDT", paths=env_paths())) == 3
    assert store.load_candles("ETHUSDT")["open_time"].iloc[0] == firsts["ETHUSDT"]


def test_a_second_top_up_from_the_same_source_adds_to_the_held_candles(home, monkeypatch):
    hour = 3_600_000
    start = (int(time.time() * 1000) // hour) * hour - 10 * hour
    clock = {"now": start}
    fake = FakeBinance(listed_hours=None, now_ms=None)
    fake.state.now_ms = lambda: clock["now"]  # the fake's clock, moved by hand below
    with fake:
        now = pd.Timestamp(start, unit="ms", tz="UTC").to_pydatetime()
        fetch_coins(["BTC"], days=3, base_url=fake.url, now=now)
        stored = store.candle_path("BTCUSDT").read_bytes()
        fake.set_scale("BTCUSDT", 3.0)
        monkeypatch.setenv("BINANCE_BASE_URL", fake.url)
        later = pd.Timestamp(start + 2 * hour, unit="ms", tz="UTC").to_pydatetime()
        clock["now"] = start + 2 * hour
        first = top_up_candles(["BTC"], home=env_home(), patient=False, now=later)
        clock["now"] = start + 4 * hour
        even_later = pd.Timestamp(start + 4 * hour, unit="ms", tz="UTC").to_pydatetime()
        second = top_up_candles(["BTC"], home=env_home(), patient=False, now=even_later)
    assert first.conflicts == second.conflicts == ("BTCUSDT",)
    assert len(quarantine.held_candles("BTCUSDT", paths=env_paths())) == 4
    assert store.candle_path("BTCUSDT").read_bytes() == stored


def test_the_sample_over_candles_from_another_source_is_held_not_merged(home):
    # Stored: candles for hours the sample has too, from a "source" half as high.
    sample = load_sample(["BTC"])[0]
    assert sample.seam == "" and sample.status is not FetchStatus.CONFLICT
    candles = store.load_candles("BTCUSDT").iloc[-48:].copy()
    for col in ("open", "high", "low", "close"):
        candles[col] = candles[col] * 0.5
    store.save_candles(candles, "BTCUSDT")
    stored = store.candle_path("BTCUSDT").read_bytes()
    (result,) = load_sample(["BTC"])
    assert result.status is FetchStatus.CONFLICT and result.new_rows == 0
    assert "48 new candle(s) for hours already stored disagree with them" in result.seam
    assert store.candle_path("BTCUSDT").read_bytes() == stored
    assert len(quarantine.held_candles("BTCUSDT", paths=env_paths())) == 9_457
    (replaced,) = load_sample(["BTC"], replace=["BTC"])
    assert replaced.status is not FetchStatus.CONFLICT and "moved to" in replaced.note
    assert len(store.load_candles("BTCUSDT")) == 9_457
    (aside,) = (home / "data" / "quarantine").glob("BTCUSDT-1h.replaced.*.parquet")
    assert aside.read_bytes() == stored


def test_the_sample_next_to_stored_candles_ten_times_higher_is_a_head_conflict(home):
    load_sample(["BTC"])
    later = store.load_candles("BTCUSDT").iloc[-48:].copy()
    later["open_time"] = later["open_time"] + pd.Timedelta(hours=48)
    later["close_time"] = later["close_time"] + pd.Timedelta(hours=48)
    for col in ("open", "high", "low", "close"):
        later[col] = later[col] * 10
    store.save_candles(later, "BTCUSDT")
    (result,) = load_sample(["BTC"])
    assert result.status is FetchStatus.CONFLICT
    assert result.seam.startswith("Price jump at the seam of BTCUSDT 1h: the last new candle")
    assert len(store.load_candles("BTCUSDT")) == 48


def test_the_sample_over_the_same_real_candles_merges_without_a_conflict(home):
    load_sample(["ETH"])
    store.save_candles(store.load_candles("ETHUSDT").iloc[100:200], "ETHUSDT")
    (result,) = load_sample(["ETH"])
    assert result.status is not FetchStatus.CONFLICT and result.seam == ""
    assert quarantine.pending("ETHUSDT", paths=env_paths()) is None
    assert len(store.load_candles("ETHUSDT")) > 9_000
