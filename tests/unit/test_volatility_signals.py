"""The expected move on a coin's signal: signals --json, the journal, STALE hides it."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from core.config import SignalConfig, SplitConfig
from core.data.store import load_candles, normalize_candles, save_candles
from core.models.settings import DirectionConfig
from core.registry.model_registry import ModelRegistry
from core.signals.ensemble import SignalKind
from core.signals.live import compute_signal
from core.training.train import train_coin
from core.volatility.train import train_volatility
from tests.core_cli import core_json, run_core

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def eth_home(home: Path) -> Path:
    """Real ETH candles with a tiny (failing) direction model and a HAR volatility model."""
    eth = normalize_candles(pd.read_parquet(ROOT / "data" / "sample" / "ETHUSDT-1h.parquet"))
    save_candles(eth, "ETHUSDT")
    cfg = DirectionConfig(use_context=False, n_estimators=20, max_depth=2)
    train_coin(
        "ETH",
        models=("xgb_direction",),
        settings={"xgb_direction": cfg},
        split=SplitConfig(folds=2),
    )
    result = train_volatility("ETH", estimator="har")
    assert result.record.card is not None
    assert result.record.card.gates["6h_qlike_vs_best_baseline"].passed
    return home


def _last_close() -> pd.Timestamp:
    candles = load_candles("ETHUSDT", "1h")
    return candles["open_time"].iloc[-1] + pd.Timedelta(hours=1)


def test_signal_carries_the_expected_move_whatever_the_direction_and_stale_hides_it(
    eth_home: Path,
) -> None:
    candles = load_candles("ETHUSDT", "1h")
    now = _last_close() + pd.Timedelta(minutes=30)
    signal = compute_signal("ETH", ModelRegistry(), candles, now=now)
    assert signal.signal is SignalKind.NO_EDGE  # the tiny direction model calls nothing
    move = signal.expected_move
    assert move is not None and "6h" in move
    lo, hi = move["6h"]["bands"]["80"]
    assert -0.2 < lo < 0 < hi < 0.2
    assert signal.vol_regime is not None and signal.vol_regime["label"] in {"low", "normal", "high"}
    assert signal.position_size is not None and 0 < signal.position_size <= 1
    data = signal.to_dict()
    assert data["expected_move"] == move and data["position_size"] == signal.position_size
    smaller = compute_signal(
        "ETH", ModelRegistry(), candles, now=now, config=SignalConfig(vol_target=0.005)
    )
    assert smaller.position_size is not None and smaller.position_size < signal.position_size
    # STALE hides it: three days later the move is about hours that have passed.
    signal = compute_signal("ETH", ModelRegistry(), candles, now=now + pd.Timedelta(days=3))
    assert signal.stale
    assert signal.expected_move is None and signal.position_size is None
    assert signal.vol_regime is None


def test_cli_json_and_journal_show_the_expected_move(eth_home: Path) -> None:
    now = (_last_close() + pd.Timedelta(minutes=10)).isoformat()
    args = ["signals", "--coins", "ETH", "--json", "--vol-target", "0.01"]
    (row,) = core_json(eth_home, *args, CRYPTOVOLT_NOW=now)
    assert set(row["expected_move"]["6h"]["bands"]) == {"50", "80", "90"}
    assert row["vol_regime"]["label"] in {"low", "normal", "high"}
    assert 0 < row["position_size"] <= 1
    journal = (eth_home / "journal").glob("*.jsonl")
    lines = [json.loads(x) for p in journal for x in p.read_text().splitlines() if x.strip()]
    entries = [x for x in lines if x.get("symbol") == "ETHUSDT" and "expected_move" in x]
    assert entries and entries[-1]["expected_move"] == row["expected_move"]
    words = run_core(eth_home, "signals", "--coins", "ETH", "--no-journal", CRYPTOVOLT_NOW=now)
    assert "Expected move next 6 h: 80% within" in words.stdout
    bad = run_core(eth_home, "signals", "--coins", "ETH", "--vol-target", "3", CRYPTOVOLT_NOW=now)
    assert bad.returncode == 1 and bad.stderr.startswith("error: vol_target")
