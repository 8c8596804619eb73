"""Background jobs: one subprocess per job, state on disk, a queue without a daemon.

A job is ``python -m core job run <job_id>`` in its own process group, with a folder
``{home}/runs/{job_id}/`` holding ``spec.json`` (what to do), ``status.json`` (a
:class:`~core.jobs.status.JobStatus`: state, stage, progress, result; always written atomically),
``job.log`` and ``output.log`` (the process's raw stdout/stderr). Everything is on disk, so
reloading the page or restarting the app loses nothing.

Two kinds (:class:`~core.jobs.status.JobKind`): ``train`` (one coin's models, a
:class:`~core.jobs.spec.JobSpec`) and ``fetch`` (candles for some coins, a
:class:`~core.jobs.fetch_job.FetchSpec`). A spec or status file without a kind is a training job.

The queue (:mod:`core.jobs.queue`): each training process takes one of :func:`slot_count` slots
with ``flock`` and stays "queued" until it gets one, in launch order, without a daemon. A fetch is
network-bound and takes no slot.

A job whose process is gone while its status still says queued/running is reported as failed
("process exited without finishing (killed?)"), and that verdict is written back to disk.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
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
from core.jobs.fetch_job import FetchSpec
from core.jobs.one_per_coin import launch_lock, refuse_busy
from core.jobs.queue import (
    acquire_slot,
    cores,
    drop_queue_marker,
    job_alive,
    job_pid,
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
from core.jobs.status import JobKind, JobStatus, now_iso
from core.procs import group_alive, pid_alive, reap_when_done

__all__ = [
    "ACTIVE_STATES",
    "DIED_MESSAGE",
    "SETTINGS",
    "AnySpec",
    "FetchSpec",
    "JobKind",
    "JobSpec",
    "JobState",
    "JobStatus",
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
    "restart",
    "slot_count",
    "status",
    "tail_log",
]

#: What a job can be asked to do.
AnySpec = JobSpec | FetchSpec


DIED_MESSAGE = "process exited without finishing (killed?)"
#: A launch makes the folder before it writes status.json: give it this long.
_START_GRACE_SECONDS = 30.0


def job_dir(job_id: str) -> Path:
    """``{home}/runs/{job_id}``; the id is checked so it cannot point elsewhere.

    Raises:
        JobError: not a job id.
    """
    if not job_id or not all(c.isalnum() or c in "-_" for c in job_id) or job_id[0] in "-_":
        raise JobError(f"{job_id!r} is not a job id; `python -m core job list` shows them.")
    return config.runs_dir() / job_id


def _no_job(job_id: str) -> JobError:
    return JobError(f"No job {job_id!r} in {config.runs_dir()}: `python -m core job list`.")


def kind_of(spec: AnySpec) -> JobKind:
    """The kind of job a spec makes (a spec that does not say is a training one)."""
    return JobKind.parse(getattr(getattr(spec, "kind", None), "value", None))


def read_spec(job_id: str) -> AnySpec:
    """The validated spec of a job (a JobSpec or a FetchSpec, by the file's ``kind``).

    Raises:
        JobError: no such job. ConfigError: a spec that is no longer valid.
    """
    data = read_json(job_dir(job_id) / "spec.json")
    if data is None:
        raise _no_job(job_id)
    if JobKind.parse(data.get("kind")) is JobKind.FETCH:
        return FetchSpec.from_dict(data)
    return JobSpec.from_dict(data)


def _initial_status(job_id: str, spec: AnySpec, created_ns: int) -> JobStatus:
    if isinstance(spec, FetchSpec):
        first = spec.initial_status(job_id)
    else:
        first = JobStatus(
            job_id=job_id,
            kind=JobKind.TRAIN,
            symbol=spec.symbol,
            models=tuple(spec.models),
            interval=spec.interval,
            message="waiting to start",
        )
    created = datetime.fromtimestamp(created_ns / 1e9, UTC).isoformat(timespec="seconds")
    return dataclasses.replace(
        first, created_at=created, created_ns=created_ns, updated_at=now_iso()
    )


def launch(spec: AnySpec | Mapping[str, Any]) -> str:
    """Start a job in the background; returns its id at once.

    A training job (:class:`JobSpec`, or a dict without ``kind``) waits in the queue until a slot
    is free, then trains; a fetch job (:class:`FetchSpec`, or a dict with ``kind: fetch``) starts
    fetching at once. Raises ConfigError and the symbol errors for a bad spec (nothing is
    started), JobError if the process cannot start.
    """
    if isinstance(spec, Mapping):
        fetch = JobKind.parse(spec.get("kind")) is JobKind.FETCH
        spec = FetchSpec.from_dict(spec) if fetch else JobSpec.from_dict(spec)
    kind = kind_of(spec)
    runs = config.runs_dir()
    with launch_lock():
        if isinstance(spec, JobSpec):
            refuse_busy([spec.symbol])
        created_ns = time.time_ns()
        stamp = datetime.fromtimestamp(created_ns / 1e9, UTC).strftime("%Y%m%d-%H%M%S")
        subject = "fetch" if isinstance(spec, FetchSpec) else spec.symbol.lower()
        job_id = f"{stamp}-{subject}-{secrets.token_hex(2)}"
        folder = runs / job_id
        folder.mkdir(parents=True, exist_ok=False)
        atomic_write_json(folder / "spec.json", spec.to_dict())
        first = _initial_status(job_id, spec, created_ns)
        atomic_write_json(folder / "status.json", first.to_dict())
    env = {**os.environ, "CRYPTOVOLT_HOME": str(config.home()), "PYTHONUNBUFFERED": "1"}
    if kind is JobKind.TRAIN:
        queue = runs / ".queue"
        queue.mkdir(exist_ok=True)
        (queue / f"{created_ns:020d}_{job_id}").touch()
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
            drop_queue_marker(job_id)
            raise JobError(f"Could not start a {kind.value} job process: {exc}") from exc
    reap_when_done(proc)
    atomic_write_json(folder / "pid.json", {"pid": proc.pid})
    return job_id


def _read(job_id: str) -> JobStatus | None:
    """The job's status from disk; None when there is no such job (or a launch is still
    writing its folder); a status file that cannot be read is reported as damaged."""
    folder = job_dir(job_id)
    path = folder / "status.json"
    try:
        text = path.read_text()
    except FileNotFoundError:
        if not folder.is_dir():
            return None
        young = time.time() - folder.stat().st_mtime < _START_GRACE_SECONDS
        if young and not (folder / "pid.json").exists():
            return None  # a launch is writing it
        return _damaged(job_id, "its status.json is missing")
    except OSError as exc:
        return _damaged(job_id, f"its status.json cannot be read ({exc.strerror or exc})")
    try:
        data = json.loads(text)
    except ValueError as exc:
        return _damaged(job_id, f"its status.json is not valid JSON ({exc})")
    if not isinstance(data, dict):
        return _damaged(job_id, "its status.json does not hold a JSON object")
    return JobStatus.from_dict({"job_id": job_id, **data})


def _damaged(job_id: str, why: str) -> JobStatus:
    """A job whose status file is damaged: shown (failed, with the reason), never hidden, and
    never written over (what is left on disk is the evidence)."""
    spec = read_json(job_dir(job_id) / "spec.json") or {}
    kind = JobKind.parse(spec.get("kind"))
    symbol = spec.get("symbol") if isinstance(spec.get("symbol"), str) else None
    error = (
        f"job {job_id} is damaged: {why}. Its log may say what happened "
        f"(`python -m core job log {job_id}`); delete {job_dir(job_id)} to drop it."
    )
    return JobStatus(
        job_id=job_id, kind=kind, state=JobState.FAILED, symbol=symbol, error=error, damage=why
    )


def _finish(job_id: str, state: JobState, *, error: str | None = None, **fields: Any) -> None:
    current = _read(job_id) or JobStatus(job_id=job_id)
    final = dataclasses.replace(
        current,
        state=state,
        error=error,
        finished_at=now_iso(),
        updated_at=now_iso(),
        eta_seconds=None,
        **fields,
    )
    atomic_write_json(job_dir(job_id) / "status.json", final.to_dict())


def status(job_id: str) -> JobStatus:
    """The job's :class:`JobStatus`, with a dead process's job marked failed (on disk too).

    Raises:
        JobError: no such job.
    """
    found = _read(job_id)
    if found is None:
        raise _no_job(job_id)
    if found.damage:
        return found
    if found.active and not job_alive(job_id, found):
        # read again: the process may have written its final status just before it exited
        found = _read(job_id) or found
        if found.active:
            _finish(job_id, JobState.FAILED, error=DIED_MESSAGE)
            drop_queue_marker(job_id)
            found = _read(job_id) or found
    return found


def list_jobs(*, limit: int | None = None, kind: JobKind | str | None = None) -> list[JobStatus]:
    """Every job's status (only ``kind`` jobs when given), newest first, at most ``limit``."""
    runs = config.runs_dir()
    if not runs.is_dir():
        return []
    wanted = None if kind is None else JobKind(kind)
    out = []
    for folder in runs.iterdir():
        if not folder.is_dir() or folder.name.startswith("."):
            continue
        with contextlib.suppress(JobError):
            found = status(folder.name)
            if wanted is None or found.kind is wanted:
                out.append(found)
    out.sort(key=lambda s: (s.created_ns, s.job_id), reverse=True)
    return out[:limit] if limit is not None else out


def has_active_jobs(kind: JobKind | str | None = None) -> bool:
    """True while any job (of ``kind``) is queued or running (the UI polls only then)."""
    return any(s.active for s in list_jobs(kind=kind))


def cancel(job_id: str, *, timeout: float = 5.0) -> JobStatus:
    """Stop a queued or running job: SIGTERM to its whole process group, SIGKILL after
    ``timeout`` seconds, then mark it cancelled. A finished job is left as it is.

    Returns the job's status. Raises JobError if there is no such job.
    """
    found = status(job_id)
    if found.finished:
        return found
    pid = job_pid(job_id, found)
    if pid is not None and pid_alive(pid, marker=job_id):
        # the job leads its own session, so its pid is its process group id
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while group_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if group_alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            while group_alive(pid) and time.monotonic() < deadline + 5:
                time.sleep(0.05)
    current = _read(job_id) or found
    if current.active and not current.damage:
        _finish(job_id, JobState.CANCELLED, message="cancelled by the user")
    drop_queue_marker(job_id)
    return _read(job_id) or found


def restart(job_id: str) -> str:
    """Start a finished job again from its spec, where it ran (the local queue or Ray); returns
    the new job's id. Training jobs keep the one-job-per-coin rule.

    Raises:
        JobError: no such job, it is still queued or running, or its coin is busy again.
        ConfigError: its spec is no longer valid.
    """
    found = status(job_id)
    if found.active:
        raise JobError(
            f"Job {job_id} is still {found.state.value}: cancel it first "
            f"(`python -m core job cancel {job_id}`), then restart it."
        )
    spec = read_spec(job_id)
    if isinstance(spec, JobSpec) and found.extra.get("executor") == "ray":
        from core.jobs import ray_executor

        address = found.extra.get("address")
        where = address if isinstance(address, str) and address != "local" else None
        return ray_executor.launch([spec], address=where)[0]
    return launch(spec)


def tail_log(job_id: str, lines: int = 50) -> str:
    """The last ``lines`` lines of the job's log ("" before it wrote any).

    Raises:
        JobError: no such job.
    """
    if not job_dir(job_id).is_dir():
        raise _no_job(job_id)
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


def describe_progress(job: JobStatus | Mapping[str, Any]) -> str:
    """One line for a job: ``lstm fitting 12/100 · 1m 30s left · epoch 12 loss ...`` or
    ``fetching 12,000/17,520 candles · 8s left · 3 of 10 coins done``."""
    if not isinstance(job, JobStatus):
        job = JobStatus.from_dict(job)
    if job.error:
        return job.error
    parts = [p for p in (job.model, job.stage) if p]
    if job.total and job.kind is JobKind.FETCH:
        parts.append(f"{job.step:,}/{job.total:,} candles")
    elif job.total:
        parts.append(f"{job.step}/{job.total}")
    eta = job.eta_seconds
    if job.active and eta is not None:
        minutes, seconds = divmod(int(eta), 60)
        parts.append(f"· {minutes}m {seconds:02d}s left" if minutes else f"· {seconds}s left")
    text = " ".join(parts)
    message = job.message
    return f"{text} · {message}" if text and message else text or message
