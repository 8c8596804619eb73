"""The expected-move band the Charts page draws ahead of the last candle.

It is the coin's live expected move, the same one the Signals card shows: the coin's best
promoted volatility model with a passing horizon (:func:`core.volatility.live.load_live_volatility`)
read on the stored 1h candles (:func:`core.volatility.live.move_fields`), 50/80/90% bands of the
6 h and 24 h return after the last closed candle. Nothing is drawn when no volatility model
passes its gates, or when the band is stale: the last candle closed longer ago than the band's
shortest horizon, so the hours it forecasts have already passed (as a STALE signal hides it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from core.data.store import candle_mtime_ns
from core.registry.model_registry import ModelRegistry
from ui.context import context
from ui.loaders import load_candles

__all__ = ["BAND_INTERVAL", "MoveBand", "band_note", "move_band"]

#: The volatility models read hourly candles.
BAND_INTERVAL = "1h"


@dataclass(frozen=True)
class MoveBand:
    """The expected move after ``anchor`` (the last candle's close time) from ``price``."""

    symbol: str
    anchor: pd.Timestamp
    price: float
    #: ``{"6h": {"sigma": s, "bands": {"50": [lo, hi], "80": ..., "90": ...}}, "24h": ...}``,
    #: fractional returns, passing horizons only.
    moves: dict[str, Any]
    model: str

    def hours(self) -> list[int]:
        """The horizons in hours, shortest first."""
        return sorted(int(k.removesuffix("h")) for k in self.moves)

    def prices(self, hours: int, level: str) -> tuple[float, float]:
        """The ``level`` band's low and high price ``hours`` after the anchor."""
        lo, hi = self.moves[f"{hours}h"]["bands"][level]
        return self.price * (1 + lo), self.price * (1 + hi)

    def stale_at(self) -> pd.Timestamp:
        """From this time on the band's shortest horizon has passed: it is not drawn."""
        return self.anchor + pd.Timedelta(hours=self.hours()[0])


@st.cache_data(show_spinner=False, max_entries=32)
def _band(
    root: str, symbol: str, versions: tuple[tuple[str, str], ...], mtime_ns: int
) -> tuple[MoveBand | None, str]:
    from core.volatility.live import load_live_volatility, move_fields

    candles = load_candles(symbol, BAND_INTERVAL)
    live = load_live_volatility(ModelRegistry(Path(root)), symbol)
    fields = move_fields(live, candles, paths=context().paths)
    if not fields["expected_move"]:
        return None, str(fields.get("vol_note") or "no horizon of its volatility model passes")
    last = candles.iloc[-1]
    anchor = pd.Timestamp(last["open_time"]) + pd.Timedelta(BAND_INTERVAL)
    band = MoveBand(
        symbol, anchor, float(last["close"]), fields["expected_move"], str(fields["vol_model"])
    )
    return band, ""


def move_band(symbol: str, *, now: pd.Timestamp | None = None) -> tuple[MoveBand | None, str]:
    """The coin's expected-move band to draw, or ``(None, why not)``.

    Cached by the coin's promoted volatility versions and its 1h candle file; staleness is judged
    at ``now`` (default: this run's clock, :func:`ui.context.context`, which honours
    ``CRYPTOVOLT_NOW``). Raises core's errors of reading the registry or candles.
    """
    from core.volatility.live import volatility_versions

    if not candle_mtime_ns(symbol, BAND_INTERVAL, paths=context().paths):
        return None, f"the band is forecast from {BAND_INTERVAL} candles, and none are stored"
    registry = ModelRegistry(context().paths.models)
    versions = volatility_versions(registry, symbol)
    if not versions:
        return None, "no volatility model is trained for this coin: train one on the Training page"
    band, why = _band(
        str(registry.root),
        symbol,
        versions,
        candle_mtime_ns(symbol, BAND_INTERVAL, paths=context().paths),
    )
    if band is None:
        return None, why
    when = now if now is not None else context().now()
    if when > band.stale_at():
        return None, (
            f"the last candle closed {band.anchor:%Y-%m-%d %H:%M} UTC, more than the band's "
            f"{band.hours()[0]} h ago, so the hours it forecasts have passed (stale)"
        )
    return band, ""


def band_note(band: MoveBand | None, why: str) -> str:
    """One caption line: what the band is, or why none is drawn."""
    if band is None:
        return f"Expected move: not drawn ({why})."
    parts = []
    for h in band.hours():
        lo, hi = band.moves[f"{h}h"]["bands"]["80"]
        parts.append(f"next {h} h {lo:+.2%} … {hi:+.2%}".replace("-", "−"))
    return (
        "Expected move ahead of the last candle, from "
        f"{band.model}: 50/80/90% bands of the close ({', '.join(parts)} at 80%), as on the "
        "Signals card."
    )
