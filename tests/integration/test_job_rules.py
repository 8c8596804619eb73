"""The rules every job keeps, as real subprocesses and CLI runs: one training or tuning job per
coin at a time (refused in words, nothing started); a failed or cancelled job restarts from its
spec; a damaged status.json is shown as damaged, never hidden; unknown ids end in one ``error:``
line; a job's process never lingers as a zombie of the process that launched it."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from core import jobs
from core.errors import JobError
from core.jobs.tune_job import TuneJob, cancel_sweep, sweep_status
from core.tuning import TuneSpec
from tests.homes import env_home, env_runs
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "core", *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def _wait_for(predicate, timeout: float, what: str) -> None:
    wait_until(predicate, timeout, what)


@contextlib.contextmanager
def _all_slots_taken(home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """One slot, held by this test process: launched training jobs stay queued."""
    monkeypatch.setenv("CRYPTOVOLT_JOB_SLOTS", "1")
    slots = home / "runs" / ".slots"
    slots.mkdir(parents=True, exist_ok=True)
    with open(slots / "0.lock", "a+") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        yield
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _state_letter(pid: int) -> str | None:
    """The process's state letter (Z for a zombie), None once it is gone for good."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except OSError:
        return None


def test_a_second_training_job_for_a_busy_coin_is_refused_in_words(
    home_with_sample: Path, monkeypatch
):
    with _all_slots_taken(home_with_sample, monkeypatch):
        first = jobs.launch(jobs.JobSpec("BTC", models=("xgboost",)), home=env_home())
        try:
            with pytest.raises(JobError, match=f"BTCUSDT already has a training job .*{first}"):
                jobs.launch(jobs.JobSpec("BTC", models=("lstm",)), home=env_home())
            # the CLI checks every coin before it starts any: ETH is not started either
            run = _cli("train", "--coins", "ETH,BTC", "--models", "xgboost", "--background")
            assert run.returncode == 1
            [line] = run.stderr.strip().splitlines()
            assert line.startswith("error: BTCUSDT already has a training job queued")
            assert "one job per coin at a time" in line and "nothing was started" in line
            # a sweep of the same coin (foreground or background) is refused the same way
            tune = _cli("tune", "--coin", "BTC", "--model", "xgb", "--trials", "1")
            assert tune.returncode == 1 and "BTCUSDT already has a training job" in tune.stderr
            with pytest.raises(JobError, match="BTCUSDT already has a training job"):
                jobs.launch(TuneJob(TuneSpec("BTC", "xgb", trials=1)), home=env_home())
            assert [j.job_id for j in jobs.list_jobs(runs=env_runs())] == [first]
            # another coin is free
            other = jobs.launch(jobs.JobSpec("ETH", models=("xgboost",)), home=env_home())
            jobs.cancel(other, runs=env_runs())
        finally:
            jobs.cancel(first, runs=env_runs())
        # once the first one is cancelled the coin is free again
        again = jobs.launch(jobs.JobSpec("BTC", models=("xgboost",)), home=env_home())
        jobs.cancel(again, runs=env_runs())


@pytest.mark.slow
def test_a_running_sweep_keeps_its_coin_from_training(home_with_sample: Path):
    spec = TuneSpec("BTC", "xgb", trials=50, fixed={"n_estimators": 10, "max_depth": 2})
    sweep = jobs.launch(TuneJob(spec), home=env_home())
    pid = json.loads((home_with_sample / "runs" / sweep / "pid.json").read_text())["pid"]
    try:
        with pytest.raises(JobError, match=f"BTCUSDT already has a sweep .*{spec.study}, {sweep}"):
            jobs.launch(jobs.JobSpec("BTC", models=("xgboost",)), home=env_home())
        run = _cli("train", "--coins", "BTC", "--models", "xgboost", "--trees", "5")
        assert run.returncode == 1 and "already has a sweep" in run.stderr
        other = TuneSpec("BTC", "lstm", trials=1, fixed={"epochs": 1})
        with pytest.raises(JobError, match="already has a sweep"):
            jobs.launch(TuneJob(other), home=env_home())
    finally:
        cancel_sweep(spec.study, home=env_home())
    assert sweep_status(spec.study, home=env_home()).state is jobs.JobState.CANCELLED
    assert [j.job_id for j in jobs.list_jobs(runs=env_runs())] == [
        sweep
    ]  # nothing else was started
    # the sweep process ended and was reaped: no zombie of this process is left behind
    _wait_for(lambda: _state_letter(pid) is None, 60, "the sweep process to be reaped")


def test_a_cancelled_job_restarts_from_its_spec(home_with_sample: Path, monkeypatch):
    with _all_slots_taken(home_with_sample, monkeypatch):
        spec = jobs.JobSpec("ETH", models=("xgboost",))
        first = jobs.launch(spec, home=env_home())
        with pytest.raises(JobError, match="still queued: cancel it first"):
            jobs.restart(first, home=env_home())
        assert jobs.cancel(first, runs=env_runs()).state is jobs.JobState.CANCELLED
        run = _cli("job", "restart", first)
        assert run.returncode == 0, run.stderr
        second = run.stdout.strip().rsplit(" ", 1)[-1]
        try:
            assert second != first
            assert jobs.read_spec(second, runs=env_runs()) == spec
            assert jobs.status(second, runs=env_runs()).state is jobs.JobState.QUEUED
            with pytest.raises(JobError, match="already has a training job"):
                jobs.restart(first, home=env_home())  # the restarted one holds the coin now
        finally:
            jobs.cancel(second, runs=env_runs())


def test_a_damaged_status_file_shows_as_damaged_and_fails_the_listing(home: Path, monkeypatch):
    with _all_slots_taken(home, monkeypatch):
        good = jobs.launch(jobs.JobSpec("ETH", models=("xgboost",)), home=env_home())
        jobs.cancel(good, runs=env_runs())
    broken = home / "runs" / "20250101-000000-btcusdt-abcd"
    broken.mkdir(parents=True)
    (broken / "spec.json").write_text(json.dumps(jobs.JobSpec("BTC").to_dict()))
    (broken / "status.json").write_text('{"state": "runn')  # cut off
    listed = _cli("job", "list")
    assert listed.returncode == 1
    assert broken.name in listed.stdout and "damaged" in listed.stdout and good in listed.stdout
    [line] = listed.stderr.strip().splitlines()
    assert line.startswith(f"error: job {broken.name} is damaged: its status.json is not valid")
    as_json = _cli("job", "list", "--json")
    assert as_json.returncode == 1
    found = {j["job_id"]: j for j in json.loads(as_json.stdout)}
    assert "not valid JSON" in found[broken.name]["damaged"]
    assert found[broken.name]["symbol"] == "BTCUSDT"
    status = _cli("job", "status", broken.name)
    assert status.returncode == 1 and "damaged" in status.stdout
    assert status.stderr.startswith(f"error: job {broken.name} is damaged")
    assert (broken / "status.json").read_text() == '{"state": "runn'  # the evidence is kept
    (broken / "status.json").write_text("[1, 2, 3]")
    assert "does not hold a JSON object" in jobs.status(broken.name, runs=env_runs()).error


def test_unknown_job_ids_end_in_one_error_line(home: Path):
    for action in ("log", "status", "cancel", "restart"):
        run = _cli("job", action, "20250101-000000-btcusdt-ffff")
        assert run.returncode == 1, action
        [line] = run.stderr.strip().splitlines()
        assert line.startswith("error: No job '20250101-000000-btcusdt-ffff'"), (action, line)
        assert run.stdout == ""


def test_a_finished_job_process_is_reaped_without_anyone_asking(home: Path):
    job_id = jobs.launch(
        jobs.JobSpec("DOT", models=("xgboost",)), home=env_home()
    )  # no candles: fails at once
    path = home / "runs" / job_id / "pid.json"
    _wait_for(path.exists, 30, "the pid file")
    pid = json.loads(path.read_text())["pid"]

    def ended() -> bool:  # read the file itself: asking jobs.status would reap on the old code
        data = json.loads((home / "runs" / job_id / "status.json").read_text())
        return data["state"] == "failed"

    _wait_for(ended, 120, "the job to fail")
    _wait_for(lambda: _state_letter(pid) is None, 60, "the job process to be reaped")
    assert os.getpid() != pid
