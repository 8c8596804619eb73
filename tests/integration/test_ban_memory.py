"""Binance's ban (418) and pause (429 ``Retry-After``) hold across processes (core.data.ban_memory):
real ``python -m core fetch`` subprocesses against the fake Binance on loopback.

A second run during a ban sends nothing and says until when; after the ban it fetches normally.
A run started during another run's 429 pause sends nothing before the pause ends (the fake bans
an IP that knocks during a back-off, as Binance does).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.data import ban_memory, store
from core.data.binance import BinanceClient
from core.errors import BannedError
from tests.fake_binance import FakeBinance
from tests.homes import env_paths
from tests.waiting import wait_until

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
BAN = 40  # seconds: longer than a client sits out (10 s) after two slow interpreter starts
PAUSE = 20


def _refusals() -> Path:
    """The ban memory of the home this test runs in."""
    return ban_memory.refusals_path(env_paths().data)


def fetch(home: Path, url: str, coins: str, days: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "core", "fetch", "--coins", coins, "--days", str(days)]
        + ["--base-url", url],
        cwd=ROOT,
        env={**os.environ, "CRYPTOVOLT_HOME": str(home)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(proc: subprocess.Popen) -> tuple[int, str]:
    out, err = proc.communicate(timeout=180)
    return proc.returncode, out + err


def test_a_rerun_during_a_ban_sends_nothing_and_after_it_fetches(home: Path):
    with FakeBinance() as fake:
        fake.ban(BAN)
        code, said = finish(fetch(home, fake.url, "BTC", 30))
        assert code == 1 and "Binance banned this IP until" in said, said
        assert fake.arrived == 1 and fake.requests_in_backoff == 1  # the first 418 stopped it
        remembered = ban_memory.recall(fake.url, now=time.time(), refusals=_refusals())
        assert remembered is not None and remembered.kind == ban_memory.BAN

        code, said = finish(fetch(home, fake.url, "BTC,ETH", 30))
        assert code == 1, said
        assert "Binance banned this IP until" in said and "fetch again after that" in said, said
        assert fake.arrived == 1, "the second run sent requests during the ban"
        assert not store.candle_path("BTCUSDT", "1h").exists()

        wait_until(
            lambda: ban_memory.recall(fake.url, now=time.time(), refusals=_refusals()) is None,
            BAN + 30,
            "the remembered ban to expire by itself",
            interval=0.5,
        )
        code, said = finish(fetch(home, fake.url, "BTC,ETH", 30))
        assert code == 0, said
        assert fake.requests_in_backoff == 1  # still only the first run's one request
        assert [r.status for r in fake.requests[1:]] == [200] * (fake.arrived - 1)
        assert len(store.load_candles("BTCUSDT")) == len(store.load_candles("ETHUSDT")) == 720


def test_a_run_started_during_another_runs_429_pause_waits_for_it(home: Path):
    with FakeBinance(latency=0.02) as fake:
        fake.fail_next("429", retry_after=PAUSE, symbol="BTCUSDT")
        first = fetch(home, fake.url, "BTC", 60)
        hit = wait_until(
            lambda: next((r for r in fake.requests if r.status == 429), None),
            120,
            "the first run's 429",
            interval=0.02,
        )
        launched = time.monotonic()
        second = fetch(home, fake.url, "ETH", 30)
        (code1, said1), (code2, said2) = finish(first), finish(second)
        assert code1 == 0 and code2 == 0, (said1, said2)
        assert launched < hit.at + PAUSE - 5, "the second run did not start during the pause"
        eth = [r for r in fake.requests if r.params.get("symbol") == "ETHUSDT"]
        assert eth and min(r.at for r in eth) >= hit.at + PAUSE - 0.5
        # the first run's requests already on the wire may land just after the 429 (a loaded
        # machine can stretch that); nothing else arrives until the pause is over
        sent_in_pause = [r for r in fake.requests if hit.at + 1.0 < r.at < hit.at + PAUSE - 0.5]
        assert sent_in_pause == [], [(r.path, r.params.get("symbol")) for r in sent_in_pause]
        assert fake.requests_in_backoff == 0
        assert 418 not in {r.status for r in fake.requests}
        assert len(store.load_candles("ETHUSDT")) == 720


def test_a_418_without_retry_after_is_banned_until_the_end_in_its_body(home: Path):
    # Binance writes the ban's end in the body ("IP banned until 1620286253180", epoch ms); a
    # proxy that drops Retry-After must not shorten a 2-hour ban to the 1-minute default
    with FakeBinance() as fake:
        fake.fail_next("418", retry_after=7200, header=False)
        start_ms = int(time.time() * 1000) - 10 * 3_600_000
        with (
            BinanceClient(fake.url) as client,
            pytest.raises(BannedError, match=r"\(for (2 hours|1 hour 59 minutes)"),
        ):
            client.klines("BTCUSDT", "1h", start_ms=start_ms)
        remembered = ban_memory.recall(fake.url, now=time.time(), refusals=_refusals())
        assert remembered is not None and remembered.until - time.time() > 7100
