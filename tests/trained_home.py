"""A home folder with really trained tiny models, made once per test session and copied per test.

Training runs in a subprocess (``core.training.train.train_coin`` with tiny settings on the last
3,000 real sample candles), so TensorFlow never loads in the pytest process and the page tests can
check that the Streamlit side does not load it either. Contents:

* BTCUSDT: the seed's two kinds, ``xgboost`` v1 and ``lstm`` v1;
* ETHUSDT: ``xgboost`` v1 and v2 (one kind, two versions to compare / promote / delete); v2 is
  promoted with ``force`` (as every new version was before champion / challenger), so it is the
  champion whatever its gates say.

Every version carries its model card; on so little real data the gates usually fail, so the
coins tend to show NO EDGE. ``tests/card_home.py`` has a home with a model that passes.
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
from core.config import LSTMConfig, SplitConfig, XGBConfig
from core.data.store import normalize_candles, save_candles
from core.training.train import train_coin

for symbol in ("BTCUSDT", "ETHUSDT"):
    frame = normalize_candles(pd.read_parquet(f"data/sample/{{symbol}}-1h.parquet"))
    save_candles(frame.tail({ROWS}), symbol)
split = SplitConfig(folds=2)
lstm = LSTMConfig(window=12, units=4, dense_units=2, epochs=2, batch_size=256)
xgb = XGBConfig(n_estimators=15, max_depth=3)
seed = {{"xgboost": xgb, "lstm": lstm}}
train_coin("BTCUSDT", models=("xgboost", "lstm"), settings=seed, split=split)
train_coin("ETHUSDT", models=("xgboost",), settings={{"xgboost": xgb}}, split=split)
xgb2 = XGBConfig(n_estimators=25, max_depth=2)
train_coin("ETHUSDT", models=("xgboost",), settings={{"xgboost": xgb2}}, split=split, force=True)
"""

_trained: Path | None = None


def _train() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="cryptovolt-trained-"))
    atexit.register(shutil.rmtree, folder, True)
    env = {**os.environ, "CRYPTOVOLT_HOME": str(folder), "TF_CPP_MIN_LOG_LEVEL": "2"}
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if done.returncode:
        raise RuntimeError(f"tiny training failed:\n{done.stdout}\n{done.stderr}")
    return folder


def copy_trained_into(home: Path) -> Path:
    """Fill ``home`` with the session's trained models and candles (trained on first use)."""
    global _trained
    if _trained is None:
        _trained = _train()
    shutil.copytree(_trained, home, dirs_exist_ok=True)
    return home
