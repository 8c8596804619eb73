"""Cached loaders: data for pages, keyed by what invalidates it (a file's mtime)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.data import store
from core.features.indicators import compute_indicators


def _mtime_key() -> tuple[tuple[str, str, int], ...]:
    """(symbol, interval, mtime_ns) for every candle file: changes whenever a file is rewritten."""
    keys = []
    for symbol, interval in store.list_stored():
        try:
            keys.append((symbol, interval, store.candle_path(symbol, interval).stat().st_mtime_ns))
        except (FileNotFoundError, ValueError):
            continue
    return tuple(keys)


@st.cache_data(show_spinner=False, max_entries=8)
def _summary(key: tuple[tuple[str, str, int], ...]) -> pd.DataFrame:
    rows = []
    for symbol, interval, _ in key:
        cov = store.coverage(symbol, interval)
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
    return _summary(_mtime_key())


@st.cache_data(show_spinner=False, max_entries=32)
def _candles(symbol: str, interval: str, mtime_ns: int) -> pd.DataFrame:
    return store.load_candles(symbol, interval)


def load_candles(symbol: str, interval: str = "1h") -> pd.DataFrame:
    """Stored candles, cached until the file changes. Raises core's DataError subclasses."""
    path = store.candle_path(symbol, interval)
    mtime = path.stat().st_mtime_ns if path.exists() else 0
    return _candles(symbol, interval, mtime)


@st.cache_data(show_spinner=False, max_entries=16)
def _indicators(symbol: str, interval: str, mtime_ns: int) -> pd.DataFrame:
    return compute_indicators(_candles(symbol, interval, mtime_ns))


def load_indicators(symbol: str, interval: str = "1h") -> pd.DataFrame:
    """Indicators over all stored candles (same index), cached until the candle file changes.

    Raises core's DataError subclasses like :func:`load_candles`.
    """
    path = store.candle_path(symbol, interval)
    mtime = path.stat().st_mtime_ns if path.exists() else 0
    return _indicators(symbol, interval, mtime)
