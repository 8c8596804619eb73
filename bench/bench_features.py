"""Benchmark: indicators + features for 10 coins x 17,500 candles, and the Charts page's work.

Run: ``.venv/bin/python bench/bench_features.py`` (writes only into a temp home folder).

1. ``compute_indicators`` + ``compute_features`` (what the Charts page and the trainer call) on ten
   17,500-candle frames: the nine sample coins, each extended to two years by appending a
   time-shifted copy scaled to continue from its last close, plus a random walk in the store's
   schema. Target: <= 1 s in total.
2. The Charts page's server-side work for two years of one coin, from a cold cache: read the
   candle file, indicators, range "all" (resampled), the figure with every overlay and pane,
   its JSON (what ``st.plotly_chart`` sends) and the table as Arrow (what ``st.dataframe``
   sends). Target: <= 1.5 s. Then the real page under AppTest, first (cold) and second run.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["CRYPTOVOLT_HOME"] = tempfile.mkdtemp(prefix="cryptovolt-bench-")

from _candles import two_years  # noqa: E402

from core.data.store import normalize_candles, save_candles  # noqa: E402
from core.features.causal import compute_features  # noqa: E402
from core.features.indicators import compute_indicators  # noqa: E402

ROWS = 17_500
HOUR = pd.Timedelta(hours=1)


def random_walk(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 0.5 * np.exp(np.cumsum(rng.normal(0, 0.006, ROWS)))
    open_ = np.r_[close[0], close[:-1]]
    spread = np.abs(rng.normal(0, 0.003, ROWS)) * close
    volume = rng.lognormal(12, 0.5, ROWS)
    times = pd.date_range("2023-06-01", periods=ROWS, freq="1h", tz="UTC")
    return normalize_candles(
        pd.DataFrame(
            {
                "open_time": times,
                "open": open_,
                "high": np.maximum(open_, close) + spread,
                "low": np.minimum(open_, close) - spread,
                "close": close,
                "volume": volume,
                "close_time": times + HOUR - pd.Timedelta(milliseconds=1),
                "quote_asset_volume": volume * close,
                "number_of_trades": rng.integers(100, 5000, ROWS),
                "taker_buy_base_volume": volume * rng.uniform(0.3, 0.7, ROWS),
                "taker_buy_quote_volume": volume * close * 0.5,
            }
        )
    )


def bench_features(frames: dict[str, pd.DataFrame], repeats: int = 7) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for frame in frames.values():
            compute_indicators(frame)
            compute_features(frame)
        times.append(time.perf_counter() - start)
    return times


def bench_chart_work(symbol: str) -> dict[str, float]:
    from core.data.store import load_candles
    from ui.charts import OVERLAYS, PANES, build_figure, build_view

    out: dict[str, float] = {}
    t0 = time.perf_counter()
    candles = load_candles(symbol)
    t1 = time.perf_counter()
    indicators = compute_indicators(candles)
    t2 = time.perf_counter()
    view = build_view(candles, indicators, symbol=symbol, range_key="all")
    t3 = time.perf_counter()
    fig = build_figure(view, list(OVERLAYS), list(PANES))
    t4 = time.perf_counter()
    fig.to_json()
    t5 = time.perf_counter()
    pa.Table.from_pandas(view.table)
    view.caption()
    t6 = time.perf_counter()
    out["read candle file"] = t1 - t0
    out["indicators"] = t2 - t1
    out[f"slice + resample to {view.shown_interval} ({len(view.candles):,} candles)"] = t3 - t2
    out[f"figure, all overlays + panes ({len(fig.data)} traces)"] = t4 - t3
    out["figure JSON"] = t5 - t4
    out[f"table to Arrow ({len(view.table):,} rows)"] = t6 - t5
    out["total"] = t6 - t0
    return out


def bench_apptest() -> tuple[float, float, bool]:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.run()
    at.switch_page("pages/charts.py")
    start = time.perf_counter()
    at.run()
    cold = time.perf_counter() - start
    at.button_group(key="chart_range").set_value("all")
    at.button_group(key="chart_panes").set_value(list(at.button_group(key="chart_panes").options))
    at.run()  # first "all": resample + big table, indicators already cached
    start = time.perf_counter()
    at.run()
    warm = time.perf_counter() - start
    return cold, warm, not at.exception


def main() -> int:
    from tests.conftest import SAMPLE

    frames = {
        path.stem: two_years(normalize_candles(pd.read_parquet(path)))
        for path in sorted(SAMPLE.glob("*-1h.parquet"))
    }
    frames["RANDOMWALK"] = random_walk()
    assert len(frames) == 10 and all(len(f) == ROWS for f in frames.values())
    times = bench_features(frames)
    cells = sum(len(f) for f in frames.values())
    print(f"indicators + features, 10 coins x {ROWS:,} candles ({cells:,} candles):")
    print(
        f"  best {min(times):.3f} s, median {statistics.median(times):.3f} s "
        f"over {len(times)} runs (target <= 1 s)"
    )

    save_candles(frames["BTCUSDT-1h"], "BTCUSDT")
    chart = bench_chart_work("BTCUSDT")
    print(f"Charts page server-side work, two years of BTCUSDT ({ROWS:,} 1h candles), cold:")
    for name, seconds in chart.items():
        print(f"  {name:<55} {seconds:.3f} s")
    cold, warm, ok = bench_apptest()
    print(
        f"Charts page under AppTest (whole script): first run {cold:.3f} s (cold cache, 30d), "
        f"range all + every pane {warm:.3f} s (warm), no exception: {ok}"
    )
    within = min(times) <= 1.0 and chart["total"] <= 1.5
    print("within targets" if within else "OUTSIDE TARGETS")
    return 0 if within else 1


if __name__ == "__main__":
    raise SystemExit(main())
