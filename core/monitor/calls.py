"""The journal's calls with their outcomes, for the monitor (read-only: nothing is written).

Calls come from :func:`core.signals.journal.entries`. A call the journal has resolved keeps the
journal's outcome; a call still pending whose exit candle (``horizon`` candles after its candle,
the next stored one across a gap) is in the store is judged here on that close, with the rule of
:func:`core.signals.ensemble.hits` (the journal's own rule), and marked ``resolved_by="candles"``.
NO EDGE and STALE entries make no call and are never judged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core.config import Paths
from core.data.coins import parse_coin
from core.signals.ensemble import hits

__all__ = ["CALL_KINDS", "NO_EDGE", "load_calls", "resolve_from_candles", "version_key"]

#: The kinds of call a hit rate is measured for (NO EDGE makes none).
CALL_KINDS = ("BULLISH", "BEARISH", "NEUTRAL")
NO_EDGE = "no edge"
_SIGN = {"BULLISH": 1, "BEARISH": -1, "NEUTRAL": 0}

CandleLookup = Callable[[str, str], pd.DataFrame | None]


def version_key(models: Mapping[str, Any] | None) -> str:
    """``"lstm_return_btcusdt v1 + xgb_direction_btcusdt v2"``: the versions behind a call."""
    if not models:
        return "(no model)"
    return " + ".join(f"{name} {version}" for name, version in sorted(models.items()))


def stored_candles(paths: Paths) -> CandleLookup:
    """A cached ``(symbol, interval) -> candles or None`` over the store of the home ``paths``
    describes."""
    from core.data.store import load_candles
    from core.errors import DataError

    cache: dict[tuple[str, str], pd.DataFrame | None] = {}

    def lookup(symbol: str, interval: str) -> pd.DataFrame | None:
        if (symbol, interval) not in cache:
            try:
                cache[(symbol, interval)] = load_candles(symbol, interval, paths=paths)
            except DataError:
                cache[(symbol, interval)] = None
        return cache[(symbol, interval)]

    return lookup


def resolve_from_candles(calls: pd.DataFrame, lookup: CandleLookup) -> pd.DataFrame:
    """``calls`` with every pending call whose exit candle is stored judged on it (a copy)."""
    out = calls.copy()
    if "resolved_by" not in out:
        judged = out["status"].isin(["hit", "miss"])
        out["resolved_by"] = judged.map({True: "journal", False: None})
    pending = out.index[out["status"] == "pending"]
    for (symbol, interval), group in out.loc[pending].groupby(["symbol", "interval"]):
        candles = lookup(str(symbol), str(interval))
        if candles is None or candles.empty:
            continue
        opens = pd.to_datetime(candles["open_time"], utc=True).to_numpy()
        at = np.searchsorted(opens, pd.to_datetime(group["due_time"], utc=True).to_numpy())
        found = at < len(opens)
        if not found.any():
            continue
        rows = group.index[found]
        exit_close = candles["close"].to_numpy(dtype="float64")[at[found]]
        move = exit_close / group.loc[rows, "price"].to_numpy(dtype="float64") - 1.0
        signs = group.loc[rows, "signal"].map(_SIGN).to_numpy(dtype="int64")
        band = pd.to_numeric(group.loc[rows, "neutral_band"], errors="coerce").fillna(0.01)
        hit = hits(signs, move, band.to_numpy(dtype="float64"))
        out.loc[rows, "status"] = np.where(hit, "hit", "miss")
        out.loc[rows, "exit_time"] = pd.to_datetime(opens[at[found]], utc=True)
        out.loc[rows, "exit_close"] = exit_close
        out.loc[rows, "move"] = move
        out.loc[rows, "resolved_by"] = "candles"
    return out


def load_calls(
    home: Path, symbols: Iterable[str] | None = None, *, lookup: CandleLookup | None = None
) -> pd.DataFrame:
    """Every journal entry of ``home``'s journal (of ``symbols``, default all) with its outcome and ``versions`` (the
    :func:`version_key` of the models behind it), in candle-time order.

    ``status`` is "hit", "miss", "pending" or "no edge"; ``resolved_by`` is "journal" or
    "candles" for a judged call. ``lookup`` supplies candles (default: the store).
    """
    from core.signals import journal

    frame = journal.entries(home)
    if symbols is not None:
        wanted = {parse_coin(s).symbol for s in symbols}
        frame = frame[frame["symbol"].isin(wanted)]
    frame = frame.reset_index(drop=True)
    # NO EDGE and STALE (and any later kind that calls nothing) are never judged
    frame.loc[~frame["signal"].isin(CALL_KINDS), "status"] = NO_EDGE
    frame["versions"] = [
        version_key(m if isinstance(m, Mapping) else None) for m in frame["models"]
    ]
    for column in ("confidence", "confidence_low", "confidence_high", "base_rate", "price", "move"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce")
    frame = resolve_from_candles(frame, lookup or stored_candles(Paths(home)))
    return frame.sort_values("candle_time", kind="stable").reset_index(drop=True)
