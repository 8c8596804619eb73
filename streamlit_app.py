"""CryptoVolt dashboard: the router and frame. Pages live in pages/, logic in core/."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from ui.sidebar import render_sidebar

ROOT = Path(__file__).resolve().parent

#: (file, title, icon); a page whose file does not exist yet is simply not offered.
PAGES = (
    ("pages/data.py", "Data", ":material/database:"),
    ("pages/charts.py", "Charts", ":material/candlestick_chart:"),
    ("pages/training.py", "Training", ":material/model_training:"),
    ("pages/models.py", "Models", ":material/leaderboard:"),
    ("pages/signals.py", "Signals", ":material/traffic:"),
    ("pages/backtest.py", "Backtest", ":material/history:"),
)


def main() -> None:
    st.set_page_config(page_title="CryptoVolt", page_icon=":material/bolt:", layout="wide")
    pages = [
        st.Page(path, title=title, icon=icon, default=(i == 0))
        for i, (path, title, icon) in enumerate(p for p in PAGES if (ROOT / p[0]).exists())
    ]
    page = st.navigation(pages)
    render_sidebar()
    page.run()


main()
