"""A home folder with really trained, carded models, made once per test session and copied per test.

Training runs in a subprocess (``core.training.train.train_coin`` on small data with small
settings), so TensorFlow never loads in the pytest process and the page tests can check that the
Streamlit side does not load it either. Contents:

* BTCUSDT: planted candles (``tests/random_walk.planted_candles``, whose next-6-hour direction is
  partly predictable): ``xgb_direction`` v1 finds the signal and passes its gates, so the coin
  shows a real call; ``lstm_return`` v1 (two epochs, four units) is there too, with its own card.
* ETHUSDT: the last 3,000 real sample candles: ``xgb_direction`` v1 (the champion) and v2 (a
  challenger). Neither passes its gates on so little real data, so ETH shows **NO EDGE** and
  promoting v2 needs ``--force``.
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ROWS = 3000

_SCRIPT = f"""
import pandas as pd
from core.config import SplitConfig
from core.models.settings import DirectionConfig, LSTMReturnConfig
from core.data.store import normalize_candles, save_candles
from core.training.train import train_coin
from tests.random_walk import planted_candles

btc = planted_candles(6000)
save_candles(btc, "BTCUSDT")
eth = normalize_candles(pd.read_parquet("data/sample/ETHUSDT-1h.parquet")).tail({ROWS})
save_candles(eth, "ETHUSDT")
tiny_lstm = LSTMReturnConfig(window=12, units=4, dense_units=2, epochs=2, batch_size=256)
train_coin(
    "BTC",
    models=("xgb_direction", "lstm_return"),
    settings={{
        "xgb_direction": DirectionConfig(use_context=False, n_estimators=150),
        "lstm_return": tiny_lstm,
    }},
)
split = SplitConfig(folds=2)
for trees in (20, 30):
    cfg = DirectionConfig(use_context=False, n_estimators=trees, max_depth=2)
    train_coin("ETH", models=("xgb_direction",), settings={{"xgb_direction": cfg}}, split=split)
"""

_trained: Path | None = None


def _train() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="cryptovolt-carded-"))
    atexit.register(shutil.rmtree, folder, True)
    env = {**os.environ, "CRYPTOVOLT_HOME": str(folder), "TF_CPP_MIN_LOG_LEVEL": "2"}
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if done.returncode:
        raise RuntimeError(f"training the carded home failed:\n{done.stdout}\n{done.stderr}")
    return folder


def copy_carded_into(home: Path) -> Path:
    """Fill ``home`` with the session's carded models and candles (trained on first use)."""
    global _trained
    if _trained is None:
        _trained = _train()
    shutil.copytree(_trained, home, dirs_exist_ok=True)
    return home
