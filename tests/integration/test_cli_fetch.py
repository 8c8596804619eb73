"""``python -m core fetch`` and ``export``: exit codes, the coverage table, one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd

from core.cli import main
from core.data import store

ROOT = Path(__file__).resolve().parents[2]


def test_fetch_prints_the_coverage_table_and_exits_0(fake_binance, capsys):
    code = main(["fetch", "--coins", "BTC,ETH", "--days", "3", "--base-url", fake_binance.url])
    out, err = capsys.readouterr()
    assert code == 0, err
    header = out.splitlines()[0].split()
    assert header[:3] == ["symbol", "rows", "first"] and "status" in header
    assert "missing hours" in out.splitlines()[0] and "size" in header
    lines = {line.split()[0]: line for line in out.splitlines()[2:4]}
    assert set(lines) == {"BTCUSDT", "ETHUSDT"}
    assert all(" 72 " in line and "up to date" in line for line in lines.values())
    assert "fetch" in err and "100%" in err  # the progress bar went to stderr
    assert len(store.load_candles("ETH")) == 72


def test_any_failed_coin_exits_1_with_a_one_line_reason(fake_binance, capsys):
    code = main(["fetch", "--coins", "BTC,FOO", "--days", "2", "--base-url", fake_binance.url])
    out, err = capsys.readouterr()
    assert code == 1
    reason = [line for line in err.splitlines() if line.startswith("error:")]
    assert reason == [
        "error: 1 of 2 coin(s) failed: FOOUSDT: unknown symbol FOOUSDT: Binance does not list "
        "this pair. Check the spelling, or use a pair that trades against USDT."
    ]
    assert "BTCUSDT" in out and len(store.load_candles("BTC")) == 48  # the other coin went on


def test_location_block_says_what_to_set(fake_binance, capsys):
    fake_binance.fail_next("451", count=10)
    assert main(["fetch", "--coins", "BTC", "--days", "2", "--base-url", fake_binance.url]) == 1
    assert "BINANCE_BASE_URL=https://data-api.binance.vision" in capsys.readouterr().err


def test_base_url_comes_from_the_environment(fake_binance, monkeypatch, capsys):
    monkeypatch.setenv("BINANCE_BASE_URL", fake_binance.url)
    assert main(["fetch", "--coins", "SOL", "--days", "1"]) == 0
    assert fake_binance.count(symbol="SOLUSDT") == 1


def test_bad_settings_exit_1_before_any_request(fake_binance, capsys):
    assert main(["fetch", "--interval", "7h", "--base-url", fake_binance.url]) == 1
    assert "Unknown interval '7h'" in capsys.readouterr().err
    assert main(["fetch", "--coins", "BTC;rm", "--base-url", fake_binance.url]) == 1
    assert "not a coin symbol" in capsys.readouterr().err
    assert main(["fetch", "--days", "0", "--base-url", fake_binance.url]) == 1
    assert "days must be" in capsys.readouterr().err
    assert fake_binance.count() == 0


def test_sample_loads_nine_coins_and_says_they_need_topping_up(capsys):
    assert main(["fetch", "--sample"]) == 0
    out = capsys.readouterr().out
    assert sum("partial" in line for line in out.splitlines()) == 9
    assert "2024-05-01 00:00" in out and "2025-05-30 00:00" in out
    assert len(store.list_stored()) == 9


def test_export_csv_to_stdout_and_to_a_file(home_with_sample, tmp_path):
    env = {**os.environ, "CRYPTOVOLT_HOME": str(home_with_sample)}
    cmd = [sys.executable, "-m", "core", "export", "--coin", "BTC", "--format", "csv"]
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, check=True)
    lines = done.stdout.decode().splitlines()
    assert lines[0].startswith("open_time,open,high,low,close,volume,close_time")
    assert len(lines) == 9_458
    out = tmp_path / "btc.csv"
    subprocess.run([*cmd, "--out", str(out)], cwd=ROOT, env=env, check=True, capture_output=True)
    frame = pd.read_csv(out)
    assert len(frame) == 9_457 and list(frame.columns) == list(store.COLUMNS)


def test_export_without_data_exits_1_and_says_how_to_fetch(capsys):
    assert main(["export", "--coin", "POL"]) == 1
    assert "python -m core fetch --coins POL" in capsys.readouterr().err


def test_real_process_exit_codes(fake_binance, home):
    env = {**os.environ, "CRYPTOVOLT_HOME": str(home)}
    base = [sys.executable, "-m", "core", "fetch", "--days", "1", "--base-url", fake_binance.url]
    ok = subprocess.run([*base, "--coins", "BTC"], cwd=ROOT, env=env, capture_output=True)
    assert ok.returncode == 0, ok.stderr
    bad = subprocess.run([*base, "--coins", "FOO"], cwd=ROOT, env=env, capture_output=True)
    assert bad.returncode == 1
    assert bad.stderr.decode().strip().splitlines()[-1].startswith("error: 1 of 1 coin(s) failed")


def test_5m_candles_are_stored_beside_the_1h_and_a_rerun_only_tops_up(fake_binance, capsys):
    """``fetch --interval 5m`` (the realised-variance target's candles) goes through the same
    polite fetch: its own file beside the 1h one, and a rerun asks only for what is new."""
    args = ["fetch", "--coins", "BTC", "--days", "4", "--base-url", fake_binance.url]
    assert main(args) == 0
    assert main([*args, "--interval", "5m"]) == 0, capsys.readouterr().err
    five = store.load_candles("BTC", "5m")
    assert len(five) == 4 * 288 and len(store.load_candles("BTC")) == 96
    steps = five["open_time"].diff().dropna().unique()
    assert list(steps) == [pd.Timedelta(minutes=5)]
    assert {("BTCUSDT", "1h"), ("BTCUSDT", "5m")} <= set(store.list_stored())
    klines = [r for r in fake_binance.requests if r.path == "/api/v3/klines"]
    assert [r.params["interval"] for r in klines].count("5m") == 2  # 1,152 candles: 2 pages
    fake_binance.reset_counts()
    assert main([*args, "--interval", "5m"]) == 0
    assert fake_binance.count() <= 1 and len(store.load_candles("BTC", "5m")) >= 4 * 288
