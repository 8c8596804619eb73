"""The numpy grid backtest equals the event loop, cell by cell, on the bundled real candles,
and runs 100 thresholds x 5 cost levels over a test window in well under a second."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from core.config import BacktestConfig
from core.signals.backtest import cost_levels
from core.signals.backtest_grid import grid_backtest
from core.signals.trading import run_backtest

THRESHOLDS = np.round(np.arange(100) / 100, 2)
COSTS = cost_levels(BacktestConfig())  # 0, 0.5, 1, 2, 3 x (0.1% fee, 5 bps)


def calls_on(candles: pd.DataFrame, rows: int, seed: int) -> tuple[pd.DatetimeIndex, ...]:
    """Random calls and strengths on the last ``rows`` candles (a test window's worth), with a
    few hours missing so that the alignment by open time is exercised too."""
    rng = np.random.default_rng(seed)
    tail = candles.tail(rows + 1).iloc[:-1]
    keep = rng.random(len(tail)) > 0.01
    index = pd.DatetimeIndex(tail["open_time"][keep])
    calls = rng.choice([-1, 0, 1], size=len(index), p=[0.35, 0.3, 0.35])
    strength = rng.random(len(index))
    size = np.round(rng.uniform(0.2, 1.0, len(index)), 3)
    return index, calls, strength, size


def event_loop(candles, index, calls, strength, size, q, cost, hold, allow_short):
    traded = np.where(strength >= q, calls, 0)
    config = BacktestConfig(fee=cost[0], slippage_bps=cost[1], allow_short=allow_short)
    return run_backtest(
        candles,
        pd.Series(traded, index=index),
        config=config,
        hold=hold,
        sizes=None if size is None else pd.Series(size, index=index),
    )


@pytest.mark.parametrize(
    ("hold", "allow_short", "sized"), [(6, True, False), (6, False, True), (1, True, True)]
)
def test_every_cell_matches_the_event_loop_on_real_candles(btc_candles, hold, allow_short, sized):
    index, calls, strength, size = calls_on(btc_candles, 1_900, seed=hold + allow_short)
    size = size if sized else None
    grid = grid_backtest(
        btc_candles, index, calls, strength, THRESHOLDS, COSTS,
        hold=hold, allow_short=allow_short, size=size,
    )  # fmt: skip
    for i in (0, 13, 50, 77, 99):
        for j, cost in enumerate(COSTS):
            loop = event_loop(
                btc_candles, index, calls, strength, size, THRESHOLDS[i], cost, hold, allow_short
            )
            m = loop.metrics.strategy
            assert grid.trades[i] == m.trades
            assert grid.total_return[i, j] == pytest.approx(m.total_return, rel=1e-9, abs=1e-12)
            assert grid.exposure[i] == pytest.approx(m.exposure)
            columns = ["side", "size", "entry_time", "entry_price", "exit_time", "exit_price"]
            mine, theirs = grid.trades_of(i, j), loop.trades
            pd.testing.assert_frame_equal(mine[columns], theirs[columns], check_exact=True)
            assert mine["return"].to_numpy() == pytest.approx(theirs["return"], rel=1e-9)
            assert mine["bars"].tolist() == theirs["bars"].tolist()


def test_hundred_thresholds_by_five_costs_in_under_a_second(btc_candles):
    index, calls, strength, size = calls_on(btc_candles, 3_500, seed=1)  # a 2-year test window
    grid_backtest(btc_candles, index[:50], calls[:50], strength[:50], THRESHOLDS, COSTS)  # warm
    started = time.perf_counter()
    grid = grid_backtest(
        btc_candles, index, calls, strength, THRESHOLDS, COSTS, hold=6, allow_short=True, size=size
    )
    seconds = time.perf_counter() - started
    assert grid.total_return.shape == (100, 5)
    assert seconds <= 1.0, seconds
