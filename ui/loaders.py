"""Cached loaders: data for pages, keyed by what invalidates it (a file's mtime).

The keys come from :func:`core.data.store.candle_mtime_ns` (one file) and
:func:`core.data.store.stored_fingerprint` (every file), so a rewrite of a candle file by any
process (a fetch job, the CLI) shows on the next run."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.data import store
from ui.context import context


@st.cache_data(show_spinner=False, max_entries=8)
def _summary(key: tuple[tuple[str, str, int], ...]) -> pd.DataFrame:
    rows = []
    for symbol, interval, _ in key:
        cov = store.coverage(symbol, interval, paths=context().paths)
        rows.append(
            {
                "symbol": symbol,
                "interval": interval,
                "rows": cov.rows,
                "first": cov.first,
                "last": cov.last,
                "missing": cov.missing,
                "size_bytes": cov.size_bytes,
                "error": cov.error,
            }
        )
    return pd.DataFrame(
        rows,
        columns=["symbol", "interval", "rows", "first", "last", "missing", "size_bytes", "error"],
    )


def stored_summary() -> pd.DataFrame:
    """One row per candle file on disk: symbol, interval, rows, first, last, missing, size."""
    return _summary(store.stored_fingerprint(paths=context().paths))


@st.cache_data(show_spinner=False, max_entries=32)
def _candles(symbol: str, interval: str, mtime_ns: int) -> pd.DataFrame:
    return store.load_candles(symbol, interval, paths=context().paths)


def load_candles(symbol: str, interval: str = "1h") -> pd.DataFrame:
    """Stored candles, cached until the file changes. Raises core's DataError subclasses."""
    return _candles(
        symbol, interval, store.candle_mtime_ns(symbol, interval, paths=context().paths)
    )


@st.cache_data(show_spinner=False, max_entries=16)
def _indicators(symbol: str, interval: str, mtime_ns: int) -> pd.DataFrame:
    # imported here: TA-Lib and the feature stage are not needed to draw the Data page
    from core.features.indicators import compute_indicators

    return compute_indicators(_candles(symbol, interval, mtime_ns))


def load_indicators(symbol: str, interval: str = "1h") -> pd.DataFrame:
    """Indicators over all stored candles (same index), cached until the candle file changes.

    Raises core's DataError subclasses like :func:`load_candles`.
    """
    return _indicators(
        symbol, interval, store.candle_mtime_ns(symbol, interval, paths=context().paths)
    )


def reference_candles(interval: str = "1h") -> dict[str, pd.DataFrame]:
    """The stored reference coins (BTC, ETH) for cross-asset inputs, each through the candle
    cache above, so ten coins' signals read each reference file once, not once per coin."""
    from core.features.context import REFERENCE_SYMBOLS

    return {
        symbol: load_candles(symbol, interval)
        for symbol in REFERENCE_SYMBOLS
        if store.candle_mtime_ns(symbol, interval, paths=context().paths)
    }


def reference_key(interval: str = "1h") -> tuple[int, ...]:
    """The reference files' mtimes: part of a signal's cache key (it depends on them too)."""
    from core.features.context import REFERENCE_SYMBOLS

    return tuple(
        store.candle_mtime_ns(symbol, interval, paths=context().paths)
        for symbol in REFERENCE_SYMBOLS
    )
