"""Backtest page glue: a cached backtest run, the equity chart with trades, the metric table."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.config import BacktestConfig
from core.data.store import candle_path
from core.registry.model_registry import ModelRegistry
from core.signals.backtest import METRIC_NAMES, BacktestResult, backtest_coin
from core.signals.live import promoted_versions
from ui.loaders import load_candles

__all__ = ["METRIC_LABELS", "equity_figure", "metrics_table", "render_backtest", "run_backtest"]

METRIC_LABELS = {
    "total_return": "Total return",
    "cagr": "CAGR",
    "sharpe": "Sharpe (annualised)",
    "sortino": "Sortino (annualised)",
    "max_drawdown": "Max drawdown",
    "win_rate": "Win rate",
    "trades": "Trades",
    "exposure": "Exposure",
}
_PERCENT = {"total_return", "cagr", "max_drawdown", "win_rate", "exposure"}


@st.cache_data(show_spinner=False, max_entries=32)
def _run(
    root: str,
    symbol: str,
    versions: tuple[tuple[str, str], ...],
    interval: str,
    candles_mtime: int,
    config: BacktestConfig,
) -> BacktestResult:
    return backtest_coin(
        symbol, ModelRegistry(Path(root)), candles=load_candles(symbol, interval), config=config
    )


def run_backtest(symbol: str, config: BacktestConfig) -> BacktestResult:
    """The coin's backtest, cached by model versions, candle file and settings.

    Raises the core errors of :func:`core.signals.backtest.backtest_coin`.
    """
    registry = ModelRegistry()
    versions = promoted_versions(registry, symbol)
    interval = "1h"
    if versions:
        name, version = next(iter(versions.items()))
        interval = str(registry.get_metadata(name, version).get("interval", "1h"))
    path = candle_path(symbol, interval)
    mtime = path.stat().st_mtime_ns if path.exists() else 0
    key = tuple(sorted(versions.items()))
    return _run(str(registry.root), symbol, key, interval, mtime, config)


def _fmt(name: str, value: float | int | None) -> str:
    if value is None:
        return "n/a"
    if name in _PERCENT:
        return f"{value:.2%}"
    return str(value) if name == "trades" else f"{value:.2f}"


def metrics_table(result: BacktestResult) -> pd.DataFrame:
    """Metric × (strategy, buy and hold), formatted for display."""
    rows = [
        {
            "metric": METRIC_LABELS[name],
            "strategy": _fmt(name, result.metrics["strategy"][name]),
            "buy and hold": _fmt(name, result.metrics["buy_and_hold"][name]),
        }
        for name in METRIC_NAMES
    ]
    return pd.DataFrame(rows).set_index("metric")


def equity_figure(result: BacktestResult) -> go.Figure:
    """Strategy equity against buy-and-hold, entries and exits marked on the strategy line."""
    eq = result.equity
    fig = go.Figure()
    fig.add_scatter(x=eq["open_time"], y=eq["strategy"], name="strategy", line={"width": 2})
    fig.add_scatter(
        x=eq["open_time"], y=eq["buy_and_hold"], name="buy and hold", line={"dash": "dot"}
    )
    value = eq.set_index("open_time")["strategy"]
    trades = result.trades
    for side, symbol, colour in (
        ("long", "triangle-up", "green"),
        ("short", "triangle-down", "red"),
    ):
        chosen = trades[trades["side"] == side]
        if len(chosen):
            fig.add_scatter(
                x=chosen["entry_time"],
                y=value.reindex(chosen["entry_time"]).to_numpy(),
                mode="markers",
                name=f"{side} entry",
                marker={"symbol": symbol, "size": 9, "color": colour},
            )
    if len(trades):
        fig.add_scatter(
            x=trades["exit_time"],
            y=value.reindex(trades["exit_time"]).to_numpy(),
            mode="markers",
            name="exit",
            marker={"symbol": "x", "size": 7, "color": "gray"},
        )
    fig.update_layout(
        height=420,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        yaxis_title="equity",
        legend={"orientation": "h", "y": 1.08},
    )
    return fig


def render_backtest(result: BacktestResult) -> None:
    """Notes, metric table side by side, equity chart, and the trade list."""
    for note in result.notes:
        st.caption(note)
    strat, hold = result.metrics["strategy"], result.metrics["buy_and_hold"]
    a, b, c = st.columns(3)
    a.metric(
        "Strategy return",
        _fmt("total_return", strat["total_return"]),
        delta=f"{(strat['total_return'] - hold['total_return']) * 100:+.2f} pp vs buy and hold",
    )
    b.metric("Buy and hold return", _fmt("total_return", hold["total_return"]))
    c.metric("Trades", strat["trades"])
    left, right = st.columns([1, 2])
    left.table(metrics_table(result))
    right.plotly_chart(equity_figure(result), width="stretch")
    with st.expander(f"Trades ({len(result.trades)})"):
        shown = result.trades.assign(**{"return": result.trades["return"].map("{:+.2%}".format)})
        st.dataframe(shown, hide_index=True, width="stretch")
