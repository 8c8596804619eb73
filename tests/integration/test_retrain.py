"""Retraining: a stale champion gets a challenger trained with the champion's own settings,
promoted only when it passes its gates and beats the champion; the log says why either way."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from core import jobs
from core.errors import ConfigError
from core.live.health import Health
from core.live.retrain import parse_age, plan
from core.registry.model_registry import ModelRegistry
from tests.card_home import copy_carded_into
from tests.conftest import ROOT
from tests.homes import env_runs
from tests.waiting import wait_until

pytestmark = pytest.mark.slow


def _retrain(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CRYPTOVOLT_HOME": str(home), "TF_CPP_MIN_LOG_LEVEL": "2"}
    return subprocess.run(
        [sys.executable, "-m", "core", "retrain", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_stale_champion_gets_a_challenger_that_stays_one_when_its_gates_fail(home: Path):
    copy_carded_into(home)
    registry = ModelRegistry()
    name = "xgb_direction_ethusdt"
    champion = registry.record(name)
    assert champion.version == "v1"

    fresh = _retrain(home, "--coins", "ETH", "--if-stale", "7d")
    assert fresh.returncode == 0, fresh.stderr
    assert "fresh" in fresh.stdout and "Nothing to retrain." in fresh.stdout
    assert registry.versions(name) == ["v1", "v2"]

    stale = _retrain(home, "--coins", "ETH", "--if-stale", "0d")
    assert stale.returncode == 0, stale.stderr
    assert "xgb_direction_ethusdt v1 is" in stale.stdout and "stale" in stale.stdout
    assert "xgb_direction_ethusdt v3: not promoted: no edge" in stale.stdout
    assert "v1 stays champion" in stale.stdout
    challenger = registry.record(name, "v3")
    assert registry.promoted_version(name) == "v1"
    assert challenger.params == champion.params  # the champion's settings, new data only
    assert challenger.split["folds"] == champion.split["folds"] == 2
    log = (home / "logs" / "retrain.log").read_text()
    assert "ETHUSDT: retrain xgb_direction" in log and "v3: not promoted" in log
    # it trained as a job of its own (listed, one per coin, `job cancel` stops it)
    (job,) = jobs.list_jobs(kind="train", runs=env_runs())
    assert job.state is jobs.JobState.SUCCEEDED and job.symbol == "ETHUSDT"
    assert [(r.name, r.version) for r in job.result] == [(name, "v3")]


def test_a_degraded_coin_retrains_every_champion_and_a_healthy_one_says_why_not(home: Path):
    copy_carded_into(home)
    health = {
        "BTCUSDT": Health("BTCUSDT", "degraded", 0, "BULLISH hit rate 10% is below 52-60%"),
        "ETHUSDT": Health("ETHUSDT", "on_track", 0, ""),
    }
    btc, eth = plan(["BTCUSDT", "ETHUSDT"], home=home, if_degraded=True, health=health)
    assert btc.kinds == ("xgb_direction", "lstm_return")
    assert btc.reasons == ("BTCUSDT is degraded: BULLISH hit rate 10% is below 52-60%",)
    assert btc.spec.settings["lstm_return"].units == 4  # the champion's tiny LSTM, not defaults
    assert eth.kinds == () and eth.reasons == ("not degraded: ETHUSDT is on track",)


def test_retrain_needs_a_condition_and_an_age_it_understands(home: Path):
    with pytest.raises(ConfigError, match="--if-stale 7d and/or --if-degraded"):
        plan([], home=home, stale_after=None, if_degraded=False)
    assert parse_age("7d").days == 7 and parse_age("12h").total_seconds() == 12 * 3600
    with pytest.raises(ConfigError, match="an age looks like 7d"):
        parse_age("a week")


def test_watch_retrain_switch_runs_a_background_job_and_logs_its_outcome_once(
    home: Path, monkeypatch: pytest.MonkeyPatch
):
    import json
    from datetime import timedelta

    from core import jobs
    from core.live.watch import Watch, WatchConfig

    copy_carded_into(home)
    monkeypatch.setenv("BINANCE_BASE_URL", "http://127.0.0.1:9")  # offline: the signal is stale
    watch = Watch(
        WatchConfig(coins=("ETHUSDT",), patient=False, retrain_stale=timedelta(0)), home=home
    )
    watch.cycle()
    job = json.loads((home / "live" / "retrain.json").read_text())["ETHUSDT"]["job"]
    wait_until(
        lambda: jobs.status(job, runs=env_runs()).state.finished,
        300,
        f"retrain job {job} to end",
        interval=0.5,
        details=lambda: jobs.tail_log(job, runs=env_runs()),
    )
    assert jobs.status(job, runs=env_runs()).state == jobs.JobState.SUCCEEDED
    watch.cycle()  # reports the finished job; the coin is not retried within the hour
    watch.cycle()
    log = (home / "logs" / "watch.log").read_text()
    assert log.count("retrain ETHUSDT: job") == 1
    outcome = "retrain ETHUSDT: xgb_direction_ethusdt v3: not promoted: No edge: passes"
    assert log.count(outcome) == 1
    assert ModelRegistry().promoted_version("xgb_direction_ethusdt") == "v1"
