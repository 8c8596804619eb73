"""The job process: run one job, keep its ``status.json`` and logs current, end in a final state.

``python -m core job run <job_id>`` calls :func:`run_job` (so do a Ray worker and a foreground
``tune``); a ``train``, ``retrain`` or ``fetch`` in a terminal's foreground calls :func:`run_here`,
which runs the same ``spec.run(reporter)`` and writes the same final states. It records its pid
and start time (the one liveness check, :func:`core.jobs.queue.job_alive`), is the only writer
of the job's ``status.json`` while it lives (a :class:`JobReporter`: atomic, throttled), logs
to ``runs/{job_id}/job.log``, and turns SIGTERM (sent by :func:`core.jobs.control.cancel` to the
whole process group) into a clean "cancelled".

What the job does is its spec's ``run(reporter)``, whatever the kind: a training job waits for a
slot, then runs ``core.training.train.train_coin`` (:mod:`core.jobs.train_job`; logging to
``{home}/logs/model_training.log`` too; TensorFlow is imported only here, inside the job process,
never by the app); a fetch job runs :func:`core.jobs.fetch_job.run_fetch` (logging to
``{home}/logs/dataset_fetch.log`` too); a sweep runs its study (:mod:`core.jobs.tune_job`); a Ray
driver hands training jobs to Ray and watches them (:mod:`core.jobs.ray_executor`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from core.clock import now_iso
from core.config import Paths
from core.errors import CryptoVoltError
from core.jobs.control import STOPPING_FILE, acknowledge_cancel, job_dir, list_jobs
from core.jobs.fetch_job import FetchSpec
from core.jobs.results import model_result
from core.jobs.spec import JobSpec
from core.jobs.status import JobState, JobStatus, StatusWriter
from core.procs import process_start
from core.registry.metadata import ModelMetadata

__all__ = [
    "JobCancelled",
    "JobReporter",
    "job_logging",
    "run_here",
    "run_job",
    "slot_wait_words",
    "train_here",
    "training_logging",
]

log = logging.getLogger("core.jobs.control.run")
#: Status writes at most this often during a stage (stage changes are written at once).
_WRITE_EVERY = 0.5
#: Progress lines in the log at most this often per stage (first and last step always).
_LOG_EVERY = 2.0


class JobCancelled(BaseException):  # noqa: N818 (a signal, not an error)
    """SIGTERM/SIGINT arrived: unwind (temp files are removed on the way) and stop."""


def _writer(job_id: str, runs: Path, clock: Callable[[], float]) -> StatusWriter:
    path = job_dir(job_id, runs=runs) / "status.json"
    try:
        initial = JobStatus.from_dict({"job_id": job_id, **json.loads(path.read_text())})
    except (OSError, ValueError):
        initial = JobStatus(job_id=job_id)
    return StatusWriter(path, initial, every=_WRITE_EVERY, clock=clock)


class JobReporter(StatusWriter):
    """A job's status writer: queue waits, the slot, progress events, saved versions.

    ``paths``: the folders of the home the job runs in (its edge's ``context.paths``): the job's
    own folder is in ``paths.runs``, and what it registers goes to ``paths.models``.
    ``queue=False``: the job does not wait for a local slot (a Ray task: Ray schedules it)."""

    def __init__(
        self,
        job_id: str,
        *,
        paths: Paths,
        queue: bool = True,
        clock: Callable[[], float] = time.monotonic,
        display: Callable[[object], None] | None = None,
    ) -> None:
        base = _writer(job_id, paths.runs, clock)
        super().__init__(base.path, base.status, every=_WRITE_EVERY, clock=clock)
        self.job_id = job_id
        self.paths = paths
        self.queue = queue
        #: A terminal's view of a job run in its foreground: each progress event, and a line in
        #: words while it waits for a slot.
        self.display = display
        #: The work's typed outcome for a foreground caller (train: TrainResults; fetch:
        #: FetchResults with their coverage); the status keeps what every reader needs.
        self.outcome: Any = None
        #: Why the status file could not be written ("" while it could).
        self.unwritten = ""
        self._last_log = 0.0
        self._stage_key: tuple[Any, ...] | None = None
        self._stage_started = clock()

    def update(self, *, force: bool = False, **fields: Any) -> JobStatus:
        """As :meth:`StatusWriter.update`; a status file the disk refuses (full) does not stop
        the work: its own writes fail with their words, and a job whose final state could not
        be written is listed as died once its process ends."""
        try:
            return super().update(force=force, **fields)
        except OSError as exc:
            self.unwritten = self.unwritten or str(exc)
            return self.status

    def finish(self, state: JobState, *, error: str | None = None, **fields: Any) -> JobStatus:
        try:
            return super().finish(state, error=error, **fields)
        except OSError as exc:
            self.unwritten = self.unwritten or str(exc)
            return self.status

    def acknowledge_cancel(self) -> None:
        """Called from the job's signal handler: the job received the cancel and is stopping
        (:func:`core.jobs.control.acknowledge_cancel`), so ``job cancel`` waits for it."""
        acknowledge_cancel(job_dir(self.job_id, runs=self.paths.runs))

    def show(self, event: object) -> None:
        """Pass a progress event (or a line in words) to the terminal running the job, if any."""
        if self.display is not None:
            self.display(event)

    def waiting(self, ahead: int, slots: int) -> None:
        busy = "all slots are busy" if ahead == 0 else f"{ahead} job(s) ahead in the queue"
        self.update(message=f"waiting for a free slot ({slots} at once; {busy})")
        if self.display is not None:
            self.show(slot_wait_words(ahead, self.job_id, runs=self.paths.runs))

    def started(self, slot: int | None) -> None:
        if slot is None:
            log.info("started")
        else:
            log.info("started on slot %d", slot)
        self.restart_clock()
        self.update(
            force=True, state=JobState.RUNNING, stage="loading", started_at=now_iso(), slot=slot
        )

    def progress(self, event: Any) -> None:
        """A ``TrainProgress`` from ``train_coin``: stage, step/total, message, metrics."""
        model = str(getattr(event.model, "value", event.model) or "") or None
        stage = str(getattr(event.stage, "value", event.stage))
        step, total = int(event.step or 0), int(event.total or 0)
        now = self.clock()
        # a stage may hold nested loops (folds, then epochs within each): time each loop alone
        key = (model, stage, total)
        changed = key != self._stage_key or step < self.status.step
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
        self.update(
            force=changed,
            stage=stage,
            model=model,
            step=step,
            total=total,
            message=str(event.message or ""),
            metrics=metrics,
            eta_seconds=eta,
        )
        self.show(event)

    def saved(self, record: ModelMetadata) -> None:
        log.info("registered %s %s", record.name, record.version)
        self.update(force=True, result=(*self.status.result, model_result(record)))

    def trained(self, results: Sequence[Any]) -> None:
        """Add each version's promotion decision, in words, to the result ``saved`` listed: a
        saved record does not carry it; training's ``TrainResult`` list does."""
        self.outcome = list(results)
        decided = {(r.name, r.version): model_result(r) for r in results}
        listed = self.status.result
        self.update(force=True, result=tuple(decided.get((m.name, m.version), m) for m in listed))


def _utc_formatter(fmt: str, datefmt: str | None = None) -> logging.Formatter:
    formatter = logging.Formatter(fmt, datefmt)
    formatter.converter = time.gmtime  # UTC in every log line
    return formatter


def _job_log_handler(job_log: Path) -> logging.Handler:
    own = logging.FileHandler(job_log, encoding="utf-8")
    own.setFormatter(_utc_formatter("%(asctime)s %(levelname)s %(message)s", "%H:%M:%S"))
    return own


@contextlib.contextmanager
def training_logging(
    tag: str, symbol: str, job_log: Path | None = None, *, logs: Path
) -> Iterator[None]:
    """Send the ``core`` loggers to ``{home}/logs/model_training.log`` (lines tagged
    ``[tag symbol]``) and, for a job, to its own ``job.log``."""
    logs.mkdir(parents=True, exist_ok=True)
    shared = logging.FileHandler(logs / "model_training.log", encoding="utf-8")
    shared.setFormatter(_utc_formatter(f"%(asctime)s %(levelname)s [{tag} {symbol}] %(message)s"))
    handlers: list[logging.Handler] = [shared]
    if job_log is not None:
        handlers.append(_job_log_handler(job_log))
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
            with contextlib.suppress(OSError):  # a full disk: its lines are lost, not the error
                handler.close()
        core_logger.setLevel(previous)


@contextlib.contextmanager
def job_logging(job_log: Path, *loggers: str) -> Iterator[None]:
    """Also send the named loggers (INFO and up) to the job's own ``job.log``."""
    own = _job_log_handler(job_log)
    targets = [logging.getLogger(name) for name in loggers]
    previous = [t.level for t in targets]
    for target in targets:
        target.setLevel(logging.INFO)
        target.addHandler(own)
    try:
        yield
    finally:
        for target, level in zip(targets, previous, strict=True):
            target.removeHandler(own)
            target.setLevel(level)
        with contextlib.suppress(OSError):  # a full disk: its lines are lost, not the error
            own.close()


@contextlib.contextmanager
def _cancel_on_signals(reporter: JobReporter) -> Iterator[None]:
    # a cancel left by an earlier run of this job (`job restart`) says nothing about this one
    with contextlib.suppress(OSError):
        (job_dir(reporter.job_id, runs=reporter.paths.runs) / STOPPING_FILE).unlink()

    def handler(signum: int, _frame: Any) -> None:
        # one cancel is enough: a second signal must not interrupt the final status write
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        reporter.acknowledge_cancel()
        raise JobCancelled(signal.Signals(signum).name)

    old = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, previous in old.items():
            signal.signal(sig, previous)


def slot_wait_words(ahead: int, job_id: str = "", *, runs: Path) -> str:
    """``waiting for a training slot: 2 jobs running (BTC xgb_direction, ETH lstm_return)``: what
    holds the slots a training job waits for, in words (``ahead``: older jobs still queued)."""
    holders = [
        found
        for found in reversed(list_jobs(runs=runs, kind="train"))  # oldest first
        if found.job_id != job_id and found.state is JobState.RUNNING and found.slot is not None
    ]
    names = ", ".join(
        " ".join(
            p for p in ((found.symbol or "").removesuffix("USDT"), "/".join(found.models)) if p
        )
        or found.job_id
        for found in holders
    )
    running = f"{len(holders)} job{'s' if len(holders) != 1 else ''} running"
    queued = f", {ahead} queued before this one" if ahead else ""
    return f"waiting for a training slot: {running}{f' ({names})' if names else ''}{queued}"


def run_here(
    job_id: str,
    spec: Any,
    *,
    paths: Paths,
    display: Callable[[object], None] | None = None,
    logs: contextlib.AbstractContextManager[None] | None = None,
) -> Any:
    """Run the prepared job ``job_id`` of the home ``paths`` describes in this process, in a terminal's foreground (``train``,
    ``retrain``, ``fetch`` without ``--background``): the same ``spec.run(reporter)`` a launched
    job runs, so it is listed by ``job list``, a training waits for a slot like any job (queued
    meanwhile; ``display`` gets the wait in words), and ``job cancel`` or Ctrl-C stops it as
    cancelled. ``display`` also gets each progress event; ``logs`` replaces the kind's log files.

    Returns the work's typed outcome (a training's TrainResults, a fetch's FetchResults). Raises
    what the work raises (the job ends failed, with the reason) and :class:`JobCancelled` on
    SIGTERM / SIGINT (the job ends cancelled); what was saved before either stays.
    """
    reporter = JobReporter(job_id, paths=paths, display=display)
    pid = os.getpid()
    reporter.update(force=True, pid=pid, pid_start=process_start(pid))
    with logs or _logs(spec, job_id, paths), _cancel_on_signals(reporter):
        _finish_after(reporter, lambda: spec.run(reporter))
    return reporter.outcome


def train_here(
    job_id: str,
    spec: JobSpec,
    *,
    paths: Paths,
    progress: Callable[[object], None] | None = None,
    tag: str = "cli",
) -> list[Any]:
    """Train ``spec`` in this process as the prepared job ``job_id`` (:func:`run_here`); lines
    go to ``model_training.log`` (tagged ``[TAG SYMBOL]``) and the job's ``job.log``. Returns
    ``train_coin``'s results."""
    job_log = job_dir(job_id, runs=paths.runs) / "job.log"
    logs = training_logging(tag, spec.symbol, job_log, logs=paths.logs)
    results: list[Any] = run_here(job_id, spec, paths=paths, display=progress, logs=logs)
    return results


def _finish_after(writer: StatusWriter, work: Callable[[], str]) -> None:
    """Run ``work`` (which returns the success message), write the final state, re-raise."""
    try:
        message = work()
    except (JobCancelled, KeyboardInterrupt) as exc:  # a sweep's SweepCancelled is the latter
        log.warning("cancelled (%s)", exc)
        writer.finish(JobState.CANCELLED, message="cancelled by the user")
        raise
    except CryptoVoltError as exc:
        log.error("failed: %s", exc)
        writer.finish(JobState.FAILED, error=str(exc), message="")
        raise
    except Exception as exc:  # the job's edge: anything else is a bug worth reporting whole
        log.error("failed: %s\n%s", exc, traceback.format_exc())
        writer.finish(JobState.FAILED, error=f"{type(exc).__name__}: {exc}", message="")
        raise
    writer.finish(JobState.SUCCEEDED, stage="done", message=message)


def _run(writer: StatusWriter, work: Callable[[], str]) -> int:
    """Run ``work`` (which returns the success message) and write the final state; the exit
    code: 0 ok, 1 failed, 143 cancelled."""
    try:
        _finish_after(writer, work)
    except (JobCancelled, KeyboardInterrupt):
        return 143
    except Exception:
        return 1
    return 0


def _logs(spec: Any, job_id: str, paths: Paths) -> contextlib.AbstractContextManager[None]:
    job_log = job_dir(job_id, runs=paths.runs) / "job.log"
    if isinstance(spec, FetchSpec):
        from core.data.fetch_log import fetch_log

        fetch_log(paths.logs)  # the shared dataset_fetch.log handler, before the job's own is added
        return job_logging(job_log, "core", "cryptovolt.fetch")
    symbol = getattr(spec, "symbol", None)
    if isinstance(symbol, str):  # training a coin, or tuning one
        return training_logging(job_id, symbol, job_log, logs=paths.logs)
    return job_logging(job_log, "core")


def run_job(job_id: str, spec: Any, *, paths: Paths, queue: bool = True) -> int:
    """Run a prepared job of the home ``paths`` describes (the edge's ``context.paths``) in this
    process: ``spec`` (its ``spec.json``, read by the caller:
    :func:`core.jobs.kinds.read_spec`) with its ``run(reporter)``. Returns the exit code (0 ok,
    1 failed, 143 cancelled).

    ``queue=False`` skips the local slot queue (a Ray task: Ray decides where and when it runs).
    """
    reporter = JobReporter(job_id, paths=paths, queue=queue)
    pid = os.getpid()
    first: dict[str, Any] = {}
    if isinstance(spec, JobSpec):  # with its pid, so a reader that sees one sees the other
        first["message"] = "waiting for a free slot" if queue else "starting on a Ray worker"
    reporter.update(force=True, pid=pid, pid_start=process_start(pid), **first)
    with _logs(spec, job_id, paths), _cancel_on_signals(reporter):
        return _run(reporter, lambda: spec.run(reporter))
