"""How far from 0.5 does a classifier's test AUC wander on random walks, and how often does a card
pass its gates there? (chance, not leakage; a gate that passes on noise is a false positive)

Runs the random-walk test's setup (``train_coin``, 60 trees, 7,000 candles, default split) for
many seeds and prints, per kind, the spread of the test and walk-forward AUCs and how many cards
passed (the target is none):

    .venv/bin/python bench/bench_random_walk.py [--seeds 24] [--models xgboost,xgb_direction]
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
    parser.add_argument("--models", default="xgboost,xgb_direction", help="probability kinds")
    args = parser.parse_args()
    os.environ["CRYPTOVOLT_HOME"] = tempfile.mkdtemp(prefix="bench-random-walk-")

    import numpy as np

    from core.models import parse_kinds
    from core.models.settings import DirectionConfig, XGBConfig
    from core.training.train import train_coin
    from tests.random_walk import random_walk_candles

    kinds = parse_kinds(args.models)
    settings = {
        "xgboost": XGBConfig(n_estimators=60, max_depth=4, early_stopping_rounds=10),
        "xgb_direction": DirectionConfig(n_estimators=60, max_depth=3, early_stopping_rounds=10),
    }
    tests: dict[str, list[float]] = {k: [] for k in kinds}
    folds: dict[str, list[float]] = {k: [] for k in kinds}
    passed: dict[str, int] = dict.fromkeys(kinds, 0)
    for seed in range(5, 5 + args.seeds):
        candles = random_walk_candles(7000, seed=seed)
        context = {"BTCUSDT": candles, "ETHUSDT": random_walk_candles(7000, seed=seed + 1000)}
        results = train_coin(
            "BTC", models=kinds, settings=settings, candles=candles, context=context, force=True
        )
        line = []
        for result in results:
            meta = result.metadata
            kind = meta.model_type
            tests[kind].append(meta.metrics["test"]["roc_auc"])
            folds[kind] += [f["metrics"]["roc_auc"] for f in meta.metrics["walk_forward"]]
            passed[kind] += meta.gates_passed
            line.append(
                f"{kind} AUC {tests[kind][-1]:.3f} gates {'PASS' if meta.gates_passed else 'fail'}"
            )
        print(f"seed {seed:3d}: " + "; ".join(line), flush=True)
    for kind in kinds:
        t, f = tests[kind], folds[kind]
        print(
            f"{kind}: test AUC mean {np.mean(t):.3f} sd {np.std(t):.3f} (min {min(t):.3f}, "
            f"max {max(t):.3f}); walk-forward folds mean {np.mean(f):.3f} sd {np.std(f):.3f}; "
            f"cards passing their gates: {passed[kind]} of {args.seeds} seeds"
        )
    return 0 if not any(passed.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
