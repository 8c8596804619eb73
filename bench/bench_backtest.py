"""Backtest grid speed (issue 12.2): 100 min-strength thresholds x 5 cost levels in numpy.

    .venv/bin/python bench/bench_backtest.py [--repeat 5]

On the real BTCUSDT sample (data/sample, 9,457 candles): the last 20% as the test window
(1,891 calls, what a model trained on the sample is tested on), and the sample stretched to two
years (bench/_candles.py) with its last 20% (3,500 calls). Calls are random (-1/0/+1 each hour,
strength uniform): a call that changes every hour is the worst case for the number of trades.
Measured: ``core.signals.backtest_grid.grid_backtest`` for the whole grid (positions held 6
candles, long/short, sized), beside the event loop ``core.signals.backtest.run_backtest`` for one
cell times 500. Target: the grid <= 1 s. Exits 1 when missed. That the grid's fills and returns
equal the event loop's is tested in tests/unit/test_backtest_grid.py.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._candles import two_years  # noqa: E402
from core.config import BacktestConfig  # noqa: E402
from core.data.store import normalize_candles  # noqa: E402
from core.signals.backtest import DEFAULT_THRESHOLDS, cost_levels, run_backtest  # noqa: E402
from core.signals.backtest_grid import grid_backtest  # noqa: E402

TARGET_S = 1.0


def calls_for(candles: pd.DataFrame, rows: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    tail = candles.iloc[-rows - 1 : -1]
    index = pd.DatetimeIndex(tail["open_time"])
    return (
        index,
        rng.choice([-1, 0, 1], size=rows, p=[0.35, 0.3, 0.35]),
        rng.random(rows),
        rng.uniform(0.2, 1.0, rows),
    )


def measure(name: str, candles: pd.DataFrame, rows: int, repeat: int) -> float:
    index, calls, strength, size = calls_for(candles, rows)
    costs = cost_levels(BacktestConfig())
    args = (candles, index, calls, strength, DEFAULT_THRESHOLDS, costs)
    kw = {"hold": 6, "allow_short": True, "size": size}
    grid_backtest(*args, **kw)  # warm-up
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        grid = grid_backtest(*args, **kw)
        times.append(time.perf_counter() - t)
    q = 0.5
    traded = np.where(strength >= q, calls, 0)
    config = BacktestConfig(allow_short=True)
    t = time.perf_counter()
    for _ in range(5):
        run_backtest(
            candles,
            pd.Series(traded, index=index),
            config=config,
            hold=6,
            sizes=pd.Series(size, index=index),
        )
    loop = (time.perf_counter() - t) / 5
    print(
        f"{name}: {rows:,} calls, grid {len(DEFAULT_THRESHOLDS)} x {len(costs)} = "
        f"{grid.total_return.size} cells, {int(grid.trades.sum()):,} round trips: "
        f"median {statistics.median(times):.3f}s, max {max(times):.3f}s over {repeat}; "
        f"event loop {loop * 1000:.0f} ms per cell, x {grid.total_return.size} = "
        f"{loop * grid.total_return.size:.1f}s"
    )
    return max(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    sample = normalize_candles(pd.read_parquet(ROOT / "data" / "sample" / "BTCUSDT-1h.parquet"))
    worst = measure("BTC sample, test window", sample, len(sample) // 5, args.repeat)
    stretched = two_years(sample)
    worst = max(worst, measure("two years, test window", stretched, 3_500, args.repeat))
    met = worst <= TARGET_S
    print(f"target (100 x 5 grid <= {TARGET_S:g} s): {'met' if met else 'MISSED'}")
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
