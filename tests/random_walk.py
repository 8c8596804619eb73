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
    return ohlc_candles(open_, high, low, close, rng=rng, start=start)


def ohlc_candles(
    open_: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    *,
    rng: np.random.Generator,
    start: str,
    step_ms: int = HOUR_MS,
) -> pd.DataFrame:
    """Candles (hourly unless ``step_ms`` says otherwise) in the store schema from these prices,
    from ``start``; volume, trades and taker share are i.i.d. draws from ``rng`` (they say
    nothing about the future)."""
    n = len(close)
    volume = rng.lognormal(3.0, 0.5, n)
    open_ms = pd.Timestamp(start, tz="UTC").value // 1_000_000 + step_ms * np.arange(n)
    frame = pd.DataFrame(
        {
            "open_time": open_ms,
            "open": open_,
            "high": high,
            "low": low,
            "close": close,
            "volume": volume,
            "close_time": open_ms + step_ms - 1,
            "quote_asset_volume": volume * close,
            "number_of_trades": rng.integers(100, 1000, n),
            "taker_buy_base_volume": volume * rng.uniform(0.3, 0.7, n),
            "taker_buy_quote_volume": volume * close * 0.5,
        }
    )
    return normalize_candles(frame)


def planted_candles(
    n: int, *, seed: int = 3, drift: float = 0.006, sigma: float = 0.005, start: str = "2023-01-01"
) -> pd.DataFrame:
    """``n`` hourly candles whose next-6-hour direction is partly predictable from a lagged input.

    A hidden order-flow sign ``z_t = ±1`` per hour pushes each of the next six hourly returns by
    ``drift / 6`` (``r_{t+1} = drift * mean(z_{t-5..t}) + sigma * noise``), and it shows in the
    taker-buy share of candle t (``0.5 + 0.1 z_t`` plus noise): at the close of t the model can
    see ``z_t`` and so part of where the next six hours go. Everything else is a random walk.
    """
    rng = np.random.default_rng(seed)
    z = rng.choice([-1.0, 1.0], n)
    push = np.convolve(z, np.ones(6) / 6, mode="full")[:n]
    returns = np.concatenate([[0.0], drift * push[:-1]]) + rng.normal(0.0, sigma, n)
    frame = random_walk_candles(n, seed=seed + 1, sigma=sigma, start=start)
    close = 100.0 * np.exp(np.cumsum(returns))
    open_ = np.concatenate([[100.0], close[:-1]])
    wick = np.exp(np.abs(rng.normal(0.0, sigma / 2, n)))
    frame["open"], frame["close"] = open_, close
    frame["high"] = np.maximum(open_, close) * wick
    frame["low"] = np.minimum(open_, close) / wick
    share = np.clip(0.5 + 0.1 * z + rng.uniform(-0.05, 0.05, n), 0.01, 0.99)
    frame["taker_buy_base_volume"] = frame["volume"] * share
    frame["quote_asset_volume"] = frame["volume"] * close
    frame["taker_buy_quote_volume"] = frame["taker_buy_base_volume"] * close
    return normalize_candles(frame)
