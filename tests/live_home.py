"""A home folder for the watch and alert tests: the carded models (tests/card_home.py: BTC makes
real calls, ETH shows NO EDGE) with both coins' candles ending at the same hour, and a fake
Binance whose candles carry on from the stored closes."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from core.data.store import load_candles, save_candles
from tests.card_home import copy_carded_into
from tests.random_walk import planted_candles

HOUR = pd.Timedelta(hours=1)
DELAY = pd.Timedelta(seconds=5)  # the watch's default wait after a close


def prepare(home: Path) -> pd.Timestamp:
    """Fill ``home``; returns the close time of the last stored candle."""
    copy_carded_into(home)
    btc = load_candles("BTCUSDT", "1h")
    save_candles(planted_candles(len(btc), seed=11), "ETHUSDT")
    return btc["open_time"].iloc[-1] + HOUR


def continue_prices(fake, symbols=("BTCUSDT", "ETHUSDT")) -> None:
    """Scale the fake's prices so its candles carry on from the stored closes (no seam)."""
    from tests.fake_binance import _price

    for symbol in symbols:
        last = load_candles(symbol, "1h").iloc[-1]
        k = int(last["open_time"].value // 1_000_000 // 3_600_000)
        fake.set_scale(symbol, float(last["close"]) / _price(symbol, k))
