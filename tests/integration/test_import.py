"""``python -m core import``: Binance archive files built from the real candles of the bundled
sample (BTCUSDT 1h), in milliseconds (before 2025) and microseconds (from 2025-01-01), with and
without the ``.CHECKSUM`` beside them; a tampered zip and a disagreeing overlap are refused."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.cli import main
from core.data import quarantine, store
from tests.homes import env_paths


def _month(btc: pd.DataFrame, month: str) -> pd.DataFrame:
    start = pd.Timestamp(f"{month}-01", tz="UTC")
    end = start + pd.offsets.MonthBegin(1)
    return btc[(btc["open_time"] >= start) & (btc["open_time"] < end)].reset_index(drop=True)


def _archive(folder: Path, candles: pd.DataFrame, name: str, *, unit: str, checksum: bool) -> Path:
    """A Binance archive: a zip holding a header-less 12-column CSV, times in ``unit``."""
    scale = 1000 if unit == "us" else 1
    frame = pd.DataFrame(
        {
            "open_time": candles["open_time"].map(lambda t: t.value // 10**6 * scale),
            **{c: candles[c] for c in ("open", "high", "low", "close", "volume")},
            "close_time": candles["close_time"].map(lambda t: t.value // 10**6 * scale),
            "quote_asset_volume": candles["quote_asset_volume"],
            "number_of_trades": candles["number_of_trades"],
            "taker_buy_base_volume": candles["taker_buy_base_volume"],
            "taker_buy_quote_volume": candles["taker_buy_quote_volume"],
            "ignore": 0,
        }
    )
    text = frame.to_csv(header=False, index=False)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name.removesuffix(".zip") + ".csv", text)
    path = folder / name
    path.write_bytes(buffer.getvalue())
    if checksum:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        (folder / f"{name}.CHECKSUM").write_text(f"{digest}  {name}\n")
    return path


@pytest.mark.parametrize(("month", "unit"), [("2024-12", "ms"), ("2025-01", "us")])
@pytest.mark.parametrize("checksum", [True, False])
def test_a_month_of_archive_candles_is_stored_as_they_were(
    btc_candles, tmp_path, capsys, month, unit, checksum
):
    candles = _month(btc_candles, month)
    name = f"BTCUSDT-1h-{month}.zip"
    path = _archive(tmp_path, candles, name, unit=unit, checksum=checksum)
    assert main(["import", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"{len(candles):,} new stored" in out and ("sha256 verified" in out) == checksum
    stored = store.load_candles("BTC")
    pd.testing.assert_frame_equal(stored, store.normalize_candles(candles))
    assert main(["import", str(path), "--json"]) == 0  # again: nothing new, nothing lost
    (result,) = json.loads(capsys.readouterr().out)
    assert result["new_rows"] == 0 and result["status"] == "stored"
    assert result["checksum"] == ("verified" if checksum else "none")


def test_gaps_are_reported_never_filled(btc_candles, tmp_path, capsys):
    candles = _month(btc_candles, "2024-12").drop(index=range(100, 105)).reset_index(drop=True)
    path = _archive(tmp_path, candles, "BTCUSDT-1h-2024-12.zip", unit="ms", checksum=True)
    assert main(["import", str(path), "--json"]) == 0
    (result,) = json.loads(capsys.readouterr().out)
    assert [g["missing"] for g in result["gaps"]] == [5]
    assert len(store.load_candles("BTC")) == len(candles)


def test_a_tampered_zip_is_refused_and_nothing_of_it_stored(btc_candles, tmp_path, capsys):
    candles = _month(btc_candles, "2025-01")
    path = _archive(tmp_path, candles, "BTCUSDT-1h-2025-01.zip", unit="us", checksum=True)
    checksum = (tmp_path / "BTCUSDT-1h-2025-01.zip.CHECKSUM").read_text()
    edited = candles.copy()
    edited.loc[10, "close"] *= 1.001
    _archive(tmp_path, edited, "BTCUSDT-1h-2025-01.zip", unit="us", checksum=False)
    (tmp_path / "BTCUSDT-1h-2025-01.zip.CHECKSUM").write_text(checksum)  # the published one
    assert main(["import", str(path)]) == 1
    out, err = capsys.readouterr()
    assert "refused" in out and "sha256" in out and "Nothing from it was stored" in out
    assert err.startswith("error: 1 of 1 file(s) not stored")
    assert not store.candle_path("BTCUSDT").exists()


def test_an_overlap_that_disagrees_is_held_back_and_the_stored_file_kept(
    btc_candles, tmp_path, capsys
):
    store.save_candles(_month(btc_candles, "2024-12"), "BTCUSDT")
    before = store.candle_path("BTCUSDT").read_bytes()
    other = _month(btc_candles, "2024-12").copy()
    for column in ("open", "high", "low", "close"):
        other[column] = other[column] * np.where(other.index >= 300, 1.1, 1.0)
    path = _archive(tmp_path, other, "BTCUSDT-1h-2024-12.zip", unit="ms", checksum=True)
    assert main(["import", str(path)]) == 1
    out = capsys.readouterr().out
    assert "conflict" in out and "python -m core data resolve --coin BTC" in out
    assert store.candle_path("BTCUSDT").read_bytes() == before
    assert quarantine.pending("BTCUSDT", "1h", paths=env_paths()) is not None


def test_a_plain_csv_with_a_header_and_flags(btc_candles, tmp_path, capsys):
    candles = _month(btc_candles, "2025-02")
    plain = candles[["open_time", "open", "high", "low", "close", "volume"]].copy()
    plain["open_time"] = plain["open_time"].map(lambda t: t.isoformat())
    path = tmp_path / "my-candles.csv"
    plain.rename(columns={"open_time": "timestamp"}).to_csv(path, index=False)
    assert main(["import", str(path)]) == 1  # the name says no coin
    assert "give --coin and --interval" in capsys.readouterr().err
    assert main(["import", str(path), "--coin", "ETH", "--interval", "1h"]) == 0
    stored = store.load_candles("ETH")
    assert len(stored) == len(candles)
    assert (stored["close"].to_numpy() == candles["close"].to_numpy()).all()


def test_daily_files_zip_and_bare_csv_make_one_series(btc_candles, tmp_path, capsys):
    month = _month(btc_candles, "2025-03")
    days = [month[month["open_time"].dt.day == d].reset_index(drop=True) for d in (1, 2, 3)]
    first = _archive(tmp_path, days[0], "BTCUSDT-1h-2025-03-01.zip", unit="us", checksum=True)
    second = _archive(tmp_path, days[1], "BTCUSDT-1h-2025-03-02.zip", unit="us", checksum=False)
    third = _archive(tmp_path, days[2], "BTCUSDT-1h-2025-03-03.zip", unit="us", checksum=False)
    with zipfile.ZipFile(third) as archive:  # the CSV inside, unzipped, also imports
        bare = tmp_path / "BTCUSDT-1h-2025-03-03.csv"
        bare.write_bytes(archive.read("BTCUSDT-1h-2025-03-03.csv"))
    unnamed = tmp_path / "candles.csv"
    unnamed.write_bytes(bare.read_bytes())
    # one file that names no coin stops the run before anything is read
    assert main(["import", str(first), str(unnamed)]) == 1
    assert "Nothing was imported" in capsys.readouterr().err
    assert not store.candle_path("BTCUSDT").exists()
    assert main(["import", str(first), str(second), str(bare)]) == 0
    stored = store.load_candles("BTC")
    pd.testing.assert_frame_equal(stored, store.normalize_candles(pd.concat(days)))
    assert len(stored) == 72
