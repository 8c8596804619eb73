"""A sweep as a job: an Optuna study on one coin and kind, then its best settings trained.

A :class:`TuneJob` is a job spec like a training or fetch one (``runs/{job_id}/``, ``job list``,
``job cancel``; launched by the Training page's Tuning section or ``tune --background``, run in
the foreground by ``tune``). Its status counts finished trials as progress and carries a typed
:class:`~core.registry.sweep_record.SweepResult` (trials by state, the best trial) and, once the best
settings trained, the registered version as a :class:`~core.jobs.results.ModelResult`. The
study's own files stay under ``{home}/tuning/`` (:mod:`core.tuning.state`): the SQLite study a
killed sweep resumes from, and the lock that keeps two processes off one study.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

from core.clock import now_iso
from core.config import Paths
from core.errors import ConfigError, CryptoVoltError, JobError
from core.jobs.results import model_result
from core.jobs.status import JobKind, JobState, JobStatus, StatusWriter
from core.registry.sweep_record import SweepResult
from core.tuning.study import TuneSpec, sweep_result

__all__ = ["TuneJob", "cancel_sweep", "studies", "sweep_status"]

log = logging.getLogger("core.jobs.tune_job")


def _trial_words(trial: Any, sweep: SweepResult) -> str:
    state = trial.state.name.lower()
    value = f"skill {trial.value:+.4f}" if state == "complete" else state
    if sweep.best_value is None:
        best = "no trial completed yet"
    else:
        best = f"best {sweep.best_value:+.4f} (trial {sweep.best_trial})"
    params = " ".join(
        f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in trial.params.items()
    )
    return f"trial {trial.number}: {value}; {best}; {params}"


@dataclass(frozen=True)
class TuneJob:
    """One sweep as a job: the :class:`~core.tuning.study.TuneSpec`, where its trials run
    (``executor``: ``local`` in the job process, ``ray``: Ray tasks), whether to resume or
    delete a stored study, and whether to train the best settings at the end. ``home``: the
    home folder whose ``tuning/`` holds the study (and the Ray workers run in), written into
    ``spec.json`` by the launcher."""

    kind: ClassVar[JobKind] = JobKind.TUNE

    tune: TuneSpec
    executor: str = "local"
    address: str | None = None
    resume: bool = False
    fresh: bool = False
    train: bool = True
    home: str | None = None

    def __post_init__(self) -> None:
        if self.executor not in ("local", "ray"):
            raise ConfigError(f"executor must be local or ray, got {self.executor!r}.")
        if self.resume and self.fresh:
            raise ConfigError("--resume continues a study and --fresh deletes it: pick one.")

    @property
    def symbol(self) -> str:
        return self.tune.symbol

    @property
    def study(self) -> str:
        return self.tune.study

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "tune": self.tune.to_dict(),
            "executor": self.executor,
            "address": self.address,
            "resume": self.resume,
            "fresh": self.fresh,
            "train": self.train,
            "home": self.home,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TuneJob:
        try:
            return cls(
                TuneSpec.from_dict(data["tune"]),
                executor=str(data.get("executor") or "local"),
                address=data.get("address"),
                resume=bool(data.get("resume")),
                fresh=bool(data.get("fresh")),
                train=bool(data.get("train", True)),
                home=data.get("home"),
            )
        except CryptoVoltError:
            raise
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"Sweep spec is not valid ({exc}); start it again.") from None

    def check(self) -> None:
        """Refuse before anything is written: the study is being tuned, or it is stored with
        trials and neither ``resume`` nor ``fresh`` says what to do with them.

        Raises:
            JobError, ConfigError: as said, in words.
        """
        from core.tuning.state import refuse_if_tuned, storage_path
        from core.tuning.study import counts, load_study

        home = self._home()
        refuse_if_tuned(home, self.study)
        if self.resume or self.fresh:
            return
        try:
            found = counts(load_study(home, self.study))
        except JobError:  # not stored yet
            return
        if found.get("finished") or found.get("fail") or found.get("running"):
            raise ConfigError(
                f"Study {self.study} already has {found['finished']} finished trial(s) in "
                f"{storage_path(home, self.study)}: --resume continues it, --fresh deletes it and "
                "starts over."
            )

    def initial_status(self, job_id: str) -> JobStatus:
        """The status a launch writes: no trial yet, ``tune.trials`` to go."""
        return JobStatus(
            job_id=job_id,
            kind=self.kind,
            symbol=self.symbol,
            models=(self.tune.kind,),
            interval=self.tune.interval,
            total=self.tune.trials,
            message="waiting to start",
            sweep=SweepResult(self.study),
            extra={"study": self.study, "executor": self.executor},
        )

    def restarted(self) -> TuneJob:
        """This sweep started again: its study resumed, so its finished trials are kept."""
        return replace(self, resume=True, fresh=False)

    def _home(self) -> Path:
        """:attr:`home` (ConfigError: a spec without it)."""
        if not self.home:
            raise ConfigError(f"Sweep {self.study} has no home folder in its spec: start it again.")
        return Path(self.home)

    def _ray(self) -> Callable[[TuneSpec, Callable[[Any, Any], None] | None], None]:
        """Runs the trials as Ray tasks, the workers in :attr:`home`."""
        from core.jobs.ray_executor import connect
        from core.tuning.ray_trials import optimize_on_ray

        home = self._home()
        return partial(optimize_on_ray, partial(connect, self.address, home=home), home=home)

    def run(self, reporter: StatusWriter) -> str:
        """The sweep, in the job process: trials until the study holds ``tune.trials`` finished
        ones (each reported as it ends), then the best settings trained and registered.

        Returns the success message. Raises what :func:`core.tuning.study.run_sweep` raises
        (SweepCancelled on a cancel: the running trial is failed, the finished ones stay)."""
        import optuna

        from core.tuning.study import load_study, run_sweep

        optuna.logging.set_verbosity(optuna.logging.WARNING)  # one line per trial is ours

        log.info(
            "sweep %s: %s %s, %d trials (%s)",
            self.study,
            self.symbol,
            self.tune.kind,
            self.tune.trials,
            self.executor,
        )
        reporter.update(
            force=True,
            state=JobState.RUNNING,
            stage="trials",
            started_at=now_iso(),
            message="opening the study",
        )

        def on_trial(study: Any, trial: Any) -> None:
            sweep = sweep_result(study)
            words = _trial_words(trial, sweep)
            log.info("%s", words)
            reporter.update(force=True, sweep=sweep, step=sweep.finished, message=words)

        try:
            study, result = run_sweep(
                self._home(),
                self.tune,
                resume=self.resume,
                fresh=self.fresh,
                elsewhere=self._ray() if self.executor == "ray" else None,
                train=self.train,
                on_trial=on_trial,
                progress=getattr(reporter, "progress", None),
                on_cancel=getattr(reporter, "acknowledge_cancel", None),
            )
        except BaseException:  # cancelled or failed: the status still says what the study holds
            with contextlib.suppress(Exception):
                sweep = sweep_result(load_study(self._home(), self.study))
                reporter.update(force=True, sweep=sweep, step=sweep.finished)
            raise
        sweep = sweep_result(study)
        found = sweep.trials_by_state
        message = (
            f"{sweep.finished} finished trials ({found.get('complete', 0)} complete, "
            f"{found.get('pruned', 0)} pruned, {found.get('fail', 0)} failed); best skill "
            f"{sweep.best_value:+.4f} (trial {sweep.best_trial})"
        )
        fields: dict[str, Any] = {"sweep": sweep, "step": sweep.finished}
        fields["total"] = self.tune.trials
        if result is not None:
            fields["result"] = (model_result(result),)
            message += f"; registered {result.name} {result.version}"
        reporter.update(force=True, **fields)
        return message


def sweep_status(study: str, *, home: Path) -> JobStatus | None:
    """The status of the newest sweep job of ``study`` in ``home`` (None when none ran): state,
    finished trials, the typed :class:`~core.registry.sweep_record.SweepResult`, the registered
    version."""
    from core.jobs.control import list_jobs

    for found in list_jobs(runs=Paths(home).runs, kind=JobKind.TUNE):
        if found.extra.get("study") == study:
            return found
    return None


def studies(home: Path) -> list[str]:
    """Every study a sweep job ran or that is stored under ``{home}/tuning/``, newest first."""
    from core.jobs.control import list_jobs
    from core.tuning.sweeps import list_studies

    tunes = list_jobs(runs=Paths(home).runs, kind=JobKind.TUNE)
    ran = [str(j.extra["study"]) for j in tunes if j.extra.get("study")]
    return list(dict.fromkeys([*ran, *list_studies(home)]))


def cancel_sweep(study: str, *, home: Path, timeout: float = 10.0) -> JobStatus | None:
    """Cancel the running sweep of ``study`` in ``home`` (its running trial is marked failed, the finished
    ones stay); returns its status (None when no sweep of it ever ran)."""
    from core.jobs.control import cancel

    found = sweep_status(study, home=home)
    if found is None or found.finished:
        return found
    return cancel(found.job_id, runs=Paths(home).runs, timeout=timeout)
