"""The Monitor page's plot: rolling live hit rate beside the promise, and live log loss beside
the base rate's, over time (from :func:`core.monitor.series.history`)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

__all__ = ["history_figure"]


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
