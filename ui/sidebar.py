"""The sidebar shared by every page: what data is on disk and how old it is, and the time-zone
switch.

The list of files is drawn before the page (so a page that stops early still has it) and drawn
again after it, in the same place (:func:`refresh_files`), so it shows what the page just did:
after **Load bundled sample**, a fetch or a Refresh the same run lists the new files, instead of
"No candles yet" beside a table of nine coins.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from core.clock import span_words
from core.config import Interval
from core.data.coins import display_name
from ui.clock import render_zone_switch, when
from ui.context import context
from ui.loaders import stored_summary
from ui.text import plain

__all__ = ["refresh_files", "render_sidebar"]


def _age(last: pd.Timestamp, interval: str) -> str:
    """``" · 3 h old"`` for a file whose last candle opened at ``last``."""
    try:
        step = pd.Timedelta(milliseconds=Interval.parse(interval).milliseconds)
    except Exception:  # an interval this build does not know: say nothing rather than guess
        return ""
    age = context().now() - (pd.Timestamp(last) + step)
    return f" · {span_words(age)} old" if age > pd.Timedelta(0) else ""


def _files() -> None:
    summary = stored_summary()
    if summary.empty:
        st.caption("No candles yet. Open **Data** to fetch them or load the bundled sample.")
        return
    st.caption(f"{len(summary):,} candle file(s) on disk")
    for row in summary.itertuples(index=False):
        last = when(row.last) if row.rows else "—"
        age = _age(row.last, row.interval) if row.rows else ""
        st.caption(
            f"**{plain(display_name(row.symbol))}** {plain(row.interval)} · "
            f"{row.rows:,} candles · to {plain(last)}{age}",
        )


def render_sidebar() -> Any:
    """The stored candle files (coin, interval, count, last candle in the viewer's zone, age)
    and the **Times in UTC** switch. Returns the files' placeholder for :func:`refresh_files`."""
    with st.sidebar:
        st.markdown("### CryptoVolt")
        render_zone_switch()
        files = st.empty()
        with files.container():
            _files()
    return files


def refresh_files(files: Any) -> None:
    """Draw the file list again in its place (after the page ran: it may have written files)."""
    with files.container():
        _files()
