"""The Monitor page's plot: rolling live hit rate beside the promise, and live log loss beside
the base rate's, over time (from :func:`core.monitor.series.history`)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.monitor.coverage import BandCoverage

__all__ = ["coverage_figure", "history_figure"]


def history_figure(history: pd.DataFrame, *, days: int, title: str) -> go.Figure:
    """Top: the rolling ``days``-day hit rate with its 95% Wilson band and the promised rate.
    Bottom (when a probability member has scores): its live log loss and the base rate's."""
    losses = [c.split(":", 1)[1] for c in history.columns if c.startswith("log_loss:")]
    rows = 2 if losses else 1
    fig = make_subplots(
        rows=rows,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.08,
        subplot_titles=[f"hit rate, last {days} days"]
        + ([f"log loss, last {days} days (lower is better)"] if losses else []),
    )
    if history.empty:
        return fig.update_layout(title=title, height=300)
    t = history["time"]
    fig.add_trace(
        go.Scatter(x=t, y=history["high"], line={"width": 0}, showlegend=False, hoverinfo="skip"),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Scatter(
            x=t,
            y=history["low"],
            fill="tonexty",
            line={"width": 0},
            fillcolor="rgba(31,119,180,0.2)",
            name="95% interval",
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Scatter(x=t, y=history["hit_rate"], name="live hit rate", line={"color": "#1f77b4"}),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Scatter(
            x=t, y=history["promised"], name="promised", line={"color": "#555", "dash": "dot"}
        ),
        row=1,
        col=1,
    )
    fig.update_yaxes(tickformat=".0%", row=1, col=1)
    for name in losses:
        fig.add_trace(
            go.Scatter(x=t, y=history[f"log_loss:{name}"], name=f"{name} live log loss"),
            row=2,
            col=1,
        )
        fig.add_trace(
            go.Scatter(
                x=t,
                y=history[f"base_log_loss:{name}"],
                name=f"{name} base rate",
                line={"dash": "dot"},
            ),
            row=2,
            col=1,
        )
    return fig.update_layout(
        title=title,
        height=520 if losses else 320,
        margin={"l": 10, "r": 10, "t": 60, "b": 10},
        legend={"orientation": "h"},
    )


def coverage_figure(coverage: Sequence[BandCoverage]) -> go.Figure:
    """Live coverage of each band (dot, with its interval) beside its promised level (open
    diamond), one row per horizon and level; red where the interval excludes the promise."""
    labels = [f"{c.horizon} {c.level}%" for c in coverage]
    rates = [None if c.rate is None else c.rate * 100 for c in coverage]
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=rates,
            y=labels,
            mode="markers",
            name="live coverage",
            marker={
                "size": 11,
                "color": ["#d62728" if c.outside else "#1f77b4" for c in coverage],
            },
            error_x={
                "type": "data",
                "symmetric": False,
                "array": [
                    0 if c.high is None or c.rate is None else (c.high - c.rate) * 100
                    for c in coverage
                ],
                "arrayminus": [
                    0 if c.low is None or c.rate is None else (c.rate - c.low) * 100
                    for c in coverage
                ],
            },
            hovertemplate="%{y}: covered %{x:.0f}%<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=[c.promised * 100 for c in coverage],
            y=labels,
            mode="markers",
            name="promised",
            marker={"symbol": "diamond-open", "size": 13, "color": "#2ca02c", "line": {"width": 2}},
            hovertemplate="%{y}: promised %{x:.0f}%<extra></extra>",
        )
    )
    return fig.update_layout(
        height=80 + 36 * len(coverage),
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        xaxis={"title": "share of matured forecasts inside the band (%)", "range": [0, 100]},
        yaxis={"autorange": "reversed"},
        legend={"orientation": "h", "y": 1.15},
    )
