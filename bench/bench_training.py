"""Training speed and quality on real BTC candles: default LSTM vs the seed's LSTM configuration,
XGBoost with its walk-forward, and the peak memory of a training process.

Each measurement runs ``core.training.train.train_coin`` in its own fresh process (so TensorFlow's import,
thread pools and peak memory are counted per run, as in a training job) with a temp home folder.

    .venv/bin/python bench/bench_training.py            # everything (the seed runs take minutes)
    .venv/bin/python bench/bench_training.py --no-seed  # skip the seed configuration

Data: the bundled sample ``data/sample/BTCUSDT-1h.parquet`` (9,457 candles) and, if present,
``../shared/data/real/BTCUSDT_1h.csv`` (17,520 candles, 730 days; OHLCV only, so the bench fills
trades and taker volume with constants: two XGBoost features are constant on that file).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample" / "BTCUSDT-1h.parquet"
REAL_730 = ROOT.parent / "shared" / "data" / "real" / "BTCUSDT_1h.csv"
HOUR_MS = 3_600_000

#: The seed's LSTM training: batch 32, 100 epochs, no early stopping, no validation slice.
SEED = {
    "lstm": {"batch_size": 32, "epochs": 100, "patience": 0},
    "split": {"validation_fraction": 0},
}


def load(dataset: str):
    import pandas as pd

    from core.data.store import normalize_candles

    if dataset == "sample":
        return normalize_candles(pd.read_parquet(SAMPLE))
    raw = pd.read_csv(REAL_730)
    open_ms = pd.to_datetime(raw["timestamp"], utc=True).astype("int64") // 1_000_000
    frame = pd.DataFrame(
        {
            "open_time": open_ms,
            **{c: raw[c] for c in ("open", "high", "low", "close", "volume")},
            "close_time": open_ms + HOUR_MS - 1,
            "quote_asset_volume": raw["volume"] * raw["close"],
            "number_of_trades": 1,  # not in the file: constant
            "taker_buy_base_volume": raw["volume"] / 2,  # not in the file: constant share
            "taker_buy_quote_volume": raw["volume"] * raw["close"] / 2,
        }
    )
    return normalize_candles(frame)


def one(kind: str, dataset: str, overrides: dict) -> dict:
    """Train one model in this process; returns the figures as a dict."""
    started = time.monotonic()
    os.environ["CRYPTOVOLT_HOME"] = tempfile.mkdtemp(prefix="bench-training-")
    from core.config import LSTMConfig, SplitConfig, XGBConfig
    from core.training.train import train_coin

    candles = load(dataset)
    lstm = LSTMConfig(**overrides.get("lstm", {}))
    split = SplitConfig(**overrides.get("split", {}))
    xgb = XGBConfig(**overrides.get("xgb", {}))
    t0 = time.monotonic()
    [meta] = train_coin("BTC", models=[kind], lstm=lstm, split=split, xgb=xgb, candles=candles)
    out = {
        "kind": kind,
        "dataset": dataset,
        "rows": len(candles),
        "settings": overrides,
        "train_coin_seconds": round(time.monotonic() - t0, 1),
        "process_seconds": round(time.monotonic() - started, 1),
        "train_seconds": meta["train_seconds"],
        "test": meta["metrics"]["test"],
        "baseline": meta["metrics"]["baseline"],
        "skill": meta["metrics"]["skill"],
        "walk_forward": [
            {
                "fold": f["fold"],
                "skill": f["skill"],
                **{k: f["metrics"].get(k) for k in ("roc_auc", "mae")},
            }
            for f in meta["metrics"]["walk_forward"]
        ],
        "training": {
            k: v for k, v in meta["training"].items() if k in ("epochs_run", "best_epoch", "trees")
        },
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
    if kind == "xgboost":
        out["volatility_only_auc"] = volatility_auc(candles, meta)
    return out


def volatility_auc(candles, meta) -> float:
    """AUC of ranking the test rows by 20-candle volatility alone: how much of the classifier's
    AUC a "big moves follow big moves" rule already gets (the label needs a +1% move)."""
    import numpy as np
    from sklearn.metrics import roc_auc_score

    from core.features.causal import compute_features, compute_targets

    target = meta["target"]
    labels = compute_targets(candles, target["horizon"], target["threshold"])[target["column"]]
    vol = compute_features(candles)["feat_volatility_20"]
    start = np.searchsorted(candles["open_time"], meta["split"]["test"]["start"])
    test = labels.iloc[start:].notna() & vol.iloc[start:].notna()
    idx = test[test].index
    return round(float(roc_auc_score(labels[idx], vol[idx])), 4)


def run(kind: str, dataset: str, overrides: dict) -> dict:
    cmd = [sys.executable, __file__, "--one", kind, dataset, json.dumps(overrides)]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{kind} {dataset} failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    print(json.dumps(result), flush=True)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-seed", action="store_true", help="skip the seed LSTM configuration")
    parser.add_argument("--datasets", default="sample,real730")
    parser.add_argument("--one", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one[0], args.one[1], json.loads(args.one[2]))))
        return 0
    datasets = [d for d in args.datasets.split(",") if d == "sample" or REAL_730.exists()]
    results = []
    for dataset in datasets:
        results.append(run("xgboost", dataset, {}))
        results.append(run("lstm", dataset, {}))
        if not args.no_seed:
            results.append(run("lstm", dataset, SEED))
    print(
        "\nkind     data     rows    settings  train_coin_s  peak_MB  test metric (baseline) skill"
    )
    for r in results:
        metric = "roc_auc" if r["kind"] == "xgboost" else "mae"
        label = "seed" if r["settings"] else "default"
        print(
            f"{r['kind']:8} {r['dataset']:8} {r['rows']:6}  {label:8}  {r['train_coin_seconds']:11}"
            f"  {r['peak_rss_mb']:7}  {metric} {r['test'][metric]:.4f} ({r['baseline'][metric]:.4f})"
            f" {r['skill']:+.4f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
