"""Charts page under AppTest: empty state, a drawn chart, range/overlay/pane widgets, gaps."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core.data.store import normalize_candles, save_candles
from tests.waiting import APP_TIMEOUT

ROOT = Path(__file__).resolve().parents[2]


def _charts() -> AppTest:
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=APP_TIMEOUT)
    at.run()
    at.switch_page("pages/charts.py").run()
    assert not at.exception, at.exception
    return at


def _figure(at: AppTest) -> dict:
    charts = at.get("plotly_chart")
    assert len(charts) == 1
    return json.loads(charts[0].proto.spec)


def _values(array) -> np.ndarray:
    """Plotly 6 ships numeric arrays as base64 ``{"dtype", "bdata"}``; lists stay lists."""
    if isinstance(array, dict):
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"])
    return np.array([np.nan if v is None else v for v in array], dtype="float64")


def _trace(fig: dict, kind: str) -> dict:
    return next(t for t in fig["data"] if t["type"] == kind)


def test_without_data_the_page_says_where_to_get_it(home):
    at = _charts()
    text = " ".join(i.value for i in at.info)
    assert "Data" in text and "python -m core fetch" in text
    assert not at.get("plotly_chart")


def test_with_sample_a_30_day_candlestick_chart_and_table_are_shown(home_with_sample):
    at = _charts()
    fig = _figure(at)
    candles = _trace(fig, "candlestick")
    assert len(_values(candles["x"])) == 30 * 24
    assert "Bitcoin" in fig["layout"]["title"]["text"]
    assert fig["layout"]["title"]["text"].endswith("times in UTC")  # no browser zone in AppTest
    columns = {t.get("meta") for t in fig["data"]}
    assert {"sma_20", "sma_50", "rsi_14", "macd", "macd_signal", "macd_hist"} <= columns
    names = {t.get("name") for t in fig["data"]}
    assert {"SMA 20", "SMA 50", "RSI 14", "MACD", "MACD signal", "MACD histogram"} <= names
    assert "Volume" in names and not names & columns, "legends show readable names"
    assert at.selectbox(key="selected_coin").value == "BTCUSDT"
    table = at.dataframe[0].value
    assert len(table) == 720 and {"close", "rsi_14", "obv", "cmf_20"} <= set(table.columns)
    assert table["sma_200"].notna().all(), "indicators come from all candles, not just the range"
    assert table["open_time"].is_monotonic_decreasing, "newest first"
    assert at.get("download_button")


def test_all_range_is_resampled_and_says_so(home_with_sample):
    at = _charts()
    at.button_group(key="chart_range").set_value("all").run()
    assert not at.exception
    candles = _trace(_figure(at), "candlestick")
    assert 0 < len(_values(candles["x"])) <= 2_000
    captions = " ".join(c.value for c in at.caption)
    assert "resampled from 9,457 1h candles" in captions


def test_every_overlay_and_pane_can_be_ticked(home_with_sample):
    at = _charts()
    at.button_group(key="chart_overlays").set_value(at.button_group(key="chart_overlays").options)
    at.button_group(key="chart_panes").set_value(at.button_group(key="chart_panes").options)
    at.button_group(key="chart_range").set_value("90d").run()
    assert not at.exception, at.exception
    names = {t.get("meta") for t in _figure(at)["data"]}
    for col in (
        "bb_upper",
        "donchian_low_20",
        "ema_26",
        "sma_200",
        "adx_14",
        "minus_di_14",
        "atr_14",
        "obv",
        "cci_20",
        "williams_r_14",
        "cmf_20",
        "volatility_50",
        "stoch_d",
    ):
        assert col in names


def test_switching_coin_redraws_for_that_coin(home_with_sample):
    at = _charts()
    at.selectbox(key="selected_coin").set_value("ETHUSDT").run()
    assert not at.exception
    assert "Ethereum" in _figure(at)["layout"]["title"]["text"]


@pytest.mark.parametrize("missing", [7])
def test_exchange_gaps_are_shaded_and_reported(home, missing):
    sample = ROOT / "data" / "sample" / "BTCUSDT-1h.parquet"
    candles = normalize_candles(pd.read_parquet(sample))
    cut = len(candles) - 100
    save_candles(candles.drop(index=range(cut, cut + missing)), "BTCUSDT")
    at = _charts()
    captions = " ".join(c.value for c in at.caption)
    assert f"1 exchange gap(s) ({missing} missing 1h candles)" in captions
    fig = _figure(at)
    rects = [s for s in fig["layout"].get("shapes", []) if s.get("yref") == "paper"]
    assert len(rects) == 1
    gap_start = candles["open_time"].iloc[cut]
    # epoch ms of the viewer's wall clock, as the candles' x (UTC here: no browser zone)
    assert pd.Timestamp(rects[0]["x0"], unit="ms", tz="UTC") == gap_start
    sma = next(t for t in fig["data"] if t.get("meta") == "sma_20")
    assert np.isnan(_values(sma["y"])).sum() == 1, "lines break at the gap instead of bridging it"
    assert len(_values(_trace(fig, "candlestick")["x"])) == 720 - missing


def test_narrowing_the_window_loads_finer_candles_for_it(home_with_sample):
    at = _charts()
    at.button_group(key="chart_range").set_value("all").run()
    window = next(d for d in at.date_input if d.label == "Window (UTC dates)")
    lo, hi = window.value
    assert (hi - lo).days == 394, "the Window spans the range's dates"
    window.set_value((hi - pd.Timedelta(days=20), hi)).run()
    assert not at.exception
    candles = _trace(_figure(at), "candlestick")
    # 20 whole days of native 1h candles, then the last day up to its last candle (00:00)
    assert len(_values(candles["x"])) == 20 * 24 + 1
    captions = " ".join(c.value for c in at.caption)
    assert "(21 days: the Window)" in captions and "resampled" not in captions
    assert len(at.dataframe[0].value) == 20 * 24 + 1


def test_resampled_chart_says_how_to_get_finer_candles(home_with_sample):
    at = _charts()
    at.button_group(key="chart_range").set_value("1y").run()
    captions = " ".join(c.value for c in at.caption)
    assert "narrow the Window" in captions and "does not pass the chart's zoom back" in captions


def test_a_coin_whose_data_ends_long_ago_says_so(home_with_sample):
    at = _charts()
    (warning,) = [w.value for w in at.warning]
    assert warning.startswith("BTCUSDT: the stored candles end 2025-05-30 00:00 UTC")
    assert re.search(r"UTC, [\d.]+ (days|months|years) old", warning), warning
    assert "shows the past" in warning and "Data page" in warning
