"""The watch loop against the fake Binance on a clock the test moves: a cycle per candle close,
one journal entry per coin per close, calls resolved at their horizon, and nothing lost or
doubled when the watch is killed with SIGKILL and started again."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from core.clock import FileClock, set_file_clock
from core.data.store import load_candles
from core.signals import journal
from tests.conftest import ROOT
from tests.homes import env_paths
from tests.live_home import DELAY, HOUR, continue_prices, prepare
from tests.waiting import WaitTimeout, wait_until

pytestmark = pytest.mark.slow

HORIZON = 6


@pytest.fixture
def watched_home(home: Path) -> pd.Timestamp:
    return prepare(home)


def _start_watch(home: Path, clock: Path, url: str) -> subprocess.Popen[str]:
    env = {**os.environ, "CRYPTOVOLT_HOME": str(home), "BINANCE_BASE_URL": url}
    return subprocess.Popen(
        [sys.executable, "-m", "core", "watch", "--coins", "BTC,ETH", "--clock-file", str(clock)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def _wait_for_cycle(home: Path, proc: subprocess.Popen[str], at: pd.Timestamp) -> dict:
    """Wait until ``proc`` wrote the state of its cycle at ``at``; returns that cycle."""
    path = home / "live" / "watch.json"

    def cycle() -> dict | None:
        if proc.poll() is not None:
            raise AssertionError(f"watch exited {proc.returncode}:\n{proc.stdout.read()}")
        state = json.loads(path.read_text())
        last = state.get("last_cycle") or {}
        if state.get("pid") == proc.pid and last.get("at") and pd.Timestamp(last["at"]) == at:
            return last
        return None

    try:
        return wait_until(cycle, 180, f"the watch's cycle at {at}", ignore=(OSError, ValueError))
    except WaitTimeout:
        proc.kill()
        raise AssertionError(f"no cycle at {at}:\n{proc.stdout.read()}") from None


def _per_coin(frame: pd.DataFrame) -> dict[str, list[pd.Timestamp]]:
    return {s: sorted(g["candle_time"]) for s, g in frame.groupby("symbol")}


def test_watch_journals_every_close_once_across_a_kill_and_resolves_at_the_horizon(
    home: Path, watched_home: pd.Timestamp, fake_binance
):
    last_close = watched_home
    clock = home / "clock.txt"
    t0 = last_close + DELAY
    set_file_clock(clock, t0)
    fake_binance.state.now_ms = lambda: int(FileClock(clock).now().timestamp() * 1000)
    continue_prices(fake_binance)
    first_candle = last_close - HOUR  # the last stored candle: the first cycle's signal

    proc = _start_watch(home, clock, fake_binance.url)
    try:
        assert _wait_for_cycle(home, proc, t0)["recorded"] == 2  # BTC and ETH
        set_file_clock(clock, t0 + HOUR)  # the next close (+5 s): the watch wakes and tops up
        cycle = _wait_for_cycle(home, proc, t0 + HOUR)
        assert cycle["ok"] and cycle["recorded"] == 2
        proc.send_signal(signal.SIGKILL)  # between cycles, while it sleeps
        proc.wait(10)

        proc = _start_watch(home, clock, fake_binance.url)
        again = _wait_for_cycle(home, proc, t0 + HOUR)  # the restart's first cycle: same close
        assert again["ok"] and again["recorded"] == 0  # nothing written twice
        set_file_clock(clock, t0 + 2 * HOUR)
        assert _wait_for_cycle(home, proc, t0 + 2 * HOUR)["recorded"] == 2

        frame = journal.entries(home)
        expected = [first_candle + k * HOUR for k in range(3)]
        assert _per_coin(frame) == {"BTCUSDT": expected, "ETHUSDT": expected}
        assert frame["id"].is_unique
        assert set(frame.loc[frame["symbol"] == "BTCUSDT", "status"]) == {"pending"}

        # six closes after the first call, its exit candle is stored: the three calls resolve
        # one after another, each at its own horizon
        set_file_clock(clock, t0 + HORIZON * HOUR)
        assert _wait_for_cycle(home, proc, t0 + HORIZON * HOUR)["resolved"] == 1
        set_file_clock(clock, t0 + (HORIZON + 2) * HOUR)
        assert _wait_for_cycle(home, proc, t0 + (HORIZON + 2) * HOUR)["resolved"] == 2
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)
    assert proc.returncode == 0

    frame = journal.entries(home)
    btc = frame[frame["symbol"] == "BTCUSDT"].set_index("candle_time").sort_index()
    for candle in expected:
        row = btc.loc[candle]
        assert row["status"] in {"hit", "miss"}
        assert row["exit_time"] == candle + HORIZON * HOUR
        stored = load_candles("BTCUSDT", "1h").set_index("open_time")
        assert row["exit_close"] == stored.loc[candle + HORIZON * HOUR, "close"]
    eth = frame[frame["symbol"] == "ETHUSDT"]
    assert set(eth["status"]) == {journal.NO_EDGE}  # recorded, never judged
    assert len(btc) == 5 and len(eth) == 5  # closes t0, +1, +2, +6, +8: one entry each
    assert all(report.ok for report in journal.verify(home))
    log = (home / "logs" / "watch.log").read_text()
    assert log.count("watch started") == 2


def test_watch_once_with_binance_unreachable_fails_the_cycle_and_says_why(
    home: Path, watched_home: pd.Timestamp
):
    clock = home / "clock.txt"
    set_file_clock(clock, watched_home + 3 * HOUR + DELAY)
    env = {**os.environ, "CRYPTOVOLT_HOME": str(home), "BINANCE_BASE_URL": "http://127.0.0.1:9"}
    done = subprocess.run(
        [sys.executable, "-m", "core", "watch", "--once", "--quick", "--coins", "BTC"]
        + ["--clock-file", str(clock)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "failed: Binance cannot be reached" in done.stdout
    # the stored candles are 3 h old, within the horizon: the signal still comes from them
    assert len(journal.entries(home, symbol="BTCUSDT")) == 1


def test_watch_once_holds_candles_from_another_source_back_and_warns(
    home: Path, watched_home: pd.Timestamp, fake_binance
):
    from core.data import quarantine
    from core.data.store import candle_path

    stored = {s: candle_path(s).read_bytes() for s in ("BTCUSDT", "ETHUSDT")}
    clock = home / "clock.txt"
    set_file_clock(clock, watched_home + 3 * HOUR + DELAY)  # three closes since the last candle
    env = {**os.environ, "CRYPTOVOLT_HOME": str(home), "BINANCE_BASE_URL": fake_binance.url}
    done = subprocess.run(  # the fake's prices do not carry on from the stored closes
        [sys.executable, "-m", "core", "watch", "--once", "--quick", "--coins", "BTC,ETH"]
        + ["--clock-file", str(clock)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    log = (home / "logs" / "watch.log").read_text()
    warned = [line for line in log.splitlines() if "were not stored and are held" in line]
    assert len(warned) == 2 and all("WARNING" in line for line in warned)
    for symbol, data in stored.items():
        assert candle_path(symbol).read_bytes() == data
        assert len(quarantine.held_candles(symbol, paths=env_paths())) == 3
