"""Benchmark: the monitor's drift check on ten coins of two years, and how often it cries wolf.

Run: ``.venv/bin/python bench/bench_monitor.py`` (no files written).

1. Speed: :func:`core.monitor.feature_drift` for ten 17,500-candle random walks, every causal
   feature (the training window the first 80%, the last 7 days against it). Target: <= 5 s in
   total (the watch loop asks after every cycle).
2. False alarms on a process that never changes: for every week after the training window of
   each random walk (stationary by construction), the share of (feature, week) pairs above the
   usual PSI band (> 0.25) and the share the monitor calls drifted (> 0.25 and above every
   training week's PSI). The usual band alone would flag most weeks; the monitor's rule should
   flag few. Target: the monitor's share <= 5%. And its power: the share of weeks in which
   ``feat_volatility_20`` is called drifted after the walk's volatility doubles (reported).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.features import compute_features  # noqa: E402
from core.monitor.drift import DRIFTED, feature_drift, psi, typical_psi  # noqa: E402
from core.registry.metadata import ModelMetadata  # noqa: E402
from tests.random_walk import random_walk_candles  # noqa: E402

ROWS = 17_500
COINS = 10
WEEK = 168


def record(candles: pd.DataFrame, features: list[str]) -> ModelMetadata:
    end = candles["open_time"].iloc[int(ROWS * 0.8) - 1]
    window = {"start": candles["open_time"].iloc[0].isoformat(), "end": end.isoformat()}
    return ModelMetadata(
        name="xgb_direction_benchusdt",
        version="v1",
        symbol="BENCHUSDT",
        model_type="xgb_direction",
        features=tuple(features),
        split={"train": window},
    )


def main() -> int:
    walks = [random_walk_candles(ROWS, seed=s) for s in range(COINS)]
    features = list(compute_features(walks[0]).columns)
    started = time.perf_counter()
    for walk in walks:
        feature_drift("BENCHUSDT", [record(walk, features)], walk)
    seconds = time.perf_counter() - started
    print(f"drift, {COINS} coins x {ROWS:,} candles x {len(features)} features: {seconds:.2f} s")

    usual = flagged = pairs = 0
    cut = int(ROWS * 0.8)
    for walk in walks[:3]:
        frame = compute_features(walk)
        for column in frame.columns:
            values = frame[column].to_numpy(dtype="float64")
            train = values[:cut]
            typical = typical_psi(train, WEEK)
            for start in range(cut, ROWS - WEEK + 1, WEEK):
                value = psi(train, values[start : start + WEEK])
                if value is None:
                    continue
                pairs += 1
                usual += value > DRIFTED
                flagged += value > DRIFTED and (typical is None or value > typical)
    print(
        f"stationary weeks after training, {pairs:,} (feature, week) pairs: "
        f"PSI > 0.25 in {usual / pairs:.1%}; the monitor calls {flagged / pairs:.1%} drifted"
    )
    caught = weeks = 0
    for seed in range(3):  # power: the same walks with volatility doubled after training
        calm = random_walk_candles(ROWS, seed=seed, sigma=0.006)
        wild = random_walk_candles(ROWS, seed=seed + 100, sigma=0.012)
        walk = pd.concat([calm.iloc[:cut], wild.iloc[cut:]], ignore_index=True)
        walk["open_time"], walk["close_time"] = calm["open_time"], calm["close_time"]
        values = compute_features(walk)["feat_volatility_20"].to_numpy(dtype="float64")
        train = values[:cut]
        typical = typical_psi(train, WEEK)
        for start in range(cut + WEEK, ROWS - WEEK + 1, WEEK):
            value = psi(train, values[start : start + WEEK])
            weeks += 1
            caught += bool(value is not None and value > DRIFTED and value > (typical or 0.0))
    print(
        f"volatility doubled after training: feat_volatility_20 called drifted in "
        f"{caught}/{weeks} weeks"
    )
    ok_speed, ok_alarm = seconds <= 5.0, flagged / pairs <= 0.05
    print(
        f"targets: speed <= 5 s {'met' if ok_speed else 'MISSED'}; "
        f"false drift <= 5% {'met' if ok_alarm else 'MISSED'}"
    )
    return 0 if ok_speed and ok_alarm else 1


if __name__ == "__main__":
    raise SystemExit(main())
