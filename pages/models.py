"""Models: every registered model beside its naive baseline; charts, compare, promote, delete."""

import streamlit as st

from core.errors import CryptoVoltError
from ui import models_view, state
from ui.frame import ensure_router

ensure_router()

st.title(":material/leaderboard: Models")
st.caption(
    "Every registered version with its test metric beside its naive baseline (XGBoost: AUC 0.5 "
    "and the majority class; LSTM: persistence, next close = this close). Skill above 0 means "
    "the model beats its baseline; walk-forward shows how stable that is across time."
)

metas = models_view.list_models()
if not metas:
    st.info("No models yet: train a coin on the **Training** page (or `python -m core train`).")
    st.stop()

left, right = st.columns(2)
coins = left.multiselect(
    "Coins", sorted({str(m.get("symbol")) for m in metas}), key=state.MODELS_COINS
)
types = right.multiselect("Types", ["xgboost", "lstm"], key=state.MODELS_TYPES)
table = models_view.models_frame(metas, coins=coins, types=types)
st.dataframe(table.drop(columns=["name"]), hide_index=True, width="stretch")
losers = models_view.not_beating(table)
if losers:
    st.warning(f"Do not beat their naive baseline (promoted versions): {', '.join(losers)}.")

st.subheader("Per coin")
a, b = st.columns(2)
with a:
    models_view.render_coin_chart(metas, "xgboost")
with b:
    models_view.render_coin_chart(metas, "lstm")

st.subheader("One model")
names = sorted({str(m["name"]) for m in metas})
name = st.selectbox("Model", names, key=state.MODELS_SELECTED)
versions = [m for m in metas if m["name"] == name]
labels = [m["version"] + (" (promoted)" if m.get("promoted") else "") for m in versions]
picked = st.radio("Version", range(len(versions)), format_func=labels.__getitem__, horizontal=True)
meta = versions[picked]
models_view.render_model(meta)

c1, c2, c3 = st.columns([1, 1, 2], vertical_alignment="bottom")
confirm = c3.checkbox(f"Yes, delete {meta['version']} for good")
try:
    if c1.button("Promote", disabled=bool(meta.get("promoted")), icon=":material/star:"):
        st.toast(models_view.promote_version(name, meta["version"]))
        st.rerun()
    if c2.button("Delete", disabled=not confirm, icon=":material/delete:"):
        st.toast(models_view.delete_version(name, meta["version"]))
        st.rerun()
except CryptoVoltError as exc:
    st.error(str(exc))

if len(versions) >= 2:
    st.subheader("Two versions side by side")
    pair = st.multiselect(
        "Versions",
        [m["version"] for m in versions],
        default=[m["version"] for m in versions[-2:]],
        max_selections=2,
        key=f"{state.MODELS_COMPARE}_{name}",
    )
    if len(pair) == 2:
        by_version = {m["version"]: m for m in versions}
        models_view.render_compare(by_version[pair[0]], by_version[pair[1]])
