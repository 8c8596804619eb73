"""Background training jobs: one subprocess per coin, state on disk, a queue without a daemon.

A job is ``python -m core job run <job_id>`` in its own process group, with a folder
``{home}/runs/{job_id}/`` holding ``spec.json`` (what to train), ``status.json`` (state, stage,
progress, result; always written atomically), ``job.log`` and ``output.log`` (the process's raw
stdout/stderr). Everything is on disk, so reloading the page or restarting the app loses nothing.

The queue (:mod:`core.jobs.queue`): each job process takes one of :func:`slot_count` slots with
``flock`` and stays "queued" until it gets one, in launch order, without a daemon. What a job is
(its states, its validated spec) lives in :mod:`core.jobs.spec`; both are re-exported here.

A job whose process is gone while its status still says queued/running is reported as failed
("process exited without finishing (killed?)"), and that verdict is written back to disk.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core import config
from core.atomic import atomic_write_json
from core.errors import JobError
from core.jobs.queue import (
    acquire_slot,
    cores,
    drop_queue_marker,
    group_alive,
    job_alive,
    job_pid,
    process_alive,
    queue_position,
    read_json,
    slot_count,
)
from core.jobs.spec import (
    ACTIVE_STATES,
    SETTINGS,
    JobSpec,
    JobState,
    make_specs,
    parse_models,
    require_data,
)

__all__ = [
    "ACTIVE_STATES",
    "DIED_MESSAGE",
    "SETTINGS",
    "JobSpec",
    "JobState",
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


DIED_MESSAGE = "process exited without finishing (killed?)"
_CHILDREN: dict[str, subprocess.Popen] = {}


def job_dir(job_id: str) -> Path:
    """``{home}/runs/{job_id}``; the id is checked so it cannot point elsewhere.

    Raises:
        JobError: not a job id.
    """
    if not job_id or not all(c.isalnum() or c in "-_" for c in job_id) or job_id[0] in "-_":
        raise JobError(f"{job_id!r} is not a job id; `python -m core job list` shows them.")
    return config.runs_dir() / job_id


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def read_spec(job_id: str) -> JobSpec:
    """The validated spec of a job. Raises JobError if there is no such job."""
    data = read_json(job_dir(job_id) / "spec.json")
    if data is None:
        raise JobError(f"No job {job_id!r} in {config.runs_dir()}: `python -m core job list`.")
    return JobSpec.from_dict(data)


def launch(spec: JobSpec | Mapping[str, Any]) -> str:
    """Start a training job in the background; returns its id at once.

    The job waits in the queue until a slot is free, then trains. Raises ConfigError and the
    symbol errors for a bad spec (nothing is started), JobError if the process cannot start.
    """
    spec = spec if isinstance(spec, JobSpec) else JobSpec.from_dict(spec)
    runs = config.runs_dir()
    created_ns = time.time_ns()
    stamp = datetime.fromtimestamp(created_ns / 1e9, UTC).strftime("%Y%m%d-%H%M%S")
    job_id = f"{stamp}-{spec.symbol.lower()}-{secrets.token_hex(2)}"
    folder = runs / job_id
    folder.mkdir(parents=True, exist_ok=False)
    atomic_write_json(folder / "spec.json", spec.to_dict())
    atomic_write_json(folder / "status.json", _initial_status(job_id, spec, created_ns))
    queue = runs / ".queue"
    queue.mkdir(exist_ok=True)
    (queue / f"{created_ns:020d}_{job_id}").touch()
    env = {**os.environ, "CRYPTOVOLT_HOME": str(config.home()), "PYTHONUNBUFFERED": "1"}
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # jobs run side by side, one per slot: each gets its share of the cores, not all of them
    env.setdefault("CRYPTOVOLT_THREADS", str(max(1, cores() // slot_count())))
    with open(folder / "output.log", "ab") as output:
        try:
            proc = subprocess.Popen(
                [sys.executable, "-m", "core", "job", "run", job_id],
                cwd=config.PROJECT_DIR,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: cancel ends all of it
            )
        except OSError as exc:
            _finish(job_id, JobState.FAILED, error=f"could not start the job process: {exc}")
            raise JobError(f"Could not start a training process: {exc}") from exc
    _CHILDREN[job_id] = proc
    atomic_write_json(folder / "pid.json", {"pid": proc.pid})
    return job_id


def _initial_status(job_id: str, spec: JobSpec, created_ns: int) -> dict[str, Any]:
    return {
        "job_id": job_id,
        "symbol": spec.symbol,
        "models": list(spec.models),
        "state": JobState.QUEUED.value,
        "stage": "queued",
        "model": None,
        "step": 0,
        "total": 0,
        "message": "waiting to start",
        "metrics": {},
        "created_at": datetime.fromtimestamp(created_ns / 1e9, UTC).isoformat(timespec="seconds"),
        "created_ns": created_ns,
        "started_at": None,
        "finished_at": None,
        "updated_at": _now(),
        "pid": None,
        "error": None,
        "result": [],
        "eta_seconds": None,
    }


def _reap() -> None:
    """Collect exited children of this process so they do not linger as zombies."""
    for job_id, proc in list(_CHILDREN.items()):
        if proc.poll() is not None:
            del _CHILDREN[job_id]


def _finish(job_id: str, state: JobState, *, error: str | None = None, **extra: Any) -> None:
    path = job_dir(job_id) / "status.json"
    data = read_json(path) or {"job_id": job_id}
    data.update(state=state.value, error=error, finished_at=_now(), updated_at=_now(), **extra)
    data["eta_seconds"] = None
    atomic_write_json(path, data)


def status(job_id: str) -> dict[str, Any]:
    """The job's status dict (see the module docstring), with dead processes marked failed.

    Raises:
        JobError: no such job.
    """
    _reap()
    path = job_dir(job_id) / "status.json"
    data = read_json(path)
    if data is None:
        raise JobError(f"No job {job_id!r} in {config.runs_dir()}: `python -m core job list`.")
    if data.get("state") in ACTIVE_STATES and not job_alive(job_id, data):
        # read again: the process may have written its final status just before it exited
        data = read_json(path) or data
        if data.get("state") in ACTIVE_STATES:
            _finish(job_id, JobState.FAILED, error=DIED_MESSAGE, stage=data.get("stage"))
            drop_queue_marker(job_id)
            data = read_json(path) or data
    return data


def list_jobs(*, limit: int | None = None) -> list[dict[str, Any]]:
    """Every job's status, newest first (at most ``limit``)."""
    runs = config.runs_dir()
    if not runs.is_dir():
        return []
    folders = [p for p in runs.iterdir() if p.is_dir() and not p.name.startswith(".")]
    out = []
    for folder in folders:
        with contextlib.suppress(JobError):
            out.append(status(folder.name))
    out.sort(key=lambda s: (s.get("created_ns") or 0, s.get("job_id", "")), reverse=True)
    return out[:limit] if limit is not None else out


def has_active_jobs() -> bool:
    """True while any job is queued or running (the UI polls only then)."""
    return any(s.get("state") in ACTIVE_STATES for s in list_jobs())


def cancel(job_id: str, *, timeout: float = 5.0) -> dict[str, Any]:
    """Stop a queued or running job: SIGTERM to its whole process group, SIGKILL after
    ``timeout`` seconds, then mark it cancelled. A finished job is left as it is.

    Returns the job's status. Raises JobError if there is no such job.
    """
    data = status(job_id)
    if data.get("state") not in ACTIVE_STATES:
        return data
    pid = job_pid(job_id, data)
    if pid is not None and process_alive(pid, job_id):
        # the job leads its own session, so its pid is its process group id
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while group_alive(pid) and time.monotonic() < deadline:
            _reap()
            time.sleep(0.05)
        if group_alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            while group_alive(pid) and time.monotonic() < deadline + 5:
                _reap()
                time.sleep(0.05)
    _reap()
    current = read_json(job_dir(job_id) / "status.json") or data
    if current.get("state") in ACTIVE_STATES:
        _finish(job_id, JobState.CANCELLED, message="cancelled by the user")
    drop_queue_marker(job_id)
    return read_json(job_dir(job_id) / "status.json") or data


def tail_log(job_id: str, lines: int = 50) -> str:
    """The last ``lines`` lines of the job's log ("" before it wrote any)."""
    path = job_dir(job_id) / "job.log"
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            block = min(size, max(4096, lines * 400))
            handle.seek(size - block)
            text = handle.read().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return ""
    return "\n".join(text.splitlines()[-lines:]) if lines > 0 else ""


def describe_progress(status: Mapping[str, Any]) -> str:
    """One line for a job: ``lstm fitting 12/100 · 1m 30s left · epoch 12 loss ...``."""
    if status.get("error"):
        return str(status["error"])
    parts = [str(p) for p in (status.get("model"), status.get("stage")) if p]
    if status.get("total"):
        parts.append(f"{status.get('step', 0)}/{status['total']}")
    eta = status.get("eta_seconds")
    if status.get("state") in ACTIVE_STATES and isinstance(eta, int | float):
        minutes, seconds = divmod(int(eta), 60)
        parts.append(f"· {minutes}m {seconds:02d}s left" if minutes else f"· {seconds}s left")
    text = " ".join(parts)
    message = str(status.get("message") or "")
    return f"{text} · {message}" if text and message else text or message
