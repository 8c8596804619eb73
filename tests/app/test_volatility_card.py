"""AppTest: the Signals page card shows the expected move, regime and position size of a coin
whose volatility model passes its gates (GARCH candles), whatever the direction."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core.data.store import save_candles
from core.registry.model_registry import ModelRegistry
from core.volatility.train import train_volatility
from tests.vol_sim import garch_candles
from tests.waiting import APP_TIMEOUT

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def test_signals_card_shows_the_expected_move(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    candles = garch_candles(12000, seed=11)
    save_candles(candles, "BTCUSDT")
    train_volatility("BTC", estimator="har", registry=ModelRegistry(), candles=candles)
    last = candles["open_time"].iloc[-1]
    monkeypatch.setenv("CRYPTOVOLT_NOW", (last + pd.Timedelta(minutes=90)).isoformat())
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=APP_TIMEOUT)
    at.run()
    at.switch_page("pages/signals.py").run()
    assert not at.exception, at.exception
    labels = {m.label: m.value for m in at.metric}
    assert "Move next 6h (80%)" in labels and "Move next 24h (80%)" in labels
    assert "Position size" in labels and labels["Position size"].endswith("%")
    lo, _, hi = labels["Move next 24h (80%)"].partition(" … ")
    assert lo.startswith("-") and hi.startswith("+")
    captions = " ".join(c.value for c in at.caption)
    assert "Volatility regime: **" in captions and "vol_har_btcusdt v1" in captions


@pytest.mark.parametrize(
    "page", ["pages/models.py", "pages/monitor.py", "pages/backtest.py", "pages/training.py"]
)
def test_other_pages_live_beside_volatility_models(
    home: Path, monkeypatch: pytest.MonkeyPatch, page: str
) -> None:
    candles = garch_candles(6000, seed=11)
    save_candles(candles, "BTCUSDT")
    train_volatility("BTC", estimator="har", registry=ModelRegistry(), candles=candles)
    last = candles["open_time"].iloc[-1]
    monkeypatch.setenv("CRYPTOVOLT_NOW", (last + pd.Timedelta(minutes=90)).isoformat())
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=APP_TIMEOUT)
    at.run()
    at.switch_page(page).run()
    assert not at.exception, (page, at.exception)


def test_a_new_volatility_version_reaches_the_open_signals_page(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    candles = garch_candles(12000, seed=11)
    save_candles(candles, "BTCUSDT")
    registry = ModelRegistry()
    train_volatility("BTC", estimator="har", registry=registry, candles=candles, horizons=(6,))
    last = candles["open_time"].iloc[-1]
    monkeypatch.setenv("CRYPTOVOLT_NOW", (last + pd.Timedelta(minutes=90)).isoformat())
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=APP_TIMEOUT)
    at.run()
    at.switch_page("pages/signals.py").run()
    labels = {m.label for m in at.metric}
    assert "Move next 6h (80%)" in labels and "Move next 24h (80%)" not in labels
    # v2 with both horizons, promoted: the same page shows it on its next run (caches keyed on it)
    train_volatility("BTC", estimator="har", registry=registry, candles=candles, force=True)
    at.run()
    assert not at.exception, at.exception
    assert "Move next 24h (80%)" in {m.label for m in at.metric}
