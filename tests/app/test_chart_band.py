"""AppTest: the Charts page draws the expected-move band ahead of the last candle when the coin
has a passing volatility model and its candles are fresh, and nothing otherwise."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core.data.store import save_candles
from core.registry.model_registry import ModelRegistry
from core.volatility.live import load_live_volatility, move_fields
from core.volatility.train import train_volatility
from tests.vol_sim import constant_vol_candles, garch_candles
from tests.waiting import APP_TIMEOUT

ROOT = Path(__file__).resolve().parents[2]
LEVELS = ("90", "80", "50")


def _values(array) -> np.ndarray:
    if isinstance(array, dict):
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"])
    return np.array(array, dtype="float64")


def _charts(symbol: str = "BTCUSDT") -> AppTest:
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=APP_TIMEOUT)
    at.run()
    at.switch_page("pages/charts.py").run()
    if at.selectbox(key="selected_coin").value != symbol:
        at.selectbox(key="selected_coin").set_value(symbol).run()
    assert not at.exception, at.exception
    return at


def _bands(at: AppTest) -> dict[str, dict]:
    (chart,) = at.get("plotly_chart")
    fig = json.loads(chart.proto.spec)
    return {t["meta"]: t for t in fig["data"] if str(t.get("meta", "")).startswith("expected_")}


def _captions(at: AppTest) -> str:
    return " ".join(c.value for c in at.caption)


@pytest.fixture
def garch_home(home: Path) -> pd.DataFrame:
    candles = garch_candles(12000, seed=11)
    save_candles(candles, "BTCUSDT")
    train_volatility("BTC", estimator="har", registry=ModelRegistry(), candles=candles)
    return candles


def test_the_band_is_drawn_ahead_of_the_last_candle_with_a_passing_model(
    garch_home: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
):
    last = garch_home["open_time"].iloc[-1]
    monkeypatch.setenv("CRYPTOVOLT_NOW", (last + pd.Timedelta(minutes=90)).isoformat())
    at = _charts()
    assert not at.warning, "the same clock as the band: the candles are not old"
    bands = _bands(at)
    assert set(bands) == {f"expected_move_{lv}" for lv in LEVELS}
    move = move_fields(load_live_volatility(ModelRegistry(), "BTCUSDT"), garch_home)
    price = garch_home["close"].iloc[-1]
    anchor = (last + pd.Timedelta(hours=1)).value // 1_000_000
    for level in LEVELS:
        x, y = (
            _values(bands[f"expected_move_{level}"]["x"]),
            _values(bands[f"expected_move_{level}"]["y"]),
        )
        # from the last close at its close time, out to 6 h and 24 h ahead
        assert x[0] == anchor and y[0] == pytest.approx(price)
        assert sorted(set(x)) == [anchor, anchor + 6 * 3_600_000, anchor + 24 * 3_600_000]
        lo, hi = move["expected_move"]["24h"]["bands"][level]
        assert max(y) == pytest.approx(price * (1 + hi)) and min(y) == pytest.approx(
            price * (1 + lo)
        )
        assert bands[f"expected_move_{level}"]["name"] == f"expected move {level}%"
    captions = _captions(at)
    assert "Expected move ahead of the last candle, from vol_har_btcusdt v1" in captions
    # a Window that ends before the last candle has nothing to draw it from
    window = next(d for d in at.date_input if d.label == "Window (UTC dates)")
    lo_day, hi_day = window.value
    window.set_value((lo_day, hi_day - pd.Timedelta(days=3))).run()
    assert not _bands(at) and "widen the Window" in _captions(at)


def test_no_band_once_the_candles_are_stale(
    garch_home: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
):
    last = garch_home["open_time"].iloc[-1]
    monkeypatch.setenv("CRYPTOVOLT_NOW", (last + pd.Timedelta(hours=8)).isoformat())
    at = _charts()
    assert not _bands(at)
    assert "hours it forecasts have passed (stale)" in _captions(at)


def test_no_band_without_a_passing_volatility_model(home: Path, monkeypatch: pytest.MonkeyPatch):
    candles = constant_vol_candles(6000)  # nothing beats persistence: every gate fails
    save_candles(candles, "ETHUSDT")
    train_volatility("ETH", estimator="har", registry=ModelRegistry(), candles=candles)
    last = candles["open_time"].iloc[-1]
    monkeypatch.setenv("CRYPTOVOLT_NOW", (last + pd.Timedelta(minutes=90)).isoformat())
    at = _charts("ETHUSDT")
    assert not _bands(at)
    assert "Expected move: not drawn (no volatility model passes its gates" in _captions(at)


def test_no_band_for_a_coin_without_volatility_models(home_with_sample: Path):
    at = _charts()
    assert not _bands(at)
    assert "not drawn (no volatility model is trained for this coin: train one on the" in _captions(
        at
    )
