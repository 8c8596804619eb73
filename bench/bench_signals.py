"""Signals page speed for ten coins: first load of all models, then server-side renders.

    .venv/bin/python bench/bench_signals.py [--home DIR] [--repeat 5]

Setup (not timed as page speed, but reported): a home folder with ten coins, the nine real
sample coins plus POLUSDT topped up from the fake Binance of tests/ (the sample has no POL; its
prices are synthetic, which does not matter for speed), each trained with every default kind
(``xgb_direction``, ``lstm_return``, ``xgboost``, ``lstm``) at the default model sizes but one
epoch for each LSTM and two walk-forward folds, so the setup takes minutes. ``--home`` reuses a
folder trained before. A coin whose models all fail their gates shows a NO EDGE card, which costs
the page the same loading work.

Measured, each in a fresh Python process so nothing is cached from before:

1. first load of all models: ``core.signals.live.load_coin_models`` for every coin (checksums
   verified, XGBoost boosters, numpy LSTM weights, saved predictions, cards, calibration);
2. the Signals page through ``streamlit.testing.v1.AppTest`` (server side, no browser):
   cold (first render: loads models), warm with models cached but signals recomputed (cached
   data cleared), and fully warm (a new session; models and signals cached).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_COINS = ("BTC", "ETH", "SOL", "XRP", "ADA", "AVAX", "LINK", "UNI", "DOT")

SETUP = """
import json, time, pandas as pd
from core.config import SplitConfig
from core.models.settings import LSTMConfig, LSTMReturnConfig
from core.data.fetch import fetch_coins, load_sample
from core.training.train import train_coin
from tests.fake_binance import FakeBinance

load_sample()
now = pd.Timestamp("2025-05-30 01:00", tz="UTC").to_pydatetime()
with FakeBinance(now_ms=int(now.timestamp() * 1000)) as fake:
    [pol] = fetch_coins(["POL"], days=394, base_url=fake.url, now=now)
assert str(pol.status) != "failed", pol.reason
settings = {"lstm": LSTMConfig(epochs=1), "lstm_return": LSTMReturnConfig(epochs=1)}
times, edges = {}, {}
for coin in %r:
    t = time.perf_counter()
    results = train_coin(coin, settings=settings, split=SplitConfig(folds=2))
    edges[coin] = [r.name for r in results if r.metadata.gates_passed]
    times[coin] = round(time.perf_counter() - t, 1)
print(json.dumps({"seconds": times, "passing": edges}))
"""

FIRST_LOAD = """
import json, sys, time
from core.registry.model_registry import ModelRegistry
from core.signals.live import load_coin_models, symbols_with_models
registry = ModelRegistry()
coins = symbols_with_models(registry)
per = {}
start = time.perf_counter()
for coin in coins:
    t = time.perf_counter()
    load_coin_models(coin, registry)
    per[coin] = round(time.perf_counter() - t, 3)
total = time.perf_counter() - start
print(json.dumps({"coins": len(coins), "total": round(total, 3), "per_coin": per,
                  "tensorflow_loaded": "tensorflow" in sys.modules}))
"""

RENDERS = """
import json, statistics, sys, time
import streamlit as st
from streamlit.testing.v1 import AppTest

def render():
    at = AppTest.from_file("streamlit_app.py", default_timeout=300)
    at.run()
    t = time.perf_counter()
    at.switch_page("pages/signals.py").run()
    took = time.perf_counter() - t
    assert not at.exception, at.exception
    cards = len([c for c in at.caption if c.value.startswith("Models: ")])  # one per coin card
    calls = len([m for m in at.metric if m.label == "Confidence"])  # cards that make a call
    return took, cards, calls

cold, cards, calls = render()
recompute, warm = [], []
for _ in range(%d):
    st.cache_data.clear()  # candles, symbols and signals recomputed; models stay loaded
    recompute.append(render()[0])
for _ in range(%d):
    warm.append(render()[0])
print(json.dumps({"cards": cards, "calls": calls, "cold": round(cold, 3),
                  "recompute": [round(x, 3) for x in recompute],
                  "warm": [round(x, 3) for x in warm],
                  "tensorflow_loaded": "tensorflow" in sys.modules}))
"""


def _python(code: str, home: Path) -> dict:
    env = {**os.environ, "CRYPTOVOLT_HOME": str(home), "TF_CPP_MIN_LOG_LEVEL": "2"}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if done.returncode:
        raise SystemExit(f"benchmark step failed:\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, help="reuse (or create) this trained home folder")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    home = args.home or Path(tempfile.mkdtemp(prefix="cryptovolt-bench-signals-"))
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "models").exists():
        print(f"training ten coins in {home} (setup, a few minutes)…", flush=True)
        t = time.perf_counter()
        setup = _python(SETUP % ([*SAMPLE_COINS, "POL"],), home)
        print(f"setup: trained 10 coins in {time.perf_counter() - t:.0f}s: {setup['seconds']}")
        print(f"  models passing their gates: {setup['passing']}")
    load = _python(FIRST_LOAD, home)
    print(
        f"first load of all models: {load['total']:.2f}s for {load['coins']} coins "
        f"(tensorflow loaded: {load['tensorflow_loaded']})"
    )
    print("  per coin: " + ", ".join(f"{k} {v:.2f}s" for k, v in load["per_coin"].items()))
    renders = _python(RENDERS % (args.repeat, args.repeat), home)
    rec, warm = renders["recompute"], renders["warm"]
    print(
        f"Signals page, {renders['cards']} cards, {renders['calls']} making a call, the rest "
        "NO EDGE (AppTest, server side):"
    )
    print(f"  cold first render (loads every model): {renders['cold']:.2f}s")
    print(
        f"  models cached, signals recomputed: median {statistics.median(rec):.2f}s, "
        f"max {max(rec):.2f}s over {len(rec)}"
    )
    print(
        f"  models and signals cached: median {statistics.median(warm):.2f}s, "
        f"max {max(warm):.2f}s over {len(warm)}"
    )
    print(f"  tensorflow loaded in the Streamlit process: {renders['tensorflow_loaded']}")
    ok = renders["cards"] == 10 and max(rec) <= 2.0
    print("target (10 cards, <= 2 s once models are loaded):", "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
