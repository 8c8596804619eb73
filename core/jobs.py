"""Background training jobs: one subprocess per coin, state on disk, a queue without a daemon.

A job is ``python -m core job run <job_id>`` in its own process group, with a folder
``{home}/runs/{job_id}/`` holding ``spec.json`` (what to train), ``status.json`` (state, stage,
progress, result; always written atomically), ``job.log`` and ``output.log`` (the process's raw
stdout/stderr). Everything is on disk, so reloading the page or restarting the app loses nothing.

The queue: each job process takes one of :func:`slot_count` slots by ``flock``-ing
``runs/.slots/N.lock`` and stays "queued" until it gets one; the OS frees a dead process's lock, so
no daemon and no cleanup are needed. Jobs take slots in launch order (``runs/.queue/`` markers).

A job whose process is gone while its status still says queued/running is reported as failed
("process exited without finishing (killed?)"), and that verdict is written back to disk.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from core import config
from core.atomic import atomic_write_json
from core.coins import ensure_tradeable, parse_coin
from core.config import Interval, LSTMConfig, SplitConfig, TargetConfig, XGBConfig
from core.errors import ConfigError, JobError, NoDataError

__all__ = [
    "ACTIVE_STATES",
    "DIED_MESSAGE",
    "SETTINGS",
    "JobSpec",
    "JobState",
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


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self not in ACTIVE_STATES


ACTIVE_STATES = frozenset({JobState.QUEUED, JobState.RUNNING})
DIED_MESSAGE = "process exited without finishing (killed?)"
MODEL_ALIASES = {"xgb": "xgboost", "xgboost": "xgboost", "lstm": "lstm"}
#: A launch writes status.json before the process exists; give it this long to show its pid.
_START_GRACE_SECONDS = 30.0
_CHILDREN: dict[str, subprocess.Popen] = {}


def parse_models(value: str | Sequence[str]) -> tuple[str, ...]:
    """``"xgb,lstm"``, ``"both"``, ``"all"``, ``["XGBoost"]`` → ``("xgboost", "lstm")``.

    Raises:
        ConfigError: an unknown model name, or none at all.
    """
    items = value.split(",") if isinstance(value, str) else list(value)
    out: list[str] = []
    for item in (str(getattr(i, "value", i)).strip().lower() for i in items):
        if item in {"both", "all"}:
            out.extend(["xgboost", "lstm"])
        elif item in MODEL_ALIASES:
            out.append(MODEL_ALIASES[item])
        elif item:
            raise ConfigError(f"Unknown model {item!r}: use xgb, lstm or both.")
    if not out:
        raise ConfigError("Pick at least one model: xgb, lstm or both.")
    return tuple(dict.fromkeys(out))


@dataclass(frozen=True)
class JobSpec:
    """What one job trains: one coin, its models and every setting, validated on construction.

    Raises:
        InvalidSymbolError, StablecoinError, ConfigError: a symbol, model or setting that cannot
            work (before anything is written or started).
    """

    symbol: str
    models: tuple[str, ...] = ("xgboost", "lstm")
    interval: str = "1h"
    target: TargetConfig = field(default_factory=TargetConfig)
    split: SplitConfig = field(default_factory=SplitConfig)
    xgb: XGBConfig = field(default_factory=XGBConfig)
    lstm: LSTMConfig = field(default_factory=LSTMConfig)

    def __post_init__(self) -> None:
        symbol = parse_coin(self.symbol).symbol
        ensure_tradeable(symbol)
        object.__setattr__(self, "symbol", symbol)
        object.__setattr__(self, "models", parse_models(self.models))
        object.__setattr__(self, "interval", Interval.parse(self.interval).value)

    def to_dict(self) -> dict[str, Any]:
        return {
            "symbol": self.symbol,
            "models": list(self.models),
            "interval": self.interval,
            "target": asdict(self.target),
            "split": asdict(self.split),
            "xgb": asdict(self.xgb),
            "lstm": asdict(self.lstm),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> JobSpec:
        try:
            return cls(
                symbol=data["symbol"],
                models=tuple(data.get("models") or ("xgboost", "lstm")),
                interval=data.get("interval", "1h"),
                target=TargetConfig(**(data.get("target") or {})),
                split=SplitConfig(**(data.get("split") or {})),
                xgb=XGBConfig(**(data.get("xgb") or {})),
                lstm=LSTMConfig(**(data.get("lstm") or {})),
            )
        except (KeyError, TypeError) as exc:
            raise ConfigError(f"Job spec is not valid ({exc}); launch the job again.") from None


#: The main settings a person can change (form fields, CLI flags) → (stage, dataclass field).
SETTINGS: dict[str, tuple[str, str]] = {
    "horizon": ("target", "horizon"),
    "threshold": ("target", "threshold"),
    "trees": ("xgb", "n_estimators"),
    "depth": ("xgb", "max_depth"),
    "window": ("lstm", "window"),
    "units": ("lstm", "units"),
    "epochs": ("lstm", "epochs"),
    "batch_size": ("lstm", "batch_size"),
    "patience": ("lstm", "patience"),
}
_STAGE_CONFIGS = {"target": TargetConfig, "xgb": XGBConfig, "lstm": LSTMConfig}


def make_specs(
    coins: Sequence[str],
    *,
    models: str | Sequence[str] = ("xgboost", "lstm"),
    interval: str = "1h",
    **settings: Any,
) -> list[JobSpec]:
    """One validated :class:`JobSpec` per coin from the main settings (keys of :data:`SETTINGS`;
    ``None`` keeps the default). Everything is checked before anything is started.

    Raises:
        ConfigError: an unknown setting, an impossible value, no coins, an unknown model.
        InvalidSymbolError, StablecoinError: a coin that cannot be trained.
    """
    unknown = sorted(set(settings) - set(SETTINGS))
    if unknown:
        raise ConfigError(f"Unknown setting(s) {unknown}: use {', '.join(SETTINGS)}.")
    if not coins:
        raise ConfigError("Pick at least one coin to train.")
    values: dict[str, dict[str, Any]] = {stage: {} for stage in _STAGE_CONFIGS}
    for key, value in settings.items():
        if value is not None:
            stage, name = SETTINGS[key]
            values[stage][name] = value
    try:
        built = {stage: cls(**values[stage]) for stage, cls in _STAGE_CONFIGS.items()}
    except TypeError as exc:
        raise ConfigError(f"Settings are not valid: {exc}") from None
    models = parse_models(models)
    return [
        JobSpec(coin, models, interval, built["target"], SplitConfig(), built["xgb"], built["lstm"])
        for coin in coins
    ]


def require_data(spec: JobSpec) -> None:
    """Refuse a coin with no stored candles before a job is started for it.

    Raises:
        NoDataError: the message says where the candles should be and how to fetch them.
    """
    from core.store import candle_path

    path = candle_path(spec.symbol, spec.interval)
    if not path.exists():
        base = parse_coin(spec.symbol).base
        raise NoDataError(
            f"No {spec.interval} candles for {spec.symbol} in {path.parent}. Fetch them first: "
            f"the Data page, or `python -m core fetch --coins {base}`."
        )


def _cores() -> int:
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
    slots = _cores()
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                slots = min(slots, max(1, int(line.split()[1]) // (1536 * 1024)))
    return slots


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


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def read_spec(job_id: str) -> JobSpec:
    """The validated spec of a job. Raises JobError if there is no such job."""
    data = _read_json(job_dir(job_id) / "spec.json")
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
    env.setdefault("CRYPTOVOLT_THREADS", str(max(1, _cores() // slot_count())))
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


def _job_pid(job_id: str, data: Mapping[str, Any]) -> int | None:
    pid = data.get("pid") or (_read_json(job_dir(job_id) / "pid.json") or {}).get("pid")
    return int(pid) if isinstance(pid, int) and pid > 0 else None


def _process_alive(pid: int, job_id: str) -> bool:
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


def _is_alive(job_id: str, data: Mapping[str, Any]) -> bool:
    pid = _job_pid(job_id, data)
    if pid is None:
        created = data.get("created_ns") or 0
        return (time.time_ns() - int(created)) / 1e9 < _START_GRACE_SECONDS
    return _process_alive(pid, job_id)


def _finish(job_id: str, state: JobState, *, error: str | None = None, **extra: Any) -> None:
    path = job_dir(job_id) / "status.json"
    data = _read_json(path) or {"job_id": job_id}
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
    data = _read_json(path)
    if data is None:
        raise JobError(f"No job {job_id!r} in {config.runs_dir()}: `python -m core job list`.")
    if data.get("state") in ACTIVE_STATES and not _is_alive(job_id, data):
        # read again: the process may have written its final status just before it exited
        data = _read_json(path) or data
        if data.get("state") in ACTIVE_STATES:
            _finish(job_id, JobState.FAILED, error=DIED_MESSAGE, stage=data.get("stage"))
            _drop_queue_marker(job_id)
            data = _read_json(path) or data
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


def _group_alive(pgid: int) -> bool:
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


def cancel(job_id: str, *, timeout: float = 5.0) -> dict[str, Any]:
    """Stop a queued or running job: SIGTERM to its whole process group, SIGKILL after
    ``timeout`` seconds, then mark it cancelled. A finished job is left as it is.

    Returns the job's status. Raises JobError if there is no such job.
    """
    data = status(job_id)
    if data.get("state") not in ACTIVE_STATES:
        return data
    pid = _job_pid(job_id, data)
    if pid is not None and _process_alive(pid, job_id):
        # the job leads its own session, so its pid is its process group id
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while _group_alive(pid) and time.monotonic() < deadline:
            _reap()
            time.sleep(0.05)
        if _group_alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            while _group_alive(pid) and time.monotonic() < deadline + 5:
                _reap()
                time.sleep(0.05)
    _reap()
    current = _read_json(job_dir(job_id) / "status.json") or data
    if current.get("state") in ACTIVE_STATES:
        _finish(job_id, JobState.CANCELLED, message="cancelled by the user")
    _drop_queue_marker(job_id)
    return _read_json(job_dir(job_id) / "status.json") or data


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


# ---- the queue (used by the job process) ----------------------------------------------------


def _queue_markers() -> list[Path]:
    queue = config.runs_dir() / ".queue"
    return sorted(queue.iterdir()) if queue.is_dir() else []


def _drop_queue_marker(job_id: str) -> None:
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
        data = _read_json(config.runs_dir() / other / "status.json")
        if data and data.get("state") == JobState.QUEUED and _is_alive(other, data):
            ahead += 1
        else:
            marker.unlink(missing_ok=True)  # its job died or already started
    return ahead


@contextlib.contextmanager
def acquire_slot(job_id: str, *, on_wait=None, poll: float = 0.5) -> Iterator[int]:
    """Block until this job may run; yields the slot number and holds it until the block ends.

    ``on_wait(ahead, slots)`` is called while waiting (``ahead`` = older jobs still queued).
    """
    slots_dir = config.runs_dir() / ".slots"
    slots_dir.mkdir(parents=True, exist_ok=True)
    import fcntl

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
                _drop_queue_marker(job_id)
                try:
                    yield number
                finally:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
                    handle.close()
                return
        if on_wait is not None:
            on_wait(ahead, slots)
        time.sleep(poll)


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
