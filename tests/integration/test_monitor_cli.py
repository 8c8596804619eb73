"""``python -m core monitor`` as a real subprocess on journals of real calls."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.card_home import ROOT
from tests.monitor_journal import journal_home

pytestmark = pytest.mark.slow


def cli(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "core", "monitor", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_monitor_json_reports_the_planted_degradation_and_the_drift_count(home: Path):
    now = journal_home(home, regime="degraded")
    done = cli("--json", "--coins", "BTC", CRYPTOVOLT_NOW=now.isoformat())
    assert done.returncode == 0, done.stderr
    (btc,) = json.loads(done.stdout)
    assert btc["symbol"] == "BTCUSDT" and btc["status"] == "degraded"
    assert btc["calls"] == 110 and btc["reason"].startswith("Degraded over the last 30 days")
    assert isinstance(btc["drifted"], int) and btc["drifted"] == len(btc["drifted_features"])
    assert btc["drift"]["bands"].startswith("PSI < 0.1 stable")
    rates = btc["versions"][-1]["rates"]
    assert {r["kind"] for r in rates} == {"BULLISH", "BEARISH", "NEUTRAL"}
    assert {r["days"] for r in rates} == {7, 30}
    assert any(r["below_promise"] for r in rates if r["days"] == 30)


def test_monitor_table_says_each_status_in_words(home: Path):
    now = journal_home(home, regime="stable")
    done = cli(CRYPTOVOLT_NOW=now.isoformat())
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split()[:2] == ["coin", "status"]
    btc = next(line for line in lines if line.startswith("BTCUSDT "))
    assert "on track" in btc and " 110 " in btc
    eth = next(line for line in lines if line.startswith("ETHUSDT "))
    assert "not enough calls" in eth  # trained, but never called
    assert "BTCUSDT: On track: 110 resolved calls in the last 30 days" in done.stdout
    assert "Drift bands: PSI < 0.1 stable · 0.1–0.25 moderate · > 0.25 drifted" in done.stdout


def test_monitor_without_a_journal_says_how_to_get_one(home: Path):
    done = cli("--coins", "BTC")
    assert done.returncode == 0, done.stderr
    assert "not enough calls" in done.stdout
    assert "No journal entries for BTCUSDT yet: run `python -m core watch`" in done.stdout


def test_monitor_refuses_a_bad_coin_in_one_line(home: Path):
    done = cli("--coins", "B@D")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "error: 'B@D' is not a coin symbol: use 2-20 letters and digits, like BTC or BTCUSDT."
    ]
