"""``python -m core signals`` and ``python -m core backtest`` as real subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from core.config import BacktestConfig
from core.data.store import load_candles
from core.registry.model_registry import ModelRegistry
from core.signals import journal
from core.signals.backtest import backtest_coin
from core.signals.live import compute_signal
from tests.fake_binance import FakeBinance
from tests.trained_home import ROOT, copy_trained_into

pytestmark = pytest.mark.slow


def cli(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "core", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def trained(home: Path) -> Path:
    return copy_trained_into(home)


def test_signals_json_has_the_documented_fields_and_core_values(trained: Path):
    done = cli("signals", "--json")
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert [p["symbol"] for p in payload] == ["BTCUSDT", "ETHUSDT"]
    required = {"symbol", "signal", "confidence", "support", "price", "candle_time"}
    required |= {"xgb_probability", "lstm_forecast", "models"}
    registry = ModelRegistry()
    for item in payload:
        assert required <= set(item)
        expected = compute_signal(item["symbol"], registry, load_candles(item["symbol"]))
        assert item["signal"] == expected.signal.value
        assert item["confidence"] == pytest.approx(expected.confidence)
        assert item["support"] == expected.support
        assert pd.Timestamp(item["candle_time"]) == expected.candle_time
    eth = payload[1]
    assert eth["lstm_forecast"] is None and eth["agree"] is None  # one model type
    assert eth["models"] == {"xgboost_ethusdt": "v2"}
    assert sorted(journal.entries()["source"]) == ["cli", "cli"]


def test_signals_table_and_an_untrained_coin(trained: Path):
    done = cli("signals")
    assert done.returncode == 0, done.stderr
    assert "BTCUSDT" in done.stdout and "ETHUSDT" in done.stdout and "of " in done.stdout
    missing = cli("signals", "--coins", "SOL")
    assert missing.returncode == 1
    assert "No trained models for SOLUSDT" in missing.stderr


def test_refresh_tops_candles_up_before_computing(trained: Path):
    before = load_candles("BTCUSDT")["open_time"].iloc[-1]
    with FakeBinance() as fake:
        done = cli("signals", "--json", "--refresh", BINANCE_BASE_URL=fake.url)
    assert done.returncode == 0, done.stderr
    after = load_candles("BTCUSDT")["open_time"].iloc[-1]
    assert after > before
    btc = json.loads(done.stdout)[0]
    assert pd.Timestamp(btc["candle_time"]) == after


def test_backtest_cli_matches_the_library(trained: Path):
    done = cli("backtest", "--coin", "BTC", "--json", "--long-short", "--fee", "0.002")
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    expected = backtest_coin(
        "BTCUSDT", ModelRegistry(), config=BacktestConfig(fee=0.002, allow_short=True)
    )
    for who in ("strategy", "buy_and_hold"):
        for key, value in expected.metrics[who].items():
            assert payload["metrics"][who][key] == pytest.approx(value)
    assert len(payload["trades"]) == len(expected.trades)
    table = cli("backtest", "--coin", "BTC")
    assert table.returncode == 0 and "sortino" in table.stdout and "buy and hold" in table.stdout
