"""``python -m core features``: real subprocess, real files in the test's home folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd

from core.features.causal import FEATURES, NEXT_CLOSE
from core.features.indicators import INDICATOR_COLUMNS

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "core", "features", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=os.environ.copy(),
    )


def test_writes_parquet_with_time_features_and_targets(home_with_sample, tmp_path):
    out = tmp_path / "btc_features.parquet"
    proc = _run("--coin", "BTC", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    frame = pd.read_parquet(out)
    assert list(frame.columns) == ["open_time", "close", *FEATURES, "target_up_1pct_6h", NEXT_CLOSE]
    assert len(frame) == 9_457
    assert str(frame["open_time"].dtype).endswith("UTC]")
    assert frame["target_up_1pct_6h"].iloc[-6:].isna().all()


def test_writes_csv_with_indicators_and_a_custom_target(home_with_sample, tmp_path):
    out = tmp_path / "sub" / "eth.csv"
    proc = _run(
        "--coin",
        "ethusdt",
        "--out",
        str(out),
        "--indicators",
        "--horizon",
        "12",
        "--threshold",
        "0.02",
    )
    assert proc.returncode == 0, proc.stderr
    frame = pd.read_csv(out)
    assert set(INDICATOR_COLUMNS) <= set(frame.columns)
    assert "target_up_2pct_12h" in frame.columns
    assert frame["open_time"].iloc[0] == "2024-05-01T00:00:00Z"


def test_summary_without_out(home_with_sample):
    proc = _run("--coin", "SOL")
    assert proc.returncode == 0, proc.stderr
    assert "SOLUSDT 1h" in proc.stdout and "9,457" in proc.stdout


def test_errors_say_what_to_do(home, tmp_path):
    proc = _run("--coin", "BTC", "--out", str(tmp_path / "x.parquet"))
    assert proc.returncode == 1 and "python -m core fetch" in proc.stderr
    proc = _run("--coin", "BTC", "--out", str(tmp_path / "x.xlsx"))
    assert proc.returncode == 1 and ".parquet or .csv" in proc.stderr
    proc = _run()
    assert proc.returncode == 1 and "--coin" in proc.stderr
    proc = _run("--coin", "BTC", "--horizon", "0")
    assert proc.returncode == 1 and "horizon" in proc.stderr
