"""Chart builders for the Models page, from saved out-of-sample predictions and metadata.

Every figure is built from what the registry stored at training time (``predictions.parquet``
and ``metadata.json``), never by re-running a model, so the page stays fast and honest.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from core.registry.calibration import ReliabilityBin

__all__ = [
    "folds_figure",
    "forecast_figure",
    "importance_figure",
    "loss_figure",
    "metric_by_coin_figure",
    "persistence_words",
    "reliability_figure",
    "roc_figure",
]

_LAYOUT = {"margin": {"l": 10, "r": 10, "t": 40, "b": 10}, "height": 340}


def _auc(actual: np.ndarray, score: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(actual, score)) if len(set(actual)) == 2 else float("nan")


def folds_figure(scores: pd.DataFrame, title: str) -> go.Figure:
    """The score of each walk-forward fold and of the test period as a segment over the time it
    covers, its baseline dotted beside it.

    ``scores`` has ``split, start, end, score, baseline, metric`` (see ui.models_view.fold_table).
    """
    fig = go.Figure()
    if scores.empty:
        return fig.update_layout(title=title, **_LAYOUT)
    metric = scores["metric"].iloc[0]
    for column, name, dash in (("score", f"model {metric}", None), ("baseline", "baseline", "dot")):
        xs: list[Any] = []
        ys: list[Any] = []
        for row in scores.itertuples():
            xs += [row.start, row.end, None]
            ys += [getattr(row, column), getattr(row, column), None]
        fig.add_scatter(x=xs, y=ys, mode="lines", name=name, line={"dash": dash, "width": 3})
    fig.add_scatter(
        x=scores["start"] + (scores["end"] - scores["start"]) / 2,
        y=scores["score"],
        mode="text",
        text=scores["split"],
        textposition="top center",
        showlegend=False,
    )
    fig.update_layout(title=title, yaxis_title=metric, **_LAYOUT)
    return fig


def roc_figure(predictions: pd.DataFrame, title: str = "ROC curve (test)") -> go.Figure:
    """ROC of the test-period probabilities, with the chance diagonal."""
    from sklearn.metrics import roc_curve

    test = predictions[predictions["split"] == "test"].dropna(subset=["actual"])
    fig = go.Figure()
    fig.add_scatter(x=[0, 1], y=[0, 1], mode="lines", name="chance (AUC 0.5)", line={"dash": "dot"})
    actual = test["actual"].to_numpy(dtype=int)
    if len(set(actual)) == 2:
        fpr, tpr, _ = roc_curve(actual, test["probability"])
        auc = _auc(actual, test["probability"].to_numpy())
        fig.add_scatter(x=fpr, y=tpr, mode="lines", name=f"model (AUC {auc:.3f})")
    fig.update_layout(
        title=title, xaxis_title="false positive rate", yaxis_title="true positive rate", **_LAYOUT
    )
    return fig


#: Forecast plot colours: the truth in a neutral grey, the model and persistence apart (an
#: actual and a forecast in one colour, drawn on top of each other, read as a perfect fit).
ACTUAL_COLOR, MODEL_COLOR, PERSISTENCE_COLOR = "#868e96", "#ff922b", "#4dabf7"


def _persistence(test: pd.DataFrame, column: str) -> np.ndarray:
    """The naive forecast of each row: this close for a price, no change for a log return."""
    if "return" in column:
        return np.zeros(len(test))
    return np.asarray(test["close"].to_numpy(dtype="float64"))


def persistence_words(predictions: pd.DataFrame, *, column: str = "forecast") -> str:
    """One line: the model's mean absolute error on the whole test window beside persistence's
    (the same next close as this close, or no change for a return), and which is smaller."""
    test = predictions[predictions["split"] == "test"]
    actual = test["actual"].to_numpy(dtype="float64")
    model = test[column].to_numpy(dtype="float64")
    naive = _persistence(test, column)
    ok = np.isfinite(actual) & np.isfinite(model) & np.isfinite(naive)
    if not ok.any():
        return "No test-window rows to compare with persistence."
    if "return" in column:
        a, m, n = actual[ok], model[ok], naive[ok]
        unit = "log return"
        model_err, naive_err = float(np.mean(np.abs(a - m))), float(np.mean(np.abs(a - n)))
        shown = f"{model_err:.5f} against {naive_err:.5f}"
        naive_name = "persistence (no change)"
    else:
        base = np.abs(test["close"].to_numpy(dtype="float64")[ok])
        model_err = float(np.mean(np.abs(actual[ok] - model[ok]) / base))
        naive_err = float(np.mean(np.abs(actual[ok] - naive[ok]) / base))
        unit = "price"
        shown = f"{model_err:.3%} of the price against {naive_err:.3%}"
        naive_name = "persistence (next close = this close)"
    ratio = model_err / naive_err if naive_err > 0 else float("nan")
    if not np.isfinite(ratio):
        verdict = "cannot be compared"
    elif ratio < 1:
        verdict = (
            f"{1 - ratio:.1%} smaller than persistence's (the card's gates say whether that is "
            "more than luck)"
        )
    else:
        verdict = f"{ratio - 1:.1%} larger than persistence's: no better than repeating the last"
        verdict += " close" if unit == "price" else " (no change)"
    return (
        f"Mean absolute error over the {int(ok.sum()):,} test candles: model {shown} for "
        f"{naive_name}, {verdict}."
    )


def forecast_figure(
    predictions: pd.DataFrame, *, column: str = "forecast", last: int = 168
) -> go.Figure:
    """A forecaster's ``column`` against the actual value over the test window (the last
    ``last`` rows, a week of hours: over more, a one-candle lag cannot be seen): the next close
    for a price model, the log return for a return model; the persistence forecast beside it in
    its own colour, and the comparison in words as subtitle (:func:`persistence_words`, over
    the whole test window)."""
    test = predictions[predictions["split"] == "test"].tail(last)
    what = "log return" if "return" in column else "close"
    naive = _persistence(test, column)
    fig = go.Figure()
    fig.add_scatter(
        x=test["open_time"],
        y=test["actual"],
        name=f"actual {what}",
        meta="actual",
        line={"color": ACTUAL_COLOR, "width": 2},
    )
    fig.add_scatter(
        x=test["open_time"],
        y=test[column],
        name="model forecast",
        meta="forecast",
        line={"color": MODEL_COLOR, "width": 1.3},
    )
    # persistence last, dashed on top: where the model only repeats it, that shows
    fig.add_scatter(
        x=test["open_time"],
        y=naive,
        name="persistence" + (" (no change)" if what == "log return" else " (this close)"),
        meta="persistence",
        line={"color": PERSISTENCE_COLOR, "width": 1.3, "dash": "dash"},
    )
    # the figure sits in half a page: the sentence is wrapped, not cut off at the edge
    words = textwrap.wrap(persistence_words(predictions, column=column), 64)
    fig.update_layout(
        title={
            "text": f"Forecast vs actual {what}, test window (last {len(test)} candles)",
            "subtitle": {"text": "<br>".join(words)},
        },
        margin={"l": 10, "r": 10, "t": 60 + 18 * len(words), "b": 10},
        height=340 + 18 * len(words),
        legend={"orientation": "h", "y": -0.12},
    )
    return fig


def reliability_figure(table: Sequence[ReliabilityBin]) -> go.Figure:
    """Per probability bin: the hit rate the table was built with on the walk-forward folds
    beside the hit rate on the later test window, with its Wilson interval."""
    bins = [str(r.bin) for r in table]
    test = [r.test_hit_rate for r in table]
    upper = [None if r.test_high is None else r.test_high - (r.test_hit_rate or 0) for r in table]
    lower = [None if r.test_low is None else (r.test_hit_rate or 0) - r.test_low for r in table]
    fig = go.Figure()
    fig.add_bar(x=bins, y=[r.built_hit_rate for r in table], name="built on folds")
    fig.add_bar(
        x=bins,
        y=test,
        name="reported on test",
        error_y={"type": "data", "array": upper, "arrayminus": lower},
    )
    fig.update_layout(
        title="Reliability: hit rate per probability bin",
        xaxis_title="bin (low → high probability)",
        yaxis_title="hit rate",
        barmode="group",
        **_LAYOUT,
    )
    return fig


def importance_figure(importance: Mapping[str, float], *, top: int = 20) -> go.Figure:
    """Horizontal bars of the ``top`` most important features."""
    items = sorted(importance.items(), key=lambda kv: kv[1], reverse=True)[:top][::-1]
    fig = go.Figure(go.Bar(x=[v for _, v in items], y=[k for k, _ in items], orientation="h"))
    layout = {**_LAYOUT, "height": max(300, 18 * len(items) + 80)}
    fig.update_layout(title=f"Feature importance (top {len(items)})", **layout)
    return fig


def loss_figure(history: Mapping[str, list[float]]) -> go.Figure:
    """Training and validation loss per epoch."""
    fig = go.Figure()
    for key, values in history.items():
        if values:
            fig.add_scatter(y=list(values), x=list(range(1, len(values) + 1)), name=key)
    fig.update_layout(title="Loss curves", xaxis_title="epoch", yaxis_title="loss", **_LAYOUT)
    return fig


def metric_by_coin_figure(
    table: pd.DataFrame,
    metric: str,
    *,
    baseline: str | None = None,
    baseline_name: str = "baseline",
    reference: float | None = None,
    title: str | None = None,
) -> go.Figure:
    """One bar per coin for ``metric`` (with error bars from ``low`` / ``high`` columns when
    present), a ``baseline`` column beside it and/or a ``reference`` line."""
    fig = go.Figure()
    error = None
    if {"low", "high"} <= set(table.columns):
        error = {
            "type": "data",
            "array": (table["high"] - table[metric]).tolist(),
            "arrayminus": (table[metric] - table["low"]).tolist(),
        }
    fig.add_bar(x=table["coin"], y=table[metric], name=metric, error_y=error)
    if baseline and baseline in table and table[baseline].notna().any():
        fig.add_bar(x=table["coin"], y=table[baseline], name=baseline_name)
    if reference is not None:
        fig.add_hline(
            y=reference, line_dash="dot", annotation_text=f"chance / naive ({reference:g})"
        )
    fig.update_layout(title=title or f"{metric} per coin", barmode="group", **_LAYOUT)
    return fig
