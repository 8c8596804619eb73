"""Homes with a journal of real calls, for the monitor's tests (built once per session, copied).

Starts from tests/card_home.py (BTCUSDT's ``xgb_direction`` v1 passes its gates on planted
candles whose taker-buy share tells where the next six hours go). The store gets ``EXTRA`` more
hourly candles of the same process (a new seed), then real signals are computed with the
registry's models on each of the first ``calls`` new candles and recorded with the journal's own
API, as the watch loop would. In the ``"degraded"`` regime the new candles' taker-buy share is
mirrored (``1 - share``): the same input now says the opposite, so the model's calls mostly miss
from the first new candle on, the regime change the fake market planted. Nothing is mocked; the
outcomes come from the stored candles.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import pandas as pd

from tests.card_home import copy_carded_into

EXTRA = 120
_built: dict[tuple[str, int], Path] = {}


def continuation(candles: pd.DataFrame, n: int, *, regime: str, seed: int = 11) -> pd.DataFrame:
    """``n`` planted candles following ``candles`` (prices continue from its last close)."""
    from core.data.store import normalize_candles
    from tests.random_walk import planted_candles

    start = pd.Timestamp(candles["open_time"].iloc[-1]) + pd.Timedelta(hours=1)
    new = planted_candles(n, seed=seed, start=start.tz_convert("UTC").strftime("%Y-%m-%d %H:%M"))
    scale = float(candles["close"].iloc[-1]) / 100.0
    for column in ("open", "high", "low", "close"):
        new[column] = new[column] * scale
    if regime == "degraded":
        share = new["taker_buy_base_volume"] / new["volume"]
        new["taker_buy_base_volume"] = new["volume"] * (1.0 - share)
    elif regime != "stable":
        raise ValueError(f"regime must be 'stable' or 'degraded', got {regime!r}")
    new["quote_asset_volume"] = new["volume"] * new["close"]
    new["taker_buy_quote_volume"] = new["taker_buy_base_volume"] * new["close"]
    return normalize_candles(new)


def _build(regime: str, calls: int) -> Path:
    import os

    from core.data.store import load_candles, save_candles
    from core.registry.model_registry import ModelRegistry
    from core.signals import journal
    from core.signals.live import load_coin_models, signal_from_models

    folder = Path(tempfile.mkdtemp(prefix=f"cryptovolt-monitor-{regime}-"))
    atexit.register(shutil.rmtree, folder, True)
    copy_carded_into(folder)
    before = os.environ.get("CRYPTOVOLT_HOME")
    os.environ["CRYPTOVOLT_HOME"] = str(folder)
    try:
        old = load_candles("BTCUSDT")
        full = pd.concat([old, continuation(old, EXTRA, regime=regime)], ignore_index=True)
        save_candles(full, "BTCUSDT")
        models = load_coin_models("BTCUSDT", ModelRegistry())
        signals = []
        for end in range(len(old) + 1, len(old) + 1 + calls):
            part = full.iloc[end - 600 : end]
            closed = pd.Timestamp(part["open_time"].iloc[-1]) + pd.Timedelta(hours=1)
            signals.append(signal_from_models(models, part, now=closed.to_pydatetime()))
        journal.record(folder, signals, source="test", now=closed.to_pydatetime())
    finally:
        if before is None:
            os.environ.pop("CRYPTOVOLT_HOME", None)
        else:
            os.environ["CRYPTOVOLT_HOME"] = before
    return folder


def journal_home(home: Path, *, regime: str = "stable", calls: int = 110) -> pd.Timestamp:
    """Fill ``home`` with the carded models, the longer candles and a journal of ``calls`` real
    calls (``regime`` "stable" or "degraded"); returns a time after every call's horizon (pass
    it as ``now``). Built once per (regime, calls) per session."""
    key = (regime, calls)
    if key not in _built:
        _built[key] = _build(regime, calls)
    shutil.copytree(_built[key], home, dirs_exist_ok=True)
    return now_after(home)


def now_after(home: Path) -> pd.Timestamp:
    """The close of the last stored BTCUSDT candle in ``home``."""
    frame = pd.read_parquet(home / "data" / "raw" / "BTCUSDT-1h.parquet", columns=["open_time"])
    last = pd.to_datetime(frame["open_time"], utc=True).max()
    return last + pd.Timedelta(hours=1)
