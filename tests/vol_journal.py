"""A home with a real volatility model and a real journal of expected moves, for the monitor's
coverage tests (tests/unit/test_monitor_coverage.py, tests/app/test_monitor_coverage_page.py).

A HAR volatility model is trained on GARCH candles; the market then goes on for 30 more days and
the product's own signal path (load_coin_models + signal_from_models) shows an expected move
every 6 hours, recorded with the journal's own API, as the watch loop would. ``planted``: every
new candle opens away from the last close (a jump between candles the hourly ranges never see),
so the recorded bands are too narrow for the moves that follow. Nothing is mocked.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from tests.vol_sim import garch_candles

TRAIN, EXTRA, EVERY = 12000, 24 * 30, 6


def _jumped(candles: pd.DataFrame, start: int, *, sd: float, seed: int) -> pd.DataFrame:
    """``candles`` whose rows from ``start`` on each open ``sd``-sized jump away from the last
    close (the whole candle moves; its range is unchanged)."""
    out = candles.copy()
    jumps = np.zeros(len(out))
    jumps[start:] = np.random.default_rng(seed).normal(0.0, sd, len(out) - start)
    factor = np.exp(np.cumsum(jumps))
    for column in ("open", "high", "low", "close"):
        out[column] = out[column] * factor
    return out


def build_vol_journal(folder: Path, *, planted: bool) -> pd.Timestamp:
    """Fill ``folder`` (the current CRYPTOVOLT_HOME) as the module doc says; returns the close of
    the last stored candle (pass it as ``now``)."""
    from core.data.store import save_candles
    from core.registry.model_registry import ModelRegistry
    from core.signals import journal
    from core.signals.live import load_coin_models, signal_from_models
    from core.volatility.train import train_volatility

    full = garch_candles(TRAIN + EXTRA, seed=11)
    train_volatility(
        "BTCUSDT", estimator="har", registry=ModelRegistry(), candles=full.iloc[:TRAIN]
    )
    if planted:
        full = _jumped(full, TRAIN, sd=0.012, seed=5)
    save_candles(full, "BTCUSDT")
    models = load_coin_models("BTCUSDT", ModelRegistry())
    signals = []
    for end in range(TRAIN + 1, TRAIN + EXTRA + 1, EVERY):
        part = full.iloc[end - 400 : end]
        closed = pd.Timestamp(part["open_time"].iloc[-1]) + pd.Timedelta(hours=1)
        signals.append(signal_from_models(models, part, now=closed.to_pydatetime()))
    assert all(s.expected_move for s in signals)
    journal.record(folder, signals, source="test", now=closed.to_pydatetime())
    last = pd.to_datetime(full["open_time"], utc=True).max()
    return last + pd.Timedelta(hours=1)
