"""Background training jobs: subprocesses with their state on disk, a queue without a daemon.

This is the stage's public face; the modules below it are importable too."""

from __future__ import annotations

from core.jobs.control import (
    ACTIVE_STATES,
    DIED_MESSAGE,
    SETTINGS,
    JobSpec,
    JobState,
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
    slot_count,
    status,
    tail_log,
)

__all__ = [
    "ACTIVE_STATES",
    "DIED_MESSAGE",
    "JobSpec",
    "JobState",
    "SETTINGS",
    "acquire_slot",
    "cancel",
    "describe_progress",
    "has_active_jobs",
    "job_dir",
    "launch",
    "list_jobs",
    "make_specs",
    "parse_models",
    "queue_position",
    "read_spec",
    "require_data",
    "slot_count",
    "status",
    "tail_log",
]
