"""Background jobs (training one coin, fetching candles): subprocesses with their state on disk,
a queue without a daemon.

This is the stage's public face; the modules below it are importable too."""

from __future__ import annotations

from core.jobs.control import (
    ACTIVE_STATES,
    DIED_MESSAGE,
    SETTINGS,
    AnySpec,
    FetchSpec,
    JobKind,
    JobSpec,
    JobState,
    JobStatus,
    acquire_slot,
    cancel,
    describe_progress,
    has_active_jobs,
    job_dir,
    launch,
    list_jobs,
    make_specs,
    parse_models,
    queue_position,
    read_spec,
    require_data,
    restart,
    slot_count,
    status,
    tail_log,
)
from core.jobs.fetch_job import fetch_results
from core.jobs.one_per_coin import busy_with, launch_lock, refuse_busy
from core.jobs.status import CoinProgress

__all__ = [
    "ACTIVE_STATES",
    "DIED_MESSAGE",
    "AnySpec",
    "CoinProgress",
    "FetchSpec",
    "JobKind",
    "JobSpec",
    "JobState",
    "JobStatus",
    "SETTINGS",
    "acquire_slot",
    "busy_with",
    "cancel",
    "describe_progress",
    "fetch_results",
    "has_active_jobs",
    "job_dir",
    "launch",
    "launch_lock",
    "list_jobs",
    "make_specs",
    "parse_models",
    "queue_position",
    "read_spec",
    "refuse_busy",
    "require_data",
    "restart",
    "slot_count",
    "status",
    "tail_log",
]
