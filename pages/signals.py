"""Signals: a one-line verdict per stored coin in plain words, then one card per trained coin
with its call and out-of-time confidence, or NO EDGE."""

import streamlit as st

from ui import state
from ui.frame import ensure_router
from ui.journal_notes import render_journal_damage
from ui.signals_view import current_symbols, refresh_candles, render_cards

ensure_router()

st.title("Signals")
st.caption(
    "First the verdict: one line per stored coin in plain words (the gate numbers behind it in "
    "the expander). Then a card per trained coin: BULLISH / BEARISH / NEUTRAL from its models "
    "whose gates pass; a coin with none shows NO EDGE and why. Confidence is how often the same rule was right on earlier out-of-sample "
    "calls of similar strength (with its 95% interval and the number of calls), beside the base "
    "rate and how such calls held on the later test window. Every signal shown is recorded and "
    "later checked in the journal."
)

# a row that wraps on a narrow screen instead of squeezing the buttons' labels
with st.container(horizontal=True, wrap=True, vertical_alignment="bottom", key="signals_bar"):
    if st.button(
        "Refresh",
        icon=":material/refresh:",
        help="Top candles up from Binance first",
        shortcut="Alt+U",
        width="content",
    ):
        with st.spinner("Topping candles up from Binance…"):
            st.session_state[state.SIGNALS_REFRESH_NOTES] = refresh_candles(current_symbols())
    auto = st.toggle(
        "Auto-refresh at each candle close",
        key=state.SIGNALS_AUTO_REFRESH,
        help="While this page is open, top the candles up a few seconds after each hourly close.",
        width="content",
    )
    sort = st.segmented_control(
        "Sort by",
        ["confidence", "coin"],
        default="confidence",
        key=state.SIGNALS_SORT,
        width="content",
    )

render_cards(sort=sort or "confidence", auto=auto)
render_journal_damage()
