"""Training speed and quality on real BTC candles: each model kind's card (metrics with intervals
beside their baselines, gates) and wall time, the seed's LSTM configuration beside the default,
and the peak memory of a training process.

Each measurement runs ``core.training.train.train_coin`` for one kind in its own fresh process
(so TensorFlow's import, thread pools and peak memory are counted per run, as in a training job)
with a temp home folder.

    .venv/bin/python bench/bench_training.py            # everything (the seed runs take minutes)
    .venv/bin/python bench/bench_training.py --no-seed  # skip the seed configuration
    .venv/bin/python bench/bench_training.py --models xgb_direction,xgboost --datasets sample

Data: the bundled sample ``data/sample/BTCUSDT-1h.parquet`` (9,457 candles; ETHUSDT from the
sample is the cross-asset context) and, if present, ``../shared/data/real/BTCUSDT_1h.csv`` (17,520
candles, 730 days; OHLCV only, so the bench fills trades and taker volume with constants: two
features are constant on that file; no ETH context of that length, so its columns are missing).
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
sys.path.insert(0, str(ROOT))
SAMPLE = ROOT / "data" / "sample"
REAL_730 = ROOT.parent / "shared" / "data" / "real" / "BTCUSDT_1h.csv"
HOUR_MS = 3_600_000

#: The seed's LSTM training: batch 32, 100 epochs, no early stopping, no validation slice.
SEED = {
    "settings": {"batch_size": 32, "epochs": 100, "patience": 0},
    "split": {"validation_fraction": 0},
}


def load(dataset: str, symbol: str = "BTCUSDT"):
    import pandas as pd

    from core.data.store import normalize_candles

    if dataset == "sample":
        return normalize_candles(pd.read_parquet(SAMPLE / f"{symbol}-1h.parquet"))
    raw = pd.read_csv(REAL_730)
    # in milliseconds whatever unit pandas parses to (pandas 3 picks s/us, not ns)
    stamps = pd.to_datetime(raw["timestamp"], utc=True)
    open_ms = (stamps - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(milliseconds=1)
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


def _headline(card: dict) -> dict:
    """The card's headline metric with its 95% interval and baseline: AUC for a probability,
    skill (1 - MASE, 0 = persistence) for a forecaster."""
    key = "roc_auc" if card["output"] == "probability" else "skill"
    interval = card["intervals"].get(key) or {}
    return {
        "metric": key,
        "value": card["metrics"].get(key),
        "low": interval.get("low"),
        "high": interval.get("high"),
        "baseline": card["baselines"].get(key),
    }


def one(kind: str, dataset: str, overrides: dict) -> dict:
    """Train one kind in this process; returns the figures as a dict."""
    started = time.monotonic()
    os.environ["CRYPTOVOLT_HOME"] = tempfile.mkdtemp(prefix="bench-training-")
    from core.config import SplitConfig
    from core.models import config_class
    from core.registry.gates import version_verdict
    from core.training.train import train_coin

    candles = load(dataset)
    context = {"BTCUSDT": candles}
    if dataset == "sample":
        context["ETHUSDT"] = load(dataset, "ETHUSDT")
    cfg = config_class(kind)(**overrides.get("settings", {}))
    split = SplitConfig(**overrides.get("split", {}))
    t0 = time.monotonic()
    [result] = train_coin(
        "BTC",
        models=[kind],
        settings={kind: cfg},
        split=split,
        candles=candles,
        context=context,
    )
    meta = result.metadata
    card = meta.card.to_dict() if meta.card else {}
    return {
        "kind": kind,
        "dataset": dataset,
        "rows": len(candles),
        "settings": overrides,
        "train_coin_seconds": round(time.monotonic() - t0, 1),
        "process_seconds": round(time.monotonic() - started, 1),
        "train_seconds": meta.train_seconds,
        "card": {k: card.get(k) for k in ("output", "metrics", "baselines", "intervals", "gates")},
        "gates_passed": meta.gates_passed,
        "verdict": version_verdict(meta),
        "headline": _headline(card) if card else None,
        "skill": meta.metrics.get("skill"),
        "walk_forward": [
            {
                "fold": f["fold"],
                "skill": f["skill"],
                **{k: f["metrics"].get(k) for k in ("roc_auc", "mae")},
            }
            for f in meta.metrics.get("walk_forward", [])
        ],
        "training": {
            k: v for k, v in meta.training.items() if k in ("epochs_run", "best_epoch", "trees")
        },
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def run(kind: str, dataset: str, overrides: dict) -> dict:
    cmd = [sys.executable, __file__, "--one", kind, dataset, json.dumps(overrides)]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{kind} {dataset} failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    print(json.dumps(result), flush=True)
    return result


def _num(value) -> str:
    return "-" if value is None else f"{value:.4g}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-seed", action="store_true", help="skip the seed LSTM configuration")
    parser.add_argument("--datasets", default="sample,real730")
    parser.add_argument("--models", default="all", help="kinds to train (default: all)")
    parser.add_argument("--one", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one[0], args.one[1], json.loads(args.one[2]))))
        return 0
    from core.models import parse_kinds

    kinds = parse_kinds(args.models)
    datasets = [d for d in args.datasets.split(",") if d == "sample" or REAL_730.exists()]
    results = []
    for dataset in datasets:
        for kind in kinds:
            results.append(run(kind, dataset, {}))
        if "lstm" in kinds and not args.no_seed:
            results.append(run("lstm", dataset, SEED))
    print(
        "\nkind           data     rows    settings  train_coin_s  peak_MB  "
        "headline [95% interval] (baseline)  gates"
    )
    for r in results:
        h = r["headline"] or {}
        label = "seed" if r["settings"] else "default"
        gates = (r["card"].get("gates") or {}).values()
        passed = sum(bool(g["passed"]) for g in gates)
        print(
            f"{r['kind']:14} {r['dataset']:8} {r['rows']:6}  {label:8}  "
            f"{r['train_coin_seconds']:11}"
            f"  {r['peak_rss_mb']:7}  {h.get('metric', '-')} {_num(h.get('value'))} "
            f"[{_num(h.get('low'))}, {_num(h.get('high'))}] ({_num(h.get('baseline'))})"
            f"  {passed}/{len(gates)} {'PASS' if r['gates_passed'] else 'no edge'}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
