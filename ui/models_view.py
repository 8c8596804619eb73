"""Models page glue: the table of every registered version, per-model charts, compare, actions.

Every number comes from what training saved (``metadata.json`` and ``predictions.parquet``).
Each headline metric stands beside its naive baseline: XGBoost's AUC beside 0.5 (and accuracy
beside always predicting the majority class), the LSTM's MAE beside persistence (next close =
this close). A model "beats its baseline" when its skill is above zero: Brier skill against the
training base rate for XGBoost, 1 - MAE / MAE of persistence for the LSTM.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from core.registry.model_registry import ModelRegistry
from ui import model_charts

__all__ = [
    "HEADLINE",
    "compare_frame",
    "delete_version",
    "fold_table",
    "list_models",
    "models_frame",
    "not_beating",
    "predictions",
    "promote_version",
    "render_coin_chart",
    "render_compare",
    "render_model",
]

#: model type → (metric key, label, the metric's baseline key, higher is better)
HEADLINE = {
    "xgboost": ("roc_auc", "AUC", "roc_auc", True),
    "lstm": ("mae", "MAE", "mae", False),
}
_DETAIL = {
    "xgboost": ("roc_auc", "accuracy", "balanced_accuracy", "brier", "log_loss", "f1"),
    "lstm": ("mae", "rmse", "mape", "directional_accuracy"),
}


@st.cache_data(show_spinner=False, max_entries=8)
def _list(root: str, key: tuple) -> list[dict[str, Any]]:
    return ModelRegistry(Path(root)).list_models()


def list_models() -> list[dict[str, Any]]:
    """Every version's metadata (cached until a version is added, deleted or promoted)."""
    registry = ModelRegistry()
    return _list(str(registry.root), registry.cache_key())


@st.cache_data(show_spinner=False, max_entries=32)
def _predictions(root: str, name: str, version: str, created: str) -> pd.DataFrame:
    return ModelRegistry(Path(root)).get_predictions(name, version)


def predictions(meta: dict[str, Any]) -> pd.DataFrame:
    """A version's saved out-of-sample predictions (verified by the registry, then cached)."""
    registry = ModelRegistry()
    return _predictions(
        str(registry.root), meta["name"], meta["version"], str(meta.get("created_at"))
    )


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and np.isfinite(value) else None


def _fold_values(meta: dict[str, Any], key: str) -> list[float]:
    folds = (meta.get("metrics") or {}).get("walk_forward") or []
    values = [_number((f.get("metrics") or {}).get(key)) for f in folds]
    return [v for v in values if v is not None]


def models_frame(
    metas: list[dict[str, Any]], *, coins: list[str] | None = None, types: list[str] | None = None
) -> pd.DataFrame:
    """One display row per version, filtered by coin symbols and model types."""
    rows = []
    for meta in metas:
        kind = str(meta.get("model_type"))
        if (coins and meta.get("symbol") not in coins) or (types and kind not in types):
            continue
        key, label, base_key, _ = HEADLINE.get(kind, (None, "", None, True))
        metrics = meta.get("metrics") or {}
        skill = _number(metrics.get("skill"))
        folds = _fold_values(meta, key) if key else []
        data = meta.get("data") or {}
        rows.append(
            {
                "name": meta.get("name"),
                "coin": meta.get("symbol"),
                "type": kind,
                "version": meta.get("version"),
                "promoted": bool(meta.get("promoted")),
                "metric": label,
                "test": _number((metrics.get("test") or {}).get(key)) if key else None,
                "baseline": _number((metrics.get("baseline") or {}).get(base_key)) if key else None,
                "skill": skill,
                "beats baseline": "error"
                if meta.get("error")
                else ("yes" if skill is not None and skill > 0 else "NO"),
                "walk-forward": (
                    f"{np.mean(folds):.4g} ± {np.std(folds):.2g} ({len(folds)} folds)"
                    if folds
                    else "off"
                ),
                "data": f"{str(data.get('start', ''))[:10]} → {str(data.get('end', ''))[:10]}",
                "rows": data.get("rows"),
                "train s": _number(meta.get("train_seconds")),
                "created": meta.get("created_at"),
            }
        )
    return pd.DataFrame(rows)


def not_beating(table: pd.DataFrame) -> list[str]:
    """``"BTCUSDT xgboost v2"`` for each promoted row of :func:`models_frame` without skill."""
    if table.empty:
        return []
    rows = table[(table["beats baseline"] != "yes") & table["promoted"]]
    return [f"{r.coin} {r.type} {r.version}" for r in rows.itertuples()]


def fold_table(meta: dict[str, Any]) -> pd.DataFrame:
    """The headline metric per walk-forward fold and the test period, with time ranges."""
    kind = str(meta.get("model_type"))
    key, label, base_key, _ = HEADLINE[kind]
    metrics = meta.get("metrics") or {}
    rows = [
        {
            "split": f.get("fold"),
            "start": f.get("start"),
            "end": f.get("end"),
            "score": _number((f.get("metrics") or {}).get(key)),
            "baseline": _number((f.get("baseline") or {}).get(base_key)),
            "skill": _number(f.get("skill")),
        }
        for f in metrics.get("walk_forward") or []
    ]
    test_range = (meta.get("split") or {}).get("test") or {}
    rows.append(
        {
            "split": "test",
            "start": test_range.get("start"),
            "end": test_range.get("end"),
            "score": _number((metrics.get("test") or {}).get(key)),
            "baseline": _number((metrics.get("baseline") or {}).get(base_key)),
            "skill": _number(metrics.get("skill")),
        }
    )
    frame = pd.DataFrame(rows).assign(metric=label)
    for column in ("start", "end"):
        frame[column] = pd.to_datetime(frame[column], utc=True, format="ISO8601")
    return frame


def compare_frame(a: dict[str, Any], b: dict[str, Any]) -> pd.DataFrame:
    """Two versions side by side: test metrics, baselines, skill, data, settings, time."""
    kind = str(a.get("model_type"))
    rows: dict[str, tuple[Any, Any]] = {}
    for key in _DETAIL.get(kind, ()):
        rows[f"test {key}"] = tuple(
            _number((m.get("metrics") or {}).get("test", {}).get(key)) for m in (a, b)
        )
        rows[f"baseline {key}"] = tuple(
            _number((m.get("metrics") or {}).get("baseline", {}).get(key)) for m in (a, b)
        )
    rows["skill"] = tuple(_number((m.get("metrics") or {}).get("skill")) for m in (a, b))
    for key in ("start", "end", "rows"):
        rows[f"data {key}"] = tuple((m.get("data") or {}).get(key) for m in (a, b))
    params = sorted(set(a.get("params") or {}) | set(b.get("params") or {}))
    for key in params:
        rows[f"param {key}"] = tuple((m.get("params") or {}).get(key) for m in (a, b))
    rows["train seconds"] = (a.get("train_seconds"), b.get("train_seconds"))
    rows["created"] = (a.get("created_at"), b.get("created_at"))
    frame = pd.DataFrame.from_dict(
        {k: [str(v[0]), str(v[1])] for k, v in rows.items()},
        orient="index",
        columns=[a["version"], b["version"]],
    )
    frame["differs"] = np.where(frame.iloc[:, 0] != frame.iloc[:, 1], "≠", "")
    return frame


def render_coin_chart(metas: list[dict[str, Any]], kind: str) -> None:
    """Each coin's promoted version of ``kind`` against its baseline: XGBoost's AUC beside 0.5,
    the LSTM's skill against persistence (MAE in price units cannot be compared across coins)."""
    table = models_frame([m for m in metas if m.get("promoted")], types=[kind])
    if table.empty:
        st.caption(f"No promoted {kind} models yet.")
        return
    if kind == "xgboost":
        fig = model_charts.metric_by_coin_figure(
            table.rename(columns={"test": "AUC"}), "AUC", baseline="baseline"
        )
    else:
        fig = model_charts.metric_by_coin_figure(
            table.rename(columns={"skill": "LSTM skill (1 - MAE / persistence MAE)"}),
            "LSTM skill (1 - MAE / persistence MAE)",
            reference=0.0,
        )
    st.plotly_chart(fig, width="stretch", key=f"coin-chart-{kind}")


def render_model(meta: dict[str, Any]) -> None:
    """Walk-forward folds over time and the type's own charts for one version."""
    kind = str(meta.get("model_type"))
    if meta.get("error"):
        st.error(meta["error"])
        return
    skill = _number((meta.get("metrics") or {}).get("skill"))
    basis = (meta.get("metrics") or {}).get("skill_basis", "")
    if skill is None or skill <= 0:
        st.warning(
            f"{meta['name']} {meta['version']} does not beat its naive baseline "
            f"(skill {skill if skill is None else f'{skill:.4f}'}; {basis}).",
            icon=":material/warning:",
        )
    else:
        st.success(f"Skill {skill:.4f} over its naive baseline ({basis}).")
    folds = fold_table(meta)
    if len(folds) == 1:
        note = (meta.get("metrics") or {}).get("walk_forward_note", "no walk-forward folds")
        st.caption(f"Only the test period: {note}.")
    st.plotly_chart(
        model_charts.folds_figure(folds, "Walk-forward folds and test period over time"),
        width="stretch",
        key=f"folds-{meta['name']}-{meta['version']}",
    )
    preds = predictions(meta)
    training = meta.get("training") or {}
    left, right = st.columns(2)
    if kind == "xgboost":
        left.plotly_chart(model_charts.roc_figure(preds), width="stretch")
        right.plotly_chart(model_charts.confusion_figure(preds), width="stretch")
        if training.get("feature_importance"):
            st.plotly_chart(
                model_charts.importance_figure(training["feature_importance"]), width="stretch"
            )
    else:
        left.plotly_chart(model_charts.forecast_figure(preds), width="stretch")
        if training.get("loss_curve"):
            right.plotly_chart(model_charts.loss_figure(training["loss_curve"]), width="stretch")
    with st.expander("All metrics and settings"):
        st.json(
            {k: meta.get(k) for k in ("metrics", "params", "data", "target", "split")},
            expanded=False,
        )


def render_compare(a: dict[str, Any], b: dict[str, Any]) -> None:
    st.dataframe(compare_frame(a, b), width="stretch")


def promote_version(name: str, version: str) -> str:
    """Promote a version; returns a message. The cached lists refresh on the next read."""
    ModelRegistry().promote(name, version)
    return f"{name} {version} is now the promoted version."


def delete_version(name: str, version: str) -> str:
    """Delete a version for good; returns a message."""
    ModelRegistry().delete(name, version)
    return f"{name} {version} was deleted."
