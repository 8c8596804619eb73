"""The Models page's view of a volatility model (core.volatility): skill against each baseline,
band coverage by level and by third of forecast volatility, and forecast against realised."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.registry.metadata import ModelMetadata

__all__ = ["render_volatility", "skill_frame", "coverage_frame"]


def skill_frame(record: ModelMetadata) -> pd.DataFrame:
    """One row per horizon and forecaster: QLIKE, log-MSE, R², DM-HLN p against the model."""
    rows: list[dict[str, Any]] = []
    for key, r in record.volatility.items():
        for name, scores in r.scores.items():
            dm = r.dm.get(name) or {}
            rows.append(
                {
                    "horizon": key,
                    "forecaster": "model" if name == "model" else name,
                    "QLIKE": scores.get("qlike"),
                    "log-MSE": scores.get("log_mse"),
                    "R²": scores.get("r2"),
                    "DM-HLN p (model better)": dm.get("p_value"),
                }
            )
    return pd.DataFrame(rows)


def coverage_frame(record: ModelMetadata) -> pd.DataFrame:
    """One row per horizon and level: coverage, by third, Kupiec / Christoffersen, width."""
    rows: list[dict[str, Any]] = []
    for key, r in record.volatility.items():
        for level, cov in r.coverage.items():
            thirds = r.bands.coverage_terciles[level]
            static = r.bands.static_coverage_terciles.get(level, [None] * 3)
            tests = r.bands.tests[level]
            rows.append(
                {
                    "horizon": key,
                    "band": f"{level}%",
                    "covered": cov,
                    "quiet third": thirds[0],
                    "middle third": thirds[1],
                    "wild third": thirds[2],
                    "static band, quiet / wild": f"{static[0]} / {static[2]}",
                    "Kupiec p": tests["kupiec_p"],
                    "Christoffersen p": tests["christoffersen_p"],
                    "width / static": r.bands.width_ratio[level],
                }
            )
    return pd.DataFrame(rows)


def forecast_figure(predictions: pd.DataFrame, horizon: str, last: int = 500) -> go.Figure:
    """Forecast against realised volatility (sd of the ``horizon`` return, %), test window."""
    test = predictions[predictions["horizon"] == horizon].tail(last)
    fig = go.Figure()
    fig.add_scatter(
        x=test["open_time"], y=100 * np.sqrt(np.exp(test["actual"])), name="realised", opacity=0.6
    )
    fig.add_scatter(
        x=test["open_time"], y=100 * np.sqrt(np.exp(test["forecast_model"])), name="forecast"
    )
    fig.update_layout(
        title=f"Volatility over the next {horizon}: forecast vs realised (%, test window)",
        yaxis_title="sd of the return, %",
        margin={"l": 40, "r": 10, "t": 40, "b": 30},
        height=320,
    )
    return fig


def render_volatility(record: ModelMetadata, predictions: pd.DataFrame) -> None:
    """Skill, coverage and the forecast chart of one volatility version."""
    st.markdown("**Skill on the test window** (QLIKE: lower is better; R² of log variance)")
    st.table(skill_frame(record))
    st.markdown(
        "**Expected-move bands**: share of test hours whose move fell inside, overall and by "
        "third of forecast volatility (the promise: within 5 points in each third)"
    )
    st.table(coverage_frame(record))
    horizons = [
        h for h in ("6h", "24h") if "horizon" in predictions and (predictions["horizon"] == h).any()
    ]
    cols = st.columns(max(len(horizons), 1))
    for col, key in zip(cols, horizons, strict=False):
        col.plotly_chart(
            forecast_figure(predictions, key), width="stretch", key=f"vol-{record.name}-{key}"
        )
