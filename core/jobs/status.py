"""What a job's ``status.json`` says, as a typed record, and the one writer of that file.

:class:`JobStatus` is the status of any job kind (:class:`JobKind`: fetch, train, tune,
ray-driver): its state and stage, progress (``step`` of ``total``: epochs for a fit, candles for a
fetch, trials for a sweep), message, typed results, error, pid and times; a fetch adds one
:class:`CoinProgress` per coin. The job process writes it
through a :class:`StatusWriter` (atomically, throttled); control, CLI and UI read it with
:meth:`JobStatus.from_dict`, which also loads status files written before this record existed
(missing fields take their defaults, unknown ones are kept in ``extra`` and written back).
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from core.atomic import atomic_write_json
from core.clock import now_iso
from core.jobs.results import ModelResult
from core.registry.sweep_record import SweepResult

__all__ = [
    "ACTIVE_STATES",
    "FETCH_ACTIVE",
    "CoinProgress",
    "JobKind",
    "JobState",
    "JobStatus",
    "StatusWriter",
]

#: States of one coin in a fetch before it ends (then it is a FetchStatus value).
FETCH_ACTIVE = frozenset({"queued", "fetching"})


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


class JobKind(StrEnum):
    """What a job does; a status or spec file without a kind is a training job. ``ray-driver``
    is the process that hands training jobs to Ray and watches them to their end."""

    TRAIN = "train"
    FETCH = "fetch"
    TUNE = "tune"
    RAY_DRIVER = "ray-driver"

    @classmethod
    def parse(cls, value: object) -> JobKind:
        try:
            return cls(str(value or cls.TRAIN.value))
        except ValueError:
            return cls.TRAIN


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


@dataclass(frozen=True)
class CoinProgress:
    """One coin of a fetch job: its state (``queued``, ``fetching``, then ``up to date`` /
    ``partial`` / ``failed``), candles in range so far of those expected, candles downloaded in
    this run, and once it ended the reason, candles added, any note and any seam warning (new
    candles that do not join the stored ones, :mod:`core.data.seam`)."""

    symbol: str
    state: str = "queued"
    fetched: int = 0
    expected: int = 0
    downloaded: int = 0
    message: str = ""
    new_rows: int = 0
    note: str = ""
    seam: str = ""

    @property
    def ended(self) -> bool:
        return self.state not in FETCH_ACTIVE

    @property
    def fraction(self) -> float:
        if self.ended:
            return 1.0
        return min(self.fetched / self.expected, 1.0) if self.expected else 0.0

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CoinProgress:
        return cls(
            symbol=str(data.get("symbol", "?")),
            state=str(data.get("state") or "queued"),
            fetched=_int(data.get("fetched")),
            expected=_int(data.get("expected")),
            downloaded=_int(data.get("downloaded")),
            message=str(data.get("message") or ""),
            new_rows=_int(data.get("new_rows")),
            note=str(data.get("note") or ""),
            seam=str(data.get("seam") or ""),
        )


@dataclass(frozen=True)
class JobStatus:
    """A job's status as ``status.json`` holds it. Build it with :meth:`from_dict`; change it
    with ``dataclasses.replace``. ``progress`` (0..1) is derived, never stored on its own."""

    job_id: str
    kind: JobKind = JobKind.TRAIN
    state: JobState = JobState.QUEUED
    stage: str | None = "queued"
    message: str = ""
    error: str | None = None
    symbol: str | None = None
    models: tuple[str, ...] = ()
    interval: str | None = None
    model: str | None = None
    step: int = 0
    total: int = 0
    metrics: dict[str, float] = field(default_factory=dict)
    coins: tuple[CoinProgress, ...] = ()
    result: tuple[ModelResult, ...] = ()
    sweep: SweepResult | None = None
    pid: int | None = None
    #: The job process's start time (clock ticks after boot): a recycled pid does not match it.
    pid_start: int | None = None
    slot: int | None = None
    created_at: str | None = None
    created_ns: int = 0
    started_at: str | None = None
    finished_at: str | None = None
    updated_at: str | None = None
    eta_seconds: float | None = None
    elapsed_seconds: float | None = None
    peak_rss_mb: float | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)
    #: Why the status file could not be read ("" when it could); never written to disk.
    damage: str = field(default="", compare=False)

    @property
    def active(self) -> bool:
        """Queued or running."""
        return self.state in ACTIVE_STATES

    @property
    def finished(self) -> bool:
        return not self.active

    @property
    def progress(self) -> float:
        """How far along, 0..1: ``step / total`` (1 once it succeeded)."""
        if self.state is JobState.SUCCEEDED:
            return 1.0
        return min(self.step / self.total, 1.0) if self.total > 0 else 0.0

    @property
    def subject(self) -> str:
        """What the job works on, for lists: ``BTCUSDT`` or ``BTCUSDT, ETHUSDT`` / ``10 coins``."""
        if self.kind is JobKind.FETCH:
            symbols = [c.symbol for c in self.coins]
            return ", ".join(symbols) if len(symbols) <= 2 else f"{len(symbols)} coins"
        if self.kind is JobKind.RAY_DRIVER:
            jobs = self.extra.get("jobs") or []
            return f"{len(jobs)} Ray job(s)"
        return self.symbol or "?"

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``status.json``), with ``progress`` added for readers."""
        out: dict[str, Any] = dict(self.extra)
        for f in dataclasses.fields(self):
            if f.name in ("extra", "damage"):
                continue
            value = getattr(self, f.name)
            if f.name in ("kind", "state"):
                value = value.value
            elif f.name in ("coins", "result"):
                value = [c.to_dict() for c in value]
            elif f.name == "sweep":
                value = None if value is None else value.to_dict()
            elif f.name == "models":
                value = list(value)
            elif f.name == "metrics":
                value = dict(value)
            out[f.name] = value
        out["progress"] = round(self.progress, 4)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> JobStatus:
        """Read a status dict, old or new: missing fields take defaults, unknown ones are kept."""
        names = {f.name for f in dataclasses.fields(cls)} - {"damage"}
        try:
            state = JobState(str(data.get("state") or JobState.QUEUED.value))
        except ValueError:
            state = JobState.FAILED
        metrics = data.get("metrics") if isinstance(data.get("metrics"), Mapping) else {}
        return cls(
            job_id=str(data.get("job_id", "")),
            kind=JobKind.parse(data.get("kind")),
            state=state,
            stage=_text(data.get("stage")),
            message=str(data.get("message") or ""),
            error=_text(data.get("error")) or None,
            symbol=_text(data.get("symbol")),
            models=tuple(str(m) for m in data.get("models") or ()),
            interval=_text(data.get("interval")),
            model=_text(data.get("model")),
            step=_int(data.get("step")),
            total=_int(data.get("total")),
            metrics={str(k): v for k, v in (metrics or {}).items() if _float(v) is not None},
            coins=tuple(
                CoinProgress.from_dict(c) for c in data.get("coins") or () if isinstance(c, Mapping)
            ),
            result=tuple(
                ModelResult.from_dict(r) for r in data.get("result") or () if isinstance(r, Mapping)
            ),
            sweep=(
                SweepResult.from_dict(data["sweep"])
                if isinstance(data.get("sweep"), Mapping)
                else None
            ),
            pid=_int(data.get("pid")) or None,
            pid_start=_int(data.get("pid_start")) or None,
            slot=None if data.get("slot") is None else _int(data.get("slot")),
            created_at=_text(data.get("created_at")),
            created_ns=_int(data.get("created_ns")),
            started_at=_text(data.get("started_at")),
            finished_at=_text(data.get("finished_at")),
            updated_at=_text(data.get("updated_at")),
            eta_seconds=_float(data.get("eta_seconds")),
            elapsed_seconds=_float(data.get("elapsed_seconds")),
            peak_rss_mb=_float(data.get("peak_rss_mb")),
            extra={k: v for k, v in data.items() if k not in names and k != "progress"},
        )

    # Read access by key, for code written against the old status dicts (``status["state"]``).
    def __getitem__(self, key: str) -> Any:
        return self.to_dict()[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.to_dict().get(key, default)


class StatusWriter:
    """The job process's copy of its :class:`JobStatus`, written to ``path`` atomically.

    Updates come from any thread (a fetch reports from its worker threads); a write happens at
    most every ``every`` seconds unless forced, and once :meth:`finish` ran later updates are
    dropped, so a worker still winding down cannot overwrite the final state.
    """

    def __init__(
        self,
        path: Path,
        initial: JobStatus,
        *,
        every: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = path
        self.clock = clock
        self.every = every
        self._status = initial
        self._lock = threading.RLock()
        self._last_write = float("-inf")
        self._started = clock()
        self._done = False

    @property
    def status(self) -> JobStatus:
        return self._status

    def update(self, *, force: bool = False, **fields: Any) -> JobStatus:
        """Replace ``fields`` (JobStatus field names) and write if due or ``force``."""
        with self._lock:
            if self._done:
                return self._status
            return self._apply(force, fields)

    def _apply(self, force: bool, fields: dict[str, Any]) -> JobStatus:
        now = self.clock()
        self._status = dataclasses.replace(
            self._status,
            **fields,
            updated_at=now_iso(),
            elapsed_seconds=round(now - self._started, 3),
        )
        if force or now - self._last_write >= self.every:
            atomic_write_json(self.path, self._status.to_dict())
            self._last_write = now
        return self._status

    def elapsed(self) -> float:
        """Seconds since the writer was made (or :meth:`restart_clock`)."""
        return self.clock() - self._started

    def restart_clock(self) -> None:
        """Count ``elapsed_seconds`` from now (when the work itself starts)."""
        with self._lock:
            self._started = self.clock()

    def finish(self, state: JobState, *, error: str | None = None, **fields: Any) -> JobStatus:
        """Write the final state (with the process's peak memory); later updates are ignored."""
        import resource

        # ru_maxrss is in KiB on Linux: the job's peak memory, for the queue's sizing and benches
        peak_mb = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        with self._lock:
            status = self._apply(
                True,
                {
                    "peak_rss_mb": peak_mb,
                    "state": state,
                    "error": error,
                    "finished_at": now_iso(),
                    "eta_seconds": None,
                    **fields,
                },
            )
            self._done = True
            return status
