"""Charts: candles, volume and technical indicators for one stored coin."""

import streamlit as st

from core.errors import CryptoVoltError
from ui.chart_band import move_band
from ui.charts import (
    available_coins,
    band_caption,
    chart_controls,
    chart_view,
    render_chart,
    render_table,
    staleness_note,
    window_control,
)
from ui.frame import ensure_router
from ui.text import plain

ensure_router()

st.title("Charts")
st.caption(
    "Candles with the indicators the models see, computed over every stored candle (TA-Lib where "
    "it has them). Exchange gaps are shown as gaps, never filled in."
)

available = available_coins()
if not available:
    st.info(
        "No candles yet. Get them on the **Data** page (fetch from Binance, or load the bundled "
        "sample), or run `python -m core fetch --coins BTC` in a terminal.",
        icon=":material/database:",
    )
    st.stop()

symbol, interval, range_key = chart_controls(available)
try:
    if note := staleness_note(symbol, interval):
        st.warning(plain(note), icon=":material/schedule:")
    window = window_control(symbol, interval, range_key)
    view = chart_view(symbol, interval, range_key, window)
    band, no_band = move_band(symbol)
except CryptoVoltError as exc:
    st.error(plain(exc), icon=":material/error:")
    st.stop()

render_chart(view, band)
st.caption(view.caption())
st.caption(plain(band_caption(view, band, no_band)))
st.subheader("Indicator values")
render_table(view)
