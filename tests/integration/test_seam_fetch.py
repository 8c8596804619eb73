"""Seam check end to end: a top-up from a source whose prices are ten times the stored ones is
reported by the fetch result, the fetch job's status, the log and ``python -m core fetch``."""

from __future__ import annotations

import pandas as pd

from core import jobs
from core.cli import main
from core.data import store
from core.data.fetch import fetch_coins
from core.data.fetch_log import log_path
from tests.fake_binance import FakeBinance
from tests.waiting import wait_until


def _store_all_but_the_last(symbol: str, hours: int) -> None:
    """Drop the newest candles, so the next fetch tops up from there."""
    candles = store.load_candles(symbol)
    store.save_candles(candles.iloc[:-hours], symbol)


def test_top_up_ten_times_higher_is_reported_by_the_result_and_the_log():
    with FakeBinance(listed_hours=48) as fake:
        first = fetch_coins(["BTC", "ETH"], days=3, base_url=fake.url)
        assert [r.seam for r in first] == ["", ""]  # nothing stored before: no seam to check
        for symbol in ("BTCUSDT", "ETHUSDT"):
            _store_all_but_the_last(symbol, 3)
        fake.set_scale("BTCUSDT", 10.0)  # another "source" for BTC only
        results = fetch_coins(["BTC", "ETH"], days=3, base_url=fake.url)
    btc, eth = results
    assert btc.new_rows == 3 and eth.new_rows == 3
    assert btc.seam.startswith("Price jump at the seam of BTCUSDT 1h: the first new candle")
    assert "+900%" in btc.seam
    assert eth.seam == ""  # a normal hour joins
    assert "Price jump at the seam of BTCUSDT" in log_path().read_text()


def test_fetch_cli_warns_about_the_seam_and_still_exits_0(capsys):
    with FakeBinance(listed_hours=48) as fake:
        assert main(["fetch", "--coins", "SOL", "--days", "3", "--base-url", fake.url]) == 0
        capsys.readouterr()
        _store_all_but_the_last("SOLUSDT", 2)
        fake.set_scale("SOLUSDT", 0.1)
        code = main(["fetch", "--coins", "SOL", "--days", "3", "--base-url", fake.url])
    out, err = capsys.readouterr()
    assert code == 0, err
    warnings = [line for line in out.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "SOLUSDT 1h" in warnings[0] and "-90%" in warnings[0]
    row = next(line for line in out.splitlines() if line.startswith("SOLUSDT"))
    assert "price jump at the seam" in row


def test_fetch_job_records_the_seam_in_its_status():
    with FakeBinance(listed_hours=48) as fake:
        fetch_coins(["BTC"], days=3, base_url=fake.url)
        _store_all_but_the_last("BTCUSDT", 2)
        fake.set_scale("BTCUSDT", 10.0)
        job_id = jobs.launch(jobs.FetchSpec(("BTC",), "1h", 3, base_url=fake.url))
        status = wait_until(
            lambda: (found := jobs.status(job_id)).finished and found,
            120,
            f"fetch job {job_id} to end",
            details=lambda: jobs.tail_log(job_id),
        )
    (coin,) = status.coins
    assert coin.seam.startswith("Price jump at the seam of BTCUSDT 1h")
    assert "price jump at the seam of BTCUSDT" in status.message
    (result,) = jobs.fetch_results(status)
    assert result.seam == coin.seam


def test_loading_the_sample_onto_candles_from_another_source_reports_the_seam():
    from core.data.fetch import load_sample

    # Stored: two days of candles from a "source" ten times higher, starting right after the
    # sample ends; loading the sample puts it before them, meeting them with a 10x jump.
    sample = load_sample(["BTC"])[0]
    assert sample.seam == ""  # nothing was stored before
    candles = store.load_candles("BTCUSDT")
    later = candles.iloc[-48:].copy()
    later["open_time"] = later["open_time"] + pd.Timedelta(hours=48)
    later["close_time"] = later["close_time"] + pd.Timedelta(hours=48)
    for col in ("open", "high", "low", "close"):
        later[col] = later[col] * 10
    store.save_candles(later, "BTCUSDT")
    (result,) = load_sample(["BTC"])
    assert result.seam.startswith("Price jump at the seam of BTCUSDT 1h: the last new candle")
