"""AppTest: pages read at a glance on a registry of really trained, carded models
(tests/card_home.py: BTC has a passing direction model and an LSTM return model, ETH none)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from core.data.store import load_candles
from tests.app.pages import open_page
from tests.card_home import copy_carded_into

pytestmark = pytest.mark.slow


@pytest.fixture
def trained(home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    copy_carded_into(home)
    last = load_candles("BTCUSDT")["open_time"].iloc[-1]
    monkeypatch.setenv("CRYPTOVOLT_NOW", (last + pd.Timedelta(hours=2)).isoformat())
    return home


def test_backtest_with_nothing_to_trade_is_one_line_saying_why(trained: Path):
    at = open_page("pages/backtest.py")
    assert at.metric, "BTC's passing model trades: the full results panel"
    # counts as read and empty cells empty: the metrics table and the trades table
    trades = next(m for m in at.metric if m.label == "Trades")
    assert trades.value.replace(",", "").isdigit()
    assert int(trades.value.replace(",", "")) < 1000 or "," in trades.value
    (metrics,) = [t.value for t in at.table]
    assert metrics.loc["Trades"].map(lambda v: v.replace(",", "").isdigit()).all()
    (table,) = at.dataframe
    assert {"entry_time (UTC)", "exit_time (UTC)"} <= set(table.value.columns)
    assert table.value["return"].map(lambda v: v == "" or v.endswith("%")).all()
    at.selectbox(key="selected_coin").set_value("ETHUSDT").run()
    assert not at.exception, at.exception
    (line,) = [i.value for i in at.info]
    assert line.startswith(
        "Nothing to trade for Ethereum (ETH) on its test window: no model passed"
    )
    assert not at.metric and not at.table and not at.get("plotly_chart"), "no empty panel"
    assert not [w for w in at.warning if "Sharpe" in w.value or "CAGR" in w.value]
    (why,) = at.expander
    assert why.label == "Why" and "xgb_direction_ethusdt" in " ".join(c.value for c in why.caption)


def test_the_forecast_plot_draws_persistence_beside_the_model(trained: Path):
    at = open_page("pages/models.py")
    at.selectbox(key="models_selected").set_value("lstm_return_btcusdt").run()
    assert not at.exception, at.exception
    figures = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    (fig,) = [f for f in figures if "Forecast vs actual" in f["layout"]["title"]["text"]]
    traces = {t.get("meta"): t for t in fig["data"]}
    assert {"actual", "persistence", "forecast"} <= set(traces)
    colours = {traces[k]["line"]["color"] for k in ("actual", "persistence", "forecast")}
    assert len(colours) == 3
    subtitle = fig["layout"]["title"]["subtitle"]["text"].replace("<br>", " ")
    assert "for persistence (no change)" in subtitle and "test candles" in subtitle


def _cells(at) -> list[str]:
    """Every cell of the page's tables, as shown."""
    out: list[str] = []
    for frame in [t.value for t in at.table] + [d.value for d in at.dataframe]:
        out += [str(v) for v in frame.astype(object).to_numpy().ravel()]
        out += [str(v) for v in frame.index]
    return out


def _shown_text(at) -> list[str]:
    """Every string a visitor reads on the page: text elements, metric values, table cells."""
    out: list[str] = _cells(at)
    for kind in ("markdown", "caption", "info", "warning", "error", "success", "text"):
        out += [str(e.value) for e in at.get(kind)]
    out += [f"{m.label} {m.value}" for m in at.metric]
    return out


@pytest.mark.parametrize(
    "page", ["pages/signals.py", "pages/models.py", "pages/backtest.py", "pages/monitor.py"]
)
def test_no_page_shows_n_a_or_none(trained: Path, page: str):
    """Empty cells are empty and an unknown number says why in words: no "n/a", "None" or
    "nan" anywhere a visitor reads (issue 20 point 3)."""
    at = open_page(page)
    if page == "pages/backtest.py":  # BTC trades: its full metrics table and sizing panel
        assert at.table
    bad = [t for t in _shown_text(at) if re.search(r"\bn/a\b|\bNone\b|\bnan\b|\bNaN\b", t)]
    assert not bad, bad
    assert "–" not in _cells(at), "an unknown value is an empty cell, not a dash"
