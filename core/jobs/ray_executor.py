"""Training jobs on Ray: the same job folders and the same runner entry, Ray as the scheduler.

``python -m core train --executor ray`` (or the Training page's Ray choice) makes one job folder
per coin exactly as the local queue does (``runs/{job_id}/spec.json``, ``status.json``,
``job.log``), then submits one Ray task per job. The task runs
:func:`core.jobs.runner.run_job` in the Ray worker, skipping the local slot queue (Ray decides
where and when it runs), so the job writes its own status, logs and registry versions as a local
job does, and ``job status / log / cancel`` and the Training page work unchanged:

- the task is named ``cryptovolt-{job_id}``, which Ray puts in the worker's command line, so the
  job's pid passes the same liveness check as a local job process;
- a Ray worker leads its own process group, so ``job cancel`` (SIGTERM to the group) ends it
  cleanly; a job cancelled while it still waits in Ray's queue is ``ray.cancel``-ed by the driver;
- ``max_calls=1`` gives every job a fresh worker (TensorFlow's memory goes with it) and
  ``max_retries=0`` means a worker that dies ends its job as failed with Ray's reason, never a
  silent second run. The registry writes a version into a temp folder and renames it, so a
  worker killed mid-training leaves no half version.

The driver (the ``train`` command in the foreground, or ``python -m core.jobs.ray_executor ID...``
in the background) must live until its jobs end: a waiting job counts as alive while its driver
does (``driver_pid`` in its status). Without ``--address`` the driver starts a local Ray sized to
this machine; ``--address ray://host:10001`` (Ray Client) or ``host:6379`` / ``auto`` joins a
cluster whose nodes see the same home folder (a shared file system) and the same code.

``ray`` is imported only here, inside functions: ``import core`` never loads it.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import importlib.util
import logging
import os
import secrets
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from core import config
from core.atomic import atomic_write_json
from core.errors import ConfigError, CryptoVoltError, JobError
from core.jobs.queue import read_json, slot_count
from core.jobs.spec import JobSpec, JobState
from core.jobs.status import JobKind, JobStatus, now_iso
from core.procs import reap_when_done

__all__ = [
    "EXECUTORS",
    "INSTALL_HINT",
    "check",
    "connect",
    "launch",
    "prepare",
    "ray_available",
    "run",
]

log = logging.getLogger("core.jobs.ray_executor")

EXECUTORS = ("local", "ray")
INSTALL_HINT = "pip install -r requirements-ray.txt"
#: Seconds to wait for a TCP answer from ``--address`` before saying it is unreachable.
CONNECT_TIMEOUT = 3.0
#: Object store of a local Ray: jobs pass only ids and exit codes, so keep /dev/shm free.
_OBJECT_STORE_BYTES = 256 * 1024 * 1024


def ray_available() -> bool:
    """True when Ray can be imported (without importing it)."""
    return importlib.util.find_spec("ray") is not None


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ConfigError(
            f"--executor ray needs Ray, which is not installed here: `{INSTALL_HINT}` "
            "(or use --executor local)."
        ) from None
    return ray


def _check_reachable(address: str) -> None:
    """Fail in one line, within :data:`CONNECT_TIMEOUT`, when nothing answers at ``address``
    (Ray itself retries an unreachable address for a long time)."""
    if address == "auto":
        return
    url = address if "://" in address else f"ray://{address}"
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port or (10001 if parts.scheme == "ray" else 6379)
    except ValueError:
        host, port = None, 0
    if not host:
        raise ConfigError(
            f"--address {address!r} is not a Ray address: use ray://HOST:10001 (Ray Client), "
            "HOST:6379 (a head node) or auto."
        )
    try:
        socket.create_connection((host, port), timeout=CONNECT_TIMEOUT).close()
        _grpc_ready(host, port)
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise JobError(
            f"Cannot reach the Ray cluster at {address} ({reason}): check the address and that "
            "`ray start --head` runs there, or leave --address out for a local Ray."
        ) from None


def _grpc_ready(host: str, port: int) -> None:
    """Both Ray Client and a head node's GCS speak gRPC: a port that accepts TCP (a proxy, some
    other server) but does not answer a gRPC handshake is not a Ray cluster. Raises OSError."""
    try:
        import grpc
    except ImportError:  # Ray without its client extra: the TCP check is all we can do
        return
    channel = grpc.insecure_channel(f"{host}:{port}")
    try:
        # any gRPC server answers a method it does not have with UNIMPLEMENTED, at once
        channel.unary_unary("/cryptovolt.Probe/Ping")(b"", timeout=CONNECT_TIMEOUT)
    except grpc.RpcError as exc:
        code = exc.code() if hasattr(exc, "code") else None
        details = str(exc.details() if hasattr(exc, "details") else "")
        if code in (grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.UNAVAILABLE):
            raise OSError(f"no gRPC answer within {CONNECT_TIMEOUT:g} s") from None
        if details.startswith("Received http2 header with status"):  # HTTP, not gRPC
            raise OSError(f"an HTTP server answers there, not Ray ({details})") from None
    finally:
        channel.close()


def connect(address: str | None = None) -> Any:
    """Connect this process to Ray and return the ``ray`` module: a new local instance sized to
    this machine (the job slots: cores, capped by memory) without ``address``, else the cluster
    at ``address``.

    Raises:
        ConfigError: Ray is not installed (says how to install it), or a malformed address.
        JobError: nothing answers at ``address``.
    """
    if address and address != "local":
        # Ray clusters check a token by default (the head's ~/.ray/auth_token); a client sends
        # it only in token mode, which Ray reads when it is imported: turn it on first
        token = os.environ.get("RAY_AUTH_TOKEN") or (Path.home() / ".ray" / "auth_token").exists()
        if token:
            os.environ.setdefault("RAY_AUTH_MODE", "token")
    else:
        # A local Ray listens on the loopback only: its node address is the machine's LAN address
        # (every server bound to all interfaces) unless Ray thinks clusters are off, which it
        # reads when it is imported (Ray turns 127.0.0.1 in ray.init's _node_ip_address into
        # the LAN address, so that argument cannot do it)
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    ray = _ray()
    if ray.is_initialized():
        return ray
    quiet: dict[str, Any] = {"logging_level": logging.ERROR, "log_to_driver": False}
    if not address or address == "local":
        ray.init(
            address="local",
            num_cpus=slot_count(),
            include_dashboard=False,
            object_store_memory=_OBJECT_STORE_BYTES,
            **quiet,
        )
        return ray
    _check_reachable(address)
    try:
        with warnings.catch_warnings():  # Ray warns before it raises: one line is enough
            warnings.simplefilter("ignore")
            # the nodes hold the project at the same path (and see the same home folder)
            code = {"env_vars": {"PYTHONPATH": str(config.PROJECT_DIR)}}
            ray.init(address=address, runtime_env=code, **quiet)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise JobError(
            f"Cannot connect to the Ray cluster at {address}: {first} (if the cluster checks a "
            "token, copy its ~/.ray/auth_token here or set RAY_AUTH_TOKEN)"
        ) from None
    return ray


def check(address: str | None = None) -> None:
    """Refuse early, before any job folder is made: Ray missing (says how to install it), or
    nothing answering at ``address``. Raises ConfigError / JobError."""
    if not ray_available():
        _ray()
    if address and address != "local":
        _check_reachable(address)


def _read(job_id: str) -> JobStatus:
    data = read_json(config.runs_dir() / job_id / "status.json") or {}
    return JobStatus.from_dict({"job_id": job_id, **data})


def _write(job_id: str, **fields: Any) -> JobStatus:
    status = dataclasses.replace(_read(job_id), updated_at=now_iso(), **fields)
    atomic_write_json(config.runs_dir() / job_id / "status.json", status.to_dict())
    return status


def _end(job_id: str, state: JobState, *, error: str | None = None, message: str = "") -> None:
    """Write a final state, unless the job already wrote one itself."""
    if _read(job_id).active:
        _write(job_id, state=state, error=error, message=message, finished_at=now_iso())


def prepare(spec: JobSpec, *, address: str | None = None) -> str:
    """Make a training job's folder (spec and a queued status, as :func:`core.jobs.launch`
    does) without starting a process: a Ray task will run it. Returns the job id."""
    from core.jobs.one_per_coin import launch_lock, refuse_busy

    with launch_lock():
        refuse_busy([spec.symbol])
        return _prepare(spec, address)


def _prepare(spec: JobSpec, address: str | None) -> str:
    created_ns = time.time_ns()
    stamp = datetime.fromtimestamp(created_ns / 1e9, UTC)
    job_id = f"{stamp:%Y%m%d-%H%M%S}-{spec.symbol.lower()}-{secrets.token_hex(2)}"
    folder = config.runs_dir() / job_id
    folder.mkdir(parents=True, exist_ok=False)
    atomic_write_json(folder / "spec.json", spec.to_dict())
    status = JobStatus(
        job_id=job_id,
        kind=JobKind.TRAIN,
        symbol=spec.symbol,
        models=tuple(spec.models),
        interval=spec.interval,
        message="waiting for a Ray worker",
        created_at=stamp.isoformat(timespec="seconds"),
        created_ns=created_ns,
        updated_at=now_iso(),
        extra={"executor": "ray", "address": address or "local"},
    )
    atomic_write_json(folder / "status.json", status.to_dict())
    return job_id


def _task(job_id: str, home: str) -> int:
    """One job in a Ray worker: the job runner entry, without the local slot queue."""
    os.environ["CRYPTOVOLT_HOME"] = home
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("CRYPTOVOLT_THREADS", "1")  # one Ray CPU per task
    # a Ray worker already leads its own process group (cancel signals the group); make sure
    with contextlib.suppress(OSError):
        os.setsid()
    from core.jobs.runner import run_job

    found = _read(job_id)
    if found.finished:  # cancelled while it waited in Ray's queue: do not start it
        return 143 if found.state is JobState.CANCELLED else 1
    _write(job_id, extra={**found.extra, "host": socket.gethostname()})
    return run_job(job_id, queue=False)


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    first = text[0] if text else ""
    return (
        f"the Ray worker running this job died ({type(exc).__name__}: {first}); a version it "
        "had not finished saving was not registered"
    )


def _settle(ray: Any, ref: Any, job_id: str) -> None:
    try:
        ray.get(ref)
    except ray.exceptions.TaskCancelledError:
        _end(job_id, JobState.CANCELLED, message="cancelled by the user")
    except ray.exceptions.RayError as exc:
        log.warning("job %s: %s", job_id, exc)
        _end(job_id, JobState.FAILED, error=_reason(exc))


def run(
    job_ids: Sequence[str],
    *,
    address: str | None = None,
    poll: float = 0.5,
    on_poll: Callable[[], None] | None = None,
) -> dict[str, JobStatus]:
    """Drive prepared jobs to their end on Ray; returns each job's final status.

    This process is the Ray driver: it must live until the jobs end (Ctrl-C cancels them).
    ``on_poll`` is called every ``poll`` seconds while jobs run (the CLI redraws its progress).

    Raises:
        ConfigError / JobError: as :func:`connect` (every job is marked failed with that reason).
    """
    for job_id in job_ids:  # a job waiting in Ray's queue lives while this driver does
        _write(job_id, extra={**_read(job_id).extra, "driver_pid": os.getpid()})
    try:
        ray = connect(address)
    except CryptoVoltError as exc:
        for job_id in job_ids:
            _end(job_id, JobState.FAILED, error=str(exc))
        raise
    remote = ray.remote(num_cpus=1, max_calls=1, max_retries=0)(_task)
    home = str(config.home())
    waiting = [j for j in job_ids if _read(j).active]  # not those cancelled while Ray started
    refs = {remote.options(name=f"cryptovolt-{j}").remote(j, home): j for j in waiting}
    pending, asked = list(refs), set()
    try:
        while pending:
            done, pending = ray.wait(pending, num_returns=len(pending), timeout=poll)
            for ref in done:
                _settle(ray, ref, refs[ref])
            for ref in pending:
                # `job cancel` of a job still in Ray's queue marks it cancelled: drop its task
                if ref not in asked and _read(refs[ref]).state is JobState.CANCELLED:
                    ray.cancel(ref, force=True)
                    asked.add(ref)
            if on_poll is not None:
                on_poll()
    except BaseException:
        for ref in pending:
            with contextlib.suppress(Exception):
                ray.cancel(ref, force=True)
            _end(refs[ref], JobState.CANCELLED, message="cancelled: the Ray driver was stopped")
        raise
    finally:
        with contextlib.suppress(Exception):
            ray.shutdown()
    from core.jobs.control import status

    return {job_id: status(job_id) for job_id in job_ids}


def launch(specs: Sequence[JobSpec], *, address: str | None = None) -> list[str]:
    """Start ``specs`` on Ray in the background (a detached driver process); returns the job ids
    at once, as :func:`core.jobs.launch` does for the local queue.

    Raises:
        ConfigError: Ray is not installed. JobError: ``address`` is unreachable, or the driver
            process cannot start.
    """
    check(address)
    from core.jobs.one_per_coin import refuse_busy

    refuse_busy([spec.symbol for spec in specs])  # all of them before any folder is made
    job_ids = [prepare(spec, address=address) for spec in specs]
    if not job_ids:
        return []
    command = [sys.executable, "-m", "core.jobs.ray_executor", *job_ids]
    if address:
        command += ["--address", address]
    env = {**os.environ, "CRYPTOVOLT_HOME": str(config.home()), "PYTHONUNBUFFERED": "1"}
    with open(config.runs_dir() / job_ids[0] / "driver.log", "ab") as output:
        try:
            driver = subprocess.Popen(
                command,
                cwd=config.PROJECT_DIR,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # outlives the page or the terminal that started it
            )
        except OSError as exc:
            for job_id in job_ids:
                _end(job_id, JobState.FAILED, error=f"could not start the Ray driver: {exc}")
            raise JobError(f"Could not start the Ray driver process: {exc}") from exc
    reap_when_done(driver)
    # the driver records itself as each job's driver_pid (well within the queue's start grace)
    return job_ids


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m core.jobs.ray_executor JOB_ID... [--address A]``: the background driver."""
    parser = argparse.ArgumentParser(prog="python -m core.jobs.ray_executor")
    parser.add_argument("job_ids", nargs="+")
    parser.add_argument("--address", default=None)
    args = parser.parse_args(argv)
    try:
        final = run(args.job_ids, address=args.address)
    except CryptoVoltError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0 if all(s.state is JobState.SUCCEEDED for s in final.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
