"""A training job's progress in plain words, with ONE time estimate across all its phases.

The job process reports where it is (model, stage, step of total within the current loop, a
message such as ``fold 3/4: 12/60 loss ...``); each loop restarts its own count, so a bar or an
estimate per loop jumps back and contradicts itself ("walk-forward 1/60 · 0s left · fold 4/4 ...
~8s left"). :func:`overall_fraction` places the job on one axis instead: the models share the run
equally and, within a model, each phase has a fixed share (fitting on the training period,
scoring the test window, the walk-forward folds, registering). :func:`progress_words` says where
the job is and how long is left from that one fraction and the time elapsed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from core.jobs.status import JobKind, JobState, JobStatus

__all__ = ["describe_progress", "overall_fraction", "progress_words", "seconds_left"]

#: (start, end) of each phase within one model's share of the job.
_PHASES = {
    "loading": (0.0, 0.02),
    "features": (0.02, 0.06),
    "fitting": (0.06, 0.36),
    "evaluating": (0.36, 0.40),
    "walk-forward": (0.40, 0.96),
    "saving": (0.96, 1.0),
    "done": (1.0, 1.0),
}
_WORDS = {
    "loading": "loading the candles",
    "features": "computing the model inputs",
    "fitting": "fitting on the training period",
    "evaluating": "scoring the test window",
    "walk-forward": "checking on earlier periods (walk-forward)",
    "saving": "registering the model",
    "done": "done",
}
_FOLD = re.compile(r"fold (\d+)/(\d+)")


def _label(kind: str) -> str:
    try:
        from core.models import kind_info

        return kind_info(kind).label
    except Exception:  # a job of a kind this build no longer has
        return kind


def _fold(job: JobStatus) -> tuple[int, int] | None:
    found = _FOLD.search(job.message or "")
    return (int(found.group(1)), int(found.group(2))) if found else None


def _within(job: JobStatus) -> float:
    """How far the current model is through its own phases (0..1)."""
    start, end = _PHASES.get(job.stage or "", (0.0, 0.0))
    inner = job.step / job.total if job.total else 0.0
    if job.stage == "walk-forward":
        fold = _fold(job)
        if fold and fold[1]:
            k, n = fold
            in_fold = inner if f"fold {k}/{n}:" in (job.message or "") else 0.0
            inner = (k - 1 + min(in_fold, 1.0)) / n
    return start + (end - start) * min(max(inner, 0.0), 1.0)


def overall_fraction(job: JobStatus) -> float:
    """0..1 across every model and phase of a training job (1 once it ended)."""
    if not job.active:
        return 1.0 if job.state is JobState.SUCCEEDED else job.progress
    if job.state is JobState.QUEUED or job.kind is not JobKind.TRAIN:
        return job.progress if job.kind is not JobKind.TRAIN else 0.0
    models = list(job.models) or [job.model or ""]
    index = models.index(job.model) if job.model in models else 0
    return min((index + _within(job)) / len(models), 1.0)


def _elapsed(job: JobStatus, now: datetime | None) -> float | None:
    if job.elapsed_seconds is not None and job.elapsed_seconds > 0:
        return job.elapsed_seconds
    if not job.started_at:
        return None
    try:
        started = datetime.fromisoformat(job.started_at)
    except ValueError:
        return None
    return max(0.0, ((now or datetime.now(UTC)) - started).total_seconds())


def seconds_left(job: JobStatus, *, now: datetime | None = None) -> float | None:
    """One estimate for the whole job: elapsed x (1 - f) / f, None until it means something
    (at least 3 s and 3% in)."""
    fraction, elapsed = overall_fraction(job), _elapsed(job, now)
    if elapsed is None or elapsed < 3 or fraction < 0.03 or fraction >= 1:
        return None
    return elapsed * (1 - fraction) / fraction


def _left_words(seconds: float | None) -> str:
    if seconds is None:
        return "estimating the time left"
    if seconds < 10:
        return "almost done"
    if seconds < 90:
        return f"about {round(seconds / 5) * 5:.0f} s left"
    if seconds < 5400:
        return f"about {round(seconds / 60):.0f} min left"
    return f"about {seconds / 3600:.1f} h left"


def progress_words(job: JobStatus | Any, *, now: datetime | None = None) -> str:
    """``"XGBoost direction (model 1 of 2): checking on earlier periods (walk-forward), fold 3
    of 4 · 40% done · about 2 min left"``; a queued job says it waits, an ended one how it
    ended."""
    if not isinstance(job, JobStatus):
        job = JobStatus.from_dict(job)
    if job.error:
        return job.error
    if job.state is JobState.QUEUED:
        return job.message or "queued: waiting for a free slot"
    if not job.active:
        return job.message or job.state.value
    models = list(job.models)
    where = _WORDS.get(job.stage or "", job.stage or "starting")
    if job.stage == "walk-forward" and (fold := _fold(job)):
        where += f", fold {fold[0]} of {fold[1]}"
    elif job.stage == "fitting" and job.total > 1:
        where += f", step {job.step} of {job.total}"
    head = where
    if job.model:
        count = (
            f" (model {models.index(job.model) + 1} of {len(models)})"
            if job.model in models
            else ""
        )
        head = f"{_label(job.model)}{count}: {where}"
    fraction = overall_fraction(job)
    return f"{head} · {fraction:.0%} done · {_left_words(seconds_left(job, now=now))}"


def describe_progress(job: JobStatus | Mapping[str, Any]) -> str:
    """One line for a job: ``lstm fitting 12/100 · 1m 30s left · epoch 12 loss ...`` or
    ``fetching 12,000/17,520 candles · 8s left · 3 of 10 coins done`` or ``trials 3/20 · trial
    2: skill +0.0100; best ...``."""
    if not isinstance(job, JobStatus):
        job = JobStatus.from_dict(job)
    if job.error:
        return job.error
    parts = [p for p in (job.model, job.stage) if p]
    if job.total and job.kind is JobKind.FETCH:
        parts.append(f"{job.step:,}/{job.total:,} candles")
    elif job.total and job.kind is JobKind.TUNE and job.stage == "trials":
        parts.append(f"{job.step}/{job.total} finished")
    elif job.total:
        parts.append(f"{job.step}/{job.total}")
    eta = job.eta_seconds
    if job.active and eta is not None:
        minutes, seconds = divmod(int(eta), 60)
        parts.append(f"· {minutes}m {seconds:02d}s left" if minutes else f"· {seconds}s left")
    text = " ".join(parts)
    message = job.message
    return f"{text} · {message}" if text and message else text or message
