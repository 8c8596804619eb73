"""The monitor's history: rolling live hit rate and log loss over time, for the plot.

One row per step (default daily, at midnight UTC, plus the window end) over one version set's
resolved calls: the calls in the ``days`` before that point, their hit rate with its Wilson
interval on the effective number of calls (:func:`core.monitor.rates.live_interval`), the mean confidence they were shown with (the promise), and for each probability
member its live log loss beside its base rate's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from core.config import Paths
from core.monitor.calls import load_calls
from core.monitor.rates import RecordLookup, in_window, live_interval, member_scores, overlap_of

__all__ = ["history", "version_history"]

_COLUMNS = ["time", "calls", "hits", "hit_rate", "low", "high", "promised"]


def history(
    resolved: pd.DataFrame,
    models: dict[str, str],
    records: RecordLookup,
    *,
    days: int = 7,
    step: str = "1D",
) -> pd.DataFrame:
    """Rolling scores of ``resolved`` calls (status "hit" / "miss") of one version set.

    Out: ``time, calls, hits, hit_rate, low, high, promised`` and, per probability member,
    ``log_loss:{name}`` and ``base_log_loss:{name}``; empty (those columns) when nothing is
    resolved. Rows with no call in their window are left out.
    """
    if resolved.empty:
        return pd.DataFrame(columns=_COLUMNS)
    times = pd.to_datetime(resolved["candle_time"], utc=True)
    points = pd.date_range(times.min().ceil(step), times.max().floor(step), freq=step)
    points = points.append(pd.DatetimeIndex([times.max()])).unique().sort_values()
    rows = []
    for end in points:
        window = in_window(resolved, end, days)
        if window.empty:
            continue
        n, k = len(window), int((window["status"] == "hit").sum())
        low, high = live_interval(k, n, overlap_of(window))
        row: dict[str, object] = {
            "time": end,
            "calls": n,
            "hits": k,
            "hit_rate": k / n,
            "low": low,
            "high": high,
            "promised": float(pd.to_numeric(window["confidence"], errors="coerce").mean()),
        }
        for score in member_scores(window, models, records, end=end, days=days):
            if score.log_loss is not None:
                row[f"log_loss:{score.name}"] = score.log_loss
                row[f"base_log_loss:{score.name}"] = score.base_log_loss
        rows.append(row)
    out = pd.DataFrame(rows)
    return out if len(out) else pd.DataFrame(columns=_COLUMNS)


def version_history(
    home: Path,
    symbol: str,
    versions: str,
    *,
    days: int = 7,
    step: str = "1D",
    lookup: Any = None,
) -> pd.DataFrame:
    """:func:`history` of one coin's calls made by ``versions`` (a
    :func:`core.monitor.calls.version_key`), read from ``home``'s journal and the store."""
    from core.monitor.health import records_lookup
    from core.registry.model_registry import ModelRegistry

    calls = load_calls(home, [symbol], lookup=lookup)
    mine = calls[(calls["versions"] == versions) & calls["status"].isin(["hit", "miss"])]
    models = next((m for m in mine["models"] if isinstance(m, dict)), {}) or {}
    return history(
        mine, dict(models), records_lookup(ModelRegistry(Paths(home).models)), days=days, step=step
    )
