"""store.coverage reads only the open times of a well-formed file, with the full load's answers,
and still reports and moves aside a damaged file it meets first."""

from __future__ import annotations

import os

import pandas as pd
import pyarrow.parquet as pq
import pytest

from core.data import store


def _full_load_coverage(symbol: str) -> tuple:
    frame = store.load_candles(symbol)
    gaps = store.find_gaps(frame)
    return len(frame), frame["open_time"].iloc[0], frame["open_time"].iloc[-1], len(gaps)


def test_coverage_reads_one_column_and_agrees_with_the_full_load(btc_candles, home, monkeypatch):
    holed = btc_candles.drop(index=[10, 11, 500]).reset_index(drop=True)
    store.save_candles(holed, "BTC")
    read_columns = []
    real_read = pq.ParquetFile.read

    def spy(self, columns=None, **kw):
        read_columns.append(columns)
        return real_read(self, columns=columns, **kw)

    monkeypatch.setattr(pq.ParquetFile, "read", spy)
    cov = store.coverage("BTC")
    assert read_columns == [["open_time"]]
    assert (cov.rows, cov.first, cov.last, len(cov.gaps)) == _full_load_coverage("BTC")
    assert cov.missing == 3 and cov.size_bytes == store.candle_path("BTC").stat().st_size


def test_coverage_of_a_fetch_uses_the_frame_it_is_given(btc_candles, home):
    store.save_candles(btc_candles.head(48), "ETH")
    cov = store.coverage("ETH", frame=btc_candles.head(48))
    assert cov.rows == 48 and cov.last == btc_candles["open_time"].iloc[47]


@pytest.mark.parametrize("damage", ["truncate", "garbage", "wrong-columns", "unsorted"])
def test_coverage_first_still_reports_and_moves_a_damaged_file(btc_candles, home, damage):
    path = store.save_candles(btc_candles.head(50), "BTC")
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[: os.path.getsize(path) // 2])
    elif damage == "garbage":
        path.write_bytes(b"not a parquet file at all")
    elif damage == "wrong-columns":
        btc_candles.head(5)[["open_time", "close"]].to_parquet(path)
    else:  # every column right, rows out of order: the full load sorts them
        btc_candles.head(50).iloc[::-1].to_parquet(path, index=False)
    cov = store.coverage("BTC")
    if damage == "unsorted":
        assert cov.rows == 50 and cov.first == btc_candles["open_time"].iloc[0]
        return
    assert cov.rows == 0 and "damaged" in cov.error
    assert not path.exists()
    assert list((home / "data" / "quarantine").glob("BTCUSDT-1h.*.parquet"))


def test_missing_file_has_no_rows(home):
    assert store.coverage("SOL").rows == 0 and store.coverage("SOL").error == ""
    assert isinstance(store.coverage("SOL").gaps, pd.DataFrame)
