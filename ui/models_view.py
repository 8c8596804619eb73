"""Models page glue: the table of every registered version, its card, charts, compare, actions.

Every version is read as a typed :class:`~core.registry.metadata.ModelMetadata`, and every number
comes from what training saved (its model card and ``predictions.parquet``). Each metric stands
beside its naive baseline with a 95% interval, and a version "has an edge" only when every gate
of its card passes; otherwise the page says in words which gates failed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from core.data.coins import display_name
from core.models import kind_info
from core.models.base import Output
from core.registry.gates import card_verdict, gate_checks, gates_count
from core.registry.metadata import (
    ClassifierBaselines,
    ClassifierMetrics,
    ForecastMetrics,
    ModelMetadata,
)
from core.registry.model_registry import ModelRegistry
from core.training.trust import model_warnings, skill_words
from core.usecases import promote, promotion_problems
from core.words import headline
from ui import model_charts
from ui.card_view import render_card
from ui.context import context
from ui.text import plain

__all__ = [
    "COLUMN_HELP",
    "column_config",
    "compare_frame",
    "delete_version",
    "fold_table",
    "kind_label",
    "list_models",
    "models_frame",
    "no_edge_champions",
    "predictions",
    "promote_version",
    "promotion_problems_of",
    "render_coin_chart",
    "render_compare",
    "render_model",
]


#: What each column of the models table means, in words (its header's tooltip).
COLUMN_HELP = {
    "coin": "The coin the version was trained on.",
    "model": "The kind of model: what it predicts and how.",
    "version": "Each training run registers a new version; the champion is the one signals use.",
    "champion": "Whether this version is the one the Signals page and the CLI use for its model.",
    "gates": (
        "How many of its checks it passes on the test window (the most recent 20% of candles, "
        "never trained on). Checks that measure the same number count once."
    ),
    "edge": "yes only when every check passes: only then does it vote in a signal.",
    "verdict": "Which checks fail, with the number and what it needed, and what it is good for.",
    "test window [95% interval] vs baseline": (
        "Its key numbers on the test window, the range they fall in 95% of the time when the "
        "test is resampled, and what a naive baseline scores (0.5 for a coin flip)."
    ),
    "skill [95% interval]": (
        "How much better than the naive baseline it is: 0 is no better, 1 is perfect."
    ),
    "check": "Warnings: numbers too good to be real on hourly candles, or a one-sided model.",
    "data": "The first and last candle it was trained and tested on.",
    "rows": "How many candles it learned from and was tested on.",
    "train s": "How long training took, in seconds.",
    "created": "When it was trained, in your time zone (UTC with the Times in UTC switch).",
}


def column_config(table: pd.DataFrame) -> dict[str, Any]:
    """``st.dataframe`` column settings: every column with its :data:`COLUMN_HELP` tooltip."""
    return {
        column: st.column_config.Column(column, help=COLUMN_HELP[column])
        for column in table.columns
        if column in COLUMN_HELP
    }


def kind_label(kind: str) -> str:
    """A kind's label ("XGBoost direction"); the bare name for a kind no longer registered."""
    try:
        return kind_info(kind).label
    except Exception:  # old registry folders may hold kinds this build no longer has
        return kind


@st.cache_data(show_spinner=False, max_entries=8)
def _list(root: str, key: tuple[tuple[str, str, int, int], ...]) -> list[ModelMetadata]:
    return ModelRegistry(Path(root)).records()


def list_models() -> list[ModelMetadata]:
    """Every version's typed record (cached until a version is added, deleted or promoted).

    A version whose metadata cannot be read has its message in ``record.error``.
    """
    registry = ModelRegistry(context().paths.models)
    return _list(str(registry.root), registry.cache_key())


@st.cache_data(show_spinner=False, max_entries=32)
def _predictions(root: str, name: str, version: str, created: str) -> pd.DataFrame:
    return ModelRegistry(Path(root)).get_predictions(name, version)


def predictions(record: ModelMetadata) -> pd.DataFrame:
    """A version's saved out-of-sample predictions (verified by the registry, then cached)."""
    registry = ModelRegistry(context().paths.models)
    return _predictions(str(registry.root), record.name, record.version, str(record.created_at))


def _number(value: Any) -> float | None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and np.isfinite(value)
    return float(value) if ok else None


def _gates(record: ModelMetadata) -> str:
    return gates_count(record.card)


def _check(record: ModelMetadata) -> str:
    """Short flags for the table: "suspicious" numbers, a classifier that never says "up"."""
    flags = []
    for warning in model_warnings(record):
        flags.append("never predicts up" if "never predicts" in warning else "suspicious")
    return ", ".join(flags)


def models_frame(
    records: list[ModelMetadata],
    *,
    coins: list[str] | None = None,
    types: list[str] | None = None,
) -> pd.DataFrame:
    """One display row per version, filtered by coin symbols and model kinds."""
    rows = []
    for r in records:
        if (coins and r.symbol not in coins) or (types and r.model_type not in types):
            continue
        error = r.error
        rows.append(
            {
                "name": r.name,
                "coin": r.symbol,
                "model": kind_label(r.model_type),
                "kind": r.model_type,
                "version": r.version,
                "champion": r.promoted,
                "gates": "error" if error else _gates(r),
                "edge": "error" if error else ("yes" if r.gates_passed else "NO EDGE"),
                "verdict": error or card_verdict(r.card),
                "test window [95% interval] vs baseline": error or headline(r),
                "skill [95% interval]": "" if error else skill_words(r),
                "check": "" if error else _check(r),
                "data": f"{str(r.data.get('start', ''))[:10]} → {str(r.data.get('end', ''))[:10]}",
                "rows": r.data.get("rows"),
                "train s": _number(r.train_seconds),
                "created": r.created_at,
            }
        )
    return pd.DataFrame(rows)


def no_edge_champions(table: pd.DataFrame) -> list[str]:
    """``"ETHUSDT XGBoost direction v1"`` for each champion row of :func:`models_frame` whose
    gates fail (it does not vote)."""
    if table.empty:
        return []
    rows = table[(table["edge"] != "yes") & table["champion"]]
    return [f"{r.coin} {r.model} {r.version}" for r in rows.itertuples()]


def _output(record: ModelMetadata) -> Output | None:
    if record.vote is not None:
        return record.vote.output
    return Output(record.card.output) if record.card is not None else None


def fold_table(record: ModelMetadata) -> pd.DataFrame:
    """The headline score per walk-forward fold and on the test window, with time ranges:
    AUC (baseline 0.5) for probability models, skill against persistence (baseline 0) for
    forecasters."""
    probability = _output(record) is Output.PROBABILITY
    label = "AUC (ranking; baseline 0.5)" if probability else "skill vs persistence"

    def score(metrics: dict[str, Any], skill: Any) -> float | None:
        return _number(metrics.get("roc_auc")) if probability else _number(skill)

    rows = [
        {
            "split": f.fold,
            "start": f.start,
            "end": f.end,
            "score": score(f.metrics, f.skill),
            "baseline": 0.5 if probability else 0.0,
        }
        for f in record.metrics.walk_forward
    ]
    test_range = record.split.get("test") or {}
    rows.append(
        {
            "split": "test",
            "start": test_range.get("start"),
            "end": test_range.get("end"),
            "score": score(record.metrics.test, record.metrics.skill),
            "baseline": 0.5 if probability else 0.0,
        }
    )
    frame = pd.DataFrame(rows).assign(metric=label)
    for column in ("start", "end"):
        frame[column] = pd.to_datetime(frame[column], utc=True, format="ISO8601")
    return frame


def compare_frame(a: ModelMetadata, b: ModelMetadata) -> pd.DataFrame:
    """Two versions side by side: card metrics, gates, verdict, data, settings, time."""
    rows: dict[str, tuple[Any, ...]] = {}
    cards = (a.card, b.card)
    scores = [c.metrics.as_dict() if c else {} for c in cards]
    for key in dict.fromkeys([k for s in scores for k in s]):
        rows[f"test {key}"] = tuple(s.get(key) for s in scores)
    checks = [{c.label: c for c in gate_checks(card)} if card else {} for card in cards]
    for label in dict.fromkeys([k for c in checks for k in c]):
        rows[f"check: {label}"] = tuple(
            (("pass: " if c[label].passed else "fails: ") + c[label].detail) if label in c else None
            for c in checks
        )
    rows["gates"] = (gates_count(a.card), gates_count(b.card))
    rows["has an edge"] = (a.gates_passed, b.gates_passed)
    for key in ("start", "end", "rows"):
        rows[f"data {key}"] = (a.data.get(key), b.data.get(key))
    for key in sorted(set(a.params) | set(b.params)):
        rows[f"param {key}"] = (a.params.get(key), b.params.get(key))
    rows["train seconds"] = (a.train_seconds, b.train_seconds)
    rows["created"] = (a.created_at, b.created_at)
    frame = pd.DataFrame.from_dict(
        {k: [str(v[0]), str(v[1])] for k, v in rows.items()},
        orient="index",
        columns=[a.version, b.version],
    )
    frame["differs"] = np.where(frame.iloc[:, 0] != frame.iloc[:, 1], "≠", "")
    return frame


def render_coin_chart(records: list[ModelMetadata], kind: str) -> None:
    """Each coin's champion of ``kind`` against its baseline, with the 95% interval: AUC beside
    0.5 and the ATR/close score for probability models, skill against persistence (1 - MASE)
    beside 0 for forecasters (errors in price units cannot be compared across coins)."""
    champions = [r for r in records if r.promoted and r.model_type == kind and r.card]
    label = kind_label(kind)
    if not champions:
        st.caption(f"No {label} champions with a model card yet.")
        return
    probability = champions[0].card.output == Output.PROBABILITY.value  # type: ignore[union-attr]
    key, metric = ("roc_auc", "AUC") if probability else ("skill", "skill (1 - MASE)")
    rows = []
    for r in champions:
        card = r.card
        assert card is not None
        interval = card.intervals.get(key)
        m, b = card.metrics, card.baselines
        value = (
            m.roc_auc
            if isinstance(m, ClassifierMetrics)
            else m.skill
            if isinstance(m, ForecastMetrics)
            else None
        )
        rows.append(
            {
                "coin": display_name(r.symbol),
                metric: _number(value),
                "low": _number(interval.low if interval else None),
                "high": _number(interval.high if interval else None),
                "baseline": _number(b.volatility_auc)
                if isinstance(b, ClassifierBaselines)
                else None,
            }
        )
    fig = model_charts.metric_by_coin_figure(
        pd.DataFrame(rows),
        metric,
        baseline="baseline" if probability else None,
        baseline_name="ATR/close score",
        reference=0.5 if probability else 0.0,
        title=f"{label}: {metric} per coin (test window, 95% interval)",
    )
    st.plotly_chart(fig, width="stretch", key=f"coin-chart-{kind}")


def render_model(record: ModelMetadata) -> None:
    """One version: its card, walk-forward folds over time and its output's own charts."""
    if record.error:
        st.error(plain(record.error))
        return
    render_card(record)
    for sentence in record.data.get("context_left_out", {}).values():
        st.caption(f"Trained without a reference coin: {plain(sentence)}")
    if _output(record) is Output.VOLATILITY:
        from ui.volatility_view import render_volatility

        render_volatility(record, predictions(record))
        return
    folds = fold_table(record)
    if len(folds) == 1:  # no walk-forward: a chart of one point would suggest there were folds
        note = record.metrics.walk_forward_note or "no walk-forward folds"
        st.caption(f"No walk-forward chart: this version has only its test window ({plain(note)}).")
    else:
        st.plotly_chart(
            model_charts.folds_figure(folds, "Walk-forward folds and test window over time"),
            width="stretch",
            key=f"folds-{record.name}-{record.version}",
        )
    preds = predictions(record)
    output = _output(record)
    left, right = st.columns(2)
    if output is Output.PROBABILITY:
        left.plotly_chart(model_charts.roc_figure(preds), width="stretch")
        reliability = record.card.calibration if record.card else None
        if reliability and reliability.table:
            right.plotly_chart(model_charts.reliability_figure(reliability.table), width="stretch")
        importance = record.training.get("feature_importance")
        if importance:
            st.plotly_chart(model_charts.importance_figure(importance), width="stretch")
    else:
        column = "forecast_return" if "forecast_return" in preds else "forecast"
        left.plotly_chart(model_charts.forecast_figure(preds, column=column), width="stretch")
        loss = record.training.get("loss_curve")
        if loss:
            right.plotly_chart(model_charts.loss_figure(loss), width="stretch")
    with st.expander("All metrics and settings"):
        st.json(
            {
                "card": record.card.to_dict() if record.card else None,
                "metrics": record.metrics.to_dict(),
                "params": record.params,
                "data": record.data,
                "target": record.target,
                "split": record.split,
            },
            expanded=False,
        )


def render_compare(a: ModelMetadata, b: ModelMetadata) -> None:
    st.dataframe(compare_frame(a, b), width="stretch")


def promotion_problems_of(record: ModelMetadata) -> list[str]:
    """Why promoting ``record`` needs forcing (empty: nothing stands in the way)."""
    return promotion_problems(ModelRegistry(context().paths.models), record.name, record.version)


def promote_version(name: str, version: str, *, force: bool = False) -> str:
    """Make a version the champion (refused unless its gates pass and it beats a passing
    champion, or ``force``); returns a message. Raises ModelError when refused."""
    return promote(ModelRegistry(context().paths.models), name, version, force=force)


def delete_version(name: str, version: str) -> str:
    """Delete a version for good; returns a message."""
    ModelRegistry(context().paths.models).delete(name, version)
    return f"{name} {version} was deleted."
