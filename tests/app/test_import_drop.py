"""The Data page's drop zone under AppTest: Binance archive files built from the bundled sample's
real BTC candles go through core.data.importer; one result per file on the page, the store as
the importer leaves it (a verified month stored; a tampered zip, an orphan checksum and a
disagreeing overlap not)."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import pandas as pd
from streamlit.testing.v1 import AppTest

from core.data import quarantine, store
from tests.homes import env_paths
from tests.waiting import APP_TIMEOUT
from ui import state

ROOT = Path(__file__).resolve().parents[2]


def _month(btc: pd.DataFrame, month: str) -> pd.DataFrame:
    start = pd.Timestamp(f"{month}-01", tz="UTC")
    end = start + pd.offsets.MonthBegin(1)
    return btc[(btc["open_time"] >= start) & (btc["open_time"] < end)].reset_index(drop=True)


def _zip(candles: pd.DataFrame, name: str, *, unit: str = "ms") -> bytes:
    """A Binance kline archive: one header-less 12-column CSV, times in ``unit``."""
    scale = 1000 if unit == "us" else 1
    frame = candles[list(store.COLUMNS)].copy()
    for column in ("open_time", "close_time"):
        frame[column] = candles[column].map(lambda t: t.value // 10**6 * scale)
    frame["ignore"] = 0
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            name.removesuffix(".zip") + ".csv", frame.to_csv(header=False, index=False)
        )
    return buffer.getvalue()


def _checksum(data: bytes, name: str) -> bytes:
    return f"{hashlib.sha256(data).hexdigest()}  {name}\n".encode()


def _drop(files: list[tuple[str, bytes]]) -> AppTest:
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=APP_TIMEOUT)
    at.run()
    at.switch_page("pages/data.py").run()
    assert not at.exception
    zone = at.file_uploader(key=f"{state.IMPORT_FILES}_0")
    assert zone.accept_multiple_files
    zone.set_value([(n, d, "application/octet-stream") for n, d in files]).run()
    button = at.button(key=state.IMPORT_BUTTON)
    assert button.label == f"Import {len(files)} files"
    button.click().run()
    assert not at.exception
    return at


def test_dropped_archives_are_verified_stored_or_refused_one_result_each(btc_candles):
    december = _month(btc_candles, "2024-12")
    good = _zip(december, "BTCUSDT-1h-2024-12.zip")
    january = _month(btc_candles, "2025-01")
    tampered = bytearray(_zip(january, "BTCUSDT-1h-2025-01.zip", unit="us"))
    checksum_of_the_real_one = _checksum(bytes(tampered), "BTCUSDT-1h-2025-01.zip")
    tampered[-30] ^= 0xFF
    at = _drop(
        [
            ("BTCUSDT-1h-2024-12.zip", good),
            ("BTCUSDT-1h-2024-12.zip.CHECKSUM", _checksum(good, "BTCUSDT-1h-2024-12.zip")),
            ("BTCUSDT-1h-2025-01.zip", bytes(tampered)),
            ("BTCUSDT-1h-2025-01.zip.CHECKSUM", checksum_of_the_real_one),
            ("ETHUSDT-1h-2024-11.zip.CHECKSUM", _checksum(b"x", "ETHUSDT-1h-2024-11.zip")),
        ]
    )
    stored = [s.value for s in at.success]
    refused = [e.value for e in at.error]
    assert len(stored) == 1 and "744 new stored (sha256 verified)" in stored[0], stored
    assert any("BTCUSDT-1h-2025-01.zip" in e and "sha256" in e for e in refused), refused
    assert any("a checksum without its file" in e for e in refused), refused
    saved = store.load_candles("BTCUSDT", "1h")
    pd.testing.assert_frame_equal(saved, store.normalize_candles(december))  # January: nothing
    # the drop zone is empty again, the results stay until the next import
    assert at.file_uploader(key=f"{state.IMPORT_FILES}_1").value in (None, [])
    assert at.button(key=state.IMPORT_BUTTON).proto.disabled


def test_an_overlap_that_disagrees_is_held_back_and_a_csv_needs_its_coin(btc_candles):
    december = _month(btc_candles, "2024-12")
    store.save_candles(store.normalize_candles(december), "BTCUSDT", "1h")
    before = store.load_candles("BTCUSDT", "1h")
    doubled = december.copy()
    for column in ("open", "high", "low", "close"):
        doubled[column] = doubled[column] * 2  # another price series over the same hours
    plain_csv = _month(btc_candles, "2024-11")[["open_time", "open", "high", "low", "close"]]
    plain_csv = plain_csv.assign(volume=1.0).to_csv(index=False).encode()
    at = _drop([("BTCUSDT-1h-2024-12.zip", _zip(doubled, "x.zip")), ("mine.csv", plain_csv)])
    assert len(at.warning) == 1 and "BTCUSDT-1h-2024-12.zip" in at.warning[0].value
    assert "held in quarantine" in at.warning[0].value
    assert any("mine.csv" in e.value and "fill in Coin and Interval" in e.value for e in at.error)
    pd.testing.assert_frame_equal(store.load_candles("BTCUSDT", "1h"), before)
    assert (
        quarantine.pending("BTCUSDT", "1h", paths=env_paths()) is not None
    )  # the page's conflict box shows it
    assert any(b.label == "Replace with the new candles" for b in at.button)


def test_a_csv_named_otherwise_is_stored_under_the_coin_and_interval_given(btc_candles):
    november = _month(btc_candles, "2024-11")
    plain_csv = november[["open_time", "open", "high", "low", "close", "volume"]]
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=APP_TIMEOUT)
    at.run()
    at.switch_page("pages/data.py").run()
    at.text_input(key=state.IMPORT_COIN).set_value("btc")
    at.selectbox(key=state.IMPORT_INTERVAL).set_value("1h")
    zone = at.file_uploader(key=f"{state.IMPORT_FILES}_0")
    eth = _month(btc_candles, "2024-12")  # an archive dropped beside it keeps its own name's coin
    files = [("mine.csv", plain_csv.to_csv(index=False).encode(), "text/csv")]
    files.append(("ETHUSDT-4h-2024-12.zip", _zip(eth.iloc[::4], "x.zip"), "application/zip"))
    zone.set_value(files).run()
    at.button(key=state.IMPORT_BUTTON).click().run()
    assert not at.exception and not at.error
    assert "720 new stored" in at.success[0].value and "ETHUSDT 4h" in at.success[1].value
    saved = store.load_candles("BTCUSDT", "1h")
    assert list(saved["open_time"]) == list(november["open_time"])
    assert list(saved["close"]) == list(november["close"])
    assert len(store.load_candles("ETHUSDT", "4h")) == 186 and store.list_stored() == [
        ("BTCUSDT", "1h"),
        ("ETHUSDT", "4h"),
    ]
