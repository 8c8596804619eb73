"""The sidebar shared by every page: what data is on disk, and how old it is."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.config import Interval
from core.signals.signal import current_time
from core.words import span_words
from ui.loaders import stored_summary
from ui.text import plain


def _age(last: pd.Timestamp, interval: str) -> str:
    """``" · 3 h old"`` for a file whose last candle opened at ``last``."""
    try:
        step = pd.Timedelta(milliseconds=Interval.parse(interval).milliseconds)
    except Exception:  # an interval this build does not know: say nothing rather than guess
        return ""
    age = current_time() - (pd.Timestamp(last) + step)
    return f" · {span_words(age)} old" if age > pd.Timedelta(0) else ""


def render_sidebar() -> None:
    with st.sidebar:
        st.markdown("### CryptoVolt")
        summary = stored_summary()
        if summary.empty:
            st.caption("No candles yet. Open **Data** to fetch them or load the bundled sample.")
            return
        st.caption(f"{len(summary)} candle file(s) on disk")
        for row in summary.itertuples(index=False):
            last = row.last.strftime("%Y-%m-%d %H:%M") if row.rows else "—"
            age = _age(row.last, row.interval) if row.rows else ""
            st.caption(
                f"**{plain(row.symbol)}** {plain(row.interval)} · {row.rows:,} candles · to {last} UTC{age}"
            )
