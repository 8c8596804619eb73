"""How far from 0.5 does the XGBoost test AUC wander on random walks? (chance, not leakage)

Runs the random-walk test's setup (``train_coin``, 60 trees, depth 4, 7,000 candles, default
split) for many seeds and prints the spread of the test and walk-forward AUCs:

    .venv/bin/python bench/bench_random_walk.py [--seeds 24]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=24)
    args = parser.parse_args()
    os.environ["CRYPTOVOLT_HOME"] = tempfile.mkdtemp(prefix="bench-random-walk-")

    import numpy as np

    from core.config import XGBConfig
    from core.training.train import train_coin
    from tests.random_walk import random_walk_candles

    xgb = XGBConfig(n_estimators=60, max_depth=4, early_stopping_rounds=10)
    tests, folds = [], []
    for seed in range(5, 5 + args.seeds):
        candles = random_walk_candles(7000, seed=seed)
        [meta] = train_coin("BTC", models=["xgboost"], xgb=xgb, candles=candles)
        tests.append(meta["metrics"]["test"]["roc_auc"])
        folds += [f["metrics"]["roc_auc"] for f in meta["metrics"]["walk_forward"]]
        print(f"seed {seed:3d}: test AUC {tests[-1]:.3f}", flush=True)
    print(
        f"test AUC mean {np.mean(tests):.3f} sd {np.std(tests):.3f} "
        f"(min {min(tests):.3f}, max {max(tests):.3f}); walk-forward folds mean "
        f"{np.mean(folds):.3f} sd {np.std(folds):.3f}; {args.seeds} seeds"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
