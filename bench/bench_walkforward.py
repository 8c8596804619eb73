"""Walk-forward at scale (issue 12.3): 20 expanding folds x 10 coins for the boosted model.

Runs the product's trainer, ``core.training.train.train_coin(models=[kind],
split=SplitConfig(folds=20))``, one coin per process, ``--jobs`` processes at once (default: one
per core, each with ``CRYPTOVOLT_THREADS`` = cores / jobs), as the job queue runs ``python -m core
train --coins all --folds 20`` jobs: per coin one feature matrix (features and labels computed once; every
fold, the validation slice and the test window are row ranges of it), then the test fit and the
20 fold fits, each a fresh XGBoost ``hist`` booster on its own training rows (bin edges, early
stopping and base rate from those rows only), then the card and the registry save.

Data: the nine coins of the bundled real sample (data/sample, 2024-05 to 2025-05) each stretched
to two years of 1h candles (17,500 rows, bench/_candles.py), and BTC a second time as the tenth
(the sample has no POL). Home and registry: a temp dir.

    .venv/bin/python bench/bench_walkforward.py [--kind xgboost] [--folds 20] [--coins 10]

Prints per coin: wall, feature-matrix time, fit count and time; in total: wall, fits, and where
the time goes. Target: the ten coins in <= 120 s. Exit code 0 when met.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SAMPLE = ROOT / "data" / "sample"
TARGET_S = 120.0


def coins(count: int) -> list[tuple[str, Path]]:
    files = sorted(SAMPLE.glob("*-1h.parquet"))
    picked = [(p.name.split("-")[0], p) for p in files]
    btc = SAMPLE / "BTCUSDT-1h.parquet"
    while len(picked) < count:
        picked.append(("POLUSDT", btc))  # the sample has nine coins; BTC again as the tenth
    return picked[:count]


_SECONDS: Counter[str] = Counter()
_COUNTS: Counter[str] = Counter()


def _timed(owner: object, attr: str, label: str) -> None:
    inner = getattr(owner, attr)

    def wrapper(*a, **kw):
        start = time.perf_counter()
        try:
            return inner(*a, **kw)
        finally:
            _SECONDS[label] += time.perf_counter() - start
            _COUNTS[label] += 1

    setattr(owner, attr, wrapper)


def _init(home: str, threads: int, kind: str) -> None:
    """A worker process as the job queue starts one: its thread share, the timing wrappers."""
    os.environ["CRYPTOVOLT_HOME"] = home
    os.environ["CRYPTOVOLT_THREADS"] = str(threads)
    from core import models as model_kinds
    from core.training import train as train_module

    cls = type(model_kinds.create_model(kind))
    _timed(cls, "make_dataset", "feature matrix (features + labels, once per coin)")
    _timed(cls, "fit", "fits (test + folds)")
    _timed(cls, "predict_output", "predictions")
    _timed(train_module, "build_card", "model card (intervals, gates)")


def _train_one(symbol: str, path: str, kind: str, folds: int) -> dict:
    import pandas as pd

    from bench._candles import two_years
    from core.config import SplitConfig
    from core.data.store import normalize_candles
    from core.registry import ModelRegistry
    from core.registry.gates import card_verdict
    from core.training.train import train_coin

    candles = two_years(normalize_candles(pd.read_parquet(path)))
    _SECONDS.clear()
    _COUNTS.clear()
    started, cpu = time.perf_counter(), time.process_time()
    [result] = train_coin(
        symbol,
        models=[kind],
        split=SplitConfig(folds=folds),
        candles=candles,
        context={},
        registry=ModelRegistry(Path(os.environ["CRYPTOVOLT_HOME"]) / "models"),
    )
    meta = result.metadata
    return {
        "symbol": symbol,
        "rows": len(candles),
        "wall": time.perf_counter() - started,
        "cpu": time.process_time() - cpu,
        "seconds": dict(_SECONDS),
        "counts": dict(_COUNTS),
        "verdict": card_verdict(meta.card) if meta.card else "-",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", default="xgboost")
    parser.add_argument("--folds", type=int, default=20)
    parser.add_argument("--coins", type=int, default=10)
    parser.add_argument(
        "--jobs", type=int, default=os.cpu_count() or 1, help="coins trained at once (processes)"
    )
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="cryptovolt-bench-wf-")
    cores = os.cpu_count() or 1
    threads = max(1, cores // args.jobs)
    picked = coins(args.coins)
    print(
        f"kind {args.kind}, {args.folds} folds, {len(picked)} coins x 17,500 candles (1h); "
        f"{args.jobs} training processes x {threads} thread(s) on {cores} cores; load average "
        f"{os.getloadavg()[0]:.1f}",
        flush=True,
    )
    seconds: Counter[str] = Counter()
    counts: Counter[str] = Counter()
    cpu = 0.0
    started = time.perf_counter()
    with ProcessPoolExecutor(
        args.jobs, initializer=_init, initargs=(home, threads, args.kind)
    ) as pool:
        runs = [pool.submit(_train_one, s, str(p), args.kind, args.folds) for s, p in picked]
        for future in as_completed(runs):
            one = future.result()
            seconds.update(one["seconds"])
            counts.update(one["counts"])
            cpu += one["cpu"]
            print(
                f"  {one['symbol']:9} {one['wall']:6.1f} s wall, {one['cpu']:5.1f} s CPU, "
                f"{one['counts'].get('fits (test + folds)', 0)} fits, verdict: {one['verdict']}",
                flush=True,
            )
    total = time.perf_counter() - started
    fits = counts["fits (test + folds)"]
    print(
        f"total: {total:.1f} s wall for {len(picked)} coins, {fits} fits "
        f"({total / max(fits, 1):.2f} s wall per fit); CPU {cpu:.1f} s in all, so about "
        f"{cpu / cores:.0f} s on {cores} idle cores (load average now "
        f"{os.getloadavg()[0]:.1f}); wall time by stage, all processes:"
    )
    for label, value in seconds.most_common():
        print(f"  {value:7.1f} s  {label} ({counts[label]} calls)")
    met = total <= TARGET_S
    print(
        f"  [{'ok' if met else 'FAIL'}] {len(picked)} coins x {args.folds} folds in "
        f"{total:.1f} s <= {TARGET_S:.0f} s"
    )
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
