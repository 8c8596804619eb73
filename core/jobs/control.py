"""Reading and stopping jobs: their folders, specs and status records, listing, one cancel.

Every job, whatever its kind (:class:`~core.jobs.status.JobKind`: ``fetch``, ``train``, ``tune``,
``ray-driver``), is a folder ``{home}/runs/{job_id}/`` (every function takes that ``runs`` folder: the edge's
``context.paths.runs``) holding ``spec.json`` (what to do, typed
by kind: :func:`core.jobs.kinds.spec_from_dict`), ``status.json`` (one :class:`~core.jobs.status.JobStatus`:
state, stage, progress, typed results; always written atomically), ``job.log`` and, for a
launched process, ``output.log`` (its raw stdout/stderr). Everything is on disk, so reloading the
page or restarting the app loses nothing. :mod:`core.jobs.launcher` starts jobs;
:mod:`core.jobs.runner` is the job process.

A job whose process is gone while its status still says queued/running is reported as failed
("process exited without finishing (killed?)"), and that verdict is written back to disk: the
one liveness check is :func:`core.jobs.queue.job_alive`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.atomic import atomic_write_json
from core.clock import now_iso
from core.errors import JobError
from core.jobs.queue import drop_queue_marker, job_alive, job_pid, read_json
from core.jobs.status import JobKind, JobState, JobStatus
from core.procs import end_group, end_tree, group_alive, leads_session, pid_alive

__all__ = [
    "DIED_MESSAGE",
    "STOPPING_FILE",
    "acknowledge_cancel",
    "cancel",
    "finish",
    "has_active_jobs",
    "job_dir",
    "list_jobs",
    "read_status",
    "status",
    "tail_log",
    "update_status",
]

DIED_MESSAGE = "process exited without finishing (killed?)"
#: A launch makes the folder before it writes status.json: give it this long.
_START_GRACE_SECONDS = 30.0
#: After a cancel's timeout, how much longer a job that already wrote its final state may take
#: to exit (a loaded machine slows its unwinding) before it is killed.
_EXIT_GRACE_SECONDS = 30.0


def spec_data(job_id: str, *, runs: Path) -> dict[str, Any]:
    """The job's ``spec.json`` as written (:func:`core.jobs.kinds.read_spec` types it).

    Raises:
        JobError: no such job.
    """
    data = read_json(job_dir(job_id, runs=runs) / "spec.json")
    if data is None:
        raise _no_job(job_id, runs)
    return data


#: A file a job process creates in its folder the moment it receives a cancel (SIGTERM/SIGINT):
#: it is stopping on its own. A sweep stops at its next safe point (after the fold it is
#: fitting), which on a busy machine can take longer than :func:`cancel`'s timeout.
STOPPING_FILE = "stopping"


def acknowledge_cancel(folder: Path) -> None:
    """Say, from a job process's signal handler, that it received the cancel and is stopping:
    creates ``{folder}/stopping`` with one system call (no lock, no Python buffer: safe in a
    handler whatever the interrupted code held). A failure is ignored: the canceller then
    waits its plain timeout."""
    with contextlib.suppress(OSError):
        os.close(os.open(folder / STOPPING_FILE, os.O_CREAT | os.O_WRONLY, 0o644))


def job_dir(job_id: str, *, runs: Path) -> Path:
    """``{runs}/{job_id}`` (``runs``: the home's ``context.paths.runs``); the id is checked so it cannot point elsewhere.

    Raises:
        JobError: not a job id.
    """
    if not job_id or not all(c.isalnum() or c in "-_" for c in job_id) or job_id[0] in "-_":
        raise JobError(f"{job_id!r} is not a job id; `python -m core job list` shows them.")
    return runs / job_id


def _no_job(job_id: str, runs: Path) -> JobError:
    return JobError(f"No job {job_id!r} in {runs}: `python -m core job list`.")


def read_status(job_id: str, *, runs: Path) -> JobStatus | None:
    """The job's status as its file says, without the liveness verdict of :func:`status` (for
    the one who watches the process itself, a Ray driver); None when there is no such job (or a
    launch is still writing its folder); a status file that cannot be read is reported as
    damaged."""
    folder = job_dir(job_id, runs=runs)
    path = folder / "status.json"
    try:
        text = path.read_text()
    except FileNotFoundError:
        if not folder.is_dir():
            return None
        young = time.time() - folder.stat().st_mtime < _START_GRACE_SECONDS
        if young and not (folder / "pid.json").exists():
            return None  # a launch is writing it
        return _damaged(job_id, "its status.json is missing", runs)
    except OSError as exc:
        return _damaged(job_id, f"its status.json cannot be read ({exc.strerror or exc})", runs)
    try:
        data = json.loads(text)
    except ValueError as exc:
        return _damaged(job_id, f"its status.json is not valid JSON ({exc})", runs)
    if not isinstance(data, dict):
        return _damaged(job_id, "its status.json does not hold a JSON object", runs)
    return JobStatus.from_dict({"job_id": job_id, **data})


def _damaged(job_id: str, why: str, runs: Path) -> JobStatus:
    """A job whose status file is damaged: shown (failed, with the reason), never hidden, and
    never written over (what is left on disk is the evidence)."""
    folder = job_dir(job_id, runs=runs)
    spec = read_json(folder / "spec.json") or {}
    kind = JobKind.parse(spec.get("kind"))
    symbol = spec.get("symbol") if isinstance(spec.get("symbol"), str) else None
    error = (
        f"job {job_id} is damaged: {why}. Its log may say what happened "
        f"(`python -m core job log {job_id}`); delete {folder} to drop it."
    )
    return JobStatus(
        job_id=job_id, kind=kind, state=JobState.FAILED, symbol=symbol, error=error, damage=why
    )


def update_status(job_id: str, *, runs: Path, **fields: Any) -> JobStatus:
    """Replace ``fields`` of the job's status on disk (atomically); returns the new status. For
    writers outside the job process (the launcher, the Ray driver, cancel)."""
    current = read_status(job_id, runs=runs) or JobStatus(job_id=job_id)
    changed = dataclasses.replace(current, updated_at=now_iso(), **fields)
    atomic_write_json(job_dir(job_id, runs=runs) / "status.json", changed.to_dict())
    return changed


def finish(
    job_id: str, state: JobState, *, runs: Path, error: str | None = None, **fields: Any
) -> None:
    """Write a final state for a job whose process cannot (it died, was cancelled before it
    started, or never started), unless the job already ended on its own."""
    current = read_status(job_id, runs=runs)
    if current is not None and (current.finished or current.damage):
        return
    update_status(
        job_id,
        runs=runs,
        state=state,
        error=error,
        finished_at=now_iso(),
        eta_seconds=None,
        **fields,
    )


def status(job_id: str, *, runs: Path) -> JobStatus:
    """The job's :class:`JobStatus`, with a dead process's job marked failed (on disk too).

    Raises:
        JobError: no such job.
    """
    found = read_status(job_id, runs=runs)
    if found is None:
        raise _no_job(job_id, runs)
    if found.damage:
        return found
    if found.active and not job_alive(job_id, found, runs=runs):
        # read again: the process may have written its final status just before it exited
        found = read_status(job_id, runs=runs) or found
        if found.active:
            finish(job_id, JobState.FAILED, runs=runs, error=DIED_MESSAGE)
            drop_queue_marker(job_id, runs=runs)
            found = read_status(job_id, runs=runs) or found
    return found


def list_jobs(
    *, runs: Path, limit: int | None = None, kind: JobKind | str | None = None
) -> list[JobStatus]:
    """Every job's status in ``runs`` (only ``kind`` jobs when given), newest first, at most
    ``limit``."""
    if not runs.is_dir():
        return []
    wanted = None if kind is None else JobKind(kind)
    out = []
    for folder in runs.iterdir():
        if not folder.is_dir() or folder.name.startswith("."):
            continue
        with contextlib.suppress(JobError):
            found = status(folder.name, runs=runs)
            if wanted is None or found.kind is wanted:
                out.append(found)
    out.sort(key=lambda s: (s.created_ns, s.job_id), reverse=True)
    return out[:limit] if limit is not None else out


def has_active_jobs(kind: JobKind | str | None = None, *, runs: Path) -> bool:
    """True while any job (of ``kind``) is queued or running (the UI polls only then)."""
    return any(s.active for s in list_jobs(runs=runs, kind=kind))


def cancel(job_id: str, *, runs: Path, timeout: float = 5.0) -> JobStatus:
    """Stop a queued or running job of any kind: SIGTERM to its whole process group (the job
    process turns it into a clean "cancelled"; a sweep marks its running trial failed and keeps
    the finished ones), SIGKILL after ``timeout`` seconds (up to 30 s more once the job said it
    received the signal (:data:`STOPPING_FILE`) or wrote its final state: it is stopping on its
    own, a sweep after the fold it is fitting), then mark it cancelled. A job run in
    the foreground of a terminal (``tune``) gets the same signals, sent to it and its children
    only, never to the terminal's process group. A Ray job that
    still waits for a worker is only marked: its driver drops the task. A finished job is left
    as it is.

    Returns the job's status. Raises JobError if there is no such job.
    """
    found = status(job_id, runs=runs)
    if found.finished:
        return found
    pid = job_pid(job_id, found, runs=runs)
    # a job run in the foreground (`tune` in a terminal) has no job id in its command line: the
    # pid it wrote with its start time names it
    started = found.pid_start if pid is not None and pid == found.pid else None
    if pid is not None and pid_alive(pid, marker=job_id, started=started):
        # a job that wrote its final state, or said it received the cancel (a sweep finishing
        # the fold it fits), is stopping on its own: killing it would lose what it is saving
        def exiting() -> bool:
            if (job_dir(job_id, runs=runs) / STOPPING_FILE).exists():
                return True
            now = read_status(job_id, runs=runs)
            return now is not None and now.finished

        if leads_session(pid):  # a launched job: its pid is its process group id
            _end_group(pid, timeout, exiting)
        else:  # run in a terminal's foreground: its group may be the shell's pipeline too
            end_tree(pid, timeout=timeout, patience=exiting, grace=_EXIT_GRACE_SECONDS)
    finish(job_id, JobState.CANCELLED, runs=runs, message="cancelled by the user")
    drop_queue_marker(job_id, runs=runs)
    return read_status(job_id, runs=runs) or found


def _end_group(pgid: int, timeout: float, exiting: Callable[[], bool]) -> None:
    end_group(pgid)
    started = time.monotonic()
    while group_alive(pgid):
        waited = time.monotonic() - started
        if waited > timeout and (waited > timeout + _EXIT_GRACE_SECONDS or not exiting()):
            break
        time.sleep(0.05)
    if group_alive(pgid):
        end_group(pgid, force=True)
        deadline = time.monotonic() + 5
        while group_alive(pgid) and time.monotonic() < deadline:
            time.sleep(0.05)


def tail_log(job_id: str, lines: int = 50, *, runs: Path) -> str:
    """The last ``lines`` lines of the job's log ("" before it wrote any).

    Raises:
        JobError: no such job.
    """
    folder = job_dir(job_id, runs=runs)
    if not folder.is_dir():
        raise _no_job(job_id, runs)
    path = folder / "job.log"
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
