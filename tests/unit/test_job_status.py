"""JobStatus: the typed status record every reader uses, and old status files still load."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from core import jobs
from core.jobs.status import CoinProgress, JobKind, JobStatus, StatusWriter
from core.procs import pid_alive

#: A training job's status.json as the runner wrote it before JobStatus existed.
OLD_TRAIN_STATUS = {
    "job_id": "20250601-100000-btcusdt-aaaa",
    "symbol": "BTCUSDT",
    "models": ["xgboost", "lstm"],
    "state": "succeeded",
    "stage": "done",
    "model": "lstm",
    "step": 12,
    "total": 12,
    "message": "registered xgboost_btcusdt v1, lstm_btcusdt v1",
    "metrics": {"loss": 0.01, "note": "not a number"},
    "created_at": "2025-06-01T10:00:00+00:00",
    "created_ns": 1748772000000000000,
    "started_at": "2025-06-01T10:00:01+00:00",
    "finished_at": "2025-06-01T10:01:05+00:00",
    "updated_at": "2025-06-01T10:01:05+00:00",
    "pid": 4242,
    "error": None,
    "result": [{"name": "xgboost_btcusdt", "version": "v1", "metrics": {}}],
    "eta_seconds": None,
    "slot": 0,
    "peak_rss_mb": 812.5,
    "something_new": {"kept": True},
}


def test_an_old_training_status_file_loads_as_a_train_job():
    status = JobStatus.from_dict(OLD_TRAIN_STATUS)
    assert status.kind is JobKind.TRAIN and status.state is jobs.JobState.SUCCEEDED
    assert status.models == ("xgboost", "lstm") and status.slot == 0 and status.pid == 4242
    assert status.result[0].name == "xgboost_btcusdt" and status.progress == 1.0
    assert status.metrics == {"loss": 0.01}, "only numbers are metrics"
    assert status.finished and not status.active and status.subject == "BTCUSDT"


def test_round_trip_keeps_every_field_and_unknown_keys():
    status = JobStatus.from_dict(OLD_TRAIN_STATUS)
    again = JobStatus.from_dict(json.loads(json.dumps(status.to_dict())))
    assert again == status
    assert again.extra == {"something_new": {"kept": True}}
    assert status.to_dict()["kind"] == "train" and status.to_dict()["progress"] == 1.0


def test_a_minimal_or_odd_status_file_still_loads():
    status = JobStatus.from_dict({"job_id": "x", "state": "exploded", "step": "3", "pid": "no"})
    assert status.state is jobs.JobState.FAILED, "an unknown state is not shown as running"
    assert status.step == 3 and status.pid is None and status.coins == ()
    assert JobStatus.from_dict({"job_id": "y"}).state is jobs.JobState.QUEUED


def test_dict_style_reads_still_work_for_older_callers():
    status = JobStatus.from_dict(OLD_TRAIN_STATUS)
    assert status["state"] == "succeeded" and status.get("models") == ["xgboost", "lstm"]
    assert status.get("missing", "-") == "-"


def test_fetch_progress_per_coin_and_overall():
    status = JobStatus(
        job_id="f",
        kind=JobKind.FETCH,
        state=jobs.JobState.RUNNING,
        step=150,
        total=300,
        coins=(
            CoinProgress("BTCUSDT", "up to date", 100, 100),
            CoinProgress("ETHUSDT", "fetching", 50, 100),
            CoinProgress("SOLUSDT", "queued", 0, 100),
        ),
    )
    assert [c.fraction for c in status.coins] == [1.0, 0.5, 0.0]
    assert status.progress == 0.5 and status.subject == "3 coins"
    assert JobStatus.from_dict(status.to_dict()) == status
    assert "150/300 candles" in jobs.describe_progress(status)


def test_writer_throttles_and_ignores_updates_after_the_final_state(tmp_path: Path):
    clock = [0.0]
    path = tmp_path / "status.json"
    writer = StatusWriter(path, JobStatus(job_id="w"), every=0.5, clock=lambda: clock[0])
    writer.update(step=1)
    assert json.loads(path.read_text())["step"] == 1, "the first update is written"
    clock[0] = 0.1
    writer.update(step=2)
    assert json.loads(path.read_text())["step"] == 1, "throttled"
    writer.update(force=True, step=3)
    assert json.loads(path.read_text())["step"] == 3
    writer.finish(jobs.JobState.SUCCEEDED, message="done")
    writer.update(force=True, step=99, state=jobs.JobState.RUNNING)
    final = JobStatus.from_dict(json.loads(path.read_text()))
    assert final.state is jobs.JobState.SUCCEEDED and final.step == 3 and final.finished_at
    assert dataclasses.replace(final, step=4).step == 4, "frozen: changed by replace"


def test_pid_alive_tells_this_process_from_a_gone_or_mismatched_one():
    import os

    assert pid_alive(os.getpid())
    assert pid_alive(os.getpid(), marker="python")
    assert not pid_alive(os.getpid(), marker="no-such-job-id-in-my-command-line")
    assert not pid_alive(999_999_999) and not pid_alive(0)


def test_every_job_kind_reads_back_its_own_spec(home):
    from core.jobs import FetchSpec, JobSpec, spec_from_dict
    from core.jobs.ray_executor import RayDriverSpec
    from core.jobs.tune_job import TuneJob
    from core.tuning import TuneSpec

    specs = [
        JobSpec("BTC", models=("xgboost",)),
        FetchSpec(coins=("ETH",), days=3),
        TuneJob(TuneSpec("SOL", "xgb", trials=3), executor="ray", resume=True, train=False),
        RayDriverSpec(("20250101-000000-btcusdt-abcd",), "auto"),
    ]
    for spec in specs:
        assert spec_from_dict(json.loads(json.dumps(spec.to_dict()))) == spec
