"""Pages in step and the viewer's habits, under AppTest: the sidebar after Load bundled sample,
a typed pair parsed once (``btc/usd`` refused with what to type), one coin label on every page,
a page's coin and interval from its URL, confirmations in dialogs."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core.data import store
from core.data.coins import display_name
from tests.card_home import copy_carded_into
from tests.waiting import APP_TIMEOUT
from ui import state

ROOT = Path(__file__).resolve().parents[2]


def _app(page: str, **query: str) -> AppTest:
    """``page`` under AppTest. Data, the default page, runs inside the router (sidebar
    included); AppTest runs another page's file alone after ``switch_page``."""
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=APP_TIMEOUT)
    at.query_params.update(query)
    at.run()
    if page != "pages/data.py":
        at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def _sidebar(at: AppTest) -> str:
    return " ".join(c.value for c in at.sidebar.caption)


def _button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def test_the_sidebar_names_each_stored_file_with_the_coin_label(home_with_sample):
    """The router's first run (AppTest runs a page's file alone after that, so the sidebar
    after Load bundled sample is checked in the browser: test_habits_browser.py)."""
    side = _sidebar(_app("pages/data.py"))
    assert "9 candle file(s) on disk" in side
    assert "**Bitcoin (BTC)** 1h · 9,457 candles · to 2025-05-30 00:00 UTC" in side


def test_btc_usd_is_refused_with_what_to_type_and_a_typed_symbol_is_parsed_once():
    at = _app("pages/data.py")
    picker = at.multiselect(key=state.FETCH_COINS)
    picker.set_value(["BTCUSDT", "btc/usd", "ltc"]).run()
    assert not at.exception
    assert at.multiselect(key=state.FETCH_COINS).value == ["BTCUSDT", "LTCUSDT"]
    errors = " ".join(e.value for e in at.error)
    assert "btc/usd" in errors.lower() and "Type BTC or BTC/USDT instead" in errors
    assert "BTCUSDUSDT" not in errors
    table = at.dataframe[0].value
    assert list(table["symbol"]) == ["BTCUSDT", "LTCUSDT"]  # not BTCUSD, not BTCUSDUSDT
    assert list(table["coin"]) == ["Bitcoin (BTC)", "LTC"]


def test_charts_opens_on_the_coin_and_interval_its_url_names(home_with_sample):
    eth = store.load_candles("ETHUSDT")
    four_hourly = eth.iloc[::4].reset_index(drop=True)  # a 4h file: only its open times matter
    four_hourly["close_time"] = four_hourly["open_time"] + pd.Timedelta(hours=4, milliseconds=-1)
    store.save_candles(four_hourly, "ETHUSDT", "4h")
    at = _app("pages/charts.py", coin="ETHUSDT", interval="4h")
    assert at.selectbox(key=state.SELECTED_COIN).value == "ETHUSDT"
    assert at.selectbox(key=state.CHART_INTERVAL).value == "4h"
    assert at.selectbox(key=state.SELECTED_COIN).format_func("ETHUSDT") == "Ethereum (ETH)"
    at.selectbox(key=state.SELECTED_COIN).set_value("SOLUSDT").run()  # the page's own choice wins
    assert not at.exception
    assert at.selectbox(key=state.SELECTED_COIN).value == "SOLUSDT"
    assert at.selectbox(key=state.CHART_INTERVAL).value == "1h"  # SOL has no 4h file


def test_a_url_naming_no_stored_coin_opens_the_page_as_usual(home_with_sample):
    at = _app("pages/charts.py", coin="btc/usd", interval="7m")
    assert at.selectbox(key=state.SELECTED_COIN).value == "BTCUSDT"
    assert at.selectbox(key=state.CHART_INTERVAL).value == "1h"


def test_a_training_link_picks_its_coin(home_with_sample):
    at = _app("pages/training.py", coin="eth")
    assert at.multiselect(key=state.TRAINING_COINS).value == ["ETHUSDT"]
    assert not at.exception


@pytest.fixture
def carded(home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    copy_carded_into(home)
    last = store.load_candles("BTCUSDT")["open_time"].iloc[-1]
    monkeypatch.setenv("CRYPTOVOLT_NOW", (last + pd.Timedelta(hours=2)).isoformat())
    return home


def test_every_page_names_a_coin_the_same_way(carded):
    """The label of :func:`core.data.coins.display_name` on each page that names a coin, and
    no page shows the bare symbol or another wording as the coin's name."""
    eth = display_name("ETHUSDT")
    assert eth == "Ethereum (ETH)"
    other = ("ETH · Ethereum", "Ethereum (ETH) · ETHUSDT")
    data = _app("pages/data.py")
    assert eth in set(data.dataframe[0].value["coin"])
    assert eth in _sidebar(data)
    charts = _app("pages/charts.py", coin="ETHUSDT")
    assert charts.selectbox(key=state.SELECTED_COIN).format_func("ETHUSDT") == eth
    backtest = _app("pages/backtest.py", coin="ETHUSDT")
    coin = backtest.selectbox(key=state.SELECTED_COIN)
    assert coin.value == "ETHUSDT" and coin.format_func("ETHUSDT") == eth
    models = _app("pages/models.py", coin="ETHUSDT")  # a link filters the table to its coin
    assert set(models.dataframe[0].value["coin"]) == {eth}
    assert models.multiselect(key=state.MODELS_COINS).value == ["ETHUSDT"]
    assert models.multiselect(key=state.MODELS_COINS).format_func("ETHUSDT") == eth
    assert all(c.endswith(" UTC") for c in models.dataframe[0].value["created"])  # AppTest: UTC
    assert set(models.selectbox(key=state.MODELS_SELECTED).options) == {"xgb_direction_ethusdt"}
    monitor = _app("pages/monitor.py", coin="ETHUSDT")
    picked = monitor.selectbox(key=state.MONITOR_COIN)
    assert picked.value == "ETHUSDT" and picked.format_func("ETHUSDT") == eth
    training = _app("pages/training.py")
    assert training.multiselect(key=state.TRAINING_COINS).format_func("ETHUSDT") == eth
    signals = _app("pages/signals.py")
    assert any(eth in m.value for m in signals.markdown)
    for at in (data, charts, backtest, models, monitor, training, signals):
        text = " ".join(e.value for e in (*at.markdown, *at.caption))
        assert not any(o in text for o in other)


def test_deleting_a_version_asks_in_a_dialog_first(carded):
    from core.registry.model_registry import ModelRegistry

    at = _app("pages/models.py")
    at.selectbox(key=state.MODELS_SELECTED).set_value("xgb_direction_ethusdt").run()
    _button(at, "Delete").click().run()
    assert ModelRegistry().versions("xgb_direction_ethusdt") == ["v1", "v2"]
    _button(at, "Cancel").click().run()
    assert ModelRegistry().versions("xgb_direction_ethusdt") == ["v1", "v2"]
    assert not [b for b in at.button if b.label.startswith("Yes, delete")]
