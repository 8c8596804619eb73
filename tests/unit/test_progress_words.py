"""A training job's progress in plain words with one time estimate across all its phases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.jobs.progress_words import overall_fraction, progress_words, seconds_left
from core.jobs.status import JobStatus

STARTED = datetime(2025, 6, 1, 10, 0, tzinfo=UTC)


def running(seconds: float, **fields) -> JobStatus:
    return JobStatus.from_dict(
        {
            "job_id": "j",
            "state": "running",
            "models": ["xgb_direction", "lstm_return"],
            "started_at": STARTED.isoformat(),
            **fields,
        }
    ), STARTED + timedelta(seconds=seconds)


def test_the_estimate_is_one_number_for_the_whole_job_and_never_contradicts_itself():
    # the last fold's inner loop restarts at 1/60: the old line said "1/60 · 0s left · ~8s left"
    job, now = running(
        300,
        model="lstm_return",
        stage="walk-forward",
        step=1,
        total=60,
        message="fold 4/4: 1/60 loss 0.31, ~8s left",
        eta_seconds=0.0,
    )
    fraction = overall_fraction(job)
    assert 0.5 + 0.5 * 0.40 < fraction < 1.0  # second of two models, in its last fold
    text = progress_words(job, now=now)
    assert text.startswith("LSTM return (model 2 of 2): checking on earlier periods")
    assert "fold 4 of 4" in text and f"{fraction:.0%} done" in text
    assert text.count("left") == 1 and "0s left" not in text and "1/60" not in text
    left = seconds_left(job, now=now)
    assert left is not None and abs(left - 300 * (1 - fraction) / fraction) < 1e-6
    assert f"about {round(left / 5) * 5:.0f} s left" in text


def test_progress_only_moves_forward_through_the_phases_of_each_model():
    steps = [
        ("xgb_direction", "features", 0, 0, "computing inputs and targets"),
        ("xgb_direction", "fitting", 50, 100, "step 50/100"),
        ("xgb_direction", "evaluating", 1, 1, "scored the test period"),
        ("xgb_direction", "walk-forward", 0, 4, "fold 1/4"),
        ("xgb_direction", "walk-forward", 30, 100, "fold 2/4: 30/100"),
        ("xgb_direction", "walk-forward", 4, 4, "walk-forward done"),
        ("xgb_direction", "saving", 1, 1, "registered"),
        ("lstm_return", "features", 0, 0, "computing inputs and targets"),
        ("lstm_return", "walk-forward", 1, 60, "fold 1/4: 1/60"),
    ]
    fractions = [
        overall_fraction(running(10, model=m, stage=s, step=a, total=b, message=msg)[0])
        for m, s, a, b, msg in steps
    ]
    assert fractions == sorted(fractions) and fractions[-1] < 1.0


def test_early_short_queued_and_ended_jobs_say_so_in_words():
    job, now = running(1, model="xgb_direction", stage="features")
    assert progress_words(job, now=now).endswith("estimating the time left")
    job, now = running(
        300, model="lstm_return", stage="saving", step=0, total=1, message="registering"
    )
    assert progress_words(job, now=now).endswith("almost done")
    queued = JobStatus.from_dict({"job_id": "q", "state": "queued", "message": ""})
    assert progress_words(queued) == "queued: waiting for a free slot"
    assert overall_fraction(queued) == 0.0
    done = JobStatus.from_dict({"job_id": "d", "state": "succeeded", "message": "2 models"})
    assert progress_words(done) == "2 models" and overall_fraction(done) == 1.0
    failed = JobStatus.from_dict({"job_id": "f", "state": "failed", "error": "Too few candles."})
    assert progress_words(failed) == "Too few candles."
