"""The job queue without a daemon, and telling live job processes from dead ones.

Each job process takes one of :func:`slot_count` slots by ``flock``-ing ``runs/.slots/N.lock`` and
stays "queued" until it gets one; the OS frees a dead process's lock, so nothing needs cleaning up.
Jobs take slots in launch order: a launch leaves a marker ``runs/.queue/{created_ns}_{job_id}``,
and a job only tries for a slot when no older live job is still waiting.

A job is alive while its pid is a live process that started when the job recorded (or, for the
pid the launcher wrote, whose command line holds the job id), so a recycled pid does not count:
:func:`core.procs.pid_alive`.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil

from core.errors import ConfigError
from core.jobs.status import JobState, JobStatus
from core.locks import LockBusy, acquire_lock
from core.procs import pid_alive

__all__ = [
    "acquire_slot",
    "cores",
    "drop_queue_marker",
    "job_alive",
    "job_pid",
    "queue_position",
    "read_json",
    "slot_count",
    "threads_per_slot",
]

#: A launch writes status.json before the process exists; give it this long to show its pid.
_START_GRACE_SECONDS = 30.0


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def cores() -> int:
    """The cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def slot_count() -> int:
    """How many jobs run at once: ``$CRYPTOVOLT_JOB_SLOTS``, else one per core, capped by memory.

    Each training process needs about 1.5 GB with TensorFlow loaded, so a small machine with
    many cores does not run more jobs than fit in its available memory.
    """
    env = os.environ.get("CRYPTOVOLT_JOB_SLOTS", "").strip()
    if env:
        if not env.isdigit() or not 1 <= int(env) <= 64:
            raise ConfigError(f"CRYPTOVOLT_JOB_SLOTS must be 1..64, got {env!r}.")
        return int(env)
    slots = cores()
    with contextlib.suppress(OSError, RuntimeError):
        slots = min(slots, max(1, psutil.virtual_memory().available // (1536 * 1024 * 1024)))
    return slots


def threads_per_slot() -> int:
    """Threads each training job may use: its share of the cores (jobs run side by side)."""
    return max(1, cores() // slot_count())


def job_pid(job_id: str, status: JobStatus, *, runs: Path) -> int | None:
    """The job process's pid: from its status, else from ``pid.json`` (written at launch)."""
    pid = status.pid or (read_json(runs / job_id / "pid.json") or {}).get("pid")
    return int(pid) if isinstance(pid, int) and pid > 0 else None


def job_alive(job_id: str, status: JobStatus, *, runs: Path) -> bool:
    """True while the job's process lives (or, before it showed a pid, within the start grace).

    A Ray job waiting for a worker has no process of its own yet: it lives while the Ray driver
    that submitted it does (``driver_pid``, see :mod:`core.jobs.ray_executor`)."""
    pid = job_pid(job_id, status, runs=runs)
    host = status.extra.get("host")
    if isinstance(host, str) and host != socket.gethostname():
        return True  # a Ray worker on another node: its pid means nothing here; its driver watches
    driver = status.extra.get("driver_pid")
    if pid is None and isinstance(driver, int):
        return pid_alive(driver)
    if pid is None:
        return (time.time_ns() - status.created_ns) / 1e9 < _START_GRACE_SECONDS
    # the process that wrote its pid also wrote when it started (a job run in the foreground has
    # no job id in its command line); a pid from pid.json is the launched `job run <id>` process
    started = status.pid_start if pid == status.pid else None
    return pid_alive(pid, marker=job_id, started=started)


def _queue_markers(runs: Path) -> list[Path]:
    queue = runs / ".queue"
    return sorted(queue.iterdir()) if queue.is_dir() else []


def drop_queue_marker(job_id: str, *, runs: Path) -> None:
    for marker in _queue_markers(runs):
        if marker.name.split("_", 1)[-1] == job_id:
            marker.unlink(missing_ok=True)


def queue_position(job_id: str, *, runs: Path) -> int:
    """How many live jobs launched before this one are still waiting for a slot."""
    ahead = 0
    for marker in _queue_markers(runs):
        other = marker.name.split("_", 1)[-1]
        if other == job_id:
            return ahead
        data = read_json(runs / other / "status.json")
        found = JobStatus.from_dict(data) if data else None
        if found and found.state is JobState.QUEUED and job_alive(other, found, runs=runs):
            ahead += 1
        else:
            marker.unlink(missing_ok=True)  # its job died or already started
    return ahead


@contextlib.contextmanager
def acquire_slot(
    job_id: str,
    *,
    runs: Path,
    on_wait: Callable[[int, int], None] | None = None,
    poll: float = 0.5,
) -> Iterator[int]:
    """Block until this job may run; yields the slot number and holds it until the block ends.

    ``on_wait(ahead, slots)`` is called while waiting (``ahead`` = older jobs still queued).
    """
    slots_dir = runs / ".slots"
    slots_dir.mkdir(parents=True, exist_ok=True)
    while True:
        slots = slot_count()
        ahead = queue_position(job_id, runs=runs)
        if ahead == 0:
            for number in range(slots):
                try:
                    held = acquire_lock(slots_dir / f"{number}.lock", blocking=False)
                except LockBusy:
                    continue
                drop_queue_marker(job_id, runs=runs)
                try:
                    yield number
                finally:
                    held.release()
                return
        if on_wait is not None:
            on_wait(ahead, slots)
        time.sleep(poll)
