"""core.data.store: exact schema, atomic saves, dedupe on merge, honest gaps, damaged files."""

from __future__ import annotations

import os

import pandas as pd
import pytest

from core.data import store
from core.errors import CorruptDataError, NoDataError


def test_saved_candles_load_back_in_the_exact_schema(btc_candles, home):
    path = store.save_candles(btc_candles.head(100), "btc")
    assert path == home / "data" / "raw" / "BTCUSDT-1h.parquet"
    frame = store.load_candles("BTCUSDT")
    assert list(frame.columns) == list(store.COLUMNS)
    assert str(frame["open_time"].dtype) == str(frame["close_time"].dtype) == "datetime64[ms, UTC]"
    assert all(frame[c].dtype == "float64" for c in store.FLOAT_COLUMNS)
    assert frame["number_of_trades"].dtype == "int64"
    assert isinstance(frame.index, pd.RangeIndex)
    pd.testing.assert_frame_equal(frame, btc_candles.head(100))


def test_nothing_stored_says_how_to_fetch():
    with pytest.raises(NoDataError, match="python -m core fetch --coins ETH"):
        store.load_candles("ETH")


def test_merge_dedupes_by_open_time_and_the_new_row_wins(btc_candles):
    old = btc_candles.iloc[:60]
    new = btc_candles.iloc[50:80].copy()
    new["close"] = new["close"] + 1
    merged = store.merge_candles(old, new)
    assert len(merged) == 80 and merged["open_time"].is_unique
    assert merged["open_time"].is_monotonic_increasing
    assert merged.loc[55, "close"] == btc_candles.loc[55, "close"] + 1
    assert merged.loc[10, "close"] == btc_candles.loc[10, "close"]


def test_unsorted_duplicated_input_is_normalized(btc_candles):
    shuffled = pd.concat([btc_candles.iloc[20:40], btc_candles.iloc[:30]]).sample(
        frac=1, random_state=0
    )
    out = store.normalize_candles(shuffled)
    pd.testing.assert_frame_equal(out, btc_candles.iloc[:40].reset_index(drop=True))


def test_gaps_are_reported_never_filled(btc_candles):
    holed = btc_candles.drop(index=[10, 11, 12, 50]).reset_index(drop=True)
    store.save_candles(holed, "BTC")
    frame = store.load_candles("BTC")
    assert len(frame) == len(holed)  # nothing invented
    gaps = store.find_gaps(frame.head(100))
    assert gaps["missing"].tolist() == [3, 1]
    assert gaps["after"].iloc[0] == btc_candles["open_time"].iloc[9]
    assert gaps["before"].iloc[0] == btc_candles["open_time"].iloc[13]
    cov = store.coverage("BTC")
    assert cov.missing == 4 and cov.rows == len(holed)


def test_open_candles_are_dropped(btc_candles):
    cut = btc_candles["close_time"].iloc[99]
    kept = store.drop_open_candles(btc_candles.head(101), now=cut.to_pydatetime())
    assert len(kept) == 99  # the candle closing exactly at "now" has not closed yet


def test_save_is_atomic_a_failed_write_leaves_the_old_file(btc_candles, monkeypatch):
    path = store.save_candles(btc_candles.head(10), "BTC")
    before = path.read_bytes()

    def explode(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(store.pq, "write_table", explode)
    with pytest.raises(OSError):
        store.save_candles(btc_candles.head(20), "BTC")
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp file left behind


@pytest.mark.parametrize("damage", ["truncate", "garbage", "wrong-columns"])
def test_damaged_file_is_detected_reported_and_moved_aside(btc_candles, home, damage):
    path = store.save_candles(btc_candles.head(50), "BTC")
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[: os.path.getsize(path) // 2])
    elif damage == "garbage":
        path.write_bytes(b"not a parquet file at all")
    else:
        btc_candles.head(5)[["open_time", "close"]].to_parquet(path)
    with pytest.raises(CorruptDataError, match="damaged.*moved to"):
        store.load_candles("BTC")
    assert not path.exists()
    moved = list((home / "data" / "quarantine").glob("BTCUSDT-1h.*.parquet"))
    assert len(moved) == 1
    assert moved[0].with_suffix(".parquet.reason.txt").read_text().strip()
    assert store.coverage("BTC").rows == 0  # gone, so a fetch can write a fresh one


def test_coverage_reports_rows_range_and_size(btc_candles):
    store.save_candles(btc_candles.head(24), "ETH")
    cov = store.coverage("ETHUSDT")
    assert cov.rows == 24 and cov.missing == 0 and cov.size_bytes > 0
    assert cov.first == btc_candles["open_time"].iloc[0]
    assert cov.last == btc_candles["open_time"].iloc[23]
    assert store.list_stored() == [("ETHUSDT", "1h")]


def test_export_csv_has_every_field_and_iso_utc_times(btc_candles):
    store.save_candles(btc_candles.head(3), "BTC")
    lines = store.export_csv("BTC").decode().splitlines()
    assert lines[0].split(",") == list(store.COLUMNS)
    assert len(lines) == 4 and lines[1].startswith("2024-05-01T00:00:00Z,")
