"""``python -m core train / models / job`` as real subprocesses on the bundled sample."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.homes import env_home, env_runs
from tests.waiting import wait_until

#: The direction and seed kinds (the default set before the volatility kinds).
FOUR_KINDS = ("xgb_direction", "lstm_return", "xgboost", "lstm")

ROOT = Path(__file__).resolve().parents[2]
TINY = ["--trees", "5", "--depth", "2", "--window", "8", "--units", "4", "--epochs", "1"]


def _core(home: Path, *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "core", *args],
        cwd=ROOT,
        env={**os.environ, "CRYPTOVOLT_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_impossible_settings_and_missing_data_stop_before_any_work(home_with_sample: Path):
    bad = _core(home_with_sample, "train", "--coins", "BTC", "--trees", "0")
    assert bad.returncode == 1 and "trees" in bad.stderr
    stable = _core(home_with_sample, "train", "--coins", "BTC,USDC")
    assert stable.returncode == 1 and "stablecoin" in stable.stderr
    # DOGE has no candles: refused before BTC (listed first) trains
    missing = _core(home_with_sample, "train", "--coins", "BTC,DOGE", "--models", "xgb")
    assert missing.returncode == 1
    assert "No 1h candles for DOGEUSDT" in missing.stderr and "Fetch them first" in missing.stderr
    models = _core(home_with_sample, "train", "--coins", "BTC", "--models", "forest")
    assert models.returncode == 1 and "Unknown model" in models.stderr
    assert not (home_with_sample / "models").exists()
    assert not (home_with_sample / "runs").exists()


def test_foreground_training_registers_models_listed_by_models_command(home_with_sample: Path):
    run = _core(
        home_with_sample, "train", "--coins", "BTC", "--models", ",".join(FOUR_KINDS), *TINY
    )
    assert run.returncode == 0, run.stderr
    names = [f"{kind}_btcusdt" for kind in FOUR_KINDS]
    for name in names:
        assert name in run.stdout, name
        # the verdict in words and the champion / challenger decision, per model
        verdict = next(line for line in run.stdout.splitlines() if line.startswith(f"{name} v1:"))
        assert ("no edge:" in verdict or "has an edge:" in verdict) and "promoted" in verdict
    assert "NO EDGE" in run.stdout or "pass" in run.stdout
    assert "fitting" in run.stderr, "the progress bar goes to stderr"
    listed = _core(home_with_sample, "models")
    assert listed.returncode == 0
    for name in names:
        row = next(line for line in listed.stdout.splitlines() if line.startswith(f"{name} "))
        assert " v1 " in row and "champion" in row and ("fail" in row or "pass" in row), row
    assert "gates:" in listed.stdout  # the legend says what the gates column means
    rows = json.loads(_core(home_with_sample, "models", "--json").stdout)
    assert {(r["name"], r["version"], r["promoted"]) for r in rows} == {
        (name, "v1", True) for name in names
    }
    shown = json.loads(
        _core(home_with_sample, "models", "show", "xgboost_btcusdt", "--json").stdout
    )
    gates = shown["card"]["gates"]
    assert gates and all({"value", "threshold", "passed"} <= set(g) for g in gates.values())
    assert shown["gates_passed"] == all(g["passed"] for g in gates.values())
    assert _core(home_with_sample, "models", "verify").returncode == 0
    log = (home_with_sample / "logs" / "model_training.log").read_text()
    assert "[cli BTCUSDT]" in log and "registered lstm_btcusdt v1" in log


def test_a_retrained_version_is_a_challenger_unless_forced(home_with_sample: Path):
    xgb = ["--coins", "BTC", "--models", "xgb", *TINY]
    assert _core(home_with_sample, "train", *xgb).returncode == 0
    again = _core(home_with_sample, "train", *xgb)  # same data and seed: it cannot beat v1
    assert again.returncode == 0, again.stderr
    assert "xgboost_btcusdt v2" in again.stdout and "not promoted" in again.stdout
    assert "champion" not in _row(home_with_sample, "xgboost_btcusdt", "v2")
    forced = _core(home_with_sample, "train", *xgb, "--force")
    assert forced.returncode == 0 and "promoted (--force)" in forced.stdout
    assert "champion" in _row(home_with_sample, "xgboost_btcusdt", "v3")
    rows = json.loads(_core(home_with_sample, "models", "--json").stdout)
    assert [(r["version"], r["promoted"]) for r in rows] == [
        ("v1", False),
        ("v2", False),
        ("v3", True),
    ]


def _row(home: Path, name: str, version: str) -> str:
    listed = _core(home, "models").stdout.splitlines()
    return next(line for line in listed if line.startswith(f"{name} ") and f" {version} " in line)


def test_background_training_through_the_job_commands(home_with_sample: Path):
    run = _core(
        home_with_sample, "train", "--coins", "ETH", "--models", "xgb", *TINY, "--background"
    )
    assert run.returncode == 0, run.stderr
    job_id = run.stdout.split("job ", 1)[1].split()[0]

    def ended() -> dict | None:
        status = json.loads(_core(home_with_sample, "job", "status", job_id, "--json").stdout)
        return status if status["state"] not in {"queued", "running"} else None

    status = wait_until(ended, 240, f"job {job_id} to end (`job status`)", interval=0.5)
    assert status["state"] == "succeeded", status
    listed = _core(home_with_sample, "job", "list")
    assert job_id in listed.stdout and "xgboost_ethusdt v1" in listed.stdout
    assert "registered xgboost_ethusdt v1" in _core(home_with_sample, "job", "log", job_id).stdout
    assert _core(home_with_sample, "job", "cancel", job_id).stdout.strip().endswith("succeeded")


def test_a_foreground_training_is_a_job_one_per_coin_and_job_cancel_stops_it(
    home_with_sample: Path,
):
    """`train` in a terminal is a job like a background one: listed, the coin busy for a second
    training, and stopped by `job cancel` from another shell (cancelled, not left running)."""
    from core import jobs

    train = subprocess.Popen(
        [sys.executable, "-m", "core", "train", "--coins", "BTC", "--models", "xgboost"],
        cwd=ROOT,
        env={**os.environ, "CRYPTOVOLT_HOME": str(home_with_sample)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        process_group=0,  # as a shell with job control runs it: the terminal's session
    )
    try:
        running = wait_until(
            lambda: [
                j
                for j in jobs.list_jobs(kind="train", runs=env_runs())
                if j.state.value == "running"
            ],
            120,
            "the foreground training to show as a running job",
            interval=0.2,
        )
        (job,) = running
        assert job.pid == train.pid and job.symbol == "BTCUSDT"
        second = _core(
            home_with_sample, "train", "--coins", "BTC", "--models", "xgb", "--background"
        )
        assert second.returncode == 1, second.stdout
        assert f"BTCUSDT already has a training job running ({job.job_id})" in second.stderr
        cancelled = _core(home_with_sample, "job", "cancel", job.job_id)
        assert cancelled.returncode == 0, cancelled.stderr
        _, err = train.communicate(timeout=60)
    finally:
        if train.poll() is None:
            train.kill()
            train.wait()
    assert train.returncode == 130, err[-2000:]
    assert "BTCUSDT: cancelled" in err
    assert [(j.job_id, j.state.value) for j in jobs.list_jobs(runs=env_runs())] == [
        (job.job_id, "cancelled")
    ]
    assert "cancelled" in (home_with_sample / "runs" / job.job_id / "job.log").read_text()


def test_a_terminal_training_waits_for_a_slot_says_so_and_runs_when_one_frees(
    home_with_sample: Path, monkeypatch
):
    """Two slots, both held by running background trainings: `train` in a terminal does not run
    a third beside them; it is listed as queued, says on one line what it waits for, and starts
    when a slot frees. The two background jobs are real job processes, frozen (SIGSTOP) once
    they hold their slots so the machine stays quiet, and thawed to free them."""
    import signal

    from core import jobs

    monkeypatch.setenv("CRYPTOVOLT_JOB_SLOTS", "2")
    holders = [
        jobs.launch(spec, home=env_home())
        for spec in jobs.make_specs(["BTC", "ETH"], models="xgboost")
    ]
    frozen: list[int] = []
    train = None
    try:
        for job_id in holders:
            found = wait_until(
                lambda job_id=job_id: (
                    (s := jobs.status(job_id, runs=env_runs())).state.value == "running" and s
                ),
                120,
                f"background job {job_id} to take a slot",
                interval=0.02,
            )
            assert found.pid and found.slot is not None
            os.killpg(found.pid, signal.SIGSTOP)  # a launched job leads its own process group
            frozen.append(found.pid)
        assert {jobs.status(j, runs=env_runs()).state.value for j in holders} == {"running"}, (
            "froze too late"
        )
        train = subprocess.Popen(
            [sys.executable, "-m", "core", "train", "--coins", "SOL", "--models", "xgboost", *TINY],
            cwd=ROOT,
            env={**os.environ, "CRYPTOVOLT_HOME": str(home_with_sample)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            process_group=0,
        )

        def queued() -> dict | None:
            assert train.poll() is None, train.communicate()
            shown = _core(home_with_sample, "job", "list", "--json")
            mine = [j for j in json.loads(shown.stdout) if j["symbol"] == "SOLUSDT"]
            return mine[0] if mine and "waiting for a free slot" in mine[0]["message"] else None

        job = wait_until(queued, 120, "the terminal's training listed as waiting for a slot")
        assert job["state"] == "queued" and job["pid"] == train.pid
        first = holders[0]
        os.killpg(frozen.pop(0), signal.SIGCONT)  # BTC finishes and frees its slot
        _, err = train.communicate(timeout=300)
    finally:
        for pid in frozen:
            os.killpg(pid, signal.SIGCONT)
        for job_id in holders:  # no job process outlives the test
            jobs.cancel(job_id, runs=env_runs())
        if train is not None and train.poll() is None:
            train.kill()
            train.wait()
    assert train.returncode == 0, err[-3000:]
    waits = [line for line in err.splitlines() if "waiting for a training slot" in line]
    assert waits == [
        "SOLUSDT: waiting for a training slot: 2 jobs running (BTC xgboost, ETH xgboost); "
        "Ctrl-C to stop"
    ]
    ours = jobs.status(job["job_id"], runs=env_runs())
    assert ours.state.value == "succeeded" and ours.slot is not None
    btc = jobs.status(first, runs=env_runs())
    assert btc.state.value == "succeeded" and ours.started_at >= btc.finished_at
    assert ours.slot == btc.slot, "it took the slot the finished job freed"
