"""``python -m core fetch`` and ``export``: exit codes, the coverage table, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd

from core.cli import main
from core.data import store
from tests.homes import env_runs

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


def test_a_fetch_in_a_terminal_is_a_job_that_job_cancel_stops_and_a_rerun_completes(home):
    """`fetch` in a terminal is a job like a background one: `job list --json` shows it and its
    coins while it runs, `job cancel` from another shell stops it after the pages in hand (exit
    130, status cancelled, the candles stored so far intact), and the same fetch run again
    completes from where it stopped."""
    from core import jobs
    from tests.fake_binance import FakeBinance
    from tests.integration.test_fetch_fake_binance import assert_one_unbroken_run
    from tests.waiting import took_sigterm, wait_until

    env = {**os.environ, "CRYPTOVOLT_HOME": str(home)}
    # one request at a time, 0.2 s each: 18 pages for ETH; once the first are on disk the fake
    # holds later requests, so the cancel lands mid-fetch
    with FakeBinance(listed_hours=20_000, latency=0.2) as fake:
        cmd = [sys.executable, "-m", "core", "fetch", "--coins", "ETH", "--base-url", fake.url]
        fetch = subprocess.Popen(
            [*cmd, "--workers", "1"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            process_group=0,  # as a shell with job control runs it: the terminal's session
        )
        try:

            def listed() -> list[dict]:
                assert fetch.poll() is None, fetch.communicate()
                shown = subprocess.run(
                    [sys.executable, "-m", "core", "job", "list", "--json"],
                    cwd=ROOT,
                    env=env,
                    capture_output=True,
                    text=True,
                )
                assert shown.returncode == 0, shown.stderr
                return [j for j in json.loads(shown.stdout) if j["state"] == "running"]

            (job,) = wait_until(listed, 120, "the terminal's fetch listed as a running job")
            assert job["kind"] == "fetch" and job["pid"] == fetch.pid
            assert [c["symbol"] for c in job["coins"]] == ["ETHUSDT"]
            wait_until(
                lambda: listed() and store.candle_path("ETHUSDT").exists(),
                120,
                "the fetch's first pages on disk",
            )
            fake.hold()
            cancel = subprocess.Popen(
                [sys.executable, "-m", "core", "job", "cancel", job["job_id"]],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            # the held answer is given once the fetch is stopping: it saves what it has and ends
            wait_until(lambda: took_sigterm(fetch.pid), 60, "the fetch to take the SIGTERM")
            fake.release()
            out, err = cancel.communicate(timeout=120)
            assert cancel.returncode == 0 and f"{job['job_id']}: cancelled" in out, err
            _, fetch_err = fetch.communicate(timeout=60)
        finally:
            if fetch.poll() is None:
                fetch.kill()
                fetch.wait()
        assert fetch.returncode == 130, fetch_err[-2000:]
        assert "fetch cancelled: the candles stored so far stay" in fetch_err
        final = jobs.status(job["job_id"], runs=env_runs())
        assert final.state == "cancelled" and final.kind is jobs.JobKind.FETCH
        stored = store.load_candles("ETHUSDT")
        assert 0 < len(stored) < 17_520, "pages fetched before the cancel are saved"
        assert_one_unbroken_run(stored)
        assert "cancelled" in jobs.tail_log(job["job_id"], runs=env_runs())

        fake.reset_counts()
        rerun = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert rerun.returncode == 0, rerun.stderr
        asked = fake.count(symbol="ETHUSDT")
    assert "up to date" in rerun.stdout
    full = store.load_candles("ETHUSDT")
    assert len(full) >= 17_520 and full["open_time"].iloc[: len(stored)].equals(stored["open_time"])
    assert asked < 18, f"the rerun asked for every page again ({asked} requests)"
    done, cancelled = jobs.list_jobs(kind="fetch", runs=env_runs())
    assert (done.state, cancelled.job_id) == ("succeeded", job["job_id"])
    assert [(c.symbol, c.state) for c in done.coins] == [("ETHUSDT", "up to date")]
    assert done.coins[0].new_rows == len(full) - len(stored)
