"""Data: fetch Binance candles for the chosen coins as a background job (or load the bundled
sample), see coverage."""

import streamlit as st

from ui import data_view, import_view, sample_view, state
from ui.frame import ensure_router
from ui.text import plain

ensure_router()

st.title("Data")
st.caption(
    "Closed Binance spot candles, every kline field, one file per coin and interval under "
    "data/raw/. Fetching again downloads only what is missing; gaps where Binance has no "
    "candles are listed, never filled. A fetch runs as a background job: it keeps going if you "
    "close the tab, and `python -m core job list` shows it."
)

coins, interval, days = data_view.fetch_settings()
job = data_view.watched_fetch()
running = job is not None and job.active

left, right = st.columns([1, 3], vertical_alignment="top")
if left.button(
    data_view.fetch_button_label(days),
    type="primary",
    icon=":material/download:",
    disabled=running or not coins,
):
    data_view.start_fetch(coins, interval, days)
    st.session_state.pop(state.FETCH_SAMPLE_NOTE, None)
if right.button("Load bundled sample", icon=":material/inventory_2:", disabled=running):
    sample_view.ask_or_load_sample()  # over fetched candles it asks first, in a dialog
right.caption(sample_view.SAMPLE_CAPTION)
sample_view.render_sample_dialog()
if note := st.session_state.get(state.FETCH_SAMPLE_NOTE):
    st.success(plain(note), icon=":material/inventory_2:")

import_view.render_import()  # a drop zone for archive files the user has

job = data_view.render_fetch_progress()
data_view.render_coverage(coins, interval, job)
