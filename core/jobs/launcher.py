"""Starting jobs: the one launch for every kind, on this machine or on Ray.

:func:`launch` takes any job spec (:class:`~core.jobs.spec.JobSpec` to train a coin,
:class:`~core.jobs.fetch_job.FetchSpec`, :class:`~core.jobs.tune_job.TuneJob` for a sweep,
:class:`~core.jobs.ray_executor.RayDriverSpec`), writes its folder (:func:`prepare`) and starts
``python -m core job run <job_id>`` in its own process group (so cancel ends all of it; the
process outlives the page or terminal that started it, and is reaped by this one when it ends).

``executor`` is where the work runs, decided here and nowhere else: ``local`` (training jobs wait
for one of this machine's slots, :mod:`core.jobs.queue`) or ``ray`` (training jobs become Ray
tasks watched by one ``ray-driver`` job; a sweep runs its trials as Ray tasks). Training and
tuning keep one job per coin (:mod:`core.jobs.one_per_coin`); a sweep also needs its study free.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from core import config
from core.atomic import atomic_write_json
from core.clock import now_iso
from core.config import Paths
from core.context import child_env
from core.errors import ConfigError, JobError
from core.jobs.control import finish, job_dir, status
from core.jobs.fetch_job import FetchSpec
from core.jobs.kinds import read_spec, spec_from_dict
from core.jobs.one_per_coin import launch_lock, refuse_busy
from core.jobs.queue import drop_queue_marker, threads_per_slot
from core.jobs.spec import JobSpec
from core.jobs.status import JobKind, JobState, JobStatus
from core.procs import process_start, reap_when_done

if TYPE_CHECKING:
    from core.jobs.ray_executor import RayDriverSpec
    from core.jobs.tune_job import TuneJob

__all__ = ["EXECUTORS", "launch", "launch_all", "prepare", "restart"]

#: Where a job's work can run.
EXECUTORS = ("local", "ray")


def _kind(spec: Any) -> JobKind:
    return JobKind.TRAIN if isinstance(spec, JobSpec) else JobKind(spec.kind)


def _first_status(job_id: str, spec: Any, executor: str, address: str | None) -> JobStatus:
    if isinstance(spec, JobSpec):
        first = JobStatus(
            job_id=job_id,
            kind=JobKind.TRAIN,
            symbol=spec.symbol,
            models=tuple(spec.models),
            interval=spec.interval,
            message="waiting for a Ray worker" if executor == "ray" else "waiting to start",
        )
        if executor == "ray":
            first = dataclasses.replace(
                first, extra={"executor": "ray", "address": address or "local"}
            )
        return first
    status: JobStatus = spec.initial_status(job_id)
    return status


def _check_executor(spec: Any, executor: str) -> None:
    if executor not in EXECUTORS:
        raise ConfigError(f"executor must be one of {', '.join(EXECUTORS)}, got {executor!r}.")
    if executor == "ray" and isinstance(spec, FetchSpec):
        raise ConfigError("A fetch runs on this machine (it is network-bound): use local.")


def prepare(
    spec: JobSpec | FetchSpec | TuneJob | RayDriverSpec,
    *,
    home: Path,
    executor: str = "local",
    address: str | None = None,
) -> str:
    """Write a job's folder (under ``home``'s runs folder; ``home``: the edge's ``context.home``) (``spec.json`` and a queued ``status.json``) without starting a
    process; returns the job id. :func:`launch` then starts it, a Ray driver runs it as a Ray
    task, or ``tune`` runs it in the foreground.

    Raises:
        JobError: the coin already has a training job or sweep (one per coin), or the sweep's
            study is being tuned. ConfigError: an executor that cannot run this kind.
    """
    _check_executor(spec, executor)
    kind = _kind(spec)
    runs = Paths(home).runs
    if getattr(spec, "home", "") is None:  # a kind that keeps its home folder in spec.json
        spec = dataclasses.replace(cast(Any, spec), home=str(home))
    with launch_lock(runs=runs):
        symbol = getattr(spec, "symbol", None)
        if kind in (JobKind.TRAIN, JobKind.TUNE) and isinstance(symbol, str):
            refuse_busy([symbol], runs=runs, study=getattr(spec, "study", None))
        check = getattr(spec, "check", None)
        if check is not None:  # what a kind refuses before anything is written (a busy study)
            check()
        created_ns = time.time_ns()
        stamp = datetime.fromtimestamp(created_ns / 1e9, UTC)
        subject = symbol.lower() if isinstance(symbol, str) else kind.value
        job_id = f"{stamp:%Y%m%d-%H%M%S}-{subject}-{secrets.token_hex(2)}"
        folder = runs / job_id
        folder.mkdir(parents=True, exist_ok=False)
        try:
            atomic_write_json(folder / "spec.json", spec.to_dict())
            first = dataclasses.replace(
                _first_status(job_id, spec, executor, address),
                created_at=stamp.isoformat(timespec="seconds"),
                created_ns=created_ns,
                updated_at=now_iso(),
            )
            atomic_write_json(folder / "status.json", first.to_dict())
        except OSError:  # a full or read-only disk: no half-made job is left to list
            shutil.rmtree(folder, ignore_errors=True)
            raise
    if kind is JobKind.TRAIN and executor == "local":
        queue = runs / ".queue"
        queue.mkdir(exist_ok=True)
        (queue / f"{created_ns:020d}_{job_id}").touch()
    return job_id


def _spawn(job_id: str, kind: JobKind, home: Path) -> None:
    """Start ``python -m core job run <job_id>`` in its own session, in ``home`` (its
    environment names it: :func:`core.context.child_env`); reap it when it ends."""
    runs = Paths(home).runs
    env = {**os.environ, **child_env(home), "PYTHONUNBUFFERED": "1"}
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if kind is JobKind.TRAIN:
        # jobs run side by side, one per slot: each gets its share of the cores, not all of them
        env.setdefault("CRYPTOVOLT_THREADS", str(threads_per_slot()))
    folder = job_dir(job_id, runs=runs)
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
            finish(
                job_id, JobState.FAILED, runs=runs, error=f"could not start the job process: {exc}"
            )
            drop_queue_marker(job_id, runs=runs)
            raise JobError(f"Could not start a {kind.value} job process: {exc}") from exc
    reap_when_done(proc)
    atomic_write_json(folder / "pid.json", {"pid": proc.pid, "start": process_start(proc.pid)})


def launch(
    spec: JobSpec | FetchSpec | TuneJob | RayDriverSpec | Mapping[str, Any],
    *,
    home: Path,
    executor: str = "local",
    address: str | None = None,
) -> str:
    """Start one job in the background where ``executor`` says, in ``home`` (the edge's
    ``context.home``); returns its id at once.

    A training job waits in the local queue (or for a Ray worker); a fetch, a sweep and a Ray
    driver start at once. A dict is read as a ``spec.json``.

    Raises:
        ConfigError and the symbol errors: a bad spec (nothing is started). JobError: the coin is
            busy, or the process cannot start. ConfigError / JobError from Ray: see
            :func:`core.jobs.ray_executor.check`.
    """
    if isinstance(spec, Mapping):
        spec = spec_from_dict(spec)
    return launch_all([spec], home=home, executor=executor, address=address)[0]


def launch_all(
    specs: Sequence[JobSpec | FetchSpec | TuneJob | RayDriverSpec],
    *,
    home: Path,
    executor: str = "local",
    address: str | None = None,
) -> list[str]:
    """Start several jobs; returns their ids. Every training or tuning coin is checked first, so
    a busy coin starts none of them. On Ray, training jobs share one ``ray-driver`` job.

    Raises: as :func:`launch`.
    """
    for spec in specs:
        _check_executor(spec, executor)
    symbols = [sym for s in specs if isinstance(sym := getattr(s, "symbol", None), str)]
    refuse_busy(symbols, runs=Paths(home).runs)
    if executor == "ray":
        return _launch_on_ray(specs, address, home)
    ids = []
    for spec in specs:
        job_id = prepare(spec, home=home)
        _spawn(job_id, _kind(spec), home)
        ids.append(job_id)
    return ids


def _launch_on_ray(specs: Sequence[Any], address: str | None, home: Path) -> list[str]:
    from core.jobs.ray_executor import RayDriverSpec, check

    check(address)
    ids, training = [], []
    for spec in specs:
        if isinstance(spec, JobSpec):
            job_id = prepare(spec, home=home, executor="ray", address=address)
            training.append(job_id)
        else:  # a sweep runs its trials on Ray; its own process runs here
            if spec.kind is JobKind.TUNE:
                spec = dataclasses.replace(spec, executor="ray", address=address)
            job_id = prepare(spec, home=home)
            _spawn(job_id, _kind(spec), home)
        ids.append(job_id)
    if training:
        driver = prepare(RayDriverSpec(tuple(training), address, str(home)), home=home)
        try:
            _spawn(driver, JobKind.RAY_DRIVER, home)
        except JobError as exc:
            for job_id in training:
                error = f"could not start the Ray driver: {exc}"
                finish(job_id, JobState.FAILED, runs=Paths(home).runs, error=error)
            raise
    return ids


def restart(job_id: str, *, home: Path) -> str:
    """Start a finished job again from its spec, where it ran (the local queue or Ray); returns
    the new job's id. Training and tuning keep the one-job-per-coin rule.

    Raises:
        JobError: no such job, it is still queued or running, or its coin is busy again.
        ConfigError: its spec is no longer valid.
    """
    runs = Paths(home).runs
    found = status(job_id, runs=runs)
    if found.active:
        raise JobError(
            f"Job {job_id} is still {found.state.value}: cancel it first "
            f"(`python -m core job cancel {job_id}`), then restart it."
        )
    spec = read_spec(job_id, runs=runs)
    if isinstance(spec, JobSpec) and found.extra.get("executor") == "ray":
        address = found.extra.get("address")
        where = address if isinstance(address, str) and address != "local" else None
        return launch(spec, home=home, executor="ray", address=where)
    restarted = getattr(spec, "restarted", None)
    if restarted is not None:  # a kind that starts again differently (a sweep: resumed)
        spec = restarted()
    return launch(spec, home=home)
