"""The sidebar shared by every page: what data is on disk."""

from __future__ import annotations

import streamlit as st

from ui.loaders import stored_summary


def render_sidebar() -> None:
    with st.sidebar:
        st.markdown("### :material/bolt: CryptoVolt")
        summary = stored_summary()
        if summary.empty:
            st.caption("No candles yet. Open **Data** to fetch them or load the bundled sample.")
            return
        st.caption(f"{len(summary)} candle file(s) on disk")
        for row in summary.itertuples(index=False):
            last = row.last.strftime("%Y-%m-%d %H:%M") if row.rows else "—"
            st.caption(f"**{row.symbol}** {row.interval} · {row.rows:,} candles · to {last} UTC")
