"""Run a sweep: an Optuna study on one coin and kind, then train its best settings for real.

:func:`run_sweep` holds the study's lock (a second sweep of the same study is refused), opens or
resumes the study in its SQLite file, runs trials until the study holds ``trials`` finished ones
(complete or pruned) in this process or as Ray tasks, and then trains the best settings through
the normal ``train_coin`` path: the new version is carded on the test window the tuner never
saw, promoted only by the usual champion / challenger rule, and its card records the study,
the number of trials tried and the search space (more trials, more room to overfit the folds).

A resumed study marks the trials a killed run left "running" as failed and asks for their
settings again, so the study ends with ``trials`` finished trials.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from core.clock import now_iso
from core.config import Paths, SplitConfig, TargetConfig
from core.data.coins import ensure_tradeable, parse_coin
from core.errors import ConfigError, JobError
from core.models import kind_info, parse_kind
from core.registry.metadata import ModelMetadata
from core.registry.model_registry import ModelRegistry
from core.registry.sweep_record import SweepResult, TuningRecord
from core.tuning import state
from core.tuning.objective import InnerData, objective, objective_text
from core.tuning.space import apply, describe, space_for

__all__ = [
    "SweepCancelled",
    "TuneSpec",
    "counts",
    "load_study",
    "optimize_here",
    "run_sweep",
    "sweep_result",
]

log = logging.getLogger("core.tuning")

FINISHED = ("COMPLETE", "PRUNED")


class SweepCancelled(KeyboardInterrupt):
    """SIGTERM arrived (cancel): Optuna marks the running trial failed and the sweep stops."""


@dataclass(frozen=True)
class TuneSpec:
    """One sweep: a coin, a kind, how many finished trials the study should hold, the fixed
    settings (``fixed``: settings-dataclass fields held out of the search) and the study name
    (``{kind}_{symbol}_{interval}`` by default). Validated on construction."""

    symbol: str
    kind: str
    trials: int = 50
    interval: str = "1h"
    target: TargetConfig = field(default_factory=TargetConfig)
    split: SplitConfig = field(default_factory=SplitConfig)
    fixed: Mapping[str, Any] = field(default_factory=dict)
    study: str = ""

    def __post_init__(self) -> None:
        symbol = parse_coin(self.symbol).symbol
        ensure_tradeable(symbol)
        object.__setattr__(self, "symbol", symbol)
        object.__setattr__(self, "kind", parse_kind(self.kind))
        if not 1 <= int(self.trials) <= 10_000:
            raise ConfigError(f"--trials must be 1..10000, got {self.trials}.")
        apply(self.kind, self.fixed, {})  # fixed settings the kind refuses fail here
        space_for(self.kind, self.fixed)  # a kind without a search space fails here
        name = self.study or state.study_name(self.kind, symbol, self.interval)
        state.checked_name(name)
        object.__setattr__(self, "study", name)

    @property
    def space(self) -> dict[str, Any]:
        return space_for(self.kind, self.fixed)

    def to_dict(self) -> dict[str, Any]:
        return {
            "symbol": self.symbol,
            "kind": self.kind,
            "trials": self.trials,
            "interval": self.interval,
            "target": asdict(self.target),
            "split": asdict(self.split),
            "fixed": dict(self.fixed),
            "study": self.study,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TuneSpec:
        return cls(
            symbol=data["symbol"],
            kind=data["kind"],
            trials=int(data["trials"]),
            interval=data.get("interval", "1h"),
            target=TargetConfig(**(data.get("target") or {})),
            split=SplitConfig(**(data.get("split") or {})),
            fixed=dict(data.get("fixed") or {}),
            study=data.get("study", ""),
        )


def _storage(home: Path, name: str) -> Any:
    import optuna

    state.tuning_dir(home).mkdir(parents=True, exist_ok=True)
    # parallel Ray trials share the file: wait for SQLite's write lock instead of failing
    return optuna.storages.RDBStorage(
        state.storage_url(home, name), engine_kwargs={"connect_args": {"timeout": 60}}
    )


def _ready(home: Path, name: str) -> bool:
    """True once the study file holds Optuna's tables and both its version stamps: a reader
    must never create them, or it races the sweep that is creating them (one of the two fails:
    "table already exists", or, when the reader came between Optuna's ``version_info`` row and
    its alembic stamp, "UNIQUE constraint failed: alembic_version.version_num", which failed a
    sweep in a fresh-clone run at load 7 while a test polled its trials)."""
    path = state.storage_path(home, name)
    if not path.exists():
        return False
    try:
        with contextlib.closing(
            sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
        ) as db:
            stamps = (
                "SELECT (SELECT COUNT(*) FROM version_info), (SELECT COUNT(*) FROM alembic_version)"
            )
            return all(db.execute(stamps).fetchone())
    except sqlite3.Error:
        return False


def load_study(home: Path, name: str, *, seed: int | None = None) -> Any:
    """The stored study ``name`` (under ``home``) with this project's sampler (TPE) and pruner (median per fold).

    Raises:
        JobError: no such study.
    """
    import optuna

    if not _ready(home, name):
        raise JobError(
            f"No study {name} in {state.tuning_dir(home)}: run `python -m core tune` first."
        )
    return optuna.load_study(
        study_name=name,
        storage=_storage(home, name),
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1),
    )


def counts(study: Any) -> dict[str, int]:
    """Trials by state (``complete``, ``pruned``, ``fail``, ``running``, ...) and ``finished``."""
    out: dict[str, int] = {}
    for trial in study.get_trials(deepcopy=False):
        out[trial.state.name.lower()] = out.get(trial.state.name.lower(), 0) + 1
    out["finished"] = sum(out.get(s.lower(), 0) for s in FINISHED)
    return out


def _open(home: Path, spec: TuneSpec, *, resume: bool, fresh: bool) -> Any:
    import optuna

    path = state.storage_path(home, spec.study)
    if fresh and path.exists():
        path.unlink()
    if _ready(home, spec.study) and not resume:
        found = counts(load_study(home, spec.study))
        if found.get("finished") or found.get("fail") or found.get("running"):
            raise ConfigError(
                f"Study {spec.study} already has {found['finished']} finished trial(s) in {path}: "
                "--resume continues it, --fresh deletes it and starts over."
            )
    study = optuna.create_study(
        study_name=spec.study,
        storage=_storage(home, spec.study),
        direction="maximize",
        load_if_exists=True,
    )
    if not study.user_attrs.get("spec"):
        study.set_user_attr("spec", spec.to_dict())
        study.set_user_attr("search_space", describe(spec.space))
        study.set_user_attr("objective", objective_text(spec.kind, spec.split.folds))
        study.set_user_attr("created_at", now_iso())
    # we hold the lock: a trial still "running" belongs to a killed run; fail it, retry its values
    storage = study._storage
    for trial in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        storage.set_trial_state_values(trial._trial_id, optuna.trial.TrialState.FAIL)
        if trial.params:
            study.enqueue_trial(trial.params, user_attrs={"retry_of": trial.number})
    return load_study(home, spec.study, seed=len(study.trials))


def _inner(spec: TuneSpec, paths: Paths) -> InnerData:
    """What every trial shares: the inputs the kind's recipe tunes on, before its test window."""
    from core.data.store import load_candles

    cfg = apply(spec.kind, spec.fixed, {})
    candles, split, context = (
        kind_info(spec.kind)
        .tuning()
        .prepare(
            spec.kind,
            spec.symbol,
            load_candles(spec.symbol, spec.interval, paths=paths),
            cfg,
            interval=spec.interval,
            split=spec.split,
            paths=paths,
        )
    )
    return InnerData.build(spec.kind, candles, target=spec.target, split=split, context=context)


def optimize_here(
    spec: TuneSpec,
    study: Any,
    on_trial: Callable[[Any, Any], None] | None,
    *,
    paths: Paths,
) -> None:
    """Run trials in this process until the study holds ``spec.trials`` finished ones, on the
    candles of the home ``paths`` describes."""
    import optuna
    from optuna.study import MaxTrialsCallback

    left = spec.trials - counts(study)["finished"]
    if left <= 0:
        return
    states = tuple(getattr(optuna.trial.TrialState, s) for s in FINISHED)
    callbacks: list[Any] = [MaxTrialsCallback(spec.trials, states=states)]
    if on_trial is not None:
        callbacks.append(on_trial)
    callbacks.append(lambda _study, _trial: _check_cancel())  # a SIGTERM during the trial
    fn = objective(_inner(spec, paths), spec.space, spec.fixed, stop=_check_cancel)
    _CANCEL.deferred = True  # inside Optuna: a SIGTERM waits for the next safe point
    try:
        study.optimize(fn, n_trials=left, callbacks=callbacks, gc_after_trial=True)
    finally:
        _CANCEL.deferred = False
    _check_cancel()


class _Cancel:
    """A SIGTERM during a sweep. Outside Optuna's ``optimize`` it is raised at once; inside it,
    it is only noted and raised at the next safe point (before each fold's report, after each
    trial): an exception raised by a signal handler in the middle of Optuna's storage code can
    leave the storage unusable, and marking the trial failed then hangs until the canceller's
    SIGKILL (seen once: `job cancel` of a foreground sweep ended it with -9 at load 1.2)."""

    signal: str | None = None
    deferred: bool = False


_CANCEL = _Cancel()


def _check_cancel() -> None:
    """Raise :class:`SweepCancelled` if a SIGTERM was noted (a safe point of the sweep)."""
    if _CANCEL.signal is not None:
        raise SweepCancelled(_CANCEL.signal)


@contextlib.contextmanager
def _cancel_on_sigterm(acknowledge: Callable[[], None] | None = None) -> Iterator[None]:
    def handler(signum: int, _frame: Any) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if acknowledge is not None:  # the canceller then waits for the next safe point
            acknowledge()
        _CANCEL.signal = signal.Signals(signum).name
        if not _CANCEL.deferred:
            raise SweepCancelled(_CANCEL.signal)

    _CANCEL.signal = None
    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
        _CANCEL.signal = None


class _TunedRegistry(ModelRegistry):
    """The real registry; the version it saves carries the sweep on its card."""

    def __init__(self, root: Path, tuning: TuningRecord) -> None:
        super().__init__(root)
        self._tuning = tuning

    def _before_save(self, metadata: ModelMetadata) -> ModelMetadata:
        n, study = self._tuning.result.finished, self._tuning.result.study
        note = (
            f"tuned: the best of {n} Optuna trials (study {study}) on walk-forward "
            "folds inside the training period; the test window was never seen by the tuner, but "
            "the more trials, the more the fold metrics flatter it"
        )
        if metadata.card is not None:
            card = replace(metadata.card, tuning=self._tuning, notes=(*metadata.card.notes, note))
            metadata = replace(metadata, card=card)
        return metadata


def sweep_result(study: Any) -> SweepResult:
    """The typed outcome of an Optuna study so far: finished trials, trials by state, the best
    complete trial (its value rounded to 6 decimals; None before one completed)."""
    found = counts(study)
    try:
        best = study.best_trial
        best_trial, best_value, params = best.number, float(best.value), dict(best.params)
    except ValueError:  # no trial completed yet
        best_trial, best_value, params = None, None, {}
    return SweepResult(
        study=study.study_name,
        finished=found["finished"],
        trials_by_state={k: v for k, v in found.items() if k != "finished"},
        best_trial=best_trial,
        best_value=None if best_value is None else round(best_value, 6),
        best_params=params,
    )


def _tuning_record(home: Path, spec: TuneSpec, study: Any) -> TuningRecord:
    return TuningRecord(
        result=sweep_result(study),
        storage=str(state.storage_path(home, spec.study)),
        search_space=describe(spec.space),
        fixed=dict(spec.fixed),
        objective=objective_text(spec.kind, spec.split.folds),
        sampler="TPE",
        pruner="median per fold",
    )


def train_best(home: Path, spec: TuneSpec, study: Any, **train_options: Any) -> Any:
    """Train the study's best settings (the study under ``home``) through ``train_coin``; returns its TrainResult.

    Raises:
        JobError: no trial completed (nothing to train).
    """
    from core.training.train import train_coin

    if not counts(study).get("complete"):
        raise JobError(f"No trial of study {spec.study} completed: nothing to train.")
    record = _tuning_record(home, spec, study)
    cfg = apply(spec.kind, spec.fixed, study.best_trial.params)
    results = train_coin(
        spec.symbol,
        models=[spec.kind],
        interval=spec.interval,
        target=spec.target,
        split=spec.split,
        settings={spec.kind: cfg},
        registry=_TunedRegistry(Paths(home).models, record),
        paths=Paths(home),
        **train_options,
    )
    return results[0]


def run_sweep(
    home: Path,
    spec: TuneSpec,
    *,
    resume: bool = False,
    fresh: bool = False,
    elsewhere: Callable[[TuneSpec, Callable[[Any, Any], None] | None], None] | None = None,
    train: bool = True,
    on_trial: Callable[[Any, Any], None] | None = None,
    progress: Callable[[Any], None] | None = None,
    on_cancel: Callable[[], None] | None = None,
) -> tuple[Any, Any | None]:
    """Run the sweep ``spec`` to its end (its study under ``home``); returns (the study, the
    TrainResult or None).

    The trials run in this process, or by ``elsewhere(spec, on_trial)`` when given: the job
    layer passes :func:`core.tuning.ray_trials.optimize_on_ray` bound to its Ray connection, so
    the trials run as Ray tasks against the same study file. ``on_cancel`` is called from the
    SIGTERM handler the moment the signal arrives (the job layer's acknowledgement: the sweep
    stops at its next safe point, which can be seconds later).

    Raises:
        JobError: the study is being tuned by another process, or no trial completed.
        ConfigError: the study exists and neither ``resume`` nor ``fresh`` was given.
        SweepCancelled: SIGTERM (the running trial is marked failed, finished ones stay).
        and what loading candles and training raise (NoDataError, InsufficientDataError, ...).
    """
    with state.study_lock(home, spec.study), _cancel_on_sigterm(on_cancel):
        study = _open(home, spec, resume=resume, fresh=fresh)
        if elsewhere is not None:
            elsewhere(spec, on_trial)
            study = load_study(home, spec.study)
        else:
            optimize_here(spec, study, on_trial, paths=Paths(home))
        result = train_best(home, spec, study, progress=progress) if train else None
        return study, result
