"""``python -m core signals`` and ``python -m core backtest`` as real subprocesses."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from core.config import BacktestConfig
from core.context import Context
from core.data import quarantine
from core.data.store import candle_path, load_candles
from core.registry.model_registry import ModelRegistry
from core.signals import journal
from core.signals.backtest import backtest_coin
from core.signals.live import compute_signal
from core.signals.trading import METRIC_NAMES
from tests.card_home import ROOT, copy_carded_into
from tests.fake_binance import FakeBinance
from tests.homes import env_paths
from tests.live_home import continue_prices

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
def trained(home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The carded home, with the clock (``CRYPTOVOLT_NOW``) one hour after BTC's last candle
    closed, so BTC's signal is fresh (its planted candles end in 2023)."""
    copy_carded_into(home)
    last = load_candles("BTCUSDT")["open_time"].iloc[-1]
    monkeypatch.setenv("CRYPTOVOLT_NOW", (last + pd.Timedelta(hours=2)).isoformat())
    return home


def test_signals_json_has_the_documented_fields_and_core_values(home: Path, trained: Path):
    done = cli("signals", "--json")
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert [p["symbol"] for p in payload] == ["BTCUSDT", "ETHUSDT"]
    required = {"symbol", "signal", "reason", "confidence", "interval", "support", "base_rate"}
    required |= {"gates_passed", "test_hit_rate", "price", "candle_time", "models", "votes"}
    registry = ModelRegistry()
    for item in payload:
        assert required <= set(item)
        assert not {"xgb_probability", "lstm_forecast", "agree"} & set(item)
        candles = load_candles(item["symbol"])
        expected = compute_signal(item["symbol"], registry, candles, now=Context.from_env().now())
        assert item["signal"] == expected.signal.value
        assert item["confidence"] == pytest.approx(expected.confidence)
        assert item["interval"] == pytest.approx(list(expected.interval))
        assert item["base_rate"] == pytest.approx(expected.base_rate)
        assert item["support"] == expected.support
        assert item["gates_passed"] == expected.gates_passed
        assert pd.Timestamp(item["candle_time"]) == expected.candle_time
    btc, eth = payload
    assert btc["signal"] in {"BULLISH", "BEARISH", "NEUTRAL"} and btc["reason"] is None
    assert btc["gates_passed"]["xgb_direction_btcusdt"] is True
    low, high = btc["interval"]
    assert low <= btc["confidence"] <= high and 0 < btc["base_rate"] < 1
    assert {v["kind"] for v in btc["votes"]} == {"xgb_direction", "lstm_return"}
    assert eth["signal"] == "NO_EDGE" and "No model beats its baselines" in eth["reason"]
    assert eth["confidence"] is None and eth["interval"] == [None, None]
    assert eth["gates_passed"] == {"xgb_direction_ethusdt": False}
    assert eth["models"] == {"xgb_direction_ethusdt": "v1"}  # v2 did not beat the champion
    assert sorted(journal.entries(home)["source"]) == ["cli", "cli"]
    assert btc["stale"] is False and btc["age_hours"] == 1


def test_signals_on_old_candles_are_stale_in_words_and_json_and_not_journalled(
    home: Path, trained: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delenv("CRYPTOVOLT_NOW")  # the real clock: BTC's candles are years old
    done = cli("signals", "--json")
    assert done.returncode == 0, done.stderr
    btc = json.loads(done.stdout)[0]
    assert btc["signal"] == "STALE" and btc["stale"] is True
    assert btc["confidence"] is None and btc["interval"] == [None, None]
    assert all(v["vote"] is None for v in btc["votes"])
    assert btc["age_hours"] > 365 * 24 and btc["far_past_training"] is False
    assert list(journal.entries(home)["symbol"]) == ["ETHUSDT"]  # NO EDGE recorded, STALE not
    table = cli("signals", "--no-journal")
    assert table.returncode == 0, table.stderr
    first = table_lines(table.stdout)[2]
    assert first.startswith("BTCUSDT") and "STALE" in first and "BULLISH" not in first
    verdict = table.stdout.splitlines()[0]  # the verdict first, in plain words
    assert verdict.startswith("BTCUSDT: no call: the candles are") and "refresh" in verdict
    assert "BTCUSDT: STALE: the last closed candle is" in table.stdout
    assert "years old" in table.stdout and "nothing is called" in table.stdout
    assert "Training window: XGBoost direction v1 trained on 2023-01-" in table.stdout


def test_signals_table_shows_the_base_rate_and_why_a_coin_has_no_edge(trained: Path):
    done = cli("signals")
    assert done.returncode == 0, done.stderr
    now = Context.from_env().now()
    btc = compute_signal("BTCUSDT", ModelRegistry(), load_candles("BTCUSDT"), now=now)
    header, _, first, second = table_lines(done.stdout)[:4]
    assert "base rate" in header and "confidence (95%)" in header
    assert first.startswith("BTCUSDT") and f"{btc.base_rate:.0%}" in first
    assert f"{btc.confidence:.0%} ({btc.interval[0]:.0%}-{btc.interval[1]:.0%})" in first
    assert f"{btc.test_hit_rate:.0%} of {btc.test_support}" in first
    assert second.startswith("ETHUSDT") and "NO EDGE" in second
    assert "ETHUSDT: NO EDGE" in done.stdout
    assert "xgb_direction_ethusdt v1" in done.stdout and "does not vote. No edge" in done.stdout
    assert re.search(r"No edge: passes [0-4] of [4-6] — fails: .*lower bound", done.stdout)
    assert "xgb" not in header.lower() and "lstm" not in header.lower()
    missing = cli("signals", "--coins", "SOL")
    assert missing.returncode == 1
    assert "No trained models for SOLUSDT" in missing.stderr


def table_lines(stdout: str) -> list[str]:
    """The signals table's lines (after the verdict lines), from its header on."""
    lines = stdout.splitlines()
    return lines[next(i for i, line in enumerate(lines) if line.startswith("coin ")) :]


def test_signals_open_with_one_verdict_line_per_coin_in_text_and_json(trained: Path):
    from core.data.store import save_candles
    from tests.random_walk import random_walk_candles

    save_candles(random_walk_candles(400, seed=3), "SOLUSDT")  # candles, no model
    done = cli("signals", "--no-journal")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    verdicts = [line for line in lines[: lines.index("")] if not line.startswith("  ")]
    assert [v.split(":")[0] for v in verdicts] == ["BTCUSDT", "ETHUSDT", "SOLUSDT"]
    btc, eth, sol = verdicts
    assert re.match(r"BTCUSDT: (BULLISH|BEARISH|NEUTRAL)\b.*such calls were right \d+%", btc)
    assert re.match(r"ETHUSDT: no call: its model is not (clearly )?better than a coin flip", eth)
    assert "it was tested on" in eth and re.search(r"\d+% vs a coin flip's 50%", eth)
    assert sol == "SOLUSDT: no models yet: train this coin to get a verdict"
    assert "  market: 24 h " in done.stdout and "× its" in done.stdout
    payload = json.loads(cli("signals", "--json", "--no-journal").stdout)
    assert [item["verdict"] for item in payload] == [btc, eth]  # the same words
    assert set(payload[0]["market"]) >= {"change_24h", "change_7d", "vol_ratio"}


def test_no_journal_records_nothing(home: Path, trained: Path):
    assert cli("signals", "--no-journal").returncode == 0
    assert journal.entries(home).empty


def test_refresh_tops_candles_up_before_computing(trained: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("CRYPTOVOLT_NOW")
    before = load_candles("BTCUSDT")["open_time"].iloc[-1]
    with FakeBinance() as fake:
        continue_prices(fake)  # the same "source": its candles carry on from the stored closes
        done = cli("signals", "--json", "--refresh", BINANCE_BASE_URL=fake.url)
    assert done.returncode == 0, done.stderr
    after = load_candles("BTCUSDT")["open_time"].iloc[-1]
    assert after > before
    btc = json.loads(done.stdout)[0]
    assert pd.Timestamp(btc["candle_time"]) == after
    assert btc["stale"] is False and btc["signal"] != "STALE"  # topped up to now: fresh again
    assert "Candles topped up from Binance" in done.stderr
    assert "conflict" not in done.stderr


def test_refresh_from_another_source_is_held_back_and_said(trained: Path):
    """The fake's own prices do not carry on from the stored (planted) closes: another source."""
    stored = {s: candle_path(s).read_bytes() for s in ("BTCUSDT", "ETHUSDT")}
    firsts = {s: load_candles(s)["open_time"].iloc[0] for s in stored}
    with FakeBinance() as fake:
        done = cli("signals", "--refresh", BINANCE_BASE_URL=fake.url)
        asked = [r for r in fake.requests if r.path == "/api/v3/klines"]
    assert done.returncode == 0, done.stderr  # the signals still come, from the stored candles
    conflicts = [line for line in done.stderr.splitlines() if line.startswith("conflict:")]
    (conflict,) = conflicts  # ETH's candles end after "now": nothing to top up
    assert conflict.startswith("conflict: BTCUSDT 1h: 1 new candle(s) from http://127.0.0.1")
    assert "were not stored and are held in quarantine" in conflict
    assert "python -m core data resolve --coin BTC --replace" in conflict
    assert "not stored for BTCUSDT (conflict)" in done.stderr
    for symbol, data in stored.items():
        assert candle_path(symbol).read_bytes() == data
    assert (
        len(quarantine.held_candles("BTCUSDT", paths=env_paths())) == 1
    )  # the hour after the stored ones
    assert asked and all(
        int(r.params["startTime"]) > firsts[r.params["symbol"]].value // 1_000_000 for r in asked
    )
    again = cli("signals", "--json")  # no refresh: the conflict is still said, read from disk
    assert again.stderr.count("conflict: BTCUSDT 1h") == 1
    btc, eth = json.loads(again.stdout)
    assert btc["conflict"].startswith("BTCUSDT 1h: 1 new candle(s)") and eth["conflict"] is None


def test_backtest_cli_matches_the_library(trained: Path):
    done = cli("backtest", "--coin", "BTC", "--json", "--long-short", "--fee", "0.002")
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    expected = backtest_coin(
        "BTCUSDT", ModelRegistry(), config=BacktestConfig(fee=0.002, allow_short=True)
    )
    want = expected.metrics.to_dict()
    assert list(payload["metrics"]) == ["strategy", "zero_cost", "buy_and_hold"]
    for who in ("strategy", "zero_cost", "buy_and_hold"):
        assert list(payload["metrics"][who]) == list(METRIC_NAMES)
        for key, value in want[who].items():
            assert payload["metrics"][who][key] == pytest.approx(value)
    assert len(payload["trades"]) == len(expected.trades)
    table = cli("backtest", "--coin", "BTC")
    assert table.returncode == 0 and "sortino" in table.stdout and "buy and hold" in table.stdout
