"""``python -m core tune`` as real processes: a sweep killed after 2 of 4 trials resumes to 4 and
trains a carded version; a second sweep of the same study is refused while one runs; a
background sweep is cancelled and keeps its finished trials; trials run as Ray tasks."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from core import jobs
from core.data.store import save_candles
from core.jobs.control import STOPPING_FILE
from core.jobs.tune_job import TuneJob, cancel_sweep, sweep_status
from core.registry.model_registry import ModelRegistry
from core.tuning import TuneSpec, counts, load_study, lock_holder, trials_frame
from tests.homes import env_home, env_runs
from tests.random_walk import random_walk_candles
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
STUDY = "xgboost_btcusdt_1h"
#: Trees and depth held fixed so a trial takes a few seconds; the rest of the space is searched.
SMALL = ["--coin", "BTC", "--model", "xgb", "--trees", "60", "--depth", "3"]


def _env(home: Path) -> dict[str, str]:
    return {**os.environ, "CRYPTOVOLT_HOME": str(home), "CRYPTOVOLT_JOB_SLOTS": "2"}


def _tune(home: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "core", "tune", *args],
        cwd=ROOT,
        env=_env(home),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _finished(home: Path) -> int:
    try:
        return counts(load_study(home, STUDY))["finished"]
    except Exception:  # the study file is being created
        return 0


def _wait(predicate, timeout: float, what: str) -> None:
    def holds() -> bool:
        if predicate():
            return True
        found = sweep_status(STUDY, home=env_home()) or {}
        if found.get("state") == "failed" and "exited" not in str(found.get("error")):
            pytest.fail(f"the sweep failed while waiting for {what}: {found}")
        return False

    wait_until(
        holds, timeout, what, details=lambda: f"state {sweep_status(STUDY, home=env_home())}"
    )


@pytest.fixture
def btc(home: Path) -> Path:
    save_candles(random_walk_candles(3000, seed=11), "BTCUSDT", "1h")
    return home


@pytest.mark.slow
def test_killed_sweep_resumes_to_four_trials_and_a_second_sweep_is_refused(btc: Path):
    first = subprocess.Popen(
        [sys.executable, "-m", "core", "tune", *SMALL, "--trials", "4"],
        cwd=ROOT,
        env=_env(btc),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        _wait(lambda: lock_holder(btc, STUDY) is not None, 60, "the sweep to take its lock")
        second = _tune(btc, *SMALL, "--trials", "4", "--resume")
        assert second.returncode == 1
        assert second.stderr.strip().count("\n") == 0, second.stderr
        assert f"Study {STUDY} is already being tuned by process {first.pid}" in second.stderr

        _wait(lambda: _finished(btc) >= 2, 240, "2 finished trials")
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(30)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
            first.wait(30)
    killed_at = _finished(btc)
    assert 2 <= killed_at < 4
    assert (
        sweep_status(STUDY, home=env_home())["state"] == "failed"
    )  # the dead process's "running" says so

    refused = _tune(btc, *SMALL, "--trials", "4")  # a stored study is not silently overwritten
    assert refused.returncode == 1 and "--resume continues it" in refused.stderr

    resumed = _tune(btc, *SMALL, "--trials", "4", "--resume")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert counts(load_study(btc, STUDY))["finished"] == 4
    assert f"study {STUDY}: 4 finished trials" in resumed.stdout

    record = ModelRegistry().record("xgboost_btcusdt", "v1")
    tuning = record.card.tuning
    assert tuning.result.study == STUDY and tuning.result.finished == 4
    assert set(tuning.search_space) == {"learning_rate", "subsample", "colsample_bytree"}
    assert (record.params["n_estimators"], record.params["max_depth"]) == (60, 3)  # held fixed
    best = load_study(btc, STUDY).best_trial.params
    assert all(record.params[k] == v for k, v in best.items())  # the best trial's settings
    assert any("best of 4 Optuna trials" in note for note in record.card.notes)
    assert sweep_status(STUDY, home=env_home())["state"] == "succeeded"


@pytest.mark.slow
def test_background_sweep_is_cancelled_and_keeps_its_finished_trials(home: Path):
    save_candles(random_walk_candles(2000, seed=12), "BTCUSDT", "1h")  # no final training here
    spec = TuneSpec("BTC", "xgb", trials=50, fixed={"n_estimators": 20, "max_depth": 2})
    job_id = jobs.launch(TuneJob(spec), home=env_home())
    pid = json.loads((home / "runs" / job_id / "pid.json").read_text())["pid"]
    try:
        _wait(lambda: _finished(home) >= 1, 240, "a finished trial")
        final = cancel_sweep(STUDY, home=env_home())
    finally:
        if Path(f"/proc/{pid}").exists():
            os.killpg(pid, signal.SIGKILL)
    assert final is not None and final.state is jobs.JobState.CANCELLED
    listed = jobs.list_jobs(kind="tune", runs=env_runs())  # a sweep is a job like any other
    assert [(j.job_id, j.symbol, j.extra["study"]) for j in listed] == [(job_id, "BTCUSDT", STUDY)]
    assert listed[0].sweep is not None and listed[0].sweep.finished >= 1
    assert lock_holder(home, STUDY) is None  # the next sweep may start
    frame = trials_frame(home, STUDY)
    assert (frame["state"] == "complete").sum() + (frame["state"] == "pruned").sum() >= 1
    assert "running" not in set(frame["state"])  # the interrupted trial is marked failed
    assert ModelRegistry().names() == []  # a cancelled sweep trains nothing


@contextlib.contextmanager
def _terminal_sweep(home: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """A 50-trial sweep run as a shell with job control runs a command (its own process group,
    the terminal's session), once it has a finished trial: (its process, its job id). Killed on
    the way out if it still runs."""
    save_candles(random_walk_candles(2000, seed=13), "BTCUSDT", "1h")
    sweep = subprocess.Popen(
        [sys.executable, "-m", "core", "tune", "--coin", "BTC", "--model", "xgb"]
        + ["--trials", "50", "--trees", "20", "--depth", "2"],
        cwd=ROOT,
        env=_env(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        process_group=0,
    )
    try:
        _wait(lambda: _finished(home) >= 1, 240, "a finished trial")
        (job_id,) = [j.job_id for j in jobs.list_jobs(kind="tune", runs=env_runs())]
        yield sweep, job_id
    finally:
        if sweep.poll() is None:
            sweep.kill()
            sweep.wait()


@pytest.mark.slow
def test_job_cancel_stops_a_sweep_run_in_a_terminal_and_leaves_its_files(home: Path):
    """`tune` in the foreground registers itself as a job; `job cancel` from another shell must
    stop that process (it has no job id in its command line and does not lead its own session),
    not only write "cancelled" while the sweep runs on and writes "running" back."""
    with _terminal_sweep(home) as (sweep, job_id):
        assert (
            jobs.status(job_id, runs=env_runs()).pid == sweep.pid
        )  # the terminal's process is the job
        cancelled = subprocess.run(
            [sys.executable, "-m", "core", "job", "cancel", job_id],
            cwd=ROOT,
            env=_env(home),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert cancelled.returncode == 0, cancelled.stderr
        _, err = sweep.communicate(timeout=60)  # the sweep process itself ends
    assert sweep.returncode == 130, (
        sweep.returncode,
        err[-2000:],
    )  # it unwound as a cancelled sweep, not killed
    assert f"study {STUDY}: cancelled" in err
    final = jobs.status(job_id, runs=env_runs())
    assert final.state is jobs.JobState.CANCELLED and final.pid == sweep.pid
    folder = home / "runs" / job_id
    assert {"spec.json", "status.json", "job.log"} <= {p.name for p in folder.iterdir()}
    assert lock_holder(home, STUDY) is None  # the next sweep may start
    frame = trials_frame(home, STUDY)
    assert (frame["state"] == "complete").sum() + (frame["state"] == "pruned").sum() >= 1
    assert "running" not in set(frame["state"])
    assert ModelRegistry().names() == []


@pytest.mark.slow
def test_a_cancelled_sweep_that_says_it_is_stopping_is_not_killed_for_being_slow(home: Path):
    """A sweep stops at its next safe point (after the fold it fits), which on a busy machine
    can take longer than cancel's timeout; a job that received the signal says so at once (its
    `stopping` file) and cancel waits for it, up to 30 s more, rather than killing it with its
    trial open. With a timeout of 0.3 s (time for the handler, which runs between two
    bytecodes, to say so), the sweep still unwinds as cancelled at any load."""
    with _terminal_sweep(home) as (sweep, job_id):
        final = jobs.cancel(job_id, runs=env_runs(), timeout=0.3)
        _, err = sweep.communicate(timeout=60)
    assert sweep.returncode == 130, (sweep.returncode, err[-2000:])
    assert final.state is jobs.JobState.CANCELLED
    assert (home / "runs" / job_id / STOPPING_FILE).exists()
    frame = trials_frame(home, STUDY)
    assert "running" not in set(frame["state"])


@pytest.mark.ray
@pytest.mark.slow
def test_trials_run_as_ray_tasks_against_the_same_study(btc: Path):
    run = _tune(btc, *SMALL, "--trials", "2", "--executor", "ray", "--no-train")
    assert run.returncode == 0, run.stderr[-3000:]
    found = counts(load_study(btc, STUDY))
    assert 2 <= found["finished"] <= 3  # parallel tasks may each finish the trial they hold
    assert sweep_status(STUDY, home=env_home())["executor"] == "ray"
