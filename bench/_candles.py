"""Candle frames for benchmarks: the real sample stretched to two years of 1h candles."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from core.data.store import normalize_candles

TWO_YEARS_ROWS = 17_500
HOUR = pd.Timedelta(hours=1)


def two_years(frame: pd.DataFrame, rows: int = TWO_YEARS_ROWS) -> pd.DataFrame:
    """Extend a real candle frame to ``rows`` rows with time-shifted copies continuing its price."""
    parts, last = [frame], frame
    while sum(len(p) for p in parts) < rows:
        shift = last["open_time"].iloc[-1] - frame["open_time"].iloc[0] + HOUR
        scale = last["close"].iloc[-1] / frame["open"].iloc[0]
        nxt = frame.copy()
        nxt["open_time"] += shift
        nxt["close_time"] += shift
        for col in ("open", "high", "low", "close"):
            nxt[col] *= scale
        parts.append(nxt)
        last = nxt
    return normalize_candles(pd.concat(parts, ignore_index=True).iloc[:rows])


def ten_coins(
    sample: Path, *, rows: int | None, pol_from_btc: bool = True
) -> dict[str, pd.DataFrame]:
    """The bundled sample's 1h candles per symbol, stretched to ``rows`` (None: as they are), with
    BTC's candles standing in for POL (the sample's missing tenth coin) when ``pol_from_btc``."""
    frames = {
        p.name.split("-")[0]: normalize_candles(pd.read_parquet(p))
        for p in sorted(sample.glob("*-1h.parquet"))
    }
    if rows is not None:
        frames = {s: two_years(f, rows) for s, f in frames.items()}
    if pol_from_btc:
        frames["POLUSDT"] = frames["BTCUSDT"].copy()
    return frames
