"""AppTest of the Backtest page's volatility-target sizing section: a coin with only a volatility
model (GARCH candles) gets the direction backtest's reason and, below it, the three sizings with
the numbers the core computes, following the target widget."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.config import BacktestConfig
from core.data.store import save_candles
from core.registry.model_registry import ModelRegistry
from core.signals.sizing import SizingConfig, sizing_coin
from core.volatility.train import train_volatility
from tests.vol_sim import garch_candles
from tests.waiting import APP_TIMEOUT

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def test_sizing_section_shows_the_three_sizings(home: Path) -> None:
    candles = garch_candles(12000, seed=11)
    save_candles(candles, "BTCUSDT")
    train_volatility("BTC", estimator="har", registry=ModelRegistry(), candles=candles)
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=APP_TIMEOUT)
    at.run()
    at.switch_page("pages/backtest.py").run()
    assert not at.exception, at.exception
    assert any("Volatility-target sizing" in s.value for s in at.subheader)
    table = next(t.value for t in at.table if "sized by the forecast" in t.value.columns)
    expected = sizing_coin("BTCUSDT", ModelRegistry(), config=BacktestConfig())
    forecast = expected.metrics.forecast
    assert table.loc["Total return", "sized by the forecast"] == f"{forecast.total_return:.2%}"
    assert table.loc["Turnover (x equity traded)", "buy and hold"] == "2.0x"
    assert any("holds the target closer than trailing" in c.value for c in at.caption)
    # a 3% target sizes larger positions: the table follows the widget
    at.number_input(key="backtest_sizing_target").set_value(3.0).run()
    assert not at.exception, at.exception
    table = next(t.value for t in at.table if "sized by the forecast" in t.value.columns)
    bigger = sizing_coin(
        "BTCUSDT", ModelRegistry(), config=BacktestConfig(), sizing=SizingConfig(vol_target=0.03)
    )
    avg = bigger.metrics.forecast.avg_size
    assert table.loc["Average size (share of equity)", "sized by the forecast"] == f"{avg:.2%}"
    assert avg > forecast.avg_size
