"""Backtest page glue: a cached backtest run, the three-way metric table, equity curves with
trades, the threshold the folds chose, and the test window's thresholds x costs heatmap."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.config import BacktestConfig
from core.data.coins import display_name
from core.data.store import candle_mtime_ns
from core.errors import CryptoVoltError, ModelNotFoundError
from core.registry.model_registry import ModelRegistry
from core.signals.backtest import backtest_coin, cost_column
from core.signals.live import promoted_versions
from core.signals.sizing import SIZING_METHODS, SizingConfig, SizingResult, sizing_coin
from core.signals.trading import (
    CHOSEN_WHERE,
    METRIC_NAMES,
    NO_EDGE_NOTE,
    BacktestResult,
    StrategyConfig,
    TradeStats,
)
from core.training.trust import backtest_warnings
from core.volatility.live import volatility_versions
from ui import clock
from ui.cells import number
from ui.context import context
from ui.loaders import load_candles
from ui.text import plain

__all__ = [
    "COLUMNS",
    "METRIC_LABELS",
    "SIZE_BY_CONFIDENCE",
    "equity_figure",
    "grid_figure",
    "metrics_table",
    "nothing_to_trade",
    "render_backtest",
    "render_sizing_section",
    "run_backtest",
    "run_sizing",
    "sizing_figure",
    "sizing_table",
]

#: Session-state key of the page's "size by confidence" switch.
SIZE_BY_CONFIDENCE = "backtest_size_by_confidence"

METRIC_LABELS = {
    "total_return": "Total return",
    "cagr": "CAGR",
    "sharpe": "Sharpe (annualised)",
    "sortino": "Sortino (annualised)",
    "max_drawdown": "Max drawdown",
    "win_rate": "Win rate",
    "trades": "Trades",
    "exposure": "Exposure (time in a position)",
    "avg_size": "Average size (share of equity)",
}
#: What each metric means, in words (the tooltips).
METRIC_HELP = {
    "total_return": "What 1 unit of money became over the test window, minus 1.",
    "cagr": "The same return as a yearly rate (compounded): shown only for a window long enough.",
    "sharpe": "Average return per unit of ups and downs, per year: above 1 is good, 0 is none.",
    "sortino": "Like Sharpe, counting only the downs.",
    "max_drawdown": "The largest fall from a high to a later low: what a holder had to sit out.",
    "win_rate": "Share of trades that made money after costs.",
    "trades": "How many positions were opened and closed.",
    "exposure": "Share of hours holding a position (the rest in cash).",
    "avg_size": "Average share of equity in a position while holding one.",
}
#: The column titles of the table, in order: the strategy, the same at zero cost, buy and hold.
COLUMNS = ("strategy", "zero cost", "buy and hold")
_PERCENT = {"total_return", "cagr", "max_drawdown", "win_rate", "exposure", "avg_size"}


@st.cache_data(show_spinner=False, max_entries=32)
def _run(
    root: str,
    symbol: str,
    versions: tuple[tuple[str, str], ...],
    interval: str,
    candles_mtime: int,
    config: BacktestConfig,
    strategy: StrategyConfig,
) -> BacktestResult:
    return backtest_coin(
        symbol,
        ModelRegistry(Path(root)),
        candles=load_candles(symbol, interval),
        config=config,
        strategy=strategy,
        paths=context().paths,
    )


def run_backtest(
    symbol: str, config: BacktestConfig, strategy: StrategyConfig | None = None
) -> BacktestResult:
    """The coin's backtest, cached by model versions, candle file and settings.

    Raises the core errors of :func:`core.signals.backtest.backtest_coin`.
    """
    registry = ModelRegistry(context().paths.models)
    versions = promoted_versions(registry, symbol)
    interval = "1h"
    if versions:
        name, version = next(iter(versions.items()))
        interval = registry.record(name, version).interval
    mtime = candle_mtime_ns(symbol, interval, paths=context().paths)
    key = tuple(sorted(versions.items()))
    return _run(
        str(registry.root), symbol, key, interval, mtime, config, strategy or StrategyConfig()
    )


def _points(a: float | None, b: float | None) -> float:
    """``a - b`` in percentage points (NaN when either is unknown)."""
    return float("nan") if a is None or b is None else (a - b) * 100


def _fmt(name: str, value: float | int | None) -> str:
    if value is None:  # not defined for these trades (no trade, one day): an empty cell
        return ""
    if name in _PERCENT:
        return f"{value:.2%}"
    return number(value) if name == "trades" else f"{value:.2f}"


def metrics_table(result: BacktestResult) -> pd.DataFrame:
    """Metric x (strategy, zero cost, buy and hold), formatted for display."""
    m = result.metrics
    legs: tuple[TradeStats | None, ...] = (m.strategy, m.zero_cost, m.buy_and_hold)
    values = [{} if leg is None else leg.to_dict() for leg in legs]
    rows = [
        {
            "metric": METRIC_LABELS[name],
            **{title: _fmt(name, v.get(name)) for title, v in zip(COLUMNS, values, strict=True)},
        }
        for name in METRIC_NAMES
    ]
    return pd.DataFrame(rows).set_index("metric")


def trades_frame(trades: pd.DataFrame) -> pd.DataFrame:
    """The trades for the table: returns as percentages, entry and exit times in the viewer's
    zone (the header names it), an empty cell where a value is missing."""
    shown = trades.assign(
        **{"return": trades["return"].map(lambda r: "" if pd.isna(r) else f"{r:+.2%}")}
    )
    for column in ("entry_time", "exit_time"):
        if column in shown:
            shown[column] = clock.to_viewer(shown[column])
    return shown.rename(columns={c: clock.column_label(c) for c in ("entry_time", "exit_time")})


def equity_figure(result: BacktestResult) -> go.Figure:
    """Strategy, the same at zero cost, and buy-and-hold; entries and exits on the strategy."""
    eq = result.equity
    fig = go.Figure()
    fig.add_scatter(x=eq["open_time"], y=eq["strategy"], name="strategy", line={"width": 2})
    if "zero_cost" in eq:
        fig.add_scatter(
            x=eq["open_time"],
            y=eq["zero_cost"],
            name="strategy at zero cost",
            line={"width": 1, "dash": "dash"},
        )
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


def _cost_label(fee: float, slippage_bps: float) -> str:
    return f"fee {fee:.3%} + {slippage_bps:g} bps"


def grid_figure(result: BacktestResult) -> go.Figure | None:
    """Test-window total return per (min strength, cost level), the folds' choice marked."""
    grid = result.grid
    if grid is None:
        return None
    labels = [_cost_label(fee, slip) for fee, slip in grid.costs]
    fig = go.Figure(
        go.Heatmap(
            x=grid.thresholds,
            y=labels,
            z=grid.total_return.T * 100,
            colorscale="RdYlGn",
            zmid=0,
            colorbar={"title": "return %"},
            hovertemplate="min strength %{x:.2f}<br>%{y}<br>return %{z:.2f}%<extra></extra>",
        )
    )
    if result.threshold is not None:
        row = labels[cost_column(grid.costs, result.config)]
        fig.add_scatter(
            x=[result.threshold.min_strength],
            y=[row],
            mode="markers",
            marker={"symbol": "square-open", "size": 18, "color": "#1f77b4", "line": {"width": 4}},
            name="chosen on the walk-forward folds",
            showlegend=True,
        )
    fig.update_layout(
        height=320,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        xaxis_title="min strength (calls weaker than this are not traded)",
        legend={"orientation": "h", "y": 1.12},
    )
    return fig


def _threshold_caption(result: BacktestResult) -> str:
    t = result.threshold
    if t is None:
        return ""
    if not t.tuned:
        return f"Min strength **0.00**: {t.where}."
    untuned = "" if t.untuned_return is None else f" (every call traded: {t.untuned_return:+.2%})"
    margins = ", ".join(f"`{name}` {m:g}" for name, m in t.margins.items())
    return (
        f"Min strength **{t.min_strength:.2f}**, {CHOSEN_WHERE} "
        f"({', '.join(t.folds)}: {t.fold_start:%Y-%m-%d} → {t.fold_end:%Y-%m-%d}, "
        f"{t.fold_rows:,} calls; the test window starts {t.test_start:%Y-%m-%d %H:%M} UTC). "
        f"On the folds it returned {t.fold_return:+.2%} after costs over {t.fold_trades:,} "
        f"trades{untuned}, and it is applied unchanged to the test window. Positions are held "
        f"at least **{t.hold}** candles. Vote margins as trained, unchanged: {margins}."
    )


def nothing_to_trade(result: BacktestResult) -> str | None:
    """One line saying why the strategy made no trade on the test window, or None when it
    traded (a flat strategy beside buy-and-hold is no result worth a panel)."""
    if result.no_edge:
        why = "no model passed its gates, so no call votes and there is nothing to trade"
    elif result.metrics.strategy.trades == 0:
        t = result.threshold
        calls = 0 if result.calls is None else len(result.calls)
        why = f"none of its {calls:,} calls led to a trade" + (
            f" (none reached the min strength {t.min_strength:.2f} {CHOSEN_WHERE})"
            if t is not None and t.tuned
            else ""
        )
    else:
        return None
    return f"Nothing to trade for {display_name(result.symbol)} on its test window: {why}."


def render_backtest(result: BacktestResult) -> None:
    """Notes, the three-way table, equity curves, the chosen threshold, the grid, the trades;
    or one line when there was nothing to trade (the models' reasons folded below it)."""
    empty = nothing_to_trade(result)
    if empty is not None:
        st.info(empty, icon=":material/block:")
        reasons = [n for n in result.notes if n != NO_EDGE_NOTE]
        if reasons:
            with st.expander("Why", expanded=False):
                for note in reasons:
                    st.caption(plain(note))
        return
    for note in result.notes:
        st.caption(note)
    strat, hold = result.metrics.strategy, result.metrics.buy_and_hold
    free = result.metrics.zero_cost or strat
    a, b, c, d = st.columns(4)
    a.metric(
        "Strategy return",
        _fmt("total_return", strat.total_return),
        delta=f"{_points(strat.total_return, hold.total_return):+.2f} pp vs buy and hold",
        help="The calls traded on the test window, after fees and slippage. "
        + METRIC_HELP["total_return"]
        + " The arrow: its gap to buying and holding, in percentage points.",
    )
    b.metric(
        "Zero-cost return",
        _fmt("total_return", free.total_return),
        delta=f"costs: {_points(strat.total_return, free.total_return):+.2f} pp",
        delta_color="off",
        help="The same positions without fees or slippage: what the costs took away.",
    )
    c.metric(
        "Buy and hold return",
        _fmt("total_return", hold.total_return),
        help="Buying at the first test candle and selling at the last: the bar to beat.",
    )
    d.metric("Trades", _fmt("trades", strat.trades), help=METRIC_HELP["trades"])
    times = result.equity["open_time"] if len(result.equity) else pd.Series(dtype=object)
    if len(times):
        warnings = backtest_warnings(strat.cagr, strat.sharpe, times.iloc[0], times.iloc[-1])
        for warning in warnings:
            st.warning(warning, icon=":material/report:")
    left, right = st.columns([1, 2])
    left.caption(
        "The three side by side",
        help="  \n".join(f"{METRIC_LABELS[k]}: {w}" for k, w in METRIC_HELP.items()),
    )
    left.table(metrics_table(result))
    right.plotly_chart(equity_figure(result), width="stretch")
    if result.threshold is not None:
        st.subheader("Threshold")
        st.markdown(_threshold_caption(result))
    figure = grid_figure(result)
    grid = result.grid
    if figure is not None and result.threshold is not None and grid is not None:
        column = cost_column(grid.costs, result.config)
        best = int(np.argmax(grid.total_return[:, column]))
        st.subheader("Every threshold and cost level on the test window")
        st.plotly_chart(figure, width="stretch")
        st.caption(
            f"The marked cell is the min strength {CHOSEN_WHERE}, at your costs. The best cell "
            f"at your costs after the fact is min strength {grid.thresholds[best]:.2f} "
            f"({grid.total_return[best, column]:+.2%}): choosing the best cell after seeing "
            "the test window is overfitting, and it would not have been known in advance."
        )
    with st.expander(f"Trades ({len(result.trades)})"):
        st.dataframe(
            trades_frame(result.trades),
            hide_index=True,
            width="stretch",
            column_config={
                name: st.column_config.NumberColumn(format="localized")
                for name in ("size", "entry_price", "exit_price", "pnl", "bars")
            },
        )


# ---- Volatility-target sizing (issue 19.5) ------------------------------------------------------

#: Session-state key of the sizing section's daily volatility target (percent).
SIZING_TARGET = "backtest_sizing_target"
SIZING_LABELS = {
    "total_return": "Total return",
    "cagr": "CAGR",
    "sharpe": "Sharpe (annualised)",
    "max_drawdown": "Max drawdown",
    "turnover": "Turnover (x equity traded)",
    "avg_size": "Average size (share of equity)",
    "realised_vol": "Realised volatility (daily)",
    "tracking_error": "Tracking error (RMS log realised/target)",
    "bias": "Bias (mean log realised/target)",
}
#: The sizing table's column titles: forecast, trailing, buy and hold.
SIZING_COLUMNS = ("sized by the forecast", "sized by trailing volatility", "buy and hold")


@st.cache_data(show_spinner=False, max_entries=32)
def _run_sizing(
    root: str,
    symbol: str,
    versions: tuple[tuple[str, str], ...],
    candles_mtime: int,
    config: BacktestConfig,
    sizing: SizingConfig,
) -> SizingResult:
    return sizing_coin(
        symbol,
        ModelRegistry(Path(root)),
        candles=load_candles(symbol, "1h"),
        config=config,
        sizing=sizing,
        paths=context().paths,
    )


def run_sizing(symbol: str, config: BacktestConfig, sizing: SizingConfig) -> SizingResult:
    """The coin's sizing comparison, cached by volatility versions, candle file and settings.

    Raises the core errors of :func:`core.signals.sizing.sizing_coin`.
    """
    registry = ModelRegistry(context().paths.models)
    versions = volatility_versions(registry, symbol)
    mtime = candle_mtime_ns(symbol, "1h", paths=context().paths)
    return _run_sizing(str(registry.root), symbol, versions, mtime, config, sizing)


def _sizing_fmt(name: str, value: float | None) -> str:
    if value is None:  # an empty cell
        return ""
    if name in {"total_return", "cagr", "max_drawdown", "avg_size", "realised_vol"}:
        return f"{value:.2%}"
    if name == "turnover":
        return f"{value:.1f}x"
    return f"{value:.3f}" if name in {"tracking_error", "bias"} else f"{value:.2f}"


def sizing_table(result: SizingResult) -> pd.DataFrame:
    """Metric x (forecast, trailing, buy and hold), formatted for display."""
    m = result.metrics
    values = [stats.to_dict() for stats in (m.forecast, m.trailing, m.buy_and_hold)]
    rows = [
        {
            "metric": label,
            **{
                title: _sizing_fmt(name, v[name])
                for title, v in zip(SIZING_COLUMNS, values, strict=True)
            },
        }
        for name, label in SIZING_LABELS.items()
    ]
    return pd.DataFrame(rows).set_index("metric")


def sizing_figure(result: SizingResult) -> go.Figure:
    """Equity of the three sizings (top) and the forecast's and trailing sizes (bottom)."""
    from plotly.subplots import make_subplots

    eq = result.equity
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.65, 0.35])
    methods = tuple(zip(SIZING_METHODS, SIZING_COLUMNS, strict=True))
    for key, title in methods:
        fig.add_scatter(x=eq["open_time"], y=eq[key], name=title, row=1, col=1)
    for key, title in methods[:2]:
        fig.add_scatter(
            x=eq["open_time"],
            y=eq[f"{key}_weight"],
            name=f"size, {title}",
            line={"width": 1},
            row=2,
            col=1,
        )
    fig.update_yaxes(title_text="equity", row=1, col=1)
    fig.update_yaxes(title_text="share of equity", row=2, col=1)
    return fig.update_layout(
        height=480, margin={"l": 10, "r": 10, "t": 30, "b": 10}, legend={"orientation": "h"}
    )


def render_sizing_section(symbol: str, config: BacktestConfig) -> None:
    """The section: a daily volatility target, then the three sizings over the volatility
    model's test window after the page's fee and slippage (or, in one line, why there is nothing
    to size: no empty panel)."""
    if not volatility_versions(ModelRegistry(context().paths.models), symbol):
        st.caption(
            f"Volatility-target sizing needs a volatility model for {symbol}: train one "
            f"(`python -m core volatility --coins {symbol}`)."
        )
        return
    st.subheader("Volatility-target sizing")
    st.caption(
        "Long the coin with min(1, target / daily sigma) of equity over the hours the volatility "
        "model never saw (its test window): sigma from its forecast, from the last week's "
        "realised volatility, or not sized at all (buy and hold). Rebalanced every forecast "
        "horizon, with the fee and slippage above on every trade."
    )
    target = st.number_input(
        "Daily volatility target (%)", 0.1, 20.0, 2.0, step=0.1, key=SIZING_TARGET
    )
    try:
        with st.spinner("Sizing by volatility…"):
            result = run_sizing(symbol, config, SizingConfig(vol_target=target / 100))
    except ModelNotFoundError as exc:
        st.info(plain(exc), icon=":material/info:")
        return
    except (CryptoVoltError, ValueError) as exc:
        st.error(plain(exc), icon=":material/error:")
        return
    for note in result.notes:
        st.caption(plain(note))
    f, t = result.metrics.forecast, result.metrics.trailing
    a, b, c = st.columns(3)
    a.metric(
        "Forecast sizing return",
        _sizing_fmt("total_return", f.total_return) or "–",
        help="Positions sized by the volatility model's forecast to hold the daily target.",
    )
    b.metric(
        "Trailing sizing return",
        _sizing_fmt("total_return", t.total_return) or "–",
        help="Positions sized by the last hours' realised volatility instead of a forecast.",
    )
    c.metric(
        "Tracking error, forecast vs trailing",
        _sizing_fmt("tracking_error", f.tracking_error) or "–",
        help="How far the realised daily volatility strayed from the target (lower is closer); "
        "the arrow: forecast minus trailing, green when the forecast holds it closer.",
        delta=None
        if f.tracking_error is None or t.tracking_error is None
        else f"{f.tracking_error - t.tracking_error:+.3f}",
        delta_color="inverse",
    )
    left, right = st.columns([1, 2])
    left.table(sizing_table(result))
    right.plotly_chart(sizing_figure(result), width="stretch", key=f"sizing-{symbol}")
