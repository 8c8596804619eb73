"""The job queue without a daemon, and telling live job processes from dead ones.

Each job process takes one of :func:`slot_count` slots by ``flock``-ing ``runs/.slots/N.lock`` and
stays "queued" until it gets one; the OS frees a dead process's lock, so nothing needs cleaning up.
Jobs take slots in launch order: a launch leaves a marker ``runs/.queue/{created_ns}_{job_id}``,
and a job only tries for a slot when no older live job is still waiting.

A job is alive while ``/proc/{pid}`` is its own process (the job id is in its command line, so a
recycled pid does not count) and not a zombie.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from core import config
from core.errors import ConfigError
from core.jobs.spec import JobState

__all__ = [
    "acquire_slot",
    "cores",
    "drop_queue_marker",
    "group_alive",
    "job_alive",
    "job_pid",
    "process_alive",
    "queue_position",
    "read_json",
    "slot_count",
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
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                slots = min(slots, max(1, int(line.split()[1]) // (1536 * 1024)))
    return slots


def job_pid(job_id: str, data: Mapping[str, Any]) -> int | None:
    pid = data.get("pid") or (read_json(config.runs_dir() / job_id / "pid.json") or {}).get("pid")
    return int(pid) if isinstance(pid, int) and pid > 0 else None


def process_alive(pid: int, job_id: str) -> bool:
    """True while ``pid`` is this job's process (not a zombie, not a recycled pid)."""
    proc = Path(f"/proc/{pid}")
    try:
        stat = (proc / "stat").read_text()
        cmdline = (proc / "cmdline").read_bytes()
    except FileNotFoundError:
        return False
    except OSError:  # no /proc here: fall back to "does the pid exist"
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    state = stat.rsplit(")", 1)[-1].split()[0] if ")" in stat else "?"
    return state not in {"Z", "X"} and job_id.encode() in cmdline


def job_alive(job_id: str, data: Mapping[str, Any]) -> bool:
    pid = job_pid(job_id, data)
    if pid is None:
        created = data.get("created_ns") or 0
        return (time.time_ns() - int(created)) / 1e9 < _START_GRACE_SECONDS
    return process_alive(pid, job_id)


def group_alive(pgid: int) -> bool:
    """True while any non-zombie process is left in the process group."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[-1].split()
                if int(fields[2]) == pgid and fields[0] not in {"Z", "X"}:
                    return True
        return False
    return True


def _queue_markers() -> list[Path]:
    queue = config.runs_dir() / ".queue"
    return sorted(queue.iterdir()) if queue.is_dir() else []


def drop_queue_marker(job_id: str) -> None:
    for marker in _queue_markers():
        if marker.name.split("_", 1)[-1] == job_id:
            marker.unlink(missing_ok=True)


def queue_position(job_id: str) -> int:
    """How many live jobs launched before this one are still waiting for a slot."""
    ahead = 0
    for marker in _queue_markers():
        other = marker.name.split("_", 1)[-1]
        if other == job_id:
            return ahead
        data = read_json(config.runs_dir() / other / "status.json")
        if data and data.get("state") == JobState.QUEUED and job_alive(other, data):
            ahead += 1
        else:
            marker.unlink(missing_ok=True)  # its job died or already started
    return ahead


@contextlib.contextmanager
def acquire_slot(
    job_id: str, *, on_wait: Callable[[int, int], None] | None = None, poll: float = 0.5
) -> Iterator[int]:
    """Block until this job may run; yields the slot number and holds it until the block ends.

    ``on_wait(ahead, slots)`` is called while waiting (``ahead`` = older jobs still queued).
    """
    slots_dir = config.runs_dir() / ".slots"
    slots_dir.mkdir(parents=True, exist_ok=True)
    while True:
        slots = slot_count()
        ahead = queue_position(job_id)
        if ahead == 0:
            for number in range(slots):
                handle = open(slots_dir / f"{number}.lock", "a+")  # noqa: SIM115 (held below)
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    handle.close()
                    continue
                drop_queue_marker(job_id)
                try:
                    yield number
                finally:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
                    handle.close()
                return
        if on_wait is not None:
            on_wait(ahead, slots)
        time.sleep(poll)
