"""Training jobs on a real local Ray (``ray.init(num_cpus=2)``): two tiny coins end in the
registry; a killed worker fails its job with the reason and leaves no half version; cancel stops
a Ray task; an unreachable address and a missing Ray fail in one line."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from core import jobs
from core.data.store import save_candles
from core.registry.model_registry import ModelRegistry
from tests.homes import env_runs
from tests.random_walk import random_walk_candles
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
TINY_XGB = ["--models", "xgb", "--trees", "5", "--depth", "2"]
#: An LSTM that keeps fitting long enough to be killed or cancelled mid-training.
LONG_LSTM = [
    "--models",
    "lstm",
    "--window",
    "8",
    "--units",
    "4",
    "--epochs",
    "400",
    "--patience",
    "0",
]


def _env(home: Path) -> dict[str, str]:
    return {
        **os.environ,
        "CRYPTOVOLT_HOME": str(home),
        "CRYPTOVOLT_JOB_SLOTS": "2",  # the local Ray gets num_cpus=2
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }


def _core(home: Path, *args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "core", *args],
        cwd=ROOT,
        env=_env(home),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _coins(*symbols: str, rows: int = 3000) -> None:
    for seed, symbol in enumerate(symbols, start=1):
        save_candles(random_walk_candles(rows, seed=seed), symbol, "1h")


@contextlib.contextmanager
def _refusing_port() -> Iterator[int]:
    """A loopback port bound by this test and never listened on: connections to it are refused
    for as long as the block runs (a port found free and let go could be taken meanwhile)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def _wait_for(predicate, timeout: float, what: str):
    return wait_until(
        predicate,
        timeout,
        what,
        interval=0.2,
        details=lambda: [j.to_dict() for j in jobs.list_jobs(runs=env_runs())],
    )


@pytest.mark.ray
@pytest.mark.slow
def test_two_coins_train_through_ray_into_the_registry(home: Path):
    _coins("BTCUSDT", "ETHUSDT")
    run = _core(home, "train", "--coins", "BTC,ETH", *TINY_XGB, "--executor", "ray")
    assert run.returncode == 0, run.stderr[-3000:]
    assert "xgboost_btcusdt  v1" in run.stdout and "xgboost_ethusdt  v1" in run.stdout
    registry = ModelRegistry()
    for name in ("xgboost_btcusdt", "xgboost_ethusdt"):
        registry.get_model(name)  # checksums verified before loading
        assert registry.record(name).version == "v1"
    listed = jobs.list_jobs(runs=env_runs())
    assert sorted(j.symbol for j in listed) == ["BTCUSDT", "ETHUSDT"]
    for job in listed:  # the same job folders, status and logs as the local queue
        assert job.state is jobs.JobState.SUCCEEDED
        assert job.extra["executor"] == "ray" and job.slot is None
        assert "registered xgboost_" in jobs.tail_log(job.job_id, runs=env_runs())
        assert job.result[0].name.startswith("xgboost_")


@pytest.mark.ray
@pytest.mark.slow
def test_killed_worker_fails_its_job_and_cancel_stops_a_ray_task(home: Path):
    _coins("BTCUSDT", "ETHUSDT")
    run = _core(
        home, "train", "--coins", "BTC,ETH", *LONG_LSTM, "--executor", "ray", "--background"
    )
    assert run.returncode == 0, run.stderr
    ids = {
        line.split(":")[0]: line.split()[2] for line in run.stdout.splitlines() if " job " in line
    }
    btc, eth = ids["BTCUSDT"], ids["ETHUSDT"]

    def fitting() -> bool:
        found = [jobs.status(j, runs=env_runs()) for j in (btc, eth)]
        return all(s.stage == "fitting" and s.step >= 1 for s in found)

    _wait_for(fitting, 150, "both Ray jobs fitting")
    worker = jobs.status(btc, runs=env_runs()).pid
    assert worker and "cryptovolt-" + btc in Path(f"/proc/{worker}/cmdline").read_text()
    os.kill(worker, signal.SIGKILL)  # the Ray worker dies mid-training
    cancelled = jobs.cancel(eth, runs=env_runs())
    assert cancelled.state is jobs.JobState.CANCELLED

    failed = _wait_for(
        lambda: (s := jobs.status(btc, runs=env_runs())).state is jobs.JobState.FAILED and s,
        60,
        "BTC failed",
    )
    assert "Ray worker" in failed.error and "died" in failed.error, failed.error
    assert jobs.status(eth, runs=env_runs()).state is jobs.JobState.CANCELLED
    # nothing half-written: no version, no temp folder that a reader could take for one
    registry = ModelRegistry()
    assert [registry.versions(name) for name in registry.names()] in ([], [[]], [[], []])
    assert registry.records() == []
    driver = jobs.status(btc, runs=env_runs()).extra["driver_pid"]
    _wait_for(lambda: not Path(f"/proc/{driver}").exists() or _zombie(driver), 60, "driver exit")


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0] == "Z"
    except OSError:
        return True


def test_unreachable_address_fails_fast_in_one_line_naming_it(home: Path):
    _coins("BTCUSDT", rows=3000)
    with _refusing_port() as port:
        address = f"ray://127.0.0.1:{port}"
        started = time.monotonic()
        run = _core(
            home, "train", "--coins", "BTC", *TINY_XGB, "--executor", "ray", "--address", address
        )
        assert time.monotonic() - started < 30
    assert run.returncode == 1
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and address in lines[0], run.stderr
    assert not (home / "runs").exists()  # refused before any job was made


def test_executor_ray_without_ray_says_how_to_install_it(home: Path, tmp_path: Path):
    _coins("BTCUSDT", rows=3000)
    blocker = tmp_path / "no_ray"
    blocker.mkdir()
    (blocker / "ray.py").write_text("raise ImportError('No module named ray')\n")
    env = {**_env(home), "PYTHONPATH": f"{blocker}{os.pathsep}{ROOT}"}
    run = subprocess.run(
        [sys.executable, "-m", "core", "train", "--coins", "BTC", *TINY_XGB, "--executor", "ray"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 1
    assert "pip install -r requirements-ray.txt" in run.stderr and run.stderr.count("\n") == 1
