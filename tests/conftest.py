"""Fixtures shared by every test.

Every test runs with its own home folder (``CRYPTOVOLT_HOME`` set to a temp dir), so nothing a test
writes lands in the project folder, and no test sees another's files.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample"


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh, empty home folder for this test."""
    folder = tmp_path / "home"
    folder.mkdir()
    monkeypatch.setenv("CRYPTOVOLT_HOME", str(folder))
    monkeypatch.delenv("BINANCE_BASE_URL", raising=False)
    return folder


@pytest.fixture
def btc_candles() -> pd.DataFrame:
    """Real BTCUSDT 1h candles from the bundled sample (9,457 rows, 2024-05-01 → 2025-05-30)."""
    from core.data.store import normalize_candles

    return normalize_candles(pd.read_parquet(SAMPLE / "BTCUSDT-1h.parquet"))


@pytest.fixture
def home_with_sample(home: Path) -> Path:
    """The home folder with the bundled sample's candle files copied into data/raw/."""
    raw = home / "data" / "raw"
    raw.mkdir(parents=True)
    for path in SAMPLE.glob("*.parquet"):
        shutil.copy(path, raw / path.name)
    return home


@pytest.fixture
def fake_binance():
    """A fake Binance API on 127.0.0.1 (tests/fake_binance.py), stopped after the test."""
    from tests.fake_binance import FakeBinance

    with FakeBinance() as fake:
        yield fake
