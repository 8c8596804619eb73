"""Training jobs on Ray: the same job folders and the same runner entry, Ray as the scheduler.

``launch_all(specs, executor="ray")`` (:mod:`core.jobs.launcher`: ``train --executor ray``, the
Training page's Ray choice) makes one training job folder per coin exactly as the local queue
does, plus one ``ray-driver`` job (a :class:`RayDriverSpec`, launched and cancelled like any other
job) whose process submits one Ray task per training job. The task runs
:func:`core.jobs.runner.run_job` in the Ray worker, skipping the local slot queue (Ray decides
where and when it runs), so the job writes its own status, logs and registry versions as a local
job does, and ``job status / log / cancel`` and the Training page work unchanged:

- the worker records its pid and start time in the job's status, the one liveness check;
- a Ray worker leads its own process group, so ``job cancel`` (SIGTERM to the group) ends it
  cleanly; a job cancelled while it still waits in Ray's queue is ``ray.cancel``-ed by the driver;
- ``max_calls=1`` gives every job a fresh worker (TensorFlow's memory goes with it) and
  ``max_retries=0`` means a worker that dies ends its job as failed with Ray's reason, never a
  silent second run. The registry writes a version into a temp folder and renames it, so a
  worker killed mid-training leaves no half version.

The driver (the ``train`` command in the foreground, or the ``ray-driver`` job in the background)
must live until its jobs end: a waiting job counts as alive while its driver does (``driver_pid``
in its status). Without ``--address`` the driver starts a local Ray sized to this machine;
``--address ray://host:10001`` (Ray Client) or ``host:6379`` / ``auto`` joins a cluster whose
nodes see the same home folder (a shared file system) and the same code.

``ray`` is imported only here, inside functions: ``import core`` never loads it.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import socket
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

from core import config
from core.clock import now_iso
from core.config import Paths
from core.context import child_env
from core.errors import ConfigError, CryptoVoltError, JobError
from core.jobs.control import finish, read_status, spec_data, status, update_status
from core.jobs.queue import slot_count
from core.jobs.status import JobKind, JobState, JobStatus, StatusWriter

__all__ = [
    "INSTALL_HINT",
    "RayDriverSpec",
    "check",
    "connect",
    "lead_own_group",
    "ray_available",
    "run",
]

log = logging.getLogger("core.jobs.ray_executor")

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


def _worker_env(home: Path) -> dict[str, str]:
    """The environment of every Ray worker of this driver: the home folder (the child
    environment the launcher gives every job), quiet TensorFlow, one thread per task."""
    return {
        **child_env(home),
        "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2"),
        "CRYPTOVOLT_THREADS": "1",  # one Ray CPU per task
    }


def connect(address: str | None = None, *, home: Path) -> Any:
    """Connect this process to Ray and return the ``ray`` module: a new local instance sized to
    this machine (the job slots: cores, capped by memory) without ``address``, else the cluster
    at ``address``. Its workers run in ``home`` (Ray's ``runtime_env``: no task writes its own
    environment).

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
    env = _worker_env(home)
    if not address or address == "local":
        ray.init(
            address="local",
            num_cpus=slot_count(),
            include_dashboard=False,
            object_store_memory=_OBJECT_STORE_BYTES,
            runtime_env={"env_vars": env},
            **quiet,
        )
        return ray
    _check_reachable(address)
    try:
        with warnings.catch_warnings():  # Ray warns before it raises: one line is enough
            warnings.simplefilter("ignore")
            # the nodes hold the project at the same path (and see the same home folder)
            code = {"env_vars": {**env, "PYTHONPATH": str(config.PROJECT_DIR)}}
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


def _raw(job_id: str, runs: Path) -> JobStatus:
    """The job's status as written: this driver watches the task itself (Ray says when a worker
    died, with its reason), so it must not pass the liveness verdict of ``status`` first."""
    return read_status(job_id, runs=runs) or JobStatus(job_id=job_id)


def lead_own_group() -> None:
    """Make this process (a Ray worker, already running) lead its own process group where the
    OS has them, so ``job cancel`` (SIGTERM to the group) reaches the job and whatever it started.

    Elsewhere a job process is started with ``start_new_session=True``; a Ray task has no process
    of its own to start that way (a child started from the worker would outlive a worker Ray
    kills), so the worker takes the group itself. Already a leader (Ray's workers usually are):
    nothing changes. Windows has no process groups (and no ``os.setsid``): there
    :func:`core.procs.end_group` ends the job's process tree instead.
    """
    setsid = getattr(os, "setsid", None)
    if setsid is not None:
        with contextlib.suppress(OSError):  # EPERM: already a group leader
            setsid()


def _task(job_id: str, home: str) -> int:
    """One job of ``home`` in a Ray worker (its environment names the home too, for what the
    job starts: :func:`connect`): the job runner entry, without the local slot queue."""
    lead_own_group()
    from core.jobs.runner import run_job
    from core.jobs.spec import JobSpec

    paths = Paths(Path(home))
    found = _raw(job_id, paths.runs)
    if found.finished:  # cancelled while it waited in Ray's queue: do not start it
        return 143 if found.state is JobState.CANCELLED else 1
    update_status(job_id, runs=paths.runs, extra={**found.extra, "host": socket.gethostname()})
    spec = JobSpec.from_dict(spec_data(job_id, runs=paths.runs))
    return run_job(job_id, spec, paths=paths, queue=False)


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    first = text[0] if text else ""
    return (
        f"the Ray worker running this job died ({type(exc).__name__}: {first}); a version it "
        "had not finished saving was not registered"
    )


def _settle(ray: Any, ref: Any, job_id: str, runs: Path) -> None:
    try:
        ray.get(ref)
    except ray.exceptions.TaskCancelledError:
        finish(job_id, JobState.CANCELLED, runs=runs, message="cancelled by the user")
    except ray.exceptions.RayError as exc:
        log.warning("job %s: %s", job_id, exc)
        finish(job_id, JobState.FAILED, runs=runs, error=_reason(exc))


def run(
    job_ids: Sequence[str],
    *,
    home: Path,
    address: str | None = None,
    poll: float = 0.5,
    on_poll: Callable[[], None] | None = None,
) -> dict[str, JobStatus]:
    """Drive prepared jobs to their end on Ray; returns each job's final status.

    This process is the Ray driver: it must live until the jobs end (Ctrl-C cancels them). The
    workers run in ``home``.
    ``on_poll`` is called every ``poll`` seconds while jobs run (the CLI redraws its progress).

    Raises:
        ConfigError / JobError: as :func:`connect` (every job is marked failed with that reason).
    """
    runs = Paths(home).runs
    for job_id in job_ids:  # a job waiting in Ray's queue lives while this driver does
        extra = {**_raw(job_id, runs).extra, "driver_pid": os.getpid()}
        update_status(job_id, runs=runs, extra=extra)
    try:
        ray = connect(address, home=home)
    except CryptoVoltError as exc:
        for job_id in job_ids:
            finish(job_id, JobState.FAILED, runs=runs, error=str(exc))
        raise
    remote = ray.remote(num_cpus=1, max_calls=1, max_retries=0)(_task)
    # not those cancelled while Ray started
    waiting = [j for j in job_ids if _raw(j, runs).active]
    refs = {remote.options(name=f"cryptovolt-{j}").remote(j, str(home)): j for j in waiting}
    pending, asked = list(refs), set()
    try:
        while pending:
            done, pending = ray.wait(pending, num_returns=len(pending), timeout=poll)
            for ref in done:
                _settle(ray, ref, refs[ref], runs)
            for ref in pending:
                # `job cancel` of a job still in Ray's queue marks it cancelled: drop its task
                if ref not in asked and _raw(refs[ref], runs).state is JobState.CANCELLED:
                    ray.cancel(ref, force=True)
                    asked.add(ref)
            if on_poll is not None:
                on_poll()
    except BaseException:
        for ref in pending:
            with contextlib.suppress(Exception):
                ray.cancel(ref, force=True)
            stopped = "cancelled: the Ray driver was stopped"
            finish(refs[ref], JobState.CANCELLED, runs=runs, message=stopped)
        raise
    finally:
        with contextlib.suppress(Exception):
            ray.shutdown()
    return {job_id: status(job_id, runs=runs) for job_id in job_ids}


@dataclass(frozen=True)
class RayDriverSpec:
    """The job that drives training jobs on Ray: their ids, the cluster (None: a local Ray
    sized to this machine) and the home folder its workers run in (set by the launcher). Its
    process is the Ray driver (:func:`run`)."""

    kind: ClassVar[JobKind] = JobKind.RAY_DRIVER

    jobs: tuple[str, ...]
    address: str | None = None
    home: str | None = None

    def __post_init__(self) -> None:
        if not self.jobs:
            raise ConfigError("A Ray driver needs at least one training job.")
        object.__setattr__(self, "jobs", tuple(str(j) for j in self.jobs))

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "jobs": list(self.jobs),
            "address": self.address,
            "home": self.home,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RayDriverSpec:
        jobs = data.get("jobs")
        if not isinstance(jobs, list):
            raise ConfigError("Ray driver spec is not valid (no job list); launch it again.")
        address, home = data.get("address"), data.get("home")
        return cls(
            tuple(jobs),
            address if isinstance(address, str) else None,
            home if isinstance(home, str) else None,
        )

    def initial_status(self, job_id: str) -> JobStatus:
        return JobStatus(
            job_id=job_id,
            kind=self.kind,
            total=len(self.jobs),
            message="starting Ray",
            extra={"jobs": list(self.jobs), "address": self.address or "local"},
        )

    def run(self, reporter: StatusWriter) -> str:
        """Drive the jobs to their end (:func:`run`); returns how many succeeded."""
        reporter.update(force=True, state=JobState.RUNNING, started_at=now_iso(), stage="driving")

        if not self.home:
            raise ConfigError("Ray driver spec has no home folder; launch the jobs again.")
        home = Path(self.home)
        runs = Paths(home).runs

        def on_poll() -> None:
            ended = sum(_raw(j, runs).finished for j in self.jobs)
            reporter.update(step=ended, message=f"{ended} of {len(self.jobs)} Ray jobs ended")

        final = run(self.jobs, home=home, address=self.address, on_poll=on_poll)
        ok = sum(s.state is JobState.SUCCEEDED for s in final.values())
        return f"{ok} of {len(final)} Ray jobs succeeded"
