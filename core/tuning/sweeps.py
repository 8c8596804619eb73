"""Sweeps in the background, for the Training page: launch, cancel, list, read trials.

A background sweep is ``python -m core tune ... --study NAME`` in its own process group (so it
outlives the page, and cancel ends all of it), writing ``{home}/tuning/{NAME}.log``; its state is
the study's state file and its trials are in the study's SQLite file, which the page reads as
trials finish.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from typing import Any

import pandas as pd

from core import config
from core.errors import JobError
from core.jobs.spec import SETTINGS
from core.jobs.status import now_iso
from core.procs import group_alive, pid_alive, reap_when_done
from core.tuning import state
from core.tuning.study import TuneSpec, load_study

__all__ = [
    "cancel_sweep",
    "launch_sweep",
    "list_studies",
    "running_sweeps",
    "trials_frame",
    "tune_command",
]

#: Settings-dataclass field → the ``tune`` / ``train`` flag that holds it fixed.
_FLAGS = {name: key for key, (stage, name) in SETTINGS.items() if stage == "model"}


def tune_command(
    spec: TuneSpec,
    *,
    executor: str = "local",
    address: str | None = None,
    resume: bool = False,
    fresh: bool = False,
) -> list[str]:
    """The ``python -m core tune`` command line that runs ``spec``."""
    command = [sys.executable, "-m", "core", "tune", "--coin", spec.symbol, "--model", spec.kind]
    command += ["--trials", str(spec.trials), "--interval", spec.interval, "--study", spec.study]
    command += ["--horizon", str(spec.target.horizon), "--threshold", str(spec.target.threshold)]
    for name, value in spec.fixed.items():
        if name in _FLAGS:
            command += [f"--{_FLAGS[name].replace('_', '-')}", str(value)]
    command += ["--executor", executor] + (["--address", address] if address else [])
    return command + (["--resume"] if resume else []) + (["--fresh"] if fresh else [])


def launch_sweep(
    spec: TuneSpec,
    *,
    executor: str = "local",
    address: str | None = None,
    resume: bool = False,
    fresh: bool = False,
) -> int:
    """Start ``spec`` as a background process; returns its pid at once.

    Raises:
        JobError: the study is being tuned already (nothing is started), or no process starts.
    """
    from core.jobs.one_per_coin import launch_lock, refuse_busy

    with launch_lock():
        if state.lock_holder(spec.study) is not None:
            with state.study_lock(spec.study):  # raises the "already being tuned" message
                pass
        refuse_busy([spec.symbol], study=spec.study)
        return _start(spec, executor=executor, address=address, resume=resume, fresh=fresh)


def _start(spec: TuneSpec, *, executor: str, address: str | None, resume: bool, fresh: bool) -> int:
    log = state.tuning_dir() / f"{spec.study}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "CRYPTOVOLT_HOME": str(config.home()), "PYTHONUNBUFFERED": "1"}
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    command = tune_command(spec, executor=executor, address=address, resume=resume, fresh=fresh)
    with open(log, "ab") as output:
        try:
            proc = subprocess.Popen(
                command,
                cwd=config.PROJECT_DIR,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError as exc:
            raise JobError(f"Could not start the sweep process: {exc}") from exc
    reap_when_done(proc)  # the page's server is its parent: no zombie once it ends
    # the process writes its own state once it holds the lock; until then the page shows this
    state.write_state(
        spec.study,
        state="running",
        pid=proc.pid,
        executor=executor,
        spec=spec.to_dict(),
        started_at=now_iso(),
        finished_at=None,
        error=None,
        version=None,
    )
    return proc.pid


def cancel_sweep(name: str, *, timeout: float = 10.0) -> dict[str, Any] | None:
    """Stop the sweep of study ``name``: SIGTERM to its process group (the running trial is
    marked failed, the finished ones stay), SIGKILL after ``timeout`` s. Returns its state."""
    found = state.read_state(name)
    pid = (found or {}).get("pid")
    if not found or found.get("state") not in state.ACTIVE or not isinstance(pid, int):
        return found
    if pid_alive(pid, marker=name):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while group_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if group_alive(pid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
    current = state.read_state(name) or {}
    if current.get("state") in state.ACTIVE or str(current.get("error") or "").startswith(
        "the sweep"
    ):
        state.write_state(name, state="cancelled", finished_at=now_iso(), error=None)
    return state.read_state(name)


def list_studies() -> list[str]:
    """Every study under the home folder, newest first."""
    folder = state.tuning_dir()
    if not folder.is_dir():
        return []
    # a just-launched sweep has its state file before its study file
    paths = [p for p in folder.iterdir() if p.suffix in (".db", ".json")]
    paths.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    return list(dict.fromkeys(p.stem for p in paths))


def running_sweeps() -> list[tuple[str, str]]:
    """(study, coin symbol) of every sweep whose process is running now."""
    out = []
    for name in list_studies():
        found = state.read_state(name) or {}
        symbol = (found.get("spec") or {}).get("symbol")
        if found.get("state") in state.ACTIVE and isinstance(symbol, str):
            out.append((name, symbol))
    return out


def trials_frame(name: str) -> pd.DataFrame:
    """One row per trial of study ``name``: number, state, value (mean fold skill), seconds,
    the folds scored and every searched setting. Empty when the study has no trials yet."""
    try:
        study = load_study(name)
    except JobError:  # not created yet (or being created by the sweep that just started)
        return pd.DataFrame(columns=["trial", "state", "value", "seconds", "folds"])
    rows = []
    for trial in study.get_trials(deepcopy=False):
        seconds = None
        if trial.datetime_start and trial.datetime_complete:
            seconds = (trial.datetime_complete - trial.datetime_start).total_seconds()
        rows.append(
            {
                "trial": trial.number,
                "state": trial.state.name.lower(),
                "value": trial.value,
                "seconds": None if seconds is None else round(seconds, 1),
                "folds": len(trial.intermediate_values),
                **trial.params,
            }
        )
    return pd.DataFrame(rows)
