"""Synthetic candles with no signal by construction: a geometric random walk in the store schema."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.data.store import normalize_candles

HOUR_MS = 3_600_000


def random_walk_candles(
    n: int, *, seed: int = 7, sigma: float = 0.006, start: str = "2023-01-01", price: float = 100.0
) -> pd.DataFrame:
    """``n`` hourly candles whose log returns are i.i.d. normal with constant ``sigma``.

    Volume, trades and taker share are i.i.d. too, so no column says anything about the future.
    """
    rng = np.random.default_rng(seed)
    close = price * np.exp(np.cumsum(rng.normal(0.0, sigma, n)))
    open_ = np.concatenate([[price], close[:-1]])
    wick_up = np.exp(np.abs(rng.normal(0.0, sigma / 2, n)))
    wick_down = np.exp(-np.abs(rng.normal(0.0, sigma / 2, n)))
    high = np.maximum(open_, close) * wick_up
    low = np.minimum(open_, close) * wick_down
    volume = rng.lognormal(3.0, 0.5, n)
    open_ms = pd.Timestamp(start, tz="UTC").value // 1_000_000 + HOUR_MS * np.arange(n)
    frame = pd.DataFrame(
        {
            "open_time": open_ms,
            "open": open_,
            "high": high,
            "low": low,
            "close": close,
            "volume": volume,
            "close_time": open_ms + HOUR_MS - 1,
            "quote_asset_volume": volume * close,
            "number_of_trades": rng.integers(100, 1000, n),
            "taker_buy_base_volume": volume * rng.uniform(0.3, 0.7, n),
            "taker_buy_quote_volume": volume * close * 0.5,
        }
    )
    return normalize_candles(frame)
