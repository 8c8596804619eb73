"""The job process: wait for a slot, train one coin, keep ``status.json`` and the logs current.

``python -m core job run <job_id>`` calls :func:`run_job`. It is the only writer of the job's
``status.json`` while it lives (always atomically), logs to ``runs/{job_id}/job.log`` and to
``{home}/logs/model_training.log``, and turns SIGTERM (sent by :func:`core.jobs.control.cancel` to the
whole process group) into a clean "cancelled" state. Training itself is ``core.training.train.train_coin``;
TensorFlow is imported only here, inside the job process, never by the app.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core import config
from core.atomic import atomic_write_json
from core.errors import CryptoVoltError
from core.jobs.control import JobSpec, JobState, acquire_slot, job_dir, read_spec
from core.registry.model_registry import ModelRegistry

__all__ = ["JobCancelled", "JobReporter", "run_job", "training_logging"]

log = logging.getLogger("core.jobs.control.run")
#: Status writes at most this often during a stage (stage changes are written at once).
_WRITE_EVERY = 0.5
#: Progress lines in the log at most this often per stage (first and last step always).
_LOG_EVERY = 2.0


class JobCancelled(BaseException):  # noqa: N818 (a signal, not an error)
    """SIGTERM/SIGINT arrived: unwind (temp files are removed on the way) and stop."""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _summary(meta: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a version's metadata a job list shows: name, version and headline metrics."""
    metrics = meta.get("metrics") or {}
    return {
        "name": meta.get("name"),
        "version": meta.get("version"),
        "model_type": meta.get("model_type"),
        "metrics": {k: metrics.get(k) for k in ("test", "baseline", "skill") if k in metrics},
        "train_seconds": meta.get("train_seconds"),
    }


class JobReporter:
    """Holds a job's status in memory and writes it to ``status.json`` (atomically, throttled)."""

    def __init__(self, job_id: str, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.job_id = job_id
        self.path = job_dir(job_id) / "status.json"
        self.clock = clock
        try:
            self.data: dict[str, Any] = json.loads(self.path.read_text())
        except (OSError, ValueError):
            self.data = {"job_id": job_id}
        self._last_write = 0.0
        self._last_log = 0.0
        self._stage_key: tuple[Any, ...] | None = None
        self._stage_started = clock()

    def write(self, *, force: bool = False, **fields: Any) -> None:
        self.data.update(fields, updated_at=_now())
        now = self.clock()
        if force or now - self._last_write >= _WRITE_EVERY:
            atomic_write_json(self.path, self.data)
            self._last_write = now

    def waiting(self, ahead: int, slots: int) -> None:
        busy = "all slots are busy" if ahead == 0 else f"{ahead} job(s) ahead in the queue"
        self.write(message=f"waiting for a free slot ({slots} at once; {busy})")

    def started(self, slot: int) -> None:
        log.info("started on slot %d", slot)
        self.write(
            force=True, state=JobState.RUNNING.value, stage="loading", started_at=_now(), slot=slot
        )

    def progress(self, event: Any) -> None:
        """A ``TrainProgress`` from ``train_coin``: stage, step/total, message, metrics."""
        model = str(getattr(event.model, "value", event.model) or "") or None
        stage = str(getattr(event.stage, "value", event.stage))
        step, total = int(event.step or 0), int(event.total or 0)
        now = self.clock()
        # a stage may hold nested loops (folds, then epochs within each): time each loop alone
        key = (model, stage, total)
        changed = key != self._stage_key or step < int(self.data.get("step") or 0)
        if changed:
            self._stage_key, self._stage_started, self._last_log = key, now, 0.0
        eta = None
        if step > 0 and total > step:
            eta = round((now - self._stage_started) / step * (total - step), 1)
        metrics = {k: v for k, v in (event.metrics or {}).items() if isinstance(v, int | float)}
        if changed or step >= total or now - self._last_log >= _LOG_EVERY:
            self._last_log = now
            numbers = " ".join(f"{k}={v:.5g}" for k, v in metrics.items())
            text = str(event.message or "") or numbers or (f"{step}/{total}" if total else "")
            log.info("%s%s: %s", f"{model} " if model else "", stage, text)
        self.write(
            force=changed,
            stage=stage,
            model=model,
            step=step,
            total=total,
            message=str(event.message or ""),
            metrics=metrics,
            eta_seconds=eta,
        )

    def saved(self, meta: Mapping[str, Any]) -> None:
        log.info("registered %s %s", meta.get("name"), meta.get("version"))
        self.write(force=True, result=[*self.data.get("result", []), _summary(meta)])

    def finish(self, state: JobState, *, error: str | None = None, message: str = "") -> None:
        import resource

        # ru_maxrss is in KiB on Linux: the job's peak memory, for the queue's sizing and benches
        peak_mb = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        self.write(
            force=True,
            peak_rss_mb=peak_mb,
            state=state.value,
            stage="done" if state is JobState.SUCCEEDED else self.data.get("stage"),
            error=error,
            message=message,
            finished_at=_now(),
            eta_seconds=None,
        )


class _RecordingRegistry(ModelRegistry):
    """The real registry, also telling the reporter about each version as it is saved, so a job
    that fails or is cancelled after its first model still lists what it registered."""

    def __init__(self, reporter: JobReporter) -> None:
        super().__init__()
        self._reporter = reporter

    def save(self, model: Any, metadata: Mapping[str, Any], **kwargs: Any) -> dict[str, Any]:
        meta = super().save(model, metadata, **kwargs)
        self._reporter.saved(meta)
        return meta


@contextlib.contextmanager
def training_logging(tag: str, symbol: str, job_log: Path | None = None) -> Iterator[None]:
    """Send the ``core`` loggers to ``{home}/logs/model_training.log`` (lines tagged
    ``[tag symbol]``) and, for a job, to its own ``job.log``."""
    config.logs_dir().mkdir(parents=True, exist_ok=True)
    shared = logging.FileHandler(config.logs_dir() / "model_training.log", encoding="utf-8")
    shared.setFormatter(
        logging.Formatter(f"%(asctime)s %(levelname)s [{tag} {symbol}] %(message)s")
    )
    handlers: list[logging.Handler] = [shared]
    if job_log is not None:
        own = logging.FileHandler(job_log, encoding="utf-8")
        own.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%H:%M:%S"))
        handlers.append(own)
    for handler in handlers:
        handler.formatter.converter = time.gmtime  # UTC in every log line
    core_logger = logging.getLogger("core")
    previous = core_logger.level
    core_logger.setLevel(logging.INFO)
    for handler in handlers:
        core_logger.addHandler(handler)
    try:
        yield
    finally:
        for handler in handlers:
            core_logger.removeHandler(handler)
            handler.close()
        core_logger.setLevel(previous)


@contextlib.contextmanager
def _cancel_on_signals() -> Iterator[None]:
    def handler(signum: int, _frame: Any) -> None:
        # one cancel is enough: a second signal must not interrupt the final status write
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        raise JobCancelled(signal.Signals(signum).name)

    old = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, previous in old.items():
            signal.signal(sig, previous)


def _train(spec: JobSpec, reporter: JobReporter) -> list[dict[str, Any]]:
    return spec.train(registry=_RecordingRegistry(reporter), progress=reporter.progress)


def run_job(job_id: str) -> int:
    """Run a launched job in this process. Returns the exit code (0 ok, 1 failed, 143 cancelled).

    Raises:
        JobError: no such job (nothing is written then).
    """
    spec = read_spec(job_id)
    reporter = JobReporter(job_id)
    with training_logging(job_id, spec.symbol, job_dir(job_id) / "job.log"), _cancel_on_signals():
        try:
            reporter.write(force=True, pid=os.getpid(), message="waiting for a free slot")
            log.info("job %s: %s, models %s", job_id, spec.symbol, ",".join(spec.models))
            with acquire_slot(job_id, on_wait=reporter.waiting) as slot:
                reporter.started(slot)
                results = _train(spec, reporter)
            names = ", ".join(f"{m.get('name')} {m.get('version')}" for m in results)
            log.info("succeeded: %s", names)
            reporter.finish(JobState.SUCCEEDED, message=f"registered {names}")
            return 0
        except JobCancelled as exc:
            log.warning("cancelled (%s)", exc)
            reporter.finish(JobState.CANCELLED, message="cancelled by the user")
            return 143
        except CryptoVoltError as exc:
            log.error("failed: %s", exc)
            reporter.finish(JobState.FAILED, error=str(exc))
            return 1
        except Exception as exc:  # the job's edge: anything else is a bug worth reporting whole
            log.error("failed: %s\n%s", exc, traceback.format_exc())
            reporter.finish(JobState.FAILED, error=f"{type(exc).__name__}: {exc}")
            return 1
