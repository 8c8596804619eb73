"""Background jobs as real subprocesses: succeed, fail with a reason, cancel, die, queue; training
and fetch jobs alike."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from core import jobs
from core.data import store
from core.data.store import load_candles
from core.errors import ConfigError, JobError, StablecoinError
from core.registry.model_registry import ModelRegistry
from tests.fake_binance import FakeBinance
from tests.homes import env_home, env_runs
from tests.waiting import took_sigterm, wait_until

ROOT = Path(__file__).resolve().parents[2]
TINY = {"trees": 5, "depth": 2, "window": 8, "units": 4, "epochs": 1, "batch_size": 256}


def _wait(job_id: str, states: set[str], timeout: float = 120.0) -> jobs.JobStatus:
    def details() -> str:
        output = jobs.job_dir(job_id, runs=env_runs()) / "output.log"
        tail = output.read_text()[-3000:] if output.exists() else ""
        return f"{jobs.status(job_id, runs=env_runs())}\n{jobs.tail_log(job_id, 40, runs=env_runs())}\n{tail}"

    return wait_until(
        lambda: (found := jobs.status(job_id, runs=env_runs())).state in states and found,
        timeout,
        f"job {job_id} to be {' or '.join(sorted(states))}",
        details=details,
    )


def _pid(job_id: str, timeout: float = 60.0) -> int:
    """The job's pid, once its process has written its own status."""
    return wait_until(
        lambda: jobs.status(job_id, runs=env_runs()).pid, timeout, f"job {job_id}'s process"
    )


@contextlib.contextmanager
def _all_slots_taken(home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """One slot, held by this test process: launched jobs stay queued until the block ends."""
    monkeypatch.setenv("CRYPTOVOLT_JOB_SLOTS", "1")
    slots = home / "runs" / ".slots"
    slots.mkdir(parents=True)
    with open(slots / "0.lock", "a+") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        yield
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _group_gone(pgid: int) -> bool:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[-1].split()
                if int(fields[2]) == pgid and fields[0] != "Z":
                    return False
    return True


def test_bad_specs_are_refused_before_anything_starts(home: Path):
    with pytest.raises(ConfigError, match="trees"):
        jobs.make_specs(["BTC"], trees=0)
    with pytest.raises(ConfigError, match="Unknown model"):
        jobs.make_specs(["BTC"], models="forest")
    with pytest.raises(StablecoinError, match="no volatility"):
        jobs.make_specs(["USDCUSDT"])
    with pytest.raises(JobError):
        jobs.status("../etc", runs=env_runs())
    assert not (home / "runs").exists()


def test_job_for_a_coin_without_data_fails_and_says_to_fetch(home: Path):
    job_id = jobs.launch(jobs.JobSpec("DOT", models=("xgboost",)), home=env_home())
    final = _wait(job_id, {"failed", "succeeded"})
    assert final.state == "failed"
    assert "Fetch them first" in final.error and "DOTUSDT" in final.error
    assert "Fetch them first" in jobs.tail_log(job_id, runs=env_runs())
    shared = (home / "logs" / "model_training.log").read_text()
    assert job_id in shared and "failed" in shared


def test_killed_job_shows_as_failed_with_the_reason(home: Path, monkeypatch):
    with _all_slots_taken(home, monkeypatch):
        job_id = jobs.launch(jobs.JobSpec("BTC"), home=env_home())
        _wait(job_id, {"queued"})
        pid = _pid(job_id)
        wait_until(
            lambda: "waiting for a free slot" in jobs.status(job_id, runs=env_runs()).message,
            60,
            "the job to say it waits for a slot",
            details=lambda: jobs.status(job_id, runs=env_runs()),
        )
        os.kill(pid, signal.SIGKILL)
        final = _wait(job_id, {"failed"}, timeout=60)
    assert final.error == jobs.DIED_MESSAGE
    on_disk = json.loads((home / "runs" / job_id / "status.json").read_text())
    assert on_disk["state"] == "failed", "the verdict is written back to disk"


def test_queued_job_can_be_cancelled(home: Path, monkeypatch):
    with _all_slots_taken(home, monkeypatch):
        job_id = jobs.launch(jobs.JobSpec("BTC"), home=env_home())
        _wait(job_id, {"queued"})
        pid = _pid(job_id)
        final = jobs.cancel(job_id, runs=env_runs())
    assert final.state == "cancelled"
    assert _group_gone(pid)
    assert jobs.cancel(job_id, runs=env_runs()).state == "cancelled", "cancelling twice is harmless"


def test_job_list_survives_a_restart_everything_is_on_disk(home: Path, monkeypatch):
    with _all_slots_taken(home, monkeypatch):
        job_id = jobs.launch(jobs.JobSpec("BTC"), home=env_home())
        _wait(job_id, {"queued"})
        code = (
            "from core import jobs, cli; from core.context import Context; import json; "
            "runs = Context.from_env().paths.runs; "
            "print(json.dumps([j.job_id for j in jobs.list_jobs(runs=runs)]))"
        )
        fresh = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
        )
        assert json.loads(fresh.stdout) == [job_id]
        listed = subprocess.run(
            [sys.executable, "-m", "core", "job", "list"], cwd=ROOT, capture_output=True, text=True
        )
        assert job_id in listed.stdout and "queued" in listed.stdout
        jobs.cancel(job_id, runs=env_runs())


def test_tail_log_returns_the_last_lines(home: Path):
    folder = home / "runs" / "20250101-000000-btcusdt-abcd"
    folder.mkdir(parents=True)
    (folder / "job.log").write_text("".join(f"line {i}\n" for i in range(500)))
    assert jobs.tail_log(folder.name, 3, runs=env_runs()) == "line 497\nline 498\nline 499"
    (home / "runs" / "20250101-000000-ethusdt-abcd").mkdir()
    assert (
        jobs.tail_log("20250101-000000-ethusdt-abcd", runs=env_runs()) == ""
    )  # nothing logged yet
    with pytest.raises(JobError, match="No job"):
        jobs.tail_log("20250101-000000-solusdt-abcd", runs=env_runs())
    assert ModelRegistry().records() == []


def test_job_trains_both_models_on_sample_data_and_registers_them(home_with_sample: Path):
    [spec] = jobs.make_specs(["BTC"], models="both", **TINY)
    job_id = jobs.launch(spec, home=env_home())
    final = _wait(job_id, {"succeeded", "failed", "cancelled"}, timeout=180)
    assert final.state == "succeeded", final
    assert final.stage == "done" and final.finished_at and final.pid
    assert [(r.name, r.version) for r in final.result] == [
        ("xgboost_btcusdt", "v1"),
        ("lstm_btcusdt", "v1"),
    ]
    assert "roc_auc" in final.result[0].metrics.test
    # the promotion decision, in words, reaches the job's result (a saved record lacks it)
    assert [r.promotion for r in final.result] == ["promoted: the first version of this model"] * 2
    registry = ModelRegistry()
    model = registry.get_model("xgboost_btcusdt")
    assert 0.0 <= model.predict_latest(load_candles("BTCUSDT")) <= 1.0
    assert registry.record("lstm_btcusdt").params["window"] == 8
    log = jobs.tail_log(job_id, 500, runs=env_runs())
    assert "registered xgboost_btcusdt v1" in log and "registered lstm_btcusdt v1" in log
    shared = (home_with_sample / "logs" / "model_training.log").read_text()
    assert f"[{job_id} BTCUSDT]" in shared and "registered lstm_btcusdt v1" in shared


def test_cancel_mid_run_ends_the_whole_process_group(home_with_sample: Path):
    slow = {**TINY, "epochs": 500, "patience": 0, "batch_size": 16}
    [spec] = jobs.make_specs(["ETH"], models="lstm", **slow)
    job_id = jobs.launch(spec, home=env_home())

    def fitting() -> jobs.JobStatus | None:
        found = jobs.status(job_id, runs=env_runs())
        assert found.active, found
        return found if found.stage == "fitting" and found.step >= 1 else None

    found = wait_until(
        fitting,
        240,
        "the job to fit its first epoch",
        details=lambda: jobs.status(job_id, runs=env_runs()),
    )
    assert found.state == "running"
    pid = found.pid
    final = jobs.cancel(job_id, runs=env_runs())
    assert final.state == "cancelled"
    assert _group_gone(pid), "a process of the job's group is still alive"
    assert ModelRegistry().records() == [], "a cancelled fit registers nothing"
    assert "cancelled" in jobs.tail_log(job_id, runs=env_runs())


def test_queue_runs_one_job_at_a_time_with_one_slot_in_launch_order(
    home_with_sample: Path, monkeypatch
):
    monkeypatch.setenv("CRYPTOVOLT_JOB_SLOTS", "1")
    specs = jobs.make_specs(["SOL", "XRP"], models="xgb", **TINY)
    first, second = (jobs.launch(spec, home=env_home()) for spec in specs)
    done = [_wait(j, {"succeeded", "failed"}, timeout=180) for j in (first, second)]
    assert [d.state for d in done] == ["succeeded", "succeeded"], done
    assert done[1].started_at >= done[0].finished_at, "the second ran while the first did"
    assert {d.slot for d in done} == {0}


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "core", "job", *args], cwd=ROOT, capture_output=True, text=True
    )


def test_fetch_job_runs_in_its_own_process_and_job_list_shows_both_kinds(home: Path):
    with FakeBinance(listed_hours=48) as fake:
        job_id = jobs.launch(
            jobs.FetchSpec(("BTC", "POL", "FOO"), days=730, base_url=fake.url), home=env_home()
        )
        final = _wait(job_id, {"succeeded", "failed", "cancelled"}, timeout=60)
    assert final.kind is jobs.JobKind.FETCH and final.state == "succeeded", final
    assert final.pid and final.pid != os.getpid(), "the fetch ran in the job's process"
    assert [(c.symbol, c.state) for c in final.coins] == [
        ("BTCUSDT", "up to date"),
        ("POLUSDT", "up to date"),
        ("FOOUSDT", "failed"),
    ]
    assert final.coins[0].expected == 17_520 and final.coins[0].fetched >= 47
    assert "history of BTCUSDT starts" in final.coins[0].note
    assert final.step == sum(c.fetched for c in final.coins) and final.progress == 1.0
    assert "unknown symbol FOOUSDT" in final.coins[2].message
    assert "2 up to date, 1 failed (FOOUSDT: unknown symbol" in final.message
    assert json.loads((home / "runs" / job_id / "spec.json").read_text())["kind"] == "fetch"
    assert len(load_candles("BTCUSDT")) == final.coins[0].fetched
    assert "BTCUSDT 1h: up to date" in jobs.tail_log(job_id, runs=env_runs())
    assert "BTCUSDT 1h: up to date" in (home / "logs" / "dataset_fetch.log").read_text()
    results = jobs.fetch_results(final)
    assert [(r.symbol, r.status.value, r.new_rows) for r in results][:1] == [
        ("BTCUSDT", "up to date", final.coins[0].fetched)
    ]

    train_id = jobs.launch(jobs.JobSpec("DOT", models=("xgboost",)), home=env_home())
    _wait(train_id, {"failed"})
    listed = _cli("list")
    assert listed.returncode == 0, listed.stderr
    header, *rows = listed.stdout.splitlines()
    assert header.split()[:4] == ["job", "kind", "coin", "state"]
    by_id = {row.split()[0]: row.split() for row in rows if row.split()}
    assert by_id[job_id][1:3] == ["fetch", "3"] and by_id[job_id][4] == "succeeded"
    assert by_id[train_id][1:4] == ["train", "DOTUSDT", "failed"]
    only = _cli("list", "--kind", "fetch", "--json")
    assert [j["job_id"] for j in json.loads(only.stdout)] == [job_id]
    shown = _cli("status", job_id)
    assert shown.returncode == 0 and "fetch" in shown.stdout
    assert "FOOUSDT" in shown.stdout and "unknown symbol" in shown.stdout
    assert "up to date" in _cli("log", job_id).stdout


def test_fetch_job_cancel_from_the_cli_keeps_what_was_fetched(home: Path):
    # One request at a time (the fetch otherwise sends all 18 pages at once): 18 x 0.2 s. Once
    # the first pages are on disk the fake holds later requests, so the cancel lands mid-fetch.
    with FakeBinance(listed_hours=20_000, latency=0.2) as fake:
        job_id = jobs.launch(
            jobs.FetchSpec(("ETH",), base_url=fake.url, max_workers=1), home=env_home()
        )

        def saved() -> bool:
            assert jobs.status(job_id, runs=env_runs()).active, jobs.status(job_id, runs=env_runs())
            return store.candle_path("ETHUSDT").exists()

        wait_until(
            saved,
            120,
            "the fetch's first pages on disk",
            details=lambda: jobs.tail_log(job_id, runs=env_runs()),
        )
        fake.hold()
        pid = _pid(job_id)
        cancel = subprocess.Popen(
            [sys.executable, "-m", "core", "job", "cancel", job_id],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        # the held answer is given once the job is stopping: it saves what it has and ends
        wait_until(lambda: took_sigterm(pid), 60, "the job to take the cancel's SIGTERM")
        fake.release()
        out, err = cancel.communicate(timeout=120)
    assert cancel.returncode == 0 and f"{job_id}: cancelled" in out, err
    final = jobs.status(job_id, runs=env_runs())
    assert final.state == "cancelled" and _group_gone(pid)
    stored = len(load_candles("ETHUSDT"))
    assert 0 < stored < final.coins[0].expected, "pages fetched before the cancel are saved"
    assert "cancelled" in jobs.tail_log(job_id, runs=env_runs())


def test_killed_fetch_job_shows_as_failed(home: Path):
    with FakeBinance(listed_hours=20_000) as fake:
        fake.hold()  # the fetch is surely running when it is killed: its requests hang
        job_id = jobs.launch(jobs.FetchSpec(("SOL",), base_url=fake.url), home=env_home())
        wait_until(lambda: fake.arrived, 120, "the fetch's first request")
        os.killpg(_pid(job_id), signal.SIGKILL)
        final = _wait(job_id, {"failed"}, timeout=60)
    assert final.error == jobs.DIED_MESSAGE and final.kind is jobs.JobKind.FETCH


def test_bad_fetch_specs_are_refused_before_anything_starts(home: Path):
    with pytest.raises(ConfigError, match="days"):
        jobs.FetchSpec(("BTC",), days=0)
    with pytest.raises(ConfigError, match="Pick at least one coin"):
        jobs.FetchSpec(())
    with pytest.raises(ConfigError):
        jobs.launch({"kind": "fetch", "coins": ["BTC"], "interval": "7h"}, home=env_home())
    assert not (home / "runs").exists()
