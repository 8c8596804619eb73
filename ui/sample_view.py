"""The Data page's "Load bundled sample": load at once, or, over fetched candles, ask first.

The sample is real Binance 1h candles for nine coins (2024-05-01 to 2025-05-30). Loading it
where only the sample (or nothing) is stored just loads; where a coin has fetched candles (reaching
outside the sample's span) a dialog asks first, offering per coin **Replace this coin** (the
sample takes the place of what is stored, which is moved aside to ``data/quarantine/``), **Load
where it fits** (the same seam check as a fetch: a coin where the sample does not fit is held in
quarantine and shows as a conflict) or **Cancel**. The dialog's open state lives in Session
State, so it survives reruns until answered or dismissed.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import streamlit as st

from core import config
from core.data import store
from core.data.coins import display_name
from core.data.fetch import load_sample
from core.data.fetch_status import FetchResult, FetchStatus
from ui import state
from ui.clock import when
from ui.context import context
from ui.data_view import cached_coverage
from ui.text import plain

__all__ = [
    "SAMPLE_CAPTION",
    "ask_or_load_sample",
    "load_bundled_sample",
    "render_sample_dialog",
    "sample_clashes",
    "sample_note",
]

SAMPLE_CAPTION = (
    "The bundled sample is real Binance 1h candles for 9 coins (BTC, ETH, SOL, XRP, ADA, AVAX, "
    "LINK, UNI, DOT) from 2024-05-01 to 2025-05-30 (ADA to 2025-04-13); POL is not in it. It "
    "works offline; a later Fetch tops it up to the present."
)


def load_bundled_sample(replace: Sequence[str] = ()) -> list[FetchResult]:
    """Copy the bundled sample into the store (merging with what is there where it fits; the
    coins in ``replace`` get the sample instead of what is stored)."""
    return load_sample(replace=replace, paths=context().paths)


def sample_note(results: list[FetchResult]) -> str:
    """One line saying what the sample load did."""
    loaded = [r for r in results if r.coverage is not None and r.coverage.rows]
    added = sum(r.new_rows for r in results)
    held = [r.symbol for r in results if r.status is FetchStatus.CONFLICT]
    replaced = [r.symbol for r in results if "moved to" in r.note]
    return (
        f"Loaded the bundled sample: {len(loaded) - len(held)} coins, {added:,} new candles"
        + (
            f"; replaced {', '.join(replaced)} (the old candles are in data/quarantine/)"
            if replaced
            else ""
        )
        + (
            f"; not loaded for {', '.join(held)}: it does not fit the stored candles (conflict, below)"
            if held
            else ""
        )
        + ". It ends 2025-05-30, so those coins show as partial until you fetch; a fetch tops "
        "them up."
    )


@st.cache_data(show_spinner=False)
def _sample_spans(folder: str) -> dict[str, tuple[pd.Timestamp, pd.Timestamp]]:
    """First and last open time of each coin in the bundled sample (1h)."""
    spans = {}
    for path in sorted(Path(folder).glob("*-1h.parquet")):
        times = pq.read_table(path, columns=["open_time"]).column(0).to_pandas()
        times = pd.to_datetime(times, utc=True)
        spans[path.stem.rsplit("-", 1)[0]] = (times.min(), times.max())
    return spans


def sample_clashes() -> list[tuple[str, store.Coverage]]:
    """The sample's coins whose stored candles reach outside the sample (fetched candles, not an
    earlier load of the sample): loading over them asks first."""
    clashes = []
    for symbol, (first, last) in _sample_spans(str(config.sample_dir())).items():
        cov = cached_coverage(symbol, "1h")
        if cov.first is None or cov.last is None:
            continue
        if cov.first < first or cov.last > last:
            clashes.append((symbol, cov))
    return clashes


def _sample_loaded(results: list[FetchResult]) -> None:
    st.session_state[state.FETCH_SAMPLE_NOTE] = sample_note(results)
    st.session_state.pop(state.SAMPLE_CONFIRM, None)


def ask_or_load_sample() -> None:
    """The "Load bundled sample" click: load at once when no fetched candles are stored for the
    sample's coins, else open the dialog that asks (:func:`render_sample_dialog`)."""
    if sample_clashes():
        st.session_state[state.SAMPLE_CONFIRM] = True
    else:
        _sample_loaded(load_bundled_sample())


def _close_sample_dialog() -> None:
    st.session_state.pop(state.SAMPLE_CONFIRM, None)


@st.dialog("Load the bundled sample?", width="large", on_dismiss=_close_sample_dialog)
def _sample_dialog() -> None:
    clashes = sample_clashes()
    st.markdown(
        "These coins already have fetched candles, which the sample (real Binance 1h candles, "
        "2024-05-01 to 2025-05-30) would meet:"
    )
    for symbol, cov in clashes:
        left, right = st.columns([3, 1], vertical_alignment="center")
        left.markdown(
            f"**{display_name(symbol)}**: {cov.rows:,} candles, {plain(when(cov.first))} to "
            f"{plain(when(cov.last))}"
        )
        if right.button("Replace this coin", key=f"sample_replace_{symbol}"):
            _sample_loaded(load_bundled_sample(replace=[symbol]))
            st.rerun()
    st.caption(
        "**Replace this coin**: the sample takes the place of that coin's stored candles (they "
        "are moved to data/quarantine/, not deleted); the other coins are loaded where the "
        "sample fits. **Load where it fits**: the sample is added where it joins and agrees "
        "with the stored candles; for a coin where it does not, nothing is written and the "
        "sample waits in quarantine for you to choose (shown as a conflict below)."
    )
    left, right = st.columns(2)
    if left.button("Load where it fits", type="primary", key="sample_merge"):
        _sample_loaded(load_bundled_sample())
        st.rerun()
    if right.button("Cancel", key="sample_cancel"):
        _close_sample_dialog()
        st.rerun()


def render_sample_dialog() -> None:
    """The dialog that asks before the sample meets fetched candles, while it is open."""
    if st.session_state.get(state.SAMPLE_CONFIRM):
        _sample_dialog()
