"""Background jobs, one layer for every kind: fetch candles, train a coin, tune (a sweep), and the
Ray driver. Each is a typed spec with ``run(reporter)``, launched by one
:func:`~core.jobs.launcher.launch` (``executor="local"`` or ``"ray"``), recorded in one
:class:`~core.jobs.status.JobStatus` with typed results, checked by one liveness check and
stopped by one :func:`~core.jobs.control.cancel`.

This is the stage's public face; the modules below it are importable too.
"""

from __future__ import annotations

from core.jobs.control import (
    DIED_MESSAGE,
    cancel,
    has_active_jobs,
    job_dir,
    list_jobs,
    read_status,
    status,
    tail_log,
)
from core.jobs.fetch_job import FetchSpec, fetch_results
from core.jobs.kinds import read_spec, spec_from_dict
from core.jobs.launcher import EXECUTORS, launch, launch_all, prepare, restart
from core.jobs.one_per_coin import busy_with, launch_lock, refuse_busy
from core.jobs.progress_words import describe_progress
from core.jobs.queue import acquire_slot, queue_position, slot_count, threads_per_slot
from core.jobs.results import ModelResult
from core.jobs.spec import SETTINGS, JobSpec, make_specs, parse_models, require_data
from core.jobs.status import ACTIVE_STATES, CoinProgress, JobKind, JobState, JobStatus

__all__ = [
    "ACTIVE_STATES",
    "DIED_MESSAGE",
    "EXECUTORS",
    "SETTINGS",
    "CoinProgress",
    "FetchSpec",
    "JobKind",
    "JobSpec",
    "JobState",
    "JobStatus",
    "ModelResult",
    "acquire_slot",
    "busy_with",
    "cancel",
    "describe_progress",
    "fetch_results",
    "has_active_jobs",
    "job_dir",
    "launch",
    "launch_all",
    "launch_lock",
    "list_jobs",
    "make_specs",
    "parse_models",
    "prepare",
    "queue_position",
    "read_spec",
    "read_status",
    "refuse_busy",
    "require_data",
    "restart",
    "slot_count",
    "spec_from_dict",
    "status",
    "tail_log",
    "threads_per_slot",
]
